"""``daglab doctor --check-deps`` and ``pip check`` agree, on the dev environment and on a real
environment broken on purpose (made with uv: a dependency forced to a wrong version, one removed,
and a package outside daglab's tree with a missing requirement)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from daglab._doctor import check_requirements

REPO = Path(__file__).resolve().parents[2]
UV = shutil.which("uv")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(UV is None, reason="needs uv to make the environments"),
]


def sh(*cmd: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)


def uv(*args: str) -> None:
    assert UV is not None
    done = sh(UV, *args)
    assert done.returncode == 0, done.stderr


def pip_check(python: Path) -> tuple[int, list[str]]:
    done = sh(str(python), "-m", "pip", "check")
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return done.returncode, [] if done.returncode == 0 else lines


def doctor(python: Path, cwd: Path) -> tuple[int, dict]:
    done = sh(str(python), "-m", "daglab", "doctor", "--check-deps", "--json", cwd=cwd)
    report = json.loads(done.stdout)
    (packages,) = [c for c in report["checks"] if c["name"] == "packages"]
    return done.returncode, packages


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """daglab (without extras) in a fresh environment with pip, as a user installs it."""
    root = tmp_path_factory.mktemp("deps") / "venv"
    uv(
        "venv",
        "-q",
        "--seed",
        "--python",
        f"{sys.version_info[0]}.{sys.version_info[1]}",
        str(root),
    )
    python = root / "bin" / "python"
    uv(
        "pip",
        "install",
        "-q",
        "--python",
        str(python),
        "-e",
        str(REPO),
        "-c",
        str(REPO / "constraints.txt"),
    )
    return python


def test_doctor_agrees_with_pip_check_both_ways(venv: Path, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    python = str(venv)
    # healthy: both say so
    assert pip_check(venv) == (0, [])
    _, packages = doctor(venv, tmp_path)
    assert packages["status"] == "ok" and packages["data"]["problems"] == []

    # httpx (in daglab's tree) gets a httpcore it rejects, whose own h11 is then removed; a
    # package outside the tree comes without its requirements
    uv("pip", "install", "-q", "--python", python, "--no-deps", "httpcore==0.17.3")
    uv("pip", "install", "-q", "--python", python, "--no-deps", "python-dateutil==2.9.0.post0")
    uv("pip", "uninstall", "-q", "--python", python, "h11")
    code, expected = pip_check(venv)
    assert code == 1 and len(expected) >= 3
    exit_code, packages = doctor(venv, tmp_path)
    assert sorted(packages["data"]["problems"]) == sorted(expected)
    assert packages["status"] == "fail" and packages["critical"] is True and exit_code == 3
    assert (
        "httpx 0.28.1 has requirement httpcore==1.*, but you have httpcore 0.17.3."
        in (packages["data"]["in_daglab_tree"])
    )
    assert "upgrade: pip install 'httpcore==1.*'" in packages["data"]["suggestions"]
    outside = [p for p in expected if p.startswith("python-dateutil")]
    assert outside and not set(outside) & set(packages["data"]["in_daglab_tree"])

    # repaired inside the tree: only the package outside it is broken, which daglab survives
    uv("pip", "install", "-q", "--python", python, "httpcore==1.*", "h11")
    code, expected = pip_check(venv)
    assert code == 1 and expected == outside
    exit_code, packages = doctor(venv, tmp_path)
    assert packages["data"]["problems"] == expected
    assert packages["status"] == "fail" and packages["critical"] is False
    assert packages["data"]["in_daglab_tree"] == []

    uv("pip", "install", "-q", "--python", python, "python-dateutil==2.9.0.post0")
    assert pip_check(venv) == (0, [])
    _, packages = doctor(venv, tmp_path)
    assert packages["status"] == "ok"


def test_doctor_agrees_with_pip_check_on_the_dev_environment() -> None:
    """pip's own check of this interpreter (pip from the system Python, or uv's)."""
    system_pip = sh("/usr/bin/python3", "-m", "pip", "--version").returncode == 0
    if system_pip:
        done = sh("/usr/bin/python3", "-m", "pip", "--python", sys.executable, "check")
        broken = [] if done.returncode == 0 else done.stdout.splitlines()
    else:
        assert UV is not None
        done = sh(UV, "pip", "check", "--python", sys.executable)
        broken = [] if done.returncode == 0 else done.stdout.splitlines()
    (check,) = check_requirements("daglab", deep=True)
    assert sorted(check.data["problems"]) == sorted(line for line in broken if line.strip())
    assert (check.status == "ok") == (done.returncode == 0), done.stdout + done.stderr
