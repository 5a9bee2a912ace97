"""``daglab migrate``: Jupyter notebooks to marimo notebooks, checked with the real marimo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from daglab import helpers
from daglab._migrate import HELPER_NAMES, MAX_OUTPUT_LINES, output_comment_lines
from tests.conftest import Result, run_daglab

# -- notebooks written by hand, as nbformat 4 JSON -------------------------------------------------


def code(source: str, outputs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "cell_type": "code",
        "execution_count": 1,
        "metadata": {},
        "outputs": outputs or [],
        "source": source.splitlines(keepends=True),
    }


def md(source: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": source}


def raw(source: str) -> dict[str, Any]:
    return {"cell_type": "raw", "metadata": {}, "source": source}


def write_notebook(path: Path, *cells: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "cells": list(cells),
    }
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path


def stream(text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": "stdout", "text": text}


def result(text: str) -> dict[str, Any]:
    return {
        "output_type": "execute_result",
        "execution_count": 1,
        "metadata": {},
        "data": {"text/plain": text, "text/html": "<b>html</b>"},
    }


def image() -> dict[str, Any]:
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure size 640x480 with 1 Axes>"},
    }


def error(ename: str, evalue: str) -> dict[str, Any]:
    return {
        "output_type": "error",
        "ename": ename,
        "evalue": evalue,
        "traceback": ["\x1b[0;31m---------------\x1b[0m", f"{ename}: {evalue}"],
    }


def marimo_check(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "marimo", "check", *extra, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_marimo_check_passes(path: Path) -> None:
    strict = marimo_check(path, "--strict")
    assert strict.returncode == 0, strict.stdout + strict.stderr


def migrate_json(cli: Any, *args: str, cwd: Path) -> dict[str, Any]:
    outcome: Result = cli("migrate", *args, "--json", cwd=cwd)
    assert outcome.exit_code == 0, outcome
    data: dict[str, Any] = json.loads(outcome.stdout)
    return data


# -- conversion -----------------------------------------------------------------------------------


def test_markdown_and_code_cells_are_converted(cli, tmp_path: Path) -> None:
    write_notebook(
        tmp_path / "analysis.ipynb",
        md("# Sales analysis\n\nSome *notes*."),
        code("import math\nradius = 2.0"),
        code("area = math.pi * radius ** 2\nprint(area)"),
        raw("---\ntitle: front matter\n---"),
    )
    data = migrate_json(cli, "--from-jupyter", "analysis.ipynb", cwd=tmp_path)

    out = tmp_path / "analysis.py"
    text = out.read_text()
    assert "import marimo as mo" in text
    assert 'mo.md(r"""' in text and "# Sales analysis" in text
    assert "area = math.pi * radius ** 2" in text
    assert "title: front matter" in text  # the raw cell, as a markdown code block
    assert "from daglab.helpers import (" in text
    for name in HELPER_NAMES:
        assert f"    {name},\n" in text
    [report] = data["notebooks"]
    assert report["cells"] == {"code": 2, "markdown": 1, "raw": 1, "marimo": 6}
    assert report["action"] == "created"
    assert report["output"] == "analysis.py"
    assert report["helpers"] == {"imported": list(HELPER_NAMES), "skipped": []}
    assert report["magics"] == [] and report["conflicts"] == []
    markdown = (tmp_path / "analysis.migration.md").read_text()
    assert markdown.startswith("# Migration report: analysis.ipynb")
    assert "2 code, 1 markdown, 1 raw" in markdown
    assert_marimo_check_passes(out)


