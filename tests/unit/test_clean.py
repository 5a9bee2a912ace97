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
    age(_write(nb / "old_explore.html", "<html>old</html>"), 40)
    age(_write(nb / "older.html.gz", "gz"), 90)
    age(_write(nb / "fresh_explore.html", "<html>new</html>"), 1)
    _write(nb / "orders_explore.py", "import marimo\n")
    _write(nb / "__marimo__" / "session" / "orders_explore.py.json", "{}")
    _write(git_project / ".daglab" / "cache" / "discovery.json", "{}")
    _write(git_project / ".daglab" / "cache" / "sub" / "x.bin", "x")
    return git_project


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
        ("marimo-session", "src/shop/notebooks/__marimo__"),
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
