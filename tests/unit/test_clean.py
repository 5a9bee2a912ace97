"""`daglab clean`: what it plans, what it deletes, and what it never touches."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from daglab import _manifest
from daglab._fs import Written
from tests.conftest import Result, make_dg_project

DAY = 86400


def age(path: Path, days: float) -> Path:
    stamp = time.time() - days * DAY
    os.utime(path, (stamp, stamp), follow_symlinks=False)
    return path


@pytest.fixture
def project(git_project: Path) -> Path:
    make_dg_project(git_project, "shop")
    (git_project / ".daglab" / "cache").mkdir(parents=True)
    (git_project / "daglab.yaml").write_text(
        "notebooks_dir: src/shop/notebooks\nexport: {retention_days: 30}\n"
    )
    nb = git_project / "src" / "shop" / "notebooks"
    nb.mkdir()
    exports = [
        _write(nb / "old_explore.html", "<html>old</html>"),
        _write(nb / "older.html.gz", "gz"),
        _write(nb / "fresh_explore.html", "<html>new</html>"),
    ]
    record_exports(git_project, *exports)
    age(exports[0], 40)
    age(exports[1], 90)
    age(exports[2], 1)
    age(_write(nb / "users_own.html", "<html>not an export</html>"), 400)
    _write(nb / "orders_explore.py", "import marimo\n")
    age(_write(nb / "__marimo__" / "session" / "orders_explore.py.json", "{}"), 40)
    _write(git_project / ".daglab" / "cache" / "discovery.json", "{}")
    _write(git_project / ".daglab" / "cache" / "sub" / "x.bin", "x")
    return git_project


def record_exports(root: Path, *paths: Path) -> None:
    _manifest.record(
        root, [Written(p, "created") for p in paths], generator="export", kind="export"
    )


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def listing(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def test_dry_run_lists_and_deletes_nothing(cli, project: Path) -> None:
    before = listing(project)
    result: Result = cli("clean", "--dry-run", "--json", cwd=project)
    assert result.exit_code == 0, result
    data = json.loads(result.stdout)
    planned = {(i["kind"], i["path"]) for i in data["items"]}
    assert planned == {
        ("export", "src/shop/notebooks/old_explore.html"),
        ("export", "src/shop/notebooks/older.html.gz"),
        ("marimo-session", "src/shop/notebooks/__marimo__/session/orders_explore.py.json"),
        ("cache", ".daglab/cache/discovery.json"),
        ("cache", ".daglab/cache/sub"),
    }
    assert data["deleted"] is False
    assert listing(project) == before


def test_clean_deletes_old_exports_and_cache_keeps_fresh(cli, project: Path) -> None:
    result: Result = cli("clean", "--yes", cwd=project)
    assert result.exit_code == 0, result
    nb = project / "src" / "shop" / "notebooks"
    assert not (nb / "old_explore.html").exists()
    assert not (nb / "older.html.gz").exists()
    assert not (nb / "__marimo__").exists()
    assert (nb / "fresh_explore.html").exists()
    assert (nb / "users_own.html").read_text() == "<html>not an export</html>"
    assert (nb / "orders_explore.py").exists()
    assert (project / ".daglab" / "cache").is_dir()
    assert list((project / ".daglab" / "cache").iterdir()) == []


def test_older_than_overrides_retention(cli, project: Path) -> None:
    result: Result = cli("clean", "--older-than", "60", "--yes", "--json", cwd=project)
    data = json.loads(result.stdout)
    assert {i["path"] for i in data["items"]} == {"src/shop/notebooks/older.html.gz"}
    assert (project / "src" / "shop" / "notebooks" / "old_explore.html").exists()


def test_confirmation_is_required_without_yes(cli, project: Path) -> None:
    before = listing(project)
    result: Result = cli("clean", cwd=project)
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert listing(project) == before


def test_never_follows_links_out_of_the_project(cli, project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    precious = _write(outside / "precious.html", "keep me")
    age(precious, 400)
    nb = project / "src" / "shop" / "notebooks"
    (nb / "linked").symlink_to(outside, target_is_directory=True)
    (project / ".daglab" / "cache" / "link").symlink_to(outside, target_is_directory=True)
    result: Result = cli("clean", "--yes", "--older-than", "0", cwd=project)
    assert result.exit_code == 0, result
    assert precious.read_text() == "keep me"
    assert not os.path.lexists(project / ".daglab" / "cache" / "link")


def test_cache_folder_that_is_a_link_is_left_alone(cli, project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    _write(outside / "data.bin", "x")
    cache = project / ".daglab" / "cache"
    for child in cache.rglob("*"):
        if child.is_file():
            child.unlink()
    for child in sorted(cache.rglob("*"), reverse=True):
        child.rmdir()
    cache.rmdir()
    cache.symlink_to(outside, target_is_directory=True)
    result: Result = cli("clean", "--yes", "--json", cwd=project)
    assert result.exit_code == 0, result
    assert (outside / "data.bin").exists()
    assert any("symbolic link" in k["reason"] for k in json.loads(result.stdout)["kept"])


def test_notebooks_only_unmodified_generated_ones(cli, project: Path) -> None:
    nb = project / "src" / "shop" / "notebooks"
    generated = _write(nb / "gen_explore.py", "import marimo\n")
    edited = _write(nb / "edited_explore.py", "import marimo\n")
    _manifest.record(
        project,
        [Written(generated, "created"), Written(edited, "created")],
        generator="scaffold",
        kind="notebook",
    )
    edited.write_text("import marimo\n# my own work\n")
    result: Result = cli("clean", "--notebooks", "--yes", "--json", cwd=project)
    assert result.exit_code == 0, result
    assert not generated.exists()
    assert edited.exists()
    assert (nb / "orders_explore.py").exists()  # never generated by daglab
    kept = json.loads(result.stdout)["kept"]
    assert any(k["path"].endswith("edited_explore.py") for k in kept)


def test_nothing_to_clean(cli, git_project: Path) -> None:
    make_dg_project(git_project)
    result: Result = cli("clean", "--yes", cwd=git_project)
    assert result.exit_code == 0, result
    assert "Nothing to clean" in result.stdout


def test_outside_a_project(cli, git_project: Path) -> None:
    result: Result = cli("clean", "--yes", cwd=git_project)
    assert result.exit_code == 3
    assert "daglab init" in result.stderr


def test_negative_age_is_refused(cli, project: Path) -> None:
    result: Result = cli("clean", "--older-than", "-1", "--yes", cwd=project)
    assert result.exit_code == 7


def test_only_recorded_exports_and_session_files_with_notebooks_dir_dot(
    cli, git_project: Path
) -> None:
    """``notebooks_dir: "."``: the virtualenv, docs and the user's HTML are never touched."""
    root = git_project
    make_dg_project(root, "shop")
    (root / "daglab.yaml").write_text('notebooks_dir: "."\nexport: {retention_days: 30}\n')
    venv = root / ".venv"
    _write(venv / "pyvenv.cfg", "home = /usr/bin\n")
    in_venv = [
        _write(venv / "lib" / "site-packages" / "pkg" / "index.html", "<html>pkg</html>"),
        _write(venv / "share" / "doc.html.gz", "gz"),
        _write(venv / "share" / "__marimo__" / "session" / "x.py.json", "{}"),
    ]
    other_venv = _write(root / "env2" / "__marimo__" / "session" / "y.py.json", "{}")
    _write(root / "env2" / "pyvenv.cfg", "")
    modules = _write(root / "node_modules" / "__marimo__" / "session" / "z.py.json", "{}")
    manual = _write(root / "docs" / "manual.html", "<html>manual</html>")
    recorded = _write(root / "explore.html", "<html>export</html>")
    record_exports(root, recorded)
    old_session = _write(root / "__marimo__" / "session" / "explore.py.json", "{}")
    fresh_session = _write(root / "nbs" / "__marimo__" / "session" / "new.py.json", "{}")
    persistent = _write(root / "__marimo__" / "cache" / "abc" / "value.pkl", "v")
    for path in [*in_venv, other_venv, modules, manual, recorded, old_session, persistent]:
        age(path, 400)
    age(fresh_session, 2)
    result: Result = cli("clean", "--yes", "--json", cwd=root)
    assert result.exit_code == 0, result
    deleted = {i["path"] for i in json.loads(result.stdout)["items"]}
    assert deleted == {"explore.html", "__marimo__/session/explore.py.json"}
    assert not recorded.exists() and not old_session.exists()
    for path in [*in_venv, other_venv, modules, manual, fresh_session, persistent]:
        assert path.exists(), path
    assert "explore.html" not in _manifest.generated(root)  # forgotten with the file