def test_magics_and_shell_escapes_are_reported(cli, tmp_path: Path) -> None:
    write_notebook(
        tmp_path / "magic.ipynb",
        md("Timing"),
        code("values = list(range(10))\n%timeit sum(values)\ntotal = sum(values)"),
        code("%%bash\necho hello"),
        code("!pip install x\nready = True"),
        code("%matplotlib inline"),
    )
    data = migrate_json(cli, "--from-jupyter", "magic.ipynb", cwd=tmp_path)

    [report] = data["notebooks"]
    assert report["magics"] == [
        {"cell": 2, "line": 2, "kind": "line magic", "text": "%timeit sum(values)"},
        {"cell": 3, "line": 1, "kind": "cell magic", "text": "%%bash"},
        {"cell": 4, "line": 1, "kind": "shell escape", "text": "!pip install x"},
        {"cell": 5, "line": 1, "kind": "line magic", "text": "%matplotlib inline"},
    ]
    # Only a comment would be left of `%matplotlib inline`: the cell goes, the report keeps it.
    assert report["dropped_cells"] == [5]
    assert report["dependencies"] == ["x"]
    text = (tmp_path / "magic.py").read_text()
    assert "# %timeit sum(values)" in text
    assert "subprocess.run('echo hello', shell=True)" in text
    assert '# dependencies = ["x"]' in text
    markdown = (tmp_path / "magic.migration.md").read_text()
    assert "| 3 | 1 | cell magic | `%%bash` |" in markdown
    assert "| 4 | 1 | shell escape | `!pip install x` |" in markdown
    assert_marimo_check_passes(tmp_path / "magic.py")


def test_outputs_are_kept_as_comments_only_when_asked(cli, tmp_path: Path) -> None:
    many = "".join(f"row {i}\n" for i in range(MAX_OUTPUT_LINES + 7))
    write_notebook(
        tmp_path / "out.ipynb",
        code("print('hello')\n41 + 1", [stream("hello\n"), result("42")]),
        code("import matplotlib", [image()]),
        code("boom = 1", [error("ZeroDivisionError", "division by zero")]),
        code("rows = 1", [stream(many)]),
    )
    data = migrate_json(
        cli, "--from-jupyter", "out.ipynb", "--preserve-outputs", "--to", "kept.py", cwd=tmp_path
    )
    assert data["notebooks"][0]["outputs_preserved"] == 4
    kept = (tmp_path / "kept.py").read_text()
    assert "    # Output (from Jupyter):\n    # hello\n    # 42\n" in kept
    assert "<b>html</b>" not in kept
    assert "# [image output omitted]" in kept and "<Figure size" not in kept
    assert "# ZeroDivisionError: division by zero" in kept
    assert f"# row {MAX_OUTPUT_LINES - 1}\n" in kept
    assert f"# row {MAX_OUTPUT_LINES}\n" not in kept
    assert "# … 7 more lines" in kept
    assert_marimo_check_passes(tmp_path / "kept.py")

    migrate_json(cli, "--from-jupyter", "out.ipynb", "--to", "plain.py", cwd=tmp_path)
    plain = (tmp_path / "plain.py").read_text()
    assert "Output (from Jupyter)" not in plain
    assert "hello\n    # 42" not in plain and "image output omitted" not in plain
    assert "print('hello')" in plain


def test_output_comment_lines_clean_terminal_noise() -> None:
    lines = output_comment_lines(
        [stream("\x1b[31mred\x1b[0m\n10%\r50%\r100%\n" + "x" * 500 + "\n"), {"output_type": "?"}]
    )
    assert lines[0] == "# Output (from Jupyter):"
    assert lines[1:3] == ["# red", "# 100%"]
    assert lines[3].endswith("…") and len(lines[3]) == len("# ") + 200 + 1
    assert output_comment_lines([]) == []


