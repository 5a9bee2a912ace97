"""The command lines ``daglab dev`` runs: Dagster's (``dg dev`` or ``dagster dev``), marimo's, and
the notebook it opens."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from daglab._compat.commands import dev_command_name
from daglab._compat.versions import install_hint
from daglab._errors import EnvironmentMissingError, ValidationError
from daglab._host import find_executable

if TYPE_CHECKING:
    from daglab._config import LoadedConfig
    from daglab._project import Project


def _importable(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def has_code_location(project: Project) -> bool:
    """Whether ``dagster dev``/``dg dev`` can find code here without arguments."""
    tool = project.pyproject.get("tool", {})
    files = ("workspace.yaml", "workspace.yml", "dg.toml")
    return "dagster" in tool or "dg" in tool or any((project.root / f).is_file() for f in files)


def dagster_command(project: Project) -> tuple[list[str], str]:
    """The command that serves ``project``'s code, and its name: ``dg dev`` or ``dagster dev``."""
    if not project.is_dagster_project:
        raise EnvironmentMissingError(
            f"No Dagster project found at or above {project.root}",
            remediation="cd into a Dagster project (pyproject.toml with [tool.dg]/[tool.dagster],"
            " or workspace.yaml), or create one with `daglab init --bootstrap <folder>`.",
        )
    if not has_code_location(project):
        raise EnvironmentMissingError(
            f"No code location found in {project.root}: `dagster dev` would not know what to load",
            remediation='Add [tool.dagster] module_name = "<package>.definitions" to'
            " pyproject.toml, or a workspace.yaml naming the code.",
        )
    dg = find_executable("dg")
    if dev_command_name(project.kind, dg is not None) == "dg dev":
        return [str(dg), "dev"], "dg dev"
    if project.kind == "dg-workspace":
        raise EnvironmentMissingError(
            f"{project.root} is a dg workspace, which only `dg dev` serves, and dg is not"
            " installed",
            remediation="pip install dagster-dg-cli",
        )
    if _importable("dagster") and _importable("dagster_webserver"):
        return [sys.executable, "-m", "dagster", "dev"], "dagster dev"
    if _importable("dagster"):
        raise EnvironmentMissingError(
            "dagster is installed without dagster-webserver, which `dagster dev` needs",
            remediation=install_hint("dagster-webserver") + ".",
        )
    exe = find_executable("dagster")
    if exe is not None:
        return [exe, "dev"], "dagster dev"
    raise EnvironmentMissingError(
        "Dagster is not installed: neither importable here nor a `dagster` command on PATH",
        remediation=install_hint("dagster") + ".",
    )


def served_workspace_file(project: Project, label: str) -> Path | None:
    """The workspace file the Dagster child serves: dg.toml of a dg workspace under ``dg dev``,
    or the project's workspace.yaml, which ``dagster dev`` is then given with ``-w`` (without
    it, a [tool.dagster] table in pyproject.toml would win)."""
    if label == "dg dev":
        dg_toml = project.root / "dg.toml"
        return dg_toml if project.kind == "dg-workspace" and dg_toml.is_file() else None
    for name in ("workspace.yaml", "workspace.yml"):
        if (project.root / name).is_file():
            return project.root / name
    return None


def marimo_command() -> list[str]:
    if _importable("marimo"):
        return [sys.executable, "-m", "marimo"]
    exe = find_executable("marimo")
    if exe is not None:
        return [exe]
    raise EnvironmentMissingError(
        "marimo is not installed: neither importable here nor a `marimo` command on PATH",
        remediation=install_hint("marimo") + ".",
    )


def resolve_notebook(loaded: LoadedConfig, given: Path | None, cwd: Path) -> Path | None:
    """``--notebook`` (checked), else the last scaffolded notebook, else None."""
    from daglab._manifest import last_notebook

    project = loaded.project
    if given is not None:
        path = given if given.is_absolute() else cwd / given
        if not path.is_file():
            raise ValidationError(
                f"notebook {given} does not exist",
                remediation="Give an existing notebook with --notebook, or create one with"
                " `daglab scaffold --asset KEY`.",
            )
        if not project.contains(path):
            raise ValidationError(
                f"notebook {given} is outside the project at {project.root}",
                remediation="Give a notebook inside the project with --notebook.",
            )
        return path.resolve()
    last = last_notebook(project.root)
    if last is not None and project.contains(last):
        return last.resolve()
    return None


def notebook_choices(folder: Path) -> list[Path]:
    """marimo notebooks under ``folder`` (files that define ``marimo.App``), sorted."""
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).parts
        if path.name == "__init__.py" or any(p.startswith((".", "__")) for p in parts[:-1]):
            continue
        try:
            with path.open(encoding="utf-8", errors="replace") as handle:
                head = handle.read(65536)
        except OSError:
            continue
        if "marimo.App(" in head:
            found.append(path)
    return found
