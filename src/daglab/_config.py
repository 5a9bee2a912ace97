"""Load daglab's configuration through its override hierarchy, with each value's source.

Highest priority first (section 3.2 of the specification, plus ``[tool.daglab]``):

1. CLI flags                       (``overrides``)
2. ``DAGLAB_*`` environment        (nested keys joined with ``__``: ``DAGLAB_DAGSTER__PORT``)
3. ``./daglab.yaml``
4. ``daglab.yaml`` in parent folders, closest first, up to the git root
5. ``[tool.daglab]`` in the project's ``pyproject.toml``
6. ``~/.daglab/config.yaml``
7. defaults

The merging itself is pydantic-settings'; this module only decides which sources exist, validates
each file on its own first (so an error names the file, the key path and the line), and records
provenance for ``daglab config show``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._errors import ConfigError, ValidationError
from daglab._project import Project, find_project

if TYPE_CHECKING:
    from pydantic import ValidationError as PydanticValidationError
    from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

    from daglab._config_models import DaglabConfig

ENV_PREFIX = "DAGLAB_"
ENV_NESTED_DELIMITER = "__"
CONFIG_FILENAME = "daglab.yaml"
#: ``DAGLAB_*`` variables that are not settings: no "unknown variable" warning for them.
OTHER_ENV = frozenset(
    {
        "DAGLAB_NO_HELP_CACHE",  # _cli/_helpcache.py
        "DAGLAB_CHROMIUM",  # the end-to-end tests' browser
        "DAGLAB_TEST_PAUSE_WRITES",  # _fs.atomic_write: the kill -9 tests pause writes
    }
)


def user_config_path() -> Path:
    return Path.home() / ".daglab" / "config.yaml"


@dataclass(frozen=True)
class Source:
    """One layer of the hierarchy: a label for people and the raw mapping it contributed."""

    kind: str  # cli | env | file | pyproject | user | default
    label: str
    data: Mapping[str, Any]
    path: Path | None = None


@dataclass(frozen=True)
class LoadedConfig:
    config: DaglabConfig
    project: Project
    sources: tuple[Source, ...]
    provenance: dict[str, str] = field(default_factory=dict)
    #: Problems that do not stop the command (an unknown ``DAGLAB_*`` variable); the CLI logs them.
    warnings: tuple[str, ...] = ()

    @property
    def notebooks_dir(self) -> Path:
        configured = self.config.notebooks_dir
        if configured:
            path = Path(configured)
            return path if path.is_absolute() else self.project.root / path
        return self.project.default_notebooks_dir()

    def log_file(self) -> Path:
        path = Path(self.config.logging.file)
        return path if path.is_absolute() else self.project.root / path


def load_config(
    *,
    start: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    project: Project | None = None,
) -> LoadedConfig:
    """Resolve the effective configuration for the project around ``start`` (default: cwd).

    ``overrides`` are CLI flags by dotted key (``{"dagster.port": 3001}``); ``None`` means unset.
    """
    import os

    start = (start or Path.cwd()).resolve()
    project = project or find_project(start)
    files = _yaml_files(start, project)
    for path in files:  # each file alone first, so an error names its file, key and line
        read_yaml_config(path)
    pyproject_path: Path | None = project.root / "pyproject.toml"
    table = project.pyproject.get("tool", {}).get("daglab")
    if table:
        _validate_alone(table, project.root / "pyproject.toml", "[tool.daglab] ")
    else:
        pyproject_path = None
    user: Path | None = user_config_path()
    if user is not None and (user.exists() or user.is_symlink()):
        read_yaml_config(user)
    else:
        user = None
    settings_cls = _settings_class(files, pyproject_path, user)
    cli = _nest(overrides or {})

    sources: list[Source] = []
    for kind, where, data in _layers(settings_cls, cli, os.environ):
        if not data and kind in ("cli", "env"):
            continue  # files count even when empty: they exist and were read
        if kind == "file" and where is not None and where.parent == start:
            label = "./daglab.yaml"
        elif kind == "file":
            label = f"{where} (parent folder)"
        elif kind == "pyproject":
            label = f"{where} [tool.daglab]"
        else:
            label = {"cli": "command-line flag", "env": "environment"}.get(kind, str(where))
        sources.append(Source(kind, label, data, where))
    config = _build(settings_cls, sources, cli)
    from daglab._config_models import retired_key_warnings

    retired = retired_key_warnings([(source.label, source.data) for source in sources])
    warnings = tuple(unknown_env_warnings(os.environ) + retired)
    return LoadedConfig(config, project, tuple(sources), _provenance(sources), warnings)


def _env_names() -> set[str]:
    """Every ``DAGLAB_*`` name a setting (or a whole section, as JSON) can be given by."""
    from daglab._config_models import leaf_paths

    names = set()
    for path in leaf_paths():
        parts = path.upper().split(".")
        for depth in range(1, len(parts) + 1):
            names.add(ENV_PREFIX + ENV_NESTED_DELIMITER.join(parts[:depth]))
    return names


def unknown_env_warnings(environ: Mapping[str, str]) -> list[str]:
    """A warning for each ``DAGLAB_*`` variable that no setting reads (a typo is ignored)."""
    from daglab._errors import did_you_mean

    known = _env_names()
    problems = []
    for name in sorted(environ):
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in known or upper in OTHER_ENV:
            continue
        hint = did_you_mean(upper, sorted(known))
        problems.append(f"environment variable {name} is not a daglab setting and is ignored{hint}")
    return problems


def _layers(
    settings_cls: Any, cli: dict[str, Any], environ: Mapping[str, str]
) -> list[tuple[str, Path | None, dict[str, Any]]]:
    """Each source's raw mapping; a ``DAGLAB_*`` value that cannot be parsed names its variable."""
    import json

    from pydantic_settings import SettingsError

    try:
        layers: list[tuple[str, Path | None, dict[str, Any]]] = settings_cls.layers(cli)
    except SettingsError as exc:
        import re

        match = re.search(r'field "([^"]+)"', str(exc))
        section = (ENV_PREFIX + (match.group(1) if match else "")).upper()
        candidates = sorted(
            name
            for name in environ
            if name.upper() == section or name.upper().startswith(section + ENV_NESTED_DELIMITER)
        )
        bad = []
        for name in candidates:
            try:
                json.loads(environ[name])
            except ValueError:
                bad.append(name)
        named = ", ".join(bad or candidates) or section
        raise ConfigError(
            f"environment variable {named}: the value is not valid JSON, which a list or"
            " mapping setting needs",
            remediation=f"""Give a JSON value, e.g. {named.split(",")[0]}='["launchRun"]',"""
            " or unset the variable.",
            variable=named,
        ) from exc
    return layers


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """``{"dagster.port": 1}`` -> ``{"dagster": {"port": 1}}``; ``None`` values are dropped."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        if value is None:
            continue
        *parents, leaf = key.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def _yaml_files(start: Path, project: Project) -> list[Path]:
    """``daglab.yaml`` at ``start`` and in its parents up to the git root (or project root)."""
    stop = project.git_root or project.root
    if not start.is_relative_to(stop):
        stop = start
    files = []
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_FILENAME
        if candidate.exists() or candidate.is_symlink():  # a folder or a dangling link: say so
            files.append(candidate)
        if folder == stop:
            break
    return files


def yaml_problem(exc: Exception) -> tuple[int | None, str]:
    """The 1-based line and the short problem of a PyYAML error."""
    mark = getattr(exc, "problem_mark", None)
    return (mark.line + 1 if mark is not None else None), getattr(exc, "problem", None) or str(exc)


def read_text_file(path: Path, *, what: str, error: type[ValidationError] = ConfigError) -> str:
    """The UTF-8 text of a file the user gave daglab; a folder or binary file is a clear error."""
    if path.is_dir():
        raise error(
            f"{path}: is a folder, not a {what}",
            remediation=f"Remove or rename the folder {path.name}, or point daglab at a file.",
            file=str(path),
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"{path}: not a text file (invalid UTF-8 at byte {exc.start})",
            remediation=f"A {what} is UTF-8 text; restore {path.name} or replace it.",
            file=str(path),
        ) from exc
    except OSError as exc:
        raise error(
            f"{path}: cannot be read: {exc.strerror}",
            remediation=f"Check that {path} exists and is readable.",
            file=str(path),
        ) from exc
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise error(
            f"{path}, line {line}: not a text file (it contains NUL bytes)",
            remediation=f"A {what} is UTF-8 text; restore {path.name} or replace it.",
            file=str(path),
            line=line,
        )
    return text


def read_yaml_config(path: Path) -> dict[str, Any]:
    """Read and validate one YAML config file on its own; errors name file, key path and line."""
    import yaml  # defer for import performance

    text = read_text_file(path, what="configuration file")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        line, problem = yaml_problem(exc)
        where = f", line {line}" if line else ""
        raise ConfigError(
            f"{path}{where}: not valid YAML: {problem}",
            remediation=f"Fix the YAML syntax in {path.name}{where}.",
            file=str(path),
            line=line,
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}, line 1: the top level must be a mapping of keys, not {type(data).__name__}",
            file=str(path),
            line=1,
        )
    _validate_alone(data, path, "", text=text)
    return data


def _validate_alone(
    data: Mapping[str, Any], path: Path, prefix: str, text: str | None = None
) -> None:
    from pydantic import ValidationError as PydanticValidationError

    from daglab._config_models import DaglabConfig

    try:
        DaglabConfig.model_validate(data)
    except PydanticValidationError as exc:
        raise _config_error(exc, path=path, prefix=prefix, text=text) from exc


def _config_error(
    exc: PydanticValidationError,
    *,
    path: Path | None,
    prefix: str = "",
    text: str | None = None,
    where: str | None = None,
) -> ConfigError:
    """The first pydantic error as a daglab error: file, key path, line, "did you mean"."""
    from daglab._config_models import section_keys

    problems = []
    first_line: int | None = None
    first_key = ""
    for error in exc.errors():
        loc = tuple(str(part) for part in error["loc"])
        key = ".".join(loc)
        line = _yaml_line(text, loc) if text is not None else None
        if path is not None and text is None:
            line = _toml_line(path, loc)
        if first_line is None:
            first_line, first_key = line, key
        if error["type"] == "extra_forbidden":
            close = difflib.get_close_matches(loc[-1], section_keys(loc[:-1]), n=1, cutoff=0.5)
            hint = f"; did you mean '{'.'.join((*loc[:-1], close[0]))}'?" if close else ""
            message = f"unknown key '{key}'{hint}"
        else:
            message = f"'{key}': {error['msg']}"
        place = where or (f"{path}" if path else "configuration")
        place += f", line {line}" if line else ""
        problems.append(f"{place}: {prefix}{message}")
    return ConfigError(
        "\n".join(problems),
        remediation="Fix the key shown above; `daglab config show` prints every valid key.",
        file=str(path) if path else None,
        key=first_key,
        line=first_line,
    )


def _yaml_line(text: str, loc: tuple[str, ...]) -> int | None:
    """The 1-based line of the deepest node of ``loc`` found in the YAML text."""
    import yaml  # defer for import performance

    try:
        node: Any = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((pair for pair in node.value if pair[0].value == part), None)
            if match is None:
                break
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _toml_line(path: Path, loc: tuple[str, ...]) -> int | None:
    """Best effort: the line of the last key of ``loc`` after the ``[tool.daglab`` header."""
    import re

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    inside = False
    keys = [part for part in loc if not part.isdigit()]
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped.startswith("[tool.daglab")
            continue
        if inside and keys and re.match(rf"^{re.escape(keys[-1])}\s*=", stripped):
            return number
    return None


def _settings_class(files: list[Path], pyproject: Path | None, user: Path | None) -> Any:
    """A settings class whose pydantic-settings sources are exactly this project's layers."""
    from pydantic_settings import (
        BaseSettings,
        EnvSettingsSource,
        InitSettingsSource,
        PyprojectTomlConfigSettingsSource,
        SettingsConfigDict,
        YamlConfigSettingsSource,
    )

    from daglab._config_models import DaglabConfig

    class Settings(BaseSettings, DaglabConfig):
        model_config = SettingsConfigDict(
            extra="forbid",
            env_prefix=ENV_PREFIX,
            env_nested_delimiter=ENV_NESTED_DELIMITER,
            **({"pyproject_toml_table_header": ("tool", "daglab")} if pyproject else {}),
        )

        @classmethod
        def sources_for(cls, init: dict[str, Any]) -> list[tuple[str, Path | None, Any]]:
            found: list[tuple[str, Path | None, Any]] = [
                ("cli", None, InitSettingsSource(cls, init_kwargs=init)),
                ("env", None, EnvSettingsSource(cls)),
            ]
            found += [("file", p, YamlConfigSettingsSource(cls, yaml_file=p)) for p in files]
            if pyproject is not None:
                source = PyprojectTomlConfigSettingsSource(cls, pyproject)
                found.append(("pyproject", pyproject, source))
            if user is not None:
                found.append(("user", user, YamlConfigSettingsSource(cls, yaml_file=user)))
            return found

        @classmethod
        def layers(cls, init: dict[str, Any]) -> list[tuple[str, Path | None, dict[str, Any]]]:
            return [(kind, path, source()) for kind, path, source in cls.sources_for(init)]

        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            rest = [source for kind, _, source in cls.sources_for({}) if kind != "cli"]
            return (init_settings, *rest)

    return Settings


def _build(settings_cls: Any, sources: list[Source], cli: dict[str, Any]) -> DaglabConfig:
    """Merge the layers with pydantic-settings and validate the result."""
    from pydantic import ValidationError as PydanticValidationError

    from daglab._config_models import DaglabConfig

    try:
        merged = settings_cls(**cli)
    except PydanticValidationError as exc:
        culprit = _culprit(exc, sources)
        raise _config_error(exc, path=culprit.path, where=culprit.label, text=None) from exc
    config: DaglabConfig = DaglabConfig.model_validate(merged.model_dump())
    return config


def _culprit(exc: PydanticValidationError, sources: list[Source]) -> Source:
    """The highest-priority source that set the first failing key (CLI or environment)."""
    loc = tuple(str(part) for part in exc.errors()[0]["loc"])
    for source in sources:
        if _lookup(source.data, loc) is not _MISSING:
            if source.kind == "env":
                name = ENV_PREFIX + ENV_NESTED_DELIMITER.join(loc).upper()
                return Source("env", f"environment variable {name}", source.data)
            return source
    return Source("default", "defaults", {})


_MISSING = object()


def _lookup(data: Mapping[str, Any], loc: tuple[str, ...]) -> Any:
    node: Any = data
    for part in loc:
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _provenance(sources: list[Source]) -> dict[str, str]:
    """For every key, the label of the highest-priority layer that set it."""
    from daglab._config_models import leaf_paths

    result = {}
    for path in leaf_paths():
        loc = tuple(path.split("."))
        result[path] = "default"
        for source in sources:
            if _lookup(source.data, loc) is not _MISSING:
                if source.kind == "env":
                    result[path] = ENV_PREFIX + ENV_NESTED_DELIMITER.join(loc).upper()
                else:
                    result[path] = source.label
                break
    return result


def flatten(config: DaglabConfig) -> dict[str, Any]:
    """The effective values by dotted key, JSON-ready."""
    from daglab._config_models import leaf_paths

    dumped = config.model_dump(mode="json")
    return {path: _lookup(dumped, tuple(path.split("."))) for path in leaf_paths()}