def test_duplicate_definitions_are_renamed_and_reported(cli, tmp_path: Path) -> None:
    write_notebook(
        tmp_path / "dup.ipynb",
        code("x = 1"),
        code("print(x)"),
        code("x = 2\nprint(x)"),
        code("for i in range(2):\n    print(i)"),
        code("for i in range(3):\n    print(i)"),
    )
    data = migrate_json(cli, "--from-jupyter", "dup.ipynb", cwd=tmp_path)

    [report] = data["notebooks"]
    assert report["renamed"] == [
        {"cell": 3, "old": "x", "new": "x_1"},
        {"cell": 4, "old": "i", "new": "_i"},
        {"cell": 5, "old": "i", "new": "_i"},
    ]
    assert report["conflicts"] == []
    text = (tmp_path / "dup.py").read_text()
    assert "x_1 = 2\n    print(x_1)" in text
    assert "for _i in range(3):" in text
    markdown = (tmp_path / "dup.migration.md").read_text()
    assert "- cell 3: `x` → `x_1` (and its later uses)" in markdown
    assert "- cell 4: `i` → `_i` (private to the cell)" in markdown
    assert_marimo_check_passes(tmp_path / "dup.py")


def test_helper_names_the_notebook_defines_are_skipped(cli, tmp_path: Path) -> None:
    write_notebook(
        tmp_path / "own.ipynb",
        code("def discover():\n    return []"),
        code("run_job = discover()"),
    )
    outcome: Result = cli("migrate", "--from-jupyter", "own.ipynb", cwd=tmp_path)
    assert outcome.exit_code == 0, outcome
    assert "helpers skipped (defined by the notebook): run_job, discover" in outcome.stdout

    text = (tmp_path / "own.py").read_text()
    import_block = text.split("from daglab.helpers import (", 1)[1].split(")", 1)[0]
    assert "discover" not in import_block and "run_job" not in import_block
    assert "manage_state" in import_block
    assert (
        "Helpers skipped (the notebook defines these names): `run_job`, `discover`"
        in (tmp_path / "own.migration.md").read_text()
    )
    assert_marimo_check_passes(tmp_path / "own.py")


def test_unparsable_code_is_reported(cli, tmp_path: Path) -> None:
    write_notebook(tmp_path / "odd.ipynb", code("files = !ls"), code("x = 1"))
    data = migrate_json(cli, "--from-jupyter", "odd.ipynb", "--no-helpers", cwd=tmp_path)

    [report] = data["notebooks"]
    assert report["magics"] == [
        {"cell": 1, "line": 1, "kind": "shell escape", "text": "files = !ls"}
    ]
    assert report["unparsable_cells"] == [1]
    assert report["helpers"] == {"imported": [], "skipped": []}
    assert "from daglab.helpers" not in (tmp_path / "odd.py").read_text()
    check = marimo_check(tmp_path / "odd.py")
    assert check.returncode != 0
    assert "unparsable" in check.stdout + check.stderr


def test_an_empty_notebook_becomes_just_the_helper_import(cli, tmp_path: Path) -> None:
    write_notebook(tmp_path / "empty.ipynb")
    data = migrate_json(cli, "--from-jupyter", "empty.ipynb", cwd=tmp_path)
    assert data["notebooks"][0]["cells"] == {"code": 0, "markdown": 0, "raw": 0, "marimo": 1}
    assert "from daglab.helpers import (" in (tmp_path / "empty.py").read_text()
    assert_marimo_check_passes(tmp_path / "empty.py")


# -- folders --------------------------------------------------------------------------------------


def test_a_folder_is_mirrored_and_checkpoints_are_skipped(cli, tmp_path: Path) -> None:
    source = tmp_path / "nbs"
    write_notebook(source / "first.ipynb", md("# One"), code("a = 1"))
    write_notebook(source / "team" / "second.ipynb", code("b = 2\nprint(b)"))
    write_notebook(source / ".ipynb_checkpoints" / "first-checkpoint.ipynb", code("a = 0"))
    write_notebook(source / "team" / ".ipynb_checkpoints" / "second-checkpoint.ipynb")

    data = migrate_json(cli, "--from-jupyter", "nbs", "--to", "marimo", cwd=tmp_path)

    assert [n["output"] for n in data["notebooks"]] == [
        str(Path("marimo/first.py")),
        str(Path("marimo/team/second.py")),
    ]
    written = sorted(
        p.relative_to(tmp_path / "marimo").as_posix() for p in (tmp_path / "marimo").rglob("*")
    )
    assert written == [
        "first.migration.md",
        "first.py",
        "team",
        "team/second.migration.md",
        "team/second.py",
    ]
    assert not list(source.rglob("*.py"))
    for path in (tmp_path / "marimo").rglob("*.py"):
        assert_marimo_check_passes(path)


