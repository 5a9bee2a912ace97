"""Loading Python-first sweep files: CONFIG, config_gen(), and every way they can be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from daglab._errors import ValidationError
from daglab._sweeps import Sweep, SweepItem, load_sweep, run_sweep


def sweep_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "configs.py"
    path.write_text(text)
    return path


def test_single_config(tmp_path: Path) -> None:
    sweep = load_sweep(sweep_file(tmp_path, "CONFIG = {'ops': {'a': {'config': {'x': 1}}}}\n"))
    assert [(i.index, i.label) for i in sweep.items] == [(0, "#0")]
    assert sweep.items[0].config == {"ops": {"a": {"config": {"x": 1}}}}


def test_list_of_configs(tmp_path: Path) -> None:
    sweep = load_sweep(sweep_file(tmp_path, "CONFIG = [{'x': i} for i in range(3)]\n"))
    assert [i.config for i in sweep.items] == [{"x": 0}, {"x": 1}, {"x": 2}]


def test_generator_with_labels(tmp_path: Path) -> None:
    text = (
        "def config_gen():\n"
        "    for lr in (0.1, 0.01):\n"
        "        yield f'lr={lr}', {'ops': {'train': {'config': {'lr': lr}}}}\n"
        "    yield {'ops': {}}\n"
    )
    sweep = load_sweep(sweep_file(tmp_path, text))
    assert [i.label for i in sweep.items] == ["lr=0.1", "lr=0.01", "#2"]
    assert len(sweep.sweep_id) == 12


@pytest.mark.parametrize(
    ("text", "message", "index"),
    [
        ("X = 1\n", "neither CONFIG nor config_gen", None),
        ("CONFIG = [{'a': 1}, 5]\n", "must be a mapping, not int", 1),
        ("def config_gen():\n    yield {}\n    raise KeyError('boom')\n", "raised KeyError", 1),
        ("raise RuntimeError('at import')\n", "raised RuntimeError", None),
        ("CONFIG = []\n", "no run configs", None),
        ("config_gen = 3\n", "not callable", None),
    ],
)
def test_bad_files_name_file_index_and_reason(
    tmp_path: Path, text: str, message: str, index: int | None
) -> None:
    path = sweep_file(tmp_path, text)
    with pytest.raises(ValidationError) as info:
        load_sweep(path)
    assert info.value.exit_code == 7
    assert str(path) in info.value.message
    assert message in info.value.message
    assert info.value.details["index"] == index


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no such file"):
        load_sweep(tmp_path / "nope.py")


def test_fail_fast_stops_launching(tmp_path: Path) -> None:
    sweep = Sweep(tmp_path, [SweepItem(i, f"#{i}", {}) for i in range(4)])
    launched: list[int] = []

    def launch(item: SweepItem, tags: dict[str, str]) -> tuple[str, str | None]:
        launched.append(item.index)
        assert tags["daglab/sweep"] == sweep.sweep_id
        assert tags["daglab/sweep-index"] == str(item.index)
        return f"run{item.index}", None

    def wait(run_id: str) -> tuple[str, float | None, str | None]:
        return ("FAILURE" if run_id == "run1" else "SUCCESS"), 1.0, None

    results = run_sweep(sweep, launch, wait, parallel=1, fail_fast=True)
    assert launched == [0, 1]
    assert [r.status for r in results] == ["SUCCESS", "FAILURE", "SKIPPED", "SKIPPED"]
