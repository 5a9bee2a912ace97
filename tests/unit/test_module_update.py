"""``daglab module update`` file by file, and ``module_currency`` (in-process, no git needed
except where the dirty-tree rule is the point)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daglab._errors import ValidationError
from daglab._modules import module_currency
from daglab._modules.base import FILES_DIR, INFO, SUFFIX
from daglab._modules.update import update_modules

FLAGS = ("--template", "minimal", "--addon", "schedule", "--cron", "0 6 * * *")
FLAGS += ("--timezone", "UTC", "--port", "4100", "--no-register")
SCHEDULES = "src/alpha/defs/schedules.py"


@pytest.fixture
def module(cli, tmp_path: Path) -> Path:
    assert cli("module", "new", "alpha", *FLAGS, cwd=tmp_path).exit_code == 0
    return tmp_path / "alpha"


def stored(module: Path, rel: str) -> Path:
    return module / FILES_DIR / (rel + SUFFIX)


def listed(module: Path, change) -> None:  # type: ignore[no-untyped-def]
    info = json.loads((module / INFO).read_text())
    change(info["files"])
    (module / INFO).write_text(json.dumps(info))


def test_fresh_module_is_current(module: Path) -> None:
    currency = module_currency(module)
    assert currency.modified == () and not currency.behind and currency.conflicts == ()
    assert currency.template_version == 1
    (result,) = update_modules([module])
    assert not result.changed


def test_a_new_template_file_is_added(module: Path) -> None:
    (module / SCHEDULES).unlink()
    stored(module, SCHEDULES).unlink()
    listed(module, lambda files: files.remove(SCHEDULES))
    assert module_currency(module).behind
    (result,) = update_modules([module])
    assert {f.path: f.action for f in result.files}[SCHEDULES] == "added"
    assert (module / SCHEDULES).is_file()
    assert not module_currency(module).behind


def test_a_dropped_template_file_goes_only_while_unchanged(module: Path) -> None:
    for name, content in (("old.py", "x = 1\n"), ("edited.py", "y = 1\n")):
        rel = f"src/alpha/defs/{name}"
        stored(module, rel).write_text(content)
        (module / rel).write_text(content)
        listed(module, lambda files, rel=rel: files.append(rel))
    (module / "src/alpha/defs/edited.py").write_text("y = 2  # mine\n")
    (result,) = update_modules([module])
    actions = {f.path: f.action for f in result.files}
    assert actions["src/alpha/defs/old.py"] == "removed"
    assert actions["src/alpha/defs/edited.py"] == "kept"
    assert not (module / "src/alpha/defs/old.py").exists()
    assert (module / "src/alpha/defs/edited.py").read_text() == "y = 2  # mine\n"
    assert not stored(module, "src/alpha/defs/edited.py").exists()


def test_a_file_you_deleted_stays_deleted(module: Path) -> None:
    (module / "README.md").unlink()
    (result,) = update_modules([module])
    assert {f.path: f.action for f in result.files}["README.md"] == "kept"
    assert not (module / "README.md").exists()
    assert module_currency(module).modified == ("README.md",)


def test_answers_edited_in_pyproject_are_rendered(cli, module: Path) -> None:
    pyproject = module / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('cron = "0 6 * * *"', 'cron = "30 2 * * *"'))
    dry = cli("module", "update", "--dry-run", "--json", cwd=module)
    assert dry.exit_code == 0, dry
    (data,) = json.loads(dry.stdout)
    diffs = {f["path"]: f["diff"] for f in data["files"]}
    assert '+CRON = "30 2 * * *"' in diffs[SCHEDULES]
    assert 'CRON = "0 6 * * *"' in (module / SCHEDULES).read_text()
    done = cli("module", "update", cwd=module)
    assert done.exit_code == 0, done
    assert 'CRON = "30 2 * * *"' in (module / SCHEDULES).read_text()


def test_update_all_and_by_name_in_a_workspace(cli, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "dg.toml").write_text('directory_type = "workspace"\n\n[workspace]\n')
    flags = FLAGS[:-3]  # registered, port auto
    for name in ("alpha", "beta"):
        assert cli("module", "new", name, *flags, "--port", "auto", cwd=root).exit_code == 0
    everything = cli("module", "update", "--all", "--json", cwd=root)
    assert everything.exit_code == 0, everything
    assert [m["module"] for m in json.loads(everything.stdout)] == ["alpha", "beta"]
    one = cli("module", "update", "beta", cwd=root / "projects" / "alpha")
    assert one.exit_code == 0 and "beta" in one.stdout
    missing = cli("module", "update", "gamma", cwd=root)
    assert missing.exit_code == 7 and "alpha, beta" in missing.stderr


def test_not_a_module(cli, tmp_path: Path) -> None:
    assert cli("module", "update", cwd=tmp_path).exit_code == 2
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    with pytest.raises(ValidationError):
        module_currency(tmp_path)
    with pytest.raises(ValidationError):
        update_modules([tmp_path])


def test_another_daglab_version_alone_is_not_behind(module: Path) -> None:
    for path in (module / "pyproject.toml", stored(module, "pyproject.toml")):
        path.write_text(path.read_text().replace('daglab_version = "', 'daglab_version = "0.0.0.'))
    info = json.loads((module / INFO).read_text())
    info["daglab_version"] = "0.0.0." + info["daglab_version"]
    (module / INFO).write_text(json.dumps(info))
    assert not module_currency(module).behind
    (result,) = update_modules([module])  # records this daglab's version
    assert [f.path for f in result.files if f.action == "updated"] == ["pyproject.toml"]


def test_dry_run_on_a_dirty_tree_only_shows(cli, module: Path) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q", str(module)], check=True)
    pyproject = module / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('cron = "0 6 * * *"', 'cron = "1 6 * * *"'))
    before = (module / SCHEDULES).read_text()
    dry = cli("module", "update", "--dry-run", cwd=module)
    assert dry.exit_code == 0, dry
    assert '+CRON = "1 6 * * *"' in dry.stdout
    assert cli("module", "update", cwd=module).exit_code == 8
    assert (module / SCHEDULES).read_text() == before


def test_a_failure_half_way_puts_everything_back(
    module: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rel = "src/alpha/defs/old.py"
    stored(module, rel).write_text("x = 1\n")
    (module / rel).write_text("x = 1\n")
    listed(module, lambda files: files.append(rel))
    pyproject = module / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('cron = "0 6 * * *"', 'cron = "9 9 * * *"'))
    before = {p: p.read_bytes() for p in module.rglob("*") if p.is_file()}
    import daglab._modules.update as update

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(update, "write_base", fail)
    with pytest.raises(OSError, match="disk full"):
        update_modules([module])
    assert {p: p.read_bytes() for p in module.rglob("*") if p.is_file()} == before


def test_a_conflict_as_json_is_one_document_and_exit_8(cli, module: Path) -> None:
    schedules = module / SCHEDULES
    schedules.write_text(schedules.read_text().replace('CRON = "0 6 * * *"', 'CRON = "1 1 * * *"'))
    pyproject = module / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('cron = "0 6 * * *"', 'cron = "2 2 * * *"'))
    result = cli("module", "update", "--json", cwd=module)
    assert result.exit_code == 8, result
    (data,) = json.loads(result.stdout)
    assert data["conflicts"] == [SCHEDULES]
    assert "<<<<<<< yours" in schedules.read_text()