def test_a_folder_without_to_writes_beside_each_notebook(cli, tmp_path: Path) -> None:
    write_notebook(tmp_path / "nbs" / "one.ipynb", code("one = 1"))
    write_notebook(tmp_path / "nbs" / "sub" / "two.ipynb", code("two = 2"))
    outcome: Result = cli("migrate", "--from-jupyter", "nbs", "--dry-run", cwd=tmp_path)
    assert outcome.exit_code == 0, outcome
    assert "would create" in outcome.stdout and "nothing written" in outcome.stdout
    assert not list(tmp_path.rglob("*.py")) and not list(tmp_path.rglob("*.md"))

    data = migrate_json(cli, "--from-jupyter", "nbs", cwd=tmp_path)
    assert [n["action"] for n in data["notebooks"]] == ["created", "created"]
    assert (tmp_path / "nbs" / "one.py").is_file()
    assert (tmp_path / "nbs" / "sub" / "two.migration.md").is_file()


# -- invalid sources, conflicts, destinations ------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"cells": [', "not valid JSON (line 1, column 12"),
        ('{"name": "package.json", "version": "1.0"}', "not a Jupyter notebook (no 'cells' list)"),
        ("[1, 2, 3]", "not a Jupyter notebook (the JSON is a list)"),
        ('{"nbformat": 3, "worksheets": []}', "nbformat 3 notebooks are not supported"),
        ('{"nbformat": 4, "cells": [{"cell_type": "code"}]}', "cell 1 has no text 'source'"),
    ],
    ids=["bad-json", "other-json", "json-list", "nbformat-3", "cell-without-source"],
)
def test_an_invalid_notebook_is_exit_7_and_nothing_is_written(
    cli, tmp_path: Path, content: str, reason: str
) -> None:
    (tmp_path / "broken.ipynb").write_text(content)
    outcome: Result = cli("migrate", "--from-jupyter", "broken.ipynb", cwd=tmp_path)
    assert outcome.exit_code == 7, outcome
    assert "broken.ipynb" in outcome.stderr and reason in outcome.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.ipynb"]


def test_a_missing_file_is_exit_7(cli, tmp_path: Path) -> None:
    outcome: Result = cli("migrate", "--from-jupyter", "nowhere.ipynb", "--json", cwd=tmp_path)
    assert outcome.exit_code == 7, outcome
    payload = json.loads(outcome.stdout)
    assert payload["error"] == "ValidationError"
    assert payload["details"]["failures"] == [{"path": "nowhere.ipynb", "reason": "file not found"}]
    assert list(tmp_path.iterdir()) == []


def test_one_bad_notebook_in_a_folder_stops_every_write(cli, tmp_path: Path) -> None:
    write_notebook(tmp_path / "nbs" / "good.ipynb", code("fine = True"))
    (tmp_path / "nbs" / "zbad.ipynb").write_text("not json at all")
    outcome: Result = cli("migrate", "--from-jupyter", "nbs", "--to", "out", cwd=tmp_path)
    assert outcome.exit_code == 7, outcome
    assert "1 of 2 notebooks cannot be migrated" in outcome.stderr
    assert "zbad.ipynb: not valid JSON" in outcome.stderr
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.rglob("*.py"))


