"""Render a module: a project template (``init --bootstrap``'s own rendering) plus addons.

The answers that made a module (:class:`Answers`) are all it takes to render it again, which
is what ``daglab module update`` does with the templates of the daglab installed now. Addons are
template layers under ``daglab/_templates/module/addons/<addon>/``, rendered after the project
template's files with the addon's variables; the generated ``pyproject.toml`` declares their
drivers and records the answers in ``[tool.daglab.module]`` (see :mod:`daglab._modules.meta`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

from daglab._errors import ValidationError
from daglab._modules.meta import ADDONS, TEMPLATES, ModuleMeta

#: Bumped whenever a module template or addon changes what it renders: recorded with the stored
#: base, so ``daglab audit`` can say which template version a module was generated with.
TEMPLATE_VERSION = 1

ADDON_ROOT = "module/addons"

#: What each addon adds to the module's requirements.
REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "postgres": ("psycopg[binary]>=3.1,<4",),
    "mysql": ("pymysql>=1.1,<2",),
    "schedule": (),
}
#: The environment variable each addon reads at run time, after the module's prefix.
ENV_SUFFIX: dict[str, str] = {"postgres": "POSTGRES_URL", "mysql": "MYSQL_URL"}

DEFAULT_CRON = "0 6 * * *"
DEFAULT_TIMEZONE = "UTC"

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,62}\Z")
GITIGNORE_BASE_EXCEPTION = "!.daglab/module-base/"


@dataclass(frozen=True)
class Answers:
    """Everything a module is rendered from; ``port`` is a number (``auto`` resolved)."""

    name: str
    package: str
    template: str
    addons: tuple[str, ...] = ()
    port: int = 4000
    cron: str | None = None
    timezone: str | None = None
    project_name: str = field(default="")

    def __post_init__(self) -> None:
        if not self.project_name:
            object.__setattr__(self, "project_name", self.name)

    @property
    def env(self) -> tuple[str, ...]:
        """Environment variables the module reads at run time (names only)."""
        return tuple(
            f"{env_prefix(self.name)}_{ENV_SUFFIX[addon]}"
            for addon in self.addons
            if addon in ENV_SUFFIX
        )

    def meta(self, daglab_version: str | None = None) -> ModuleMeta:
        """The ``[tool.daglab.module]`` table, recording ``daglab_version`` (default: this
        daglab's version)."""
        from daglab._version import __version__

        return ModuleMeta(
            template=self.template,
            addons=self.addons,
            port=self.port,
            env=self.env,
            daglab_version=daglab_version or __version__,
            name=self.name,
            cron=self.cron,
            timezone=self.timezone,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "package": self.package,
            "template": self.template,
            "addons": list(self.addons),
            "port": self.port,
            "cron": self.cron,
            "timezone": self.timezone,
            "project_name": self.project_name,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answers:
        return check_answers(
            cls(
                name=str(data["name"]),
                package=str(data["package"]),
                template=str(data["template"]),
                addons=tuple(str(a) for a in data.get("addons") or ()),
                port=int(data["port"]),
                cron=data.get("cron"),
                timezone=data.get("timezone"),
                project_name=str(data.get("project_name") or data["name"]),
            )
        )

    def with_meta(self, meta: ModuleMeta) -> Answers:
        """These answers as the module's ``[tool.daglab.module]`` table now states them."""
        return check_answers(
            replace(
                self,
                template=meta.template,
                addons=meta.addons,
                port=meta.port if meta.port is not None else self.port,
                cron=meta.cron,
                timezone=meta.timezone,
            )
        )


def check_name(name: str) -> str:
    """``name`` when it makes a safe folder and location name, else ValidationError (exit 7)."""
    if not _NAME.match(name):
        raise ValidationError(
            f"module name {name!r} is not a plain name (a letter, then letters, digits, _ or -;"
            " at most 63 characters)",
            remediation="Choose a name such as sales_ingest or sales-ingest.",
        )
    return name


def env_prefix(name: str) -> str:
    """``sales-ingest`` -> ``SALES_INGEST``: the prefix of the module's environment variables."""
    return re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")


#: The range of each of a cron's five fields: minute, hour, day of month, month, day of week.
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_CRON_PART = re.compile(r"^(?:\*|(\d+)(?:-(\d+))?)(?:/([1-9]\d*))?$")


def _plain_cron(cron: str) -> bool:
    """True for a five-field cron of numbers, ranges, steps and lists within each field's range
    (``0 6 * * *``, ``*/15 8-18 * * 1-5``): one Dagster accepts, told without importing it.
    Anything else (names, ``@daily``, 30 February) is for Dagster to judge."""
    fields = cron.split()
    if len(fields) != 5 or cron != cron.strip() or "\n" in cron:
        return False
    for text, (low, high) in zip(fields, _CRON_RANGES, strict=True):
        for part in text.split(","):
            match = _CRON_PART.match(part)
            if match is None:
                return False
            start, end = match.group(1), match.group(2)
            numbers = [int(n) for n in (start, end) if n is not None]
            if any(not low <= n <= high for n in numbers) or (
                len(numbers) == 2 and numbers[0] > numbers[1]
            ):
                return False
    return not (fields[3] == "2" and fields[2] in ("30", "31"))


def check_cron(cron: str) -> str:
    if _plain_cron(cron):  # the usual case; a module's stored answers are checked on every read
        return cron
    from dagster._utils.schedules import is_valid_cron_string  # defer: dagster is heavy

    if "\n" in cron or not is_valid_cron_string(cron):
        raise ValidationError(
            f"--cron {cron!r} is not a cron schedule",
            remediation='Give five fields, e.g. --cron "0 6 * * *" (every day at 06:00).',
        )
    return cron


def check_timezone(timezone: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    problem = not timezone or timezone.startswith(("/", ".")) or ".." in timezone
    if not problem:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problem = True
    if problem:
        raise ValidationError(
            f"--timezone {timezone!r} is not an IANA time zone",
            remediation="Give a name such as UTC, Europe/Paris or America/New_York.",
        )
    return timezone


def check_answers(answers: Answers) -> Answers:
    """The answers checked and normalized (addons in a fixed order, without repeats)."""
    from daglab._scaffold.project import package_name_for

    check_name(answers.name)
    if answers.template not in TEMPLATES:
        raise ValidationError(
            f"template {answers.template!r} is not one of {', '.join(TEMPLATES)}",
            remediation="Use --template minimal, standard or ml.",
        )
    unknown = sorted(set(answers.addons) - set(ADDONS))
    if unknown:
        raise ValidationError(
            f"unknown addon {', '.join(unknown)} (known: {', '.join(ADDONS)})",
            remediation="Use --addon postgres, --addon mysql or --addon schedule.",
        )
    if package_name_for(answers.package) != answers.package:
        raise ValidationError(
            f"{answers.package!r} is not a valid package name",
            remediation="Pass --package-name with a lower-case Python identifier.",
        )
    if not 1 <= answers.port <= 65535:
        raise ValidationError(f"port {answers.port} is not between 1 and 65535")
    addons = tuple(addon for addon in ADDONS if addon in answers.addons)
    cron, timezone = answers.cron, answers.timezone
    if "schedule" in addons:
        cron = check_cron(cron or DEFAULT_CRON)
        timezone = check_timezone(timezone or DEFAULT_TIMEZONE)
    else:
        cron = timezone = None
    return replace(answers, addons=addons, cron=cron, timezone=timezone)


def render_module(
    answers: Answers, *, daglab_version: str | None = None
) -> dict[PurePosixPath, str]:
    """Relative path -> content of every file of the module; writes nothing.

    ``daglab_version`` is the version the rendering records (default: this daglab's), so that
    a base rendered by another version can be compared template for template.
    """
    import tomlkit

    from daglab._gitignore import gitignore_entries
    from daglab._scaffold.project import render_project, starter_job, starter_job_module

    answers = check_answers(answers)
    table = tomlkit.document()
    table.add(tomlkit.comment("What `daglab module new` was asked; `daglab module update`"))
    table.add(tomlkit.comment("renders daglab's templates again from these answers."))
    table["tool"] = {"daglab": {"module": answers.meta(daglab_version).to_table()}}
    context: dict[str, Any] = {
        "dependencies": [req for addon in answers.addons for req in REQUIREMENTS[addon]],
        "tool_tables": tomlkit.dumps(table).strip(),
        "module_name": answers.name,
        "code_server_port": answers.port,
        "table": f"{answers.package}_events",
        "postgres_env": f"{env_prefix(answers.name)}_POSTGRES_URL",
        "mysql_env": f"{env_prefix(answers.name)}_MYSQL_URL",
        "cron": answers.cron,
        "timezone": answers.timezone,
        "schedule_name": f"{answers.package}_schedule",
        "job_module": starter_job_module(answers.template),
    }
    context["starter_job"] = starter_job(answers.template)
    files = render_project(
        package=answers.package,
        template=answers.template,
        project_name=answers.project_name,
        extra_layers=[f"{ADDON_ROOT}/{addon}" for addon in answers.addons],
        extra_context=context,
    )
    gitignore = PurePosixPath(".gitignore")
    entries = [*gitignore_entries(f"src/{answers.package}/notebooks"), GITIGNORE_BASE_EXCEPTION]
    files[gitignore] = files.get(gitignore, "") + "\n# daglab\n" + "\n".join(entries) + "\n"
    return files