def test_a_recorded_export_changed_since_is_kept(cli, project: Path) -> None:
    nb = project / "src" / "shop" / "notebooks"
    (nb / "old_explore.html").write_text("<html>my edits</html>")
    age(nb / "old_explore.html", 40)
    result: Result = cli("clean", "--yes", "--json", cwd=project)
    assert result.exit_code == 0, result
    assert (nb / "old_explore.html").read_text() == "<html>my edits</html>"
    kept = json.loads(result.stdout)["kept"]
    assert any("changed since" in k["reason"] for k in kept)


def test_leftover_temp_files_of_daglab_go_once_old_enough(cli, project: Path) -> None:
    daglab = project / ".daglab"
    stale = [
        _write(daglab / ".history.jsonl.k3j4h5.tmp", '{"kind": "exp'),
        _write(daglab / ".manifest.json.a8b9c0.tmp", '{"files": {'),
    ]
    for path in stale:
        age(path, 1 / 24)
    in_progress = _write(daglab / ".manifest.json.zzz111.tmp", "{")
    lock = _write(daglab / "manifest.lock", "")
    age(lock, 400)
    result: Result = cli("clean", "--yes", "--json", cwd=project)
    assert result.exit_code == 0, result
    assert not any(p.exists() for p in stale)
    assert in_progress.exists() and lock.exists()
    kinds = {i["kind"] for i in json.loads(result.stdout)["items"]}
    assert "temp" in kinds