def test_an_existing_destination_is_exit_8_until_force(cli, tmp_path: Path) -> None:
    write_notebook(tmp_path / "nb.ipynb", code("value = 3"))
    (tmp_path / "nb.py").write_text("# mine\n")

    outcome: Result = cli("migrate", "--from-jupyter", "nb.ipynb", cwd=tmp_path)
    assert outcome.exit_code == 8, outcome
    assert "nb.py" in outcome.stderr and "--force" in outcome.stderr
    assert (tmp_path / "nb.py").read_text() == "# mine\n"
    assert not (tmp_path / "nb.migration.md").exists()

    data = migrate_json(cli, "--from-jupyter", "nb.ipynb", "--force", cwd=tmp_path)
    assert data["notebooks"][0]["action"] == "overwritten"
    assert "value = 3" in (tmp_path / "nb.py").read_text()
    assert_marimo_check_passes(tmp_path / "nb.py")


def test_destinations_that_cannot_work_are_usage_errors(cli, tmp_path: Path) -> None:
    write_notebook(tmp_path / "nb.ipynb", code("value = 3"))
    (tmp_path / "nbs").mkdir()
    write_notebook(tmp_path / "nbs" / "a.ipynb", code("a = 1"))

    same: Result = cli("migrate", "--from-jupyter", "nb.ipynb", "--to", "nb.ipynb", cwd=tmp_path)
    assert same.exit_code == 2, same
    assert "does not end in .py" in same.stderr
    (tmp_path / "script.py").write_text("print(1)\n")
    itself: Result = cli("migrate", "--from-jupyter", "script.py", "--to", "script.py")
    assert itself.exit_code == 2, itself
    assert "is the source itself" in itself.stderr
    folder_to_file: Result = cli("migrate", "--from-jupyter", "nbs", "--to", "x.py", cwd=tmp_path)
    assert folder_to_file.exit_code == 2, folder_to_file
    assert "must be a folder" in folder_to_file.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nb.ipynb", "nbs", "script.py"]


def test_to_an_existing_folder_puts_the_notebook_inside(cli, tmp_path: Path) -> None:
    write_notebook(tmp_path / "nb.ipynb", code("value = 3"))
    (tmp_path / "dest").mkdir()
    data = migrate_json(cli, "--from-jupyter", "nb.ipynb", "--to", "dest", cwd=tmp_path)
    assert data["notebooks"][0]["output"] == str(Path("dest/nb.py"))
    assert (tmp_path / "dest" / "nb.migration.md").is_file()


# -- running the result ---------------------------------------------------------------------------


def _runnable(tmp_path: Path) -> Path:
    return write_notebook(
        tmp_path / "run.ipynb",
        md("# A runnable notebook"),
        code("import json\nnumbers = [1, 2, 3]"),
        code("total = sum(numbers)\nprint(json.dumps({'total': total}))", [stream("6\n")]),
        code("%matplotlib inline"),
        code("total = total * 2\nprint('doubled', total)"),
    )


