"""Fault injection: the real ``daglab`` killed with SIGKILL in the middle of its writes.

``DAGLAB_TEST_PAUSE_WRITES`` (see ``daglab._fs``) makes every atomic write pause with its
temporary file half written, and again before the rename, so each kill below lands at a known
moment. Whatever the moment, every file daglab keeps is either its old or its new complete
content (valid JSON / JSON lines), and ``daglab clean`` removes the temporary files left behind.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from daglab import _manifest
from daglab._fs import PAUSE_ENV
from tests.conftest import run_daglab

DAGLAB = str(Path(sys.executable).parent / "daglab")
PAUSE = "0.6"

NOTEBOOK = """import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo

    mo.md("# {title}")
    return


if __name__ == "__main__":
    app.run()
"""


def spawn(cwd: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [DAGLAB, *args],
        cwd=cwd,
        env={**os.environ, PAUSE_ENV: PAUSE},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def kill_when(
    proc: subprocess.Popen[bytes], ready: Callable[[], bool], timeout: float = 120
) -> None:
    """SIGKILL the process group as soon as ``ready()`` holds (the process still running)."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, "daglab ended before the moment to kill it"
        assert time.monotonic() < deadline, "the moment to kill never came"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


def temps(folder: Path, prefix: str) -> list[Path]:
    return sorted(folder.glob(f"{prefix}*.tmp")) if folder.is_dir() else []


def manifest(root: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((root / ".daglab" / "manifest.json").read_text())
    return data


def history_lines(root: Path) -> list[dict[str, object]]:
    path = root / ".daglab" / "history.jsonl"
    text = path.read_text() if path.exists() else ""
    assert text == "" or text.endswith("\n"), "a partial history line"
    return [json.loads(line) for line in text.splitlines()]


def age_temps(root: Path) -> None:
    old = time.time() - 3600
    for path in root.rglob("*.tmp"):
        os.utime(path, (old, old))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / ".git").mkdir(parents=True)
    (root / ".daglab").mkdir()
    (root / "daglab.yaml").write_text("version: '1.0'\nexport: {compress: false}\n")
    (root / "notebooks").mkdir()
    (root / "notebooks" / "orders.py").write_text(NOTEBOOK.format(title="First"))
    return root


def test_export_killed_at_each_write_leaves_old_or_new_complete_files(project: Path) -> None:
    html = project / "notebooks" / "orders.html"
    daglab_dir = project / ".daglab"
    first = run_daglab("export", "notebooks/orders.py", cwd=project)
    assert first.exit_code == 0, first
    old_html, old_manifest = html.read_bytes(), manifest(project)
    (project / "notebooks" / "orders.py").write_text(NOTEBOOK.format(title="Second"))

    # 1. the manifest's temporary file is half written (the entry goes first): all old
    proc = spawn(project, "export", "notebooks/orders.py")
    kill_when(proc, lambda: bool(temps(daglab_dir, ".manifest.json.")))
    assert html.read_bytes() == old_html
    assert manifest(project) == old_manifest

    # 2. the HTML's temporary file is half written: the old export stands, valid manifest,
    #    and the old export is still provably daglab's (the entry keeps the hash it replaces)
    proc = spawn(project, "export", "notebooks/orders.py")
    kill_when(proc, lambda: bool(temps(html.parent, ".orders.html.")))
    assert html.read_bytes() == old_html
    assert _manifest.owns(project, html)
    history_lines(project)

    # 3. kills at a spread of moments, whatever they hit: never --force, the file stays ours
    for delay in (0.2, 1.0, 2.0, 3.0, 4.0, 5.0):
        proc = spawn(project, "export", "notebooks/orders.py")
        time.sleep(delay)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=60) in (0, -signal.SIGKILL)
        text = html.read_bytes()
        assert text.rstrip().endswith(b"</html>") and (b"First" in text or b"Second" in text)
        assert _manifest.owns(project, html), delay
        for event in history_lines(project):
            assert event["kind"] == "export"

    # clean removes what the kills left: in .daglab/ and beside the recorded export
    assert temps(daglab_dir, ".") and temps(html.parent, ".orders.html.")
    age_temps(project)
    cleaned = run_daglab("clean", "--yes", "--json", cwd=project)
    assert cleaned.exit_code == 0, cleaned
    assert temps(daglab_dir, ".") == [] and temps(html.parent, ".orders.html.") == []
    assert (daglab_dir / "manifest.json").is_file() and html.is_file()
    # and daglab works on, replacing its own export without --force
    after = run_daglab("export", "notebooks/orders.py", cwd=project)
    assert after.exit_code == 0, after
    assert "notebooks/orders.html" in manifest(project)["files"]  # type: ignore[operator]


def test_history_append_killed_leaves_whole_lines(project: Path) -> None:
    """Many writers appending while some are killed: every line stays a whole JSON object."""
    code = (
        "import sys; from pathlib import Path; from daglab import _history\n"
        "for i in range(2000):\n"
        "    _history.record('export', {'i': i, 'pad': 'x' * 1000}, start=Path(sys.argv[1]))\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(project)], start_new_session=True)
        for _ in range(4)
    ]
    time.sleep(0.5)
    for proc in procs[:2]:
        os.killpg(proc.pid, signal.SIGKILL)
    assert [proc.wait(timeout=300) for proc in procs] == [-signal.SIGKILL] * 2 + [0, 0]
    lines = history_lines(project)  # past 5 MiB it was trimmed, under the same lock
    assert all(event["pad"] == "x" * 1000 for event in lines)
    assert any(event["i"] == 1999 for event in lines)  # a survivor's last line is there


def test_bootstrap_killed_mid_way_leaves_only_complete_files(tmp_path: Path) -> None:
    reference = tmp_path / "ref"
    reference.mkdir()
    done = run_daglab("init", "--bootstrap", "shop", "--template", "minimal", cwd=reference)
    assert done.exit_code == 0, done
    expected = {
        p.relative_to(reference / "shop").as_posix(): p.read_bytes()
        for p in (reference / "shop").rglob("*")
        if p.is_file()
    }
    work = tmp_path / "work"
    work.mkdir()
    target = work / "shop"
    proc = spawn(work, "init", "--bootstrap", "shop", "--template", "minimal")

    def some_files_written() -> bool:
        written = [p for p in target.rglob("*") if p.is_file() and p.suffix != ".tmp"]
        return len(written) >= 3 and any(target.rglob("*.tmp"))

    kill_when(proc, some_files_written)
    found = [p for p in target.rglob("*") if p.is_file()]
    leftovers = [p for p in found if p.name.endswith(".tmp")]
    assert leftovers  # killed mid-write, as intended
    for path in found:
        if path in leftovers or path.name.startswith("daglab.log"):
            continue
        rel = path.relative_to(target).as_posix()
        if rel == ".daglab/manifest.json":
            json.loads(path.read_text())  # complete, if not yet listing everything
            continue
        if rel == ".daglab/manifest.lock":
            continue
        assert path.read_bytes() == expected[rel], rel
