"""The read model of dg.toml and workspace.yaml, and daglab's marked edits of both."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from daglab._errors import ConflictError, UsageError, ValidationError
from daglab._project import read_pyproject
from daglab._workspace import (
    add_grpc,
    find_workspace,
    load_workspace,
    register_project,
    remove_location,
    sync,
    validate,
)
from daglab._workspace.export import export_data
from daglab._workspace.write import list_backups, restore
from tests.conftest import make_dg_project

DG_TOML = """\
directory_type = "workspace"

[workspace]

# the team's first project
[[workspace.projects]]
path = "projects/alpha"
"""


def dg_workspace(root: Path, *projects: str, text: str = DG_TOML) -> Path:
    (root / ".git").mkdir(parents=True)
    (root / "dg.toml").write_text(text)
    for name in projects:
        make_dg_project(root / "projects" / name, name)
    return root


@pytest.fixture
def dg_ws(tmp_path: Path) -> Path:
    return dg_workspace(tmp_path / "ws", "alpha", "beta")


def test_dg_workspace_read(dg_ws: Path) -> None:
    pyproject = dg_ws / "projects" / "beta" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'code_location_name = "bravo"\n')
    (dg_ws / "dg.toml").write_text(DG_TOML + '\n[[workspace.projects]]\npath = "projects/beta"\n')
    ws = find_workspace(dg_ws / "projects" / "alpha" / "src")
    assert ws is not None
    assert (ws.root, ws.kind, ws.file) == (dg_ws, "dg", dg_ws / "dg.toml")
    # dg serves a project under its code_location_name, else its folder's name
    assert [(loc.name, loc.kind, loc.module, loc.managed) for loc in ws.locations] == [
        ("alpha", "project", "alpha.definitions", False),
        ("bravo", "project", "beta.definitions", False),
    ]
    assert ws.locations[0].path == dg_ws / "projects" / "alpha"
    assert load_workspace(dg_ws / "dg.toml") == ws


def test_no_workspace(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    assert find_workspace(tmp_path) is None
    with pytest.raises(Exception, match="no workspace"):
        load_workspace(tmp_path)


def test_dg_toml_wins_over_workspace_yaml(dg_ws: Path) -> None:
    (dg_ws / "workspace.yaml").write_text("load_from:\n  - python_file: x.py\n")
    ws = load_workspace(dg_ws)
    assert ws.kind == "dg"


def test_register_dg_project_is_marked_and_idempotent(dg_ws: Path) -> None:
    ws = load_workspace(dg_ws)
    original = (dg_ws / "dg.toml").read_bytes()
    preview = register_project(ws, dg_ws / "projects" / "beta", dry_run=True)
    assert preview.changed and '+path = "projects/beta"' in preview.diff
    assert (dg_ws / "dg.toml").read_bytes() == original

    change = register_project(ws, dg_ws / "projects" / "beta")
    assert change.changed and change.backup is not None
    assert change.backup.read_bytes() == original
    assert change.backup.parent == dg_ws / ".daglab" / "backups"
    text = (dg_ws / "dg.toml").read_text()
    assert text.startswith(original.decode())  # the user's text is untouched
    assert text.endswith(
        '\n# daglab:begin beta\n[[workspace.projects]]\npath = "projects/beta"\n# daglab:end beta\n'
    )
    entries = read_pyproject(dg_ws / "dg.toml")["workspace"]["projects"]
    assert entries[1] == {"path": "projects/beta"}
    ws = load_workspace(dg_ws)
    assert [(loc.name, loc.managed) for loc in ws.locations] == [
        ("alpha", False),
        ("beta", True),
    ]
    again = register_project(ws, dg_ws / "projects" / "beta")
    assert not again.changed and "already registered" in again.message
    assert not register_project(ws, dg_ws / "projects" / "alpha").changed


def test_register_refuses_outside_and_non_projects(dg_ws: Path, tmp_path: Path) -> None:
    ws = load_workspace(dg_ws)
    with pytest.raises(UsageError):
        register_project(ws, tmp_path)
    with pytest.raises(UsageError):
        register_project(ws, dg_ws / ".." / "elsewhere")
    (dg_ws / "projects" / "empty").mkdir()
    with pytest.raises(ValidationError, match="not a Dagster project"):
        register_project(ws, dg_ws / "projects" / "empty")
    with pytest.raises(UsageError, match="dg serves projects/beta as 'beta'"):
        register_project(ws, dg_ws / "projects" / "beta", name="other")


def test_remove_restores_bytes_and_refuses_hand_written(dg_ws: Path) -> None:
    original = (dg_ws / "dg.toml").read_bytes()
    register_project(load_workspace(dg_ws), dg_ws / "projects" / "beta")
    add_grpc(load_workspace(dg_ws), "localhost", 4100, name="feeds")
    remove_location(load_workspace(dg_ws), "beta")
    remove_location(load_workspace(dg_ws), "feeds")
    assert (dg_ws / "dg.toml").read_bytes() == original
    with pytest.raises(ConflictError) as refused:
        remove_location(load_workspace(dg_ws), "alpha")
    assert refused.value.exit_code == 8
    with pytest.raises(ValidationError, match="did you mean alpha"):
        remove_location(load_workspace(dg_ws), "alpah")
    assert (dg_ws / "dg.toml").read_bytes() == original


def test_grpc_and_executable_in_dg_toml(dg_ws: Path) -> None:
    python = dg_ws / "projects" / "beta" / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    (dg_ws / "dg.toml").write_text(
        DG_TOML + '\n# daglab:begin beta\n[[workspace.projects]]\npath = "projects/beta"\n'
        "# daglab:executable projects/beta/.venv/bin/python\n# daglab:end beta\n"
    )
    add_grpc(load_workspace(dg_ws), "localhost", 4100, name="feeds")
    assert "# daglab:grpc host=localhost port=4100" in (dg_ws / "dg.toml").read_text()
    ws = load_workspace(dg_ws)
    feeds = ws.location("feeds")
    assert feeds is not None and (feeds.kind, feeds.grpc, feeds.path) == (
        "grpc",
        ("localhost", 4100),
        None,
    )
    beta = ws.location("beta")
    assert beta is not None and beta.executable == python
    assert not add_grpc(ws, "localhost", 4100).changed
    exported = export_data(ws)["load_from"]
    assert exported[0] == {
        "python_module": {
            "module_name": "alpha.definitions",
            "working_directory": "projects/alpha/src",
            "location_name": "alpha",
        }
    }
    assert exported[1]["python_module"]["executable_path"] == str(python)
    assert exported[2] == {
        "grpc_server": {"host": "localhost", "port": 4100, "location_name": "feeds"}
    }


def test_failing_write_rolls_back_byte_identical(tmp_path: Path) -> None:
    # an inline `projects = []` cannot take an appended [[workspace.projects]] table: the
    # written file no longer parses, so the original comes back
    text = 'directory_type = "workspace"\n\n[workspace]\nprojects = []  # none yet\n'
    root = dg_workspace(tmp_path / "ws", "alpha", text=text)
    original = (root / "dg.toml").read_bytes()
    with pytest.raises(ValidationError, match="original is restored"):
        register_project(load_workspace(root), root / "projects" / "alpha")
    assert (root / "dg.toml").read_bytes() == original
    assert len(list_backups(load_workspace(root))) == 1


def test_restore_brings_a_backup_back(dg_ws: Path) -> None:
    original = (dg_ws / "dg.toml").read_bytes()
    change = register_project(load_workspace(dg_ws), dg_ws / "projects" / "beta")
    assert change.backup is not None
    restored = restore(load_workspace(dg_ws), change.backup.name)
    assert restored.changed
    assert (dg_ws / "dg.toml").read_bytes() == original
    with pytest.raises(ValidationError):
        restore(load_workspace(dg_ws), "../../dg.toml")


WORKSPACE_YAML = """\
# local development
load_from:
  - python_file:
      relative_path: scripts/defs.py
      location_name: scripts
  - python_module: etl.definitions   # hand-written
  - python_package:
      package_name: ml
      working_directory: ml_proj
      executable_path: /opt/ml/bin/python
  - grpc_server:
      host: remote
      port: 4266