def test_the_result_runs_as_a_script(cli, tmp_path: Path) -> None:
    _runnable(tmp_path)
    migrate_json(
        cli, "--from-jupyter", "run.ipynb", "--preserve-outputs", "--no-helpers", cwd=tmp_path
    )
    proc = subprocess.run(
        [sys.executable, str(tmp_path / "run.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert '{"total": 6}' in proc.stdout
    assert "doubled 12" in proc.stdout
    assert_marimo_check_passes(tmp_path / "run.py")


def test_the_result_with_helpers_runs_as_a_script(tmp_path: Path) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", f"from daglab.helpers import {', '.join(HELPER_NAMES)}"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # the migrator's names and the facade must agree: a rename in either fails here
    assert probe.returncode == 0, f"daglab.helpers lacks a helper: {probe.stderr[-400:]}"
    assert set(HELPER_NAMES) <= set(helpers.__all__)
    _runnable(tmp_path)
    outcome = run_daglab("migrate", "--from-jupyter", "run.ipynb", "--json", cwd=tmp_path)
    assert outcome.exit_code == 0, outcome
    assert json.loads(outcome.stdout)["notebooks"][0]["helpers"]["skipped"] == []
    proc = subprocess.run(
        [sys.executable, "run.py"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "doubled 12" in proc.stdout


def test_the_installed_command_prints_a_summary(tmp_path: Path) -> None:
    write_notebook(tmp_path / "nb.ipynb", md("# Hi"), code("%time x = 1\ny = 2"))
    outcome = run_daglab("migrate", "--from-jupyter", "nb.ipynb", cwd=tmp_path)
    assert outcome.exit_code == 0, outcome
    assert "daglab migrate" in outcome.stdout
    assert "cell 2, line 1: line magic %time x = 1" in outcome.stdout
    assert "Migrated 1 notebook(s)" in outcome.stdout
    assert (tmp_path / "nb.py").is_file() and (tmp_path / "nb.migration.md").is_file()


def test_help_has_examples(cli, tmp_path: Path) -> None:
    outcome: Result = cli("migrate", "--help", cwd=tmp_path)
    assert outcome.exit_code == 0, outcome
    assert "--from-jupyter" in outcome.stdout and "--preserve-outputs" in outcome.stdout
    assert "Examples" in outcome.stdout
    assert "daglab migrate --from-jupyter" in outcome.stdout


def test_to_outside_the_project_never_overwrites_foreign_files_nor_makes_folders(
    cli, tmp_path: Path
) -> None:
    project = tmp_path / "proj"
    write_notebook(project / "a.ipynb", code("x = 1"))
    outside = tmp_path / "out"
    outside.mkdir()
    foreign = outside / "a.py"
    foreign.write_text("print('mine')\n")
    refused: Result = cli("migrate", "--from-jupyter", "a.ipynb", "--to", str(foreign), cwd=project)
    assert refused.exit_code == 8, refused
    assert "--force" in refused.stderr and foreign.read_text() == "print('mine')\n"
    notes = outside / "b.migration.md"  # the report beside it is a user's file too
    notes.write_text("my notes")
    both = cli("migrate", "--from-jupyter", "a.ipynb", "--to", str(outside / "b.py"), cwd=project)
    assert both.exit_code == 8 and not (outside / "b.py").exists()
    assert notes.read_text() == "my notes"
    deep = tmp_path / "no" / "where" / "a.py"
    missing = cli("migrate", "--from-jupyter", "a.ipynb", "--to", str(deep), cwd=project)
    assert missing.exit_code == 7 and "does not exist" in missing.stderr, missing
    assert not (tmp_path / "no").exists()
    mine = outside / "c.py"
    first = cli("migrate", "--from-jupyter", "a.ipynb", "--to", str(mine), cwd=project)
    assert first.exit_code == 0, first
    again = cli("migrate", "--from-jupyter", "a.ipynb", "--to", str(mine), cwd=project)
    assert again.exit_code == 0, again  # daglab's own output, unchanged since
    forced = cli(
        "migrate", "--from-jupyter", "a.ipynb", "--to", str(foreign), "--force", cwd=project
    )
    assert forced.exit_code == 0 and "import marimo" in foreign.read_text()


def test_over_long_names_are_exit_7_naming_them(cli, tmp_path: Path) -> None:
    write_notebook(tmp_path / "a.ipynb", code("x = 1"))
    long_name = "n" * 300
    for args in (
        ["--from-jupyter", f"{long_name}.ipynb"],
        ["--from-jupyter", "a.ipynb", "--to", f"{long_name}.py"],
        ["--from-jupyter", "a.ipynb", "--to", f"{long_name}/"],
        ["--from-jupyter", "a.ipynb", "--to", "m" * 250 + ".py"],  # its .migration.md is too long
    ):
        result: Result = cli("migrate", *args, cwd=tmp_path)
        assert result.exit_code == 7, (args, result)
        assert "bytes long" in result.stderr and (
            "nnnnnnnn" in result.stderr or "mmmm" in result.stderr
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ipynb"]
