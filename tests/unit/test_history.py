"""The local history of in-process runs, exports and sweeps."""

from __future__ import annotations

import contextlib
import fcntl
import json
import threading
import time
from pathlib import Path

import pytest

from daglab import _history


def test_nothing_is_recorded_without_a_daglab_folder(git_project: Path) -> None:
    assert _history.record("export", {"path": "x.html"}, start=git_project) is False
    assert not _history.history_path(git_project).exists()


def test_events_round_trip_and_filter(git_project: Path) -> None:
    (git_project / ".daglab").mkdir()
    assert _history.record("inprocess", {"target": "a", "duration_s": 1.5}, start=git_project)
    assert _history.record("export", {"path": "b.html"}, start=git_project)
    with (git_project / ".daglab" / "history.jsonl").open("a") as handle:
        handle.write("not json\n[1]\n")
    events = _history.read(git_project)
    assert [e.kind for e in events] == ["inprocess", "export"]
    assert events[0].data == {"target": "a", "duration_s": 1.5}
    assert [e.kind for e in _history.read(git_project, kinds=["export"])] == ["export"]
    assert _history.read(git_project, since=events[1].at + 1) == []
    assert json.loads(json.dumps(events[1].to_dict()))["path"] == "b.html"
    with pytest.raises(ValueError, match="unknown history kind"):
        _history.record("bogus", {}, start=git_project)


def test_the_file_is_trimmed_past_its_limit(
    git_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (git_project / ".daglab").mkdir()
    monkeypatch.setattr(_history, "MAX_BYTES", 2000)
    for index in range(100):
        _history.record("sweep", {"index": index}, start=git_project)
    size = _history.history_path(git_project).stat().st_size
    events = _history.read(git_project)
    assert size <= 2100
    assert events[-1].data["index"] == 99 and len(events) < 100


def _open_count(path: Path) -> int:
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            count += fd.readlink() == path
    return count


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc (Linux)")
def test_an_append_that_waited_on_a_trim_lands_in_the_new_file(git_project: Path) -> None:
    (git_project / ".daglab").mkdir()
    _history.record("sweep", {"index": 0}, start=git_project)
    path = _history.history_path(git_project).resolve()
    late = b'{"kind": "export", "at": 1, "data": {"path": "late.html"}}\n'
    with path.open("ab") as holder:
        fcntl.flock(holder.fileno(), fcntl.LOCK_EX)  # another writer, about to trim
        writer = threading.Thread(target=_history._append, args=(path, late))
        writer.start()
        deadline = time.monotonic() + 10
        while _open_count(path) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)  # until the writer has opened the file and waits for the lock
        assert _open_count(path) == 2
        _history._trim(path)  # replaces the file, as a writer past the limit does
        fcntl.flock(holder.fileno(), fcntl.LOCK_UN)
    writer.join(10)
    assert not writer.is_alive()
    assert path.read_bytes().endswith(late)