# end of list
"""


def test_workspace_yaml_read(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "workspace.yaml").write_text(WORKSPACE_YAML)
    ws = find_workspace(tmp_path)
    assert ws is not None and ws.kind == "yaml"
    got = [(loc.name, loc.kind, loc.module, loc.grpc, loc.managed) for loc in ws.locations]
    assert got == [
        ("scripts", "file", None, None, False),
        ("etl.definitions", "module", "etl.definitions", None, False),
        ("ml", "module", "ml", None, False),
        ("grpc:remote:4266", "grpc", None, ("remote", 4266), False),
    ]
    assert ws.locations[0].path == tmp_path / "scripts" / "defs.py"
    assert ws.locations[2].path == tmp_path / "ml_proj"
    assert ws.locations[2].executable == Path("/opt/ml/bin/python")


def test_register_into_workspace_yaml(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "workspace.yaml").write_text(WORKSPACE_YAML)
    make_dg_project(tmp_path / "projects" / "gamma", "gamma")
    python = tmp_path / "projects" / "gamma" / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    ws = load_workspace(tmp_path)
    change = register_project(ws, tmp_path / "projects" / "gamma", name="g")
    assert change.changed
    text = (tmp_path / "workspace.yaml").read_text()
    # the new item goes after the last one, before the user's trailing comment
    assert text.endswith(
        "      port: 4266\n"
        "  # daglab:begin g\n"
        "  - python_module:\n"
        '      module_name: "gamma.definitions"\n'
        '      working_directory: "projects/gamma/src"\n'
        '      location_name: "g"\n'
        f'      executable_path: "{python}"\n'
        "  # daglab:end g\n"
        "\n# end of list\n"
    )
    assert len(yaml.safe_load(text)["load_from"]) == 5
    ws = load_workspace(tmp_path)
    g = ws.location("g")
    assert g is not None and (g.kind, g.path, g.managed) == (
        "module",
        tmp_path / "projects" / "gamma",
        True,
    )
    assert not register_project(ws, tmp_path / "projects" / "gamma").changed
    remove_location(ws, "g")
    assert (tmp_path / "workspace.yaml").read_text() == WORKSPACE_YAML


@pytest.mark.parametrize("start", ["", "load_from: []\n", "# nothing yet\n"])
def test_register_into_empty_workspace_yaml(tmp_path: Path, start: str) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "workspace.yaml").write_text(start)
    make_dg_project(tmp_path / "shop", "shop")
    register_project(load_workspace(tmp_path), tmp_path / "shop")
    ws = load_workspace(tmp_path)
    assert [(loc.name, loc.managed) for loc in ws.locations] == [("shop", True)]
    add_grpc(ws, "localhost", 4001)
    names = [loc.name for loc in load_workspace(tmp_path).locations]
    assert names == ["shop", "localhost-4001"]


def test_validate_static_problems(dg_ws: Path) -> None:
    (dg_ws / "dg.toml").write_text(
        DG_TOML
        + '\n[[workspace.projects]]\npath = "projects/gone"\n'
        + '\n[[workspace.projects]]\npath = "projects/alpha"\n'
        + "# daglab:begin stray\n"
    )
    make_dg_project(dg_ws / "projects" / "gamma", "gamma")
    problems = validate(load_workspace(dg_ws), schema=False)
    codes = sorted((p.code, p.location) for p in problems)
    assert codes == [
        ("duplicate-name", "alpha"),
        ("missing-path", "gone"),
        ("stray-marker", None),
        ("unregistered-project", "beta"),
        ("unregistered-project", "gamma"),
    ]
    assert all(p.remediation and p.severity == "error" for p in problems)
    missing = next(p for p in problems if p.code == "missing-path")
    assert "projects/gone does not exist" in missing.message


def test_schema_rejected_entry(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "workspace.yaml").write_text(
        "load_from:\n  - python_module:\n      module_name: etl\n      colour: blue\n"
    )
    ws = load_workspace(tmp_path)
    assert validate(ws, schema=False) == []
    problems = validate(ws)
    assert [p.code for p in problems] == ["schema"]
    assert "colour" in problems[0].message


def test_sync_registers_once_and_prunes(dg_ws: Path) -> None:
    first = sync(load_workspace(dg_ws))
    assert [c.changed for c in first] == [True]
    assert sync(load_workspace(dg_ws)) == []
    make_dg_project(dg_ws / "projects" / "gamma", "gamma")
    sync(load_workspace(dg_ws))
    import shutil

    shutil.rmtree(dg_ws / "projects" / "gamma")
    assert sync(load_workspace(dg_ws)) == []  # without --prune nothing is dropped
    pruned = sync(load_workspace(dg_ws), prune=True)
    assert [c.message for c in pruned] == ["remove gamma"]
    assert [loc.name for loc in load_workspace(dg_ws).locations] == ["alpha", "beta"]
    assert validate(load_workspace(dg_ws), schema=False) == []


def test_cli_usage_and_missing_workspace(cli, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    missing = cli("workspace", "list", cwd=tmp_path)
    assert missing.exit_code == 3 and "create-dagster workspace" in missing.stderr
    (tmp_path / "workspace.yaml").write_text("load_from:\n")
    assert cli("workspace", "add", cwd=tmp_path).exit_code == 2
    assert cli("workspace", "add", "x", "--grpc", "h:1", cwd=tmp_path).exit_code == 2
    assert cli("workspace", "add", "--grpc", "h:port", cwd=tmp_path).exit_code == 2
    assert cli("workspace", "export", "--format", "toml", cwd=tmp_path).exit_code == 2
    listed = cli("workspace", "list", cwd=tmp_path)
    assert listed.exit_code == 0 and "No locations yet" in listed.stdout
    added = cli("workspace", "add", "--grpc", "localhost:4001", "--dry-run", cwd=tmp_path)
    assert added.exit_code == 0 and "+  - grpc_server:" in added.stdout
    assert (tmp_path / "workspace.yaml").read_text() == "load_from:\n"


def test_hostile_names_are_refused(dg_ws: Path) -> None:
    pyproject = dg_ws / "projects" / "beta" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'code_location_name = "a b\\n# daglab:end x"\n')
    with pytest.raises(ValidationError, match="not a location name"):
        register_project(load_workspace(dg_ws), dg_ws / "projects" / "beta")
    with pytest.raises(ValidationError, match="not a location name"):
        add_grpc(load_workspace(dg_ws), "localhost", 4001, name="../x")


def test_interpreter_notes_in_dg_toml(dg_ws: Path) -> None:
    python = dg_ws / "projects" / "alpha" / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    original = (dg_ws / "dg.toml").read_text()
    # alpha's entry is hand-written: the interpreter becomes a note beside it
    change = register_project(load_workspace(dg_ws), dg_ws / "projects" / "alpha", python=python)
    assert change.changed
    note = (
        "\n# daglab:begin alpha\n# daglab:executable projects/alpha/.venv/bin/python\n"
        "# daglab:end alpha\n"
    )
    assert (dg_ws / "dg.toml").read_text() == original + note
    ws = load_workspace(dg_ws)
    alpha = ws.location("alpha")
    assert alpha is not None and (alpha.executable, alpha.managed) == (python, False)
    assert export_data(ws)["load_from"][0]["python_module"]["executable_path"] == str(python)
    assert not register_project(ws, dg_ws / "projects" / "alpha", python=python).changed
    with pytest.raises(ConflictError):
        remove_location(ws, "alpha")
    # daglab's own entry is written again with the interpreter
    register_project(ws, dg_ws / "projects" / "beta")
    other = dg_ws / "py"
    other.write_text("")
    register_project(load_workspace(dg_ws), dg_ws / "projects" / "beta", python=other)
    beta = load_workspace(dg_ws).location("beta")
    assert beta is not None and (beta.executable, beta.managed) == (other, True)
    assert (
        (dg_ws / "dg.toml")
        .read_text()
        .endswith(
            '[[workspace.projects]]\npath = "projects/beta"\n# daglab:executable py\n'
            "# daglab:end beta\n"
        )
    )
    # the hand-written entry goes: its note is an orphan, which --prune drops
    entry = '[[workspace.projects]]\npath = "projects/alpha"\n'
    (dg_ws / "dg.toml").write_text((dg_ws / "dg.toml").read_text().replace(entry, ""))
    problems = validate(load_workspace(dg_ws), schema=False)
    assert ("orphan-block", "alpha") in [(p.code, p.location) for p in problems]
    sync(load_workspace(dg_ws), prune=True)  # drops the note, registers the folder again
    assert "daglab:executable projects/alpha" not in (dg_ws / "dg.toml").read_text()
    alpha = load_workspace(dg_ws).location("alpha")
    assert alpha is not None and (alpha.executable, alpha.managed) == (None, True)


def test_interpreter_of_a_hand_written_yaml_entry_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    make_dg_project(tmp_path / "shop", "shop")
    (tmp_path / "workspace.yaml").write_text(
        "load_from:\n  - python_module:\n      module_name: shop.definitions\n"
        "      working_directory: shop/src\n"
    )
    with pytest.raises(ConflictError, match="daglab did not write"):
        register_project(
            load_workspace(tmp_path), tmp_path / "shop", python=Path("/usr/bin/python3")
        )


@pytest.mark.parametrize(
    "start",
    [
        "load_from:\n- python_file: a.py\n",  # items at column 0
        "load_from:\n    - python_file: a.py\nother: 1\n",  # four spaces, a key after
        "# top\nload_from:\n  - python_file: a.py  # no newline at the end",
    ],
)
def test_register_keeps_the_yaml_layout(tmp_path: Path, start: str) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "workspace.yaml").write_text(start)
    make_dg_project(tmp_path / "shop", "shop")
    register_project(load_workspace(tmp_path), tmp_path / "shop")
    text = (tmp_path / "workspace.yaml").read_text()
    data = yaml.safe_load(text)
    assert [next(iter(item)) for item in data["load_from"]] == ["python_file", "python_module"]
    assert [(loc.name, loc.managed) for loc in load_workspace(tmp_path).locations] == [
        ("a.py", False),
        ("shop", True),
    ]
    remove_location(load_workspace(tmp_path), "shop")
    after = (tmp_path / "workspace.yaml").read_text()
    assert after == start if start.endswith("\n") else after == start + "\n"


def test_grpc_targets_are_checked(dg_ws: Path) -> None:
    from daglab._workspace.edit import parse_grpc_target

    assert parse_grpc_target(":4001") == ("localhost", 4001)
    assert parse_grpc_target("code.internal:4001") == ("code.internal", 4001)
    for bad in ("localhost", "localhost:0", "localhost:70000", "a b:1", "-x:1", "h\n:1"):
        with pytest.raises(UsageError):
            parse_grpc_target(bad)
    with pytest.raises(UsageError):
        add_grpc(load_workspace(dg_ws), "host port=1", 4001)
    with pytest.raises(ValidationError):
        add_grpc(load_workspace(dg_ws), "localhost", 4001, name="feeds\n")


def test_interpreter_of_daglabs_yaml_entry_is_rewritten(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "workspace.yaml").write_text("load_from:\n  - python_file: a.py\n")
    make_dg_project(tmp_path / "shop", "shop")
    register_project(load_workspace(tmp_path), tmp_path / "shop", name="store")
    python = tmp_path / "envs" / "python"
    python.parent.mkdir()
    python.write_text("")
    change = register_project(load_workspace(tmp_path), tmp_path / "shop", python=python)
    assert change.changed and change.message == "run store under envs/python"
    store = load_workspace(tmp_path).location("store")
    assert store is not None and (store.executable, store.managed) == (python, True)
    entry = yaml.safe_load((tmp_path / "workspace.yaml").read_text())["load_from"][1]
    assert entry["python_module"]["location_name"] == "store"
    # absolute: Dagster does not resolve executable_path against the file's folder
    assert entry["python_module"]["executable_path"] == str(python)
    again = register_project(load_workspace(tmp_path), tmp_path / "shop", python=python)
    assert not again.changed
