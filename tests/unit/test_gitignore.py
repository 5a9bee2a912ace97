"""`.gitignore` from `daglab init`, and notebooks an ignore rule would hide, in real git repos."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from daglab._gitignore import gitignore_entries, hidden_by_git, pattern_path
from tests.conftest import Result, make_dg_project

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")


def git(root: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=root, input=stdin, capture_output=True, text=True, check=False
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real git repository (not the bare `.git` folder the other tests use)."""
    root = tmp_path / "repo"
    root.mkdir()
    assert git(root, "init", "-q").returncode == 0
    return root


def ignored(root: Path, *paths: str) -> set[str]:
    """Which of ``paths`` git ignores, by git's own answer."""
    done = git(root, "check-ignore", "-z", "--stdin", stdin="\0".join(paths) + "\0")
    assert done.returncode in (0, 1), done.stderr
    return set(filter(None, done.stdout.split("\0")))


def test_init_ignores_exports_at_any_depth_and_daglab_local_files(cli, repo: Path) -> None:
    make_dg_project(repo, "shop")
    result: Result = cli("init", "--json", cwd=repo)
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["warnings"] == []
    nb = "src/shop/notebooks"
    hidden = [
        f"{nb}/orders.html",
        f"{nb}/assets/shop/orders_explore.html",
        f"{nb}/assets/shop/deep/er/orders_explore.html.gz",
        f"{nb}/jobs/.ipynb_checkpoints/x.py",
        ".daglab/manifest.json",
        ".daglab/manifest.lock",
        ".daglab/history.jsonl",
        ".daglab/last_ports.json",
        ".daglab/launch.lock",
        ".daglab/daglab.log",
        ".daglab/daglab.log.1",
        ".daglab/cache/partitions.json",
        ".daglab/.manifest.json.x1y2.tmp",
        "src/shop/notebooks/__marimo__/session.json",
    ]
    kept = [
        f"{nb}/assets/shop/orders_explore.py",
        f"{nb}/examples/quickstart_explore.py",
        f"{nb}/README.md",
        ".daglab/templates/notebook.py.j2",  # a team's own templates are committed
        "daglab.yaml",
        "docs/report.html",  # HTML outside the notebooks folder is the user's business
    ]
    assert ignored(repo, *hidden, *kept) == set(hidden)
    # and git agrees on what init itself wrote
    git(repo, "add", "-A")
    tracked = git(repo, "ls-files").stdout.split()
    assert "daglab.yaml" in tracked and ".gitignore" in tracked
    assert f"{nb}/examples/quickstart_explore.py" in tracked
    assert not [path for path in tracked if path.startswith(".daglab/")]


def test_hostile_notebook_folder_names_are_literal_in_gitignore(cli, repo: Path) -> None:
    make_dg_project(repo, "shop")
    folder = "nb [x]*#!"
    result: Result = cli("init", "--notebooks-dir", folder, "--no-examples", cwd=repo)
    assert result.exit_code == 0, result
    assert ignored(repo, f"{folder}/a/b.html", "nb x/a/b.html", "nb [x]zz#!/b.html") == {
        f"{folder}/a/b.html"
    }
    assert pattern_path("#nb") == "\\#nb" and pattern_path("!nb") == "\\!nb"
    assert pattern_path("a\nb") is None and pattern_path("../x") is None
    assert gitignore_entries(".")[2] == "**/*.html"


def test_init_reports_a_rule_that_hides_the_notebooks(cli, repo: Path) -> None:
    make_dg_project(repo, "shop")
    (repo / ".gitignore").write_text("build/\nsrc/shop/notebooks/\n")
    result: Result = cli("init", "--json", cwd=repo)
    assert result.exit_code == 0, result
    (warning,) = json.loads(result.stdout)["warnings"]
    assert "`src/shop/notebooks/` at .gitignore:2" in warning
    assert "--notebooks-dir" in warning
    table: Result = cli("init", cwd=repo)
    assert "warning:" in table.stdout and "src/shop/notebooks/" in table.stdout


def test_a_rule_for_python_files_is_found_by_a_notebook_path(cli, repo: Path) -> None:
    make_dg_project(repo, "shop")
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "exclude").write_text("*_explore.py\n")
    result: Result = cli("init", "--json", "--no-examples", cwd=repo)
    (warning,) = json.loads(result.stdout)["warnings"]
    assert "`*_explore.py` at .git/info/exclude:1" in warning


def test_negated_rules_and_unrelated_rules_are_not_reported(repo: Path) -> None:
    (repo / "nb").mkdir()
    (repo / ".gitignore").write_text("*.py\n!nb/*.py\n*.csv\n")
    assert hidden_by_git(repo, [repo / "nb", repo / "nb" / "a.py"]) == []
    (rule,) = hidden_by_git(repo, [repo / "other.py", repo / "nb" / "b.py"])
    assert (rule.pattern, rule.line, rule.paths) == ("*.py", 1, ("other.py",))


def test_nothing_is_reported_outside_a_git_repository(cli, tmp_path: Path) -> None:
    root = tmp_path / "plain"
    make_dg_project(root, "shop")
    (root / ".gitignore").write_text("src/shop/notebooks/\n")
    assert git(root, "rev-parse", "--git-dir").returncode != 0  # really not a repository
    result: Result = cli("init", "--json", cwd=root)
    assert result.exit_code == 0, result
    assert json.loads(result.stdout)["warnings"] == []
