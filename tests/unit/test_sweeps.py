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


@pytest.mark.parametrize(
    ("text", "message", "index"),
    [
        ("import sys\nsys.exit(0)\n", "the file called sys.exit(0)", None),
        ("import sys\nCONFIG = {}\nsys.exit(4)\n", "the file called sys.exit(4)", None),
        (
            "import sys\ndef config_gen():\n    yield {}\n    sys.exit(3)\n",
            "config_gen called sys.exit(3)",
            1,
        ),
        ("import os\nos._exit(4)\n", "ended (exit code 4) before giving all its configs", None),
        ("CONFIG = [{'a': 1}, {'a': {1, 2}}]\n", "not JSON: a is a set", 1),
        ("CONFIG = {'x': float('nan')}\n", "not JSON: x is nan", 0),
        ("CONFIG = {'ops': {3: 'x'}}\n", "ops has the key 3 (int); keys must be strings", 0),
    ],
)
def test_what_the_file_does_stays_in_its_subprocess(
    tmp_path: Path, text: str, message: str, index: int | None
) -> None:
    path = sweep_file(tmp_path, text)
    with pytest.raises(ValidationError) as info:
        load_sweep(path)
    assert info.value.exit_code == 7
    assert str(path) in info.value.message
    assert message in info.value.message, info.value.message
    assert info.value.details["index"] == index


def test_an_endless_generator_is_stopped_at_the_time_limit(tmp_path: Path) -> None:
    path = sweep_file(
        tmp_path,
        "import time\ndef config_gen():\n    yield {}\n    while True:\n        time.sleep(1)\n",
    )
    with pytest.raises(ValidationError) as info:
        load_sweep(path, time_limit=1.0)
    assert "gave 1 config(s) and was still running after 1 s" in info.value.message


def test_configs_past_the_cap_are_refused(tmp_path: Path) -> None:
    path = sweep_file(tmp_path, "def config_gen():\n    while True:\n        yield {'x': 1}\n")
    with pytest.raises(ValidationError) as info:
        load_sweep(path, max_configs=10_000)
    assert "gives more than 10000 configs" in info.value.message
    assert "--max-configs" in info.value.remediation
    exact = load_sweep(
        sweep_file(tmp_path, "CONFIG = [{'i': i} for i in range(10_000)]\n"), max_configs=10_000
    )
    assert len(exact.items) == 10_000
    assert exact.items[-1].config == {"i": 9999}


def test_the_files_prints_are_not_configs(tmp_path: Path) -> None:
    path = sweep_file(
        tmp_path, 'print(\'{"item": {"label": "x", "config": {}}}\')\nCONFIG = {\'a\': 1}\n'
    )
    sweep = load_sweep(path)
    assert [(i.label, i.config) for i in sweep.items] == [("#0", {"a": 1})]


def test_a_refusal_stops_the_sweep_and_is_raised(tmp_path: Path) -> None:
    from daglab._errors import AuthenticationError

    sweep = Sweep(tmp_path, [SweepItem(i, f"#{i}", {}) for i in range(3)])

    def launch(item: SweepItem, tags: dict[str, str]) -> tuple[str, str | None]:
        raise AuthenticationError("sandbox mode refuses launchRun")

    def wait(run_id: str) -> tuple[str, float | None, str | None]:
        raise AssertionError("nothing was launched")

    with pytest.raises(AuthenticationError) as info:
        run_sweep(sweep, launch, wait, parallel=1, fail_fast=False)
    assert info.value.exit_code == 6
    statuses = [r["status"] for r in info.value.details["results"]]
    assert statuses == ["ERROR", "SKIPPED", "SKIPPED"]
