"""``daglab module new`` in-process: where it writes, what it records, re-runs, failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daglab import _manifest
from daglab._errors import ConflictError
from daglab._modules import read_module_meta
from daglab._modules.base import read_base
from daglab._modules.new import NewOptions, new_module

FLAGS = ("--template", "minimal", "--addon", "schedule", "--cron", "0 6 * * *")
FLAGS += ("--timezone", "UTC", "--port", "auto")


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def dg_workspace(root: Path) -> Path:
    root.mkdir()
    (root / "dg.toml").write_text('directory_type = "workspace"\n\n[workspace]\n')
    return root


def test_outside_a_workspace_into_a_new_folder(cli, tmp_path: Path) -> None:
    result = cli("module", "new", "alpha", *FLAGS, "--json", cwd=tmp_path)
    assert result.exit_code == 0, result
    data = json.loads(result.stdout)
    module = tmp_path / "alpha"
    assert data["root"] == str(module) and data["workspace"] is None
    assert {"path": "src/alpha/defs/schedules.py", "action": "created"} in data["files"]
    meta = read_module_meta(module)
    assert meta is not None and meta.template == "minimal"
    assert meta.port is not None and meta.port >= 4000
    base = read_base(module)
    assert (
        base is not None
        and base.files["src/alpha/defs/schedules.py"]
        == (module / "src/alpha/defs/schedules.py").read_text()
    )
    assert _manifest.owns(module, module / "src/alpha/definitions.py")


def test_inside_a_workspace_under_projects_and_registered(cli, tmp_path: Path) -> None:
    root = dg_workspace(tmp_path / "ws")
    (root / "sub").mkdir()
    result = cli("module", "new", "alpha", *FLAGS, cwd=root / "sub")
    assert result.exit_code == 0, result
    assert (root / "projects" / "alpha" / "pyproject.toml").is_file()
    assert 'path = "projects/alpha"' in (root / "dg.toml").read_text()
    second = cli("module", "new", "beta", *FLAGS, cwd=root)
    assert second.exit_code == 0, second
    ports = {read_module_meta(root / "projects" / n).port for n in ("alpha", "beta")}  # type: ignore[union-attr]
    assert len(ports) == 2


def test_no_register_leaves_the_workspace_alone(cli, tmp_path: Path) -> None:
    root = dg_workspace(tmp_path / "ws")
    before = (root / "dg.toml").read_bytes()
    assert cli("module", "new", "alpha", *FLAGS, "--no-register", cwd=root).exit_code == 0
    assert (root / "dg.toml").read_bytes() == before


def test_a_failed_registration_undoes_everything(cli, tmp_path: Path) -> None:
    root = dg_workspace(tmp_path / "ws")
    assert cli("module", "new", "alpha", *FLAGS, cwd=root).exit_code == 0
    before = tree(root)
    # same code location name as alpha: the workspace refuses the entry
    result = cli("module", "new", "other", *FLAGS, "--package-name", "alpha", cwd=root)
    assert result.exit_code != 0, result
    assert tree(root) == before
    assert not (root / "projects" / "other").exists()


def test_again_changes_nothing_and_says_so(cli, tmp_path: Path) -> None:
    assert cli("module", "new", "alpha", *FLAGS, cwd=tmp_path).exit_code == 0
    before = tree(tmp_path)
    again = cli("module", "new", "alpha", cwd=tmp_path)
    assert again.exit_code == 0 and "nothing changed" in again.stdout
    other = cli("module", "new", "alpha", "--template", "ml", cwd=tmp_path)
    assert other.exit_code == 0 and "other answers" in other.stdout
    assert tree(tmp_path) == before


def test_force_replaces_only_what_daglab_wrote_unchanged(cli, tmp_path: Path) -> None:
    assert cli("module", "new", "alpha", *FLAGS, cwd=tmp_path).exit_code == 0
    module = tmp_path / "alpha"
    readme = module / "README.md"
    readme.write_text("mine\n")
    pyproject = module / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n# my note\n")
    result = cli("module", "new", "alpha", "--addon", "postgres", "--force", "--json", cwd=tmp_path)
    assert result.exit_code == 0, result
    actions = {f["path"]: f["action"] for f in json.loads(result.stdout)["files"]}
    assert actions["README.md"] == "kept" and readme.read_text() == "mine\n"
    assert actions["src/alpha/defs/postgres.py"] == "created"
    assert actions["pyproject.toml"] == "updated"
    assert "# my note" in pyproject.read_text()
    meta = read_module_meta(module)
    assert meta is not None and meta.addons == ("postgres",) and meta.env == ("ALPHA_POSTGRES_URL",)
    # schedules.py was daglab's and unchanged, but the new answers have no schedule: it stays
    # until `daglab module update` removes it (it removes only unchanged files)
    assert (module / "src/alpha/defs/schedules.py").exists()


def test_a_folder_daglab_did_not_make_is_refused(tmp_path: Path) -> None:
    (tmp_path / "alpha").mkdir()
    (tmp_path / "alpha" / "notes.txt").write_text("mine")
    with pytest.raises(ConflictError, match="not a module daglab generated"):
        new_module(NewOptions(name="alpha", template="minimal", cwd=tmp_path))
    assert tree(tmp_path) == {"alpha/notes.txt": b"mine"}


def test_a_failure_half_way_undoes_the_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "alpha").mkdir()  # an empty folder is taken, and stays
    import daglab._modules.new as new

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(new, "write_base", fail)
    with pytest.raises(OSError, match="disk full"):
        new_module(NewOptions(name="alpha", template="minimal", cwd=tmp_path))
    assert list(tmp_path.rglob("*")) == [tmp_path / "alpha"]


def test_no_terminal_names_the_missing_flag(cli, tmp_path: Path) -> None:
    result = cli("module", "new", "alpha", "--template", "minimal", "--addon", "none", cwd=tmp_path)
    assert result.exit_code == 2 and "--port" in result.stderr
    result = cli(
        "module", "new", "alpha", "--template", "minimal", "--addon", "schedule", cwd=tmp_path
    )
    assert result.exit_code == 2 and "--cron" in result.stderr
    assert not (tmp_path / "alpha").exists()
    assert cli("module", "new", "alpha", "--defaults", cwd=tmp_path).exit_code == 0


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("../up", "--defaults"), 7),
        (("alpha", "--defaults", "--template", "huge"), 2),
        (("alpha", "--defaults", "--addon", "redis"), 2),
        (("alpha", "--defaults", "--port", "nope"), 7),
    ],
)
def test_bad_input(cli, tmp_path: Path, args: tuple[str, ...], code: int) -> None:
    result = cli("module", "new", *args, cwd=tmp_path)
    assert result.exit_code == code, result
    assert list(tmp_path.iterdir()) == []


def test_a_workspace_yaml_gets_a_marked_python_module_entry(cli, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "workspace.yaml").write_text("load_from: []\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = cli("module", "new", "alpha", *FLAGS, "--workspace", str(root), cwd=elsewhere)
    assert result.exit_code == 0, result
    assert (root / "projects" / "alpha" / "pyproject.toml").is_file()
    text = (root / "workspace.yaml").read_text()
    assert "alpha.definitions" in text and "projects/alpha/src" in text
    assert list(elsewhere.iterdir()) == []


def test_path_into_a_workspace_from_outside_registers_there(cli, tmp_path: Path) -> None:
    root = dg_workspace(tmp_path / "ws")
    outside = tmp_path / "outside"
    outside.mkdir()
    target = root / "projects" / "alpha"
    result = cli("module", "new", "alpha", *FLAGS, "--path", str(target), cwd=outside)
    assert result.exit_code == 0, result
    assert 'path = "projects/alpha"' in (root / "dg.toml").read_text()


def test_a_module_without_its_base_is_left_alone(cli, tmp_path: Path) -> None:
    assert cli("module", "new", "alpha", *FLAGS, cwd=tmp_path).exit_code == 0
    import shutil

    shutil.rmtree(tmp_path / "alpha" / ".daglab" / "module-base")
    result = cli("module", "new", "alpha", *FLAGS, "--force", cwd=tmp_path)
    assert result.exit_code == 8 and "module-base" in result.stderr
