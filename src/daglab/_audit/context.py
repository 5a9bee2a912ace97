"""What the audit looks at, read once: the workspace, its modules (one per code location with a
folder), and the workspace's files by kind, found in a single walk that skips virtual
environments, caches and version control."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._errors import ExitCode
from daglab._report import Check

if TYPE_CHECKING:
    from daglab._workspace import Location, Workspace

#: Folders never walked: environments, caches, build output, version control, daglab's state.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".daglab",
        ".dg",
        "build",
        "dist",
        "site-packages",
    }
)
#: Configuration files the hygiene check reads for credentials, by suffix.
CONFIG_SUFFIXES = frozenset({".yaml", ".yml", ".toml", ".env", ".py", ".cfg", ".ini", ".json"})
#: Larger files are data, not configuration: not read.
MAX_FILE_BYTES = 1_000_000


@dataclass(frozen=True)
class Module:
    """One code location with a folder of its own: a dg project, or a package on disk."""

    name: str
    path: Path
    pyproject: dict[str, Any] = field(repr=False, compare=False)
    location: Location | None = field(default=None, repr=False, compare=False)

    @property
    def package(self) -> str | None:
        """The importable package the location loads (dg's ``root_module``, Dagster's
        ``module_name``, or the workspace entry's module), its top-level part."""
        tool = self.pyproject.get("tool", {})
        dg_project = tool.get("dg", {}).get("project", {})
        candidates = [
            dg_project.get("root_module"),
            tool.get("dagster", {}).get("module_name"),
            self.location.module if self.location is not None else None,
        ]
        for candidate in candidates:
            if isinstance(candidate, str) and candidate.strip():
                return candidate.strip().split(".")[0]
        return None

    @property
    def definitions_module(self) -> str | None:
        """The module that holds the ``Definitions``: what the project serves, as the
        workspace reads it (dg's default: ``<root>.definitions``), else the entry's module."""
        from daglab._workspace.projects import project_code

        code = project_code(self.path, self.pyproject)
        if code is not None:
            return code.module
        return self.location.module if self.location is not None else None

    def package_dir(self) -> Path | None:
        from daglab._project import _package_dir

        package = self.package
        return None if package is None else _package_dir(self.path, package, None)

    def module_file(self, dotted: str) -> Path | None:
        """The file of ``dotted`` (a module or a package's ``__init__``) under src/ or the root."""
        parts = dotted.split(".")
        for base in (self.path / "src", self.path):
            stem = base.joinpath(*parts)
            for candidate in (stem.with_suffix(".py"), stem / "__init__.py"):
                if candidate.is_file():
                    return candidate
        return None

    def relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.path))
        except ValueError:
            return str(path)


def fail(name: str, summary: str, fix: str, **data: Any) -> Check:
    """A failed audit check: it makes ``daglab audit`` exit 7."""
    return Check(
        name,
        "fail",
        summary,
        remediation=fix,
        critical=True,
        exit_code=ExitCode.VALIDATION,
        data=dict(data),
    )


def warn(name: str, summary: str, fix: str, **data: Any) -> Check:
    return Check(name, "warn", summary, remediation=fix, data=dict(data))


def ok(name: str, summary: str, **data: Any) -> Check:
    return Check(name, "ok", summary, data=dict(data))


def read_text(path: Path) -> str | None:
    """The file's text, or None when it is unreadable, binary or too large to be configuration."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def load_yaml(path: Path) -> Any:
    """A YAML file's data with every scalar a string (``3.10`` stays ``"3.10"``); None when it
    is missing or not YAML (its own check says so where it matters)."""
    import yaml  # defer for import performance

    text = read_text(path)
    if text is None:
        return None
    try:
        return yaml.load(text, Loader=yaml.BaseLoader)  # noqa: S506  BaseLoader builds no objects
    except yaml.YAMLError:
        return None


def load_toml(path: Path) -> dict[str, Any] | None:
    from daglab._errors import ConfigError
    from daglab._project import read_pyproject

    try:
        return read_pyproject(path) if path.is_file() else None
    except ConfigError:
        return None


_DOCKERFILE = re.compile(r"^(Dockerfile(\..+)?|.+\.[Dd]ockerfile|Containerfile)$")


@dataclass
class AuditContext:
    """The workspace and everything the checks read from it; each piece read at most once."""

    workspace: Workspace
    modules: tuple[Module, ...]
    #: Modules the user named (all of them when none was named).
    selected: tuple[Module, ...]
    #: The names the user gave (empty: all).
    names: tuple[str, ...] = ()

    @property
    def root(self) -> Path:
        return self.workspace.root

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    @functools.cached_property
    def files(self) -> tuple[Path, ...]:
        """Every file under the workspace root outside the skipped folders, sorted."""
        found: list[Path] = []
        for folder, dirs, names in os.walk(self.root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info"))
            base = Path(folder)
            found += (base / name for name in names)
        return tuple(sorted(found))

    def config_files(self) -> Iterator[Path]:
        for path in self.files:
            if path.suffix in CONFIG_SUFFIXES or path.name.startswith(".env"):
                yield path

    def dockerfiles(self) -> list[Path]:
        return [p for p in self.files if _DOCKERFILE.match(p.name)]

    def named(self, *names: str) -> list[Path]:
        return [p for p in self.files if p.name in names]

    def under(self, path: Path, files: Sequence[Path] | None = None) -> list[Path]:
        return [p for p in (self.files if files is None else files) if p.is_relative_to(path)]


def modules_of(workspace: Workspace) -> tuple[Module, ...]:
    """A module for every location whose folder exists (a missing one is the registry check's
    finding; a gRPC server or a lone file has no folder to audit)."""
    modules = []
    for location in workspace.locations:
        if location.kind not in ("project", "module") or location.path is None:
            continue
        if not location.path.is_dir():
            continue
        pyproject = load_toml(location.path / "pyproject.toml") or {}
        modules.append(Module(location.name, location.path, pyproject, location))
    return tuple(modules)
