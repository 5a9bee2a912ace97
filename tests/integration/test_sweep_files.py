"""What a sweep file does cannot decide daglab's exit code or output: the real CLI, no server.

The file is loaded before Dagster is contacted, so these run without one (the endpoint given
is a closed port: reaching it would be exit 5, not the 7 each of these expects).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.conftest import run_daglab

NOWHERE = {"DAGLAB_DAGSTER__URL": "http://127.0.0.1:9"}


def sweep(cwd: Path, text: str, *extra: str) -> tuple[int, str, str]:
    (cwd / "configs.py").write_text(text)
    result = run_daglab(
        "run", "--job", "any_job", "--sweep", "configs.py", *extra, cwd=cwd, env=NOWHERE
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("import sys\nsys.exit(0)\n", "the file called sys.exit(0)"),
        ("import sys\nCONFIG = {}\nsys.exit(4)\n", "the file called sys.exit(4)"),
        ("raise RuntimeError('at import')\n", "the file raised RuntimeError: at import"),
        (
            "def config_gen():\n    yield {}\n    raise KeyError('boom')\n",
            "config #1: config_gen raised KeyError",
        ),
        ("CONFIG = [{'a': object()}]\n", "config #0: not JSON: a is a object"),
    ],
)
def test_a_file_that_exits_or_raises_is_exit_7_naming_it(
    git_project: Path, text: str, said: str
) -> None:
    code, out, err = sweep(git_project, text)
    assert code == 7, (out, err)
    assert "configs.py" in err and said in err, err
    code, out, _ = sweep(git_project, text, "--json")
    report = json.loads(out)
    assert code == 7 and report["exit_code"] == 7 and said in report["message"]


def test_an_endless_file_is_stopped_at_the_time_limit(git_project: Path) -> None:
    (git_project / "configs.py").write_text("while True:\n    pass\n")
    started = time.monotonic()
    result = run_daglab(
        "run",
        "--job",
        "any_job",
        "--sweep",
        "configs.py",
        cwd=git_project,
        env={**NOWHERE, "DAGLAB_PERFORMANCE__SWEEP_TIME_LIMIT": "2"},
        timeout=60,
    )
    assert result.exit_code == 7, result
    assert "still running after 2 s" in result.stderr
    assert time.monotonic() - started < 2 + 15  # the limit, plus start-up


def test_ten_thousand_configs_past_max_configs_is_exit_7(git_project: Path) -> None:
    text = "def config_gen():\n    for i in range(10_000):\n        yield {'i': i}\n"
    code, _, err = sweep(git_project, text, "--max-configs", "100")
    assert code == 7
    assert "gives more than 100 configs" in err and "--max-configs" in err


def test_the_files_prints_do_not_corrupt_json(git_project: Path) -> None:
    (git_project / "configs.py").write_text(
        "print('hello from the sweep file')\nCONFIG = [{'a': 1}, {'b': [1, 2.5, None]}]\n"
    )
    result = run_daglab("config", "show", "configs.py", "--json", cwd=git_project)
    assert result.exit_code == 0, result
    configs = json.loads(result.stdout)["configs"]
    assert [c["config"] for c in configs] == [{"a": 1}, {"b": [1, 2.5, None]}]
    assert "hello from the sweep file" in result.stderr


def test_a_sweep_with_no_wait_is_a_usage_error(git_project: Path) -> None:
    code, _, err = sweep(git_project, "CONFIG = {}\n", "--no-wait")
    assert code == 2
    assert "--sweep waits for its runs" in err


def at_a_terminal(cwd: Path, answer: bytes, *extra: str) -> tuple[int, str]:
    """``daglab run --sweep configs.py`` with a terminal as stdin, typing ``answer``."""
    import os
    import pty
    import subprocess
    import sys

    primary, secondary = pty.openpty()
    exe = str(Path(sys.executable).parent / "daglab")
    child = subprocess.Popen(
        [exe, "run", "--job", "any_job", "--sweep", "configs.py", *extra],
        cwd=cwd,
        env={**os.environ, **NOWHERE, "DAGLAB_PERFORMANCE__SWEEP_CONFIRM_ABOVE": "3"},
        stdin=secondary,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(secondary)
    if answer:
        os.write(primary, answer)
    try:
        _, err = child.communicate(timeout=60)
    finally:
        os.close(primary)
    return child.returncode, err


def test_a_large_sweep_at_a_terminal_asks_first(git_project: Path) -> None:
    (git_project / "configs.py").write_text("CONFIG = [{'i': i} for i in range(5)]\n")
    code, err = at_a_terminal(git_project, b"n\n")
    assert code == 2, err
    assert "configs.py gives 5 configs: launch 5 runs?" in err
    assert "declined: none of the 5 runs" in err
    # --yes asks nothing (nobody types here) and goes on to the absent server: exit 5
    code, err = at_a_terminal(git_project, b"", "--yes")
    assert code == 5, err
    assert "launch 5 runs?" not in err


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("CONFIG = [{'partition': 5}]\n", "config #0: partition must be a key"),
        ("CONFIG = [{'partition': ''}]\n", "config #0: partition must be a key"),
        (
            "CONFIG = [{'partition': 'x', 'ops': {}}]\n",
            "config #0: a config with a partition has the keys partition, config and label only;"
            " found ops",
        ),
        ("CONFIG = [{'partition': {'date': 1}}]\n", "config #0: a partition mapping must map"),
        ("CONFIG = [{'partition': 'x', 'config': [1]}]\n", "config #0: 'config' must be a mapping"),
    ],
)
def test_a_malformed_partition_is_exit_7_before_any_contact(
    git_project: Path, text: str, said: str
) -> None:
    code, out, err = sweep(git_project, text)
    assert code == 7, (out, err)
    assert said in err, err


def test_config_show_uses_the_configured_sweep_limits_and_shows_partitions(
    git_project: Path,
) -> None:
    text = (
        "def config_gen():\n"
        "    for i in range(5):\n"
        "        yield {'partition': f'k{i}', 'config': {'i': i}}\n"
    )
    (git_project / "configs.py").write_text(text)
    shown = run_daglab("config", "show", "configs.py", "--json", cwd=git_project)
    assert shown.exit_code == 0, shown
    assert [c["partition"] for c in json.loads(shown.stdout)["configs"]] == [
        f"k{i}" for i in range(5)
    ]
    (git_project / "daglab.yaml").write_text("performance:\n  sweep_max_configs: 3\n")
    limited = run_daglab("config", "show", "configs.py", cwd=git_project)
    assert limited.exit_code == 7, limited
    assert "3" in limited.stderr
