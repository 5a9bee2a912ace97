"""The release: ``python -m build`` makes an sdist and a wheel that ``twine check`` passes; the
wheel holds the package (with its templates and GraphQL documents) and nothing else, and works
from a fresh virtualenv without Dagster or marimo."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from daglab import __version__
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(REPO_ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return out


def test_twine_accepts_the_sdist_and_the_wheel(dist: Path) -> None:
    files = sorted(p.name for p in dist.iterdir())
    assert files == [f"daglab-{__version__}-py3-none-any.whl", f"daglab-{__version__}.tar.gz"]
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, dist.iterdir())],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_wheel_holds_the_package_and_nothing_else(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"daglab", f"daglab-{__version__}.dist-info"}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    own = [n for n in names if not n.startswith("daglab/_templates/")]  # templates have tests/
    assert not [n for n in own if "tests/" in n or "fixtures" in n or "snapshots" in n]
    assert [n for n in names if not n.startswith("daglab/")] == [
        f"daglab-{__version__}.dist-info/{name}"
        for name in ("METADATA", "WHEEL", "entry_points.txt", "RECORD")
    ]
    shipped = set(names)
    documents = REPO_ROOT / "src" / "daglab" / "_client" / "graphql"
    templates = REPO_ROOT / "src" / "daglab" / "_templates"
    for folder in (documents, templates):
        for path in folder.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                relative = path.relative_to(REPO_ROOT / "src").as_posix()
                assert relative in shipped, relative
    assert "daglab/py.typed" in shipped


def test_the_wheel_works_in_a_fresh_virtualenv(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    venv = tmp_path / "venv"
    uv = shutil.which("uv")
    if uv is not None:
        subprocess.run([uv, "venv", "-q", "--python", sys.executable, str(venv)], check=True)
        install = [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python")]
    else:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        install = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*install, str(wheel)], check=True, timeout=600)
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "NO_COLOR": "1"}

    def daglab(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(venv / "bin" / "daglab"), *args],
            cwd=cwd,
            env={**env, "COLUMNS": "120", "LANG": os.environ.get("LANG", "C.UTF-8")},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    version = daglab("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"daglab {__version__}", version
    init = daglab("init", "--bootstrap", "shop")
    assert init.returncode == 0, init
    assert (tmp_path / "shop" / "daglab.yaml").is_file()
    doctor = daglab("doctor", "--json", cwd=tmp_path / "shop")
    report = json.loads(doctor.stdout)
    assert doctor.returncode == 0 and report["ok"], report
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["packages"]["status"] == "ok"
    assert checks["project"]["status"] == "ok"
    assert checks["dagster"]["status"] == "warn"  # the wheel alone brings no Dagster
