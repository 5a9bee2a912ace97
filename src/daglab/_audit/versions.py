"""Version drift: Dagster pinned differently across modules; Python as ``requires-python``, a
Dockerfile's ``FROM`` and CI name it, disagreeing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daglab._audit.context import AuditContext, Module, fail, load_yaml, ok, read_text, warn
from daglab._report import Check

#: ``dagster``, ``dagster[extra]``, then its version specifier (not dagster-webserver & co).
_DAGSTER = re.compile(
    r"^\s*dagster\s*(?:\[[^\]]*\])?\s*(?P<spec>(?:[<>=!~][^;]*?)?)\s*(?:;.*)?$", re.I
)
#: The Python of an image: ``python:3.12-slim``, ``…/uv:python3.12-bookworm``.
_IMAGE_PYTHON = re.compile(r"(?:^|[/:@-])python:?(\d+)\.(\d+)", re.I)
_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)", re.I | re.M)
_VERSION = re.compile(r"^\s*(\d+)\.(\d+)")


def dagster_pin(module: Module) -> str | None:
    """The specifier of ``dagster`` in the module's ``[project] dependencies``, normalized
    (spaces dropped, clauses sorted); ``""`` for an unpinned ``dagster``; None without it."""
    dependencies = module.pyproject.get("project", {}).get("dependencies", [])
    for dependency in dependencies if isinstance(dependencies, list) else []:
        match = _DAGSTER.match(str(dependency))
        if match:
            clauses = [c.replace(" ", "") for c in match.group("spec").split(",") if c.strip()]
            return ",".join(sorted(clauses))
    return None


def check_versions(ctx: AuditContext) -> list[Check]:
    return [_check_dagster_pins(ctx), *_check_python(ctx)]


def common_dagster(pins: list[str]) -> str | None:
    """A Dagster version every specifier in ``pins`` accepts, tried among the versions they
    name themselves (their bounds); None when no such version is named, which for pins as
    people write them (``==1.13.27``, ``>=1.13,<2``) means they cannot agree."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        specs = [SpecifierSet(pin) for pin in pins]
    except InvalidSpecifier:
        return None
    candidates = set()
    for spec in specs:
        for clause in spec:
            try:
                candidates.add(Version(clause.version.removesuffix(".*")))
            except InvalidVersion:
                continue
    for version in sorted(candidates, reverse=True):
        if all(spec.contains(version, prereleases=True) for spec in specs):
            return str(version)
    return None


def _check_dagster_pins(ctx: AuditContext) -> Check:
    pins = {m.name: pin for m in ctx.modules if (pin := dagster_pin(m)) is not None}
    by_pin: dict[str, list[str]] = {}
    for name, pin in pins.items():
        by_pin.setdefault(pin, []).append(name)
    if not pins:
        return ok("versions:dagster", "no module lists dagster in its dependencies")
    if len(by_pin) == 1:
        (pin,) = by_pin
        return ok(
            "versions:dagster", f"every module ({len(pins)}) requires dagster{pin}", pins=pins
        )
    shown = "; ".join(
        f"dagster{pin or ' (any version)'} in {', '.join(names)}"
        for pin, names in sorted(by_pin.items())
    )
    specified = [pin for pin in by_pin if pin]
    common = common_dagster(specified) if specified else None
    exact = [pin for pin in specified if pin.startswith("==") and "," not in pin]
    if common is not None and len(exact) <= 1:
        return warn(
            "versions:dagster",
            f"modules pin Dagster differently, though all accept {common}: {shown}",
            f"Pin dagster=={common} in every module's pyproject.toml [project] dependencies"
            " so each location runs the Dagster the others and the webserver run.",
            pins=pins,
            common=common,
        )
    return fail(
        "versions:dagster",
        f"modules pin Dagster versions no one version satisfies: {shown}",
        "Pin one Dagster version (dagster==X.Y.Z, the webserver's) in every module's"
        " pyproject.toml [project] dependencies, then `uv lock` / reinstall each (a code"
        " location on another Dagster than the webserver's can fail to load).",
        pins=pins,
    )


@dataclass(frozen=True)
class PythonUse:
    """One place that names the Python a module runs on: a Dockerfile or a CI file."""

    file: Path
    kind: str  # "dockerfile" or "ci"
    versions: tuple[str, ...]  # "3.12"


def python_uses(ctx: AuditContext) -> list[PythonUse]:
    uses = []
    for path in ctx.dockerfiles():
        text = read_text(path) or ""
        versions = []
        for image in _FROM.findall(text):
            match = _IMAGE_PYTHON.search(image)
            if match:
                versions.append(f"{match.group(1)}.{match.group(2)}")
        if versions:
            # the last stage is the one that runs
            uses.append(PythonUse(path, "dockerfile", (versions[-1],)))
    workflows = ctx.root / ".github" / "workflows"
    for path in ctx.under(workflows):
        if path.suffix in (".yml", ".yaml"):
            found = sorted(set(_find_key(load_yaml(path), "python-version")))
            if found:
                uses.append(PythonUse(path, "ci", tuple(found)))
    for path in ctx.named(".gitlab-ci.yml"):
        images = _find_key(load_yaml(path), "image")
        pythons = set()
        for image in images:
            match = _IMAGE_PYTHON.search(image)
            if match:
                pythons.add(f"{match.group(1)}.{match.group(2)}")
        if pythons:
            uses.append(PythonUse(path, "ci", tuple(sorted(pythons))))
    return uses


def _find_key(data: Any, key: str) -> list[str]:
    """Every ``X.Y`` version under ``key`` anywhere in ``data`` (a string, a list of them, or
    an image's ``name``); expressions such as ``${{ matrix.python-version }}`` are skipped."""
    found: list[str] = []
    if isinstance(data, dict):
        for k, v in data.items():
            if k == key:
                values = v if isinstance(v, list) else [v]
                for value in values:
                    if isinstance(value, dict):
                        value = value.get("name")
                    if isinstance(value, str):
                        if key == "image":
                            found.append(value)
                        elif (match := _VERSION.match(value)) is not None:
                            found.append(f"{match.group(1)}.{match.group(2)}")
            else:
                found += _find_key(v, key)
    elif isinstance(data, list):
        for item in data:
            found += _find_key(item, key)
    return found


def _check_python(ctx: AuditContext) -> list[Check]:
    requires: dict[str, str] = {}
    for module in ctx.modules:
        text = module.pyproject.get("project", {}).get("requires-python")
        if isinstance(text, str):
            requires[module.name] = text
    uses = python_uses(ctx)
    specs: dict[str, Any] = {}
    if uses:  # packaging is read only when there is something to compare
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        for name, text in requires.items():
            try:
                specs[name] = SpecifierSet(text)
            except InvalidSpecifier:
                continue
    checks = []
    outside = []
    for use in uses:
        for version in use.versions:
            refused = [name for name, spec in specs.items() if not spec.contains(f"{version}.0")]
            if refused:
                outside.append((use, version, refused))
    if outside:
        lines = [
            f"{ctx.rel(use.file)} uses Python {version}, outside requires-python of "
            + ", ".join(f"{name} ({requires[name]})" for name in refused)
            for use, version, refused in outside
        ]
        checks.append(
            fail(
                "versions:python",
                "; ".join(lines),
                "Make the Dockerfile's FROM image, the CI python-version and every module's"
                " requires-python name the same Python (e.g. change the image to one inside"
                " requires-python, or widen requires-python).",
                requires_python=requires,
                uses={ctx.rel(u.file): list(u.versions) for u in uses},
            )
        )
    ci = {v for u in uses if u.kind == "ci" for v in u.versions}
    images = [(u, u.versions[0]) for u in uses if u.kind == "dockerfile"]
    untested = [(u, v) for u, v in images if ci and v not in ci]
    if untested:
        checks.append(
            fail(
                "versions:python_ci",
                "; ".join(f"{ctx.rel(u.file)} runs Python {v}" for u, v in untested)
                + f", but CI tests only {', '.join(sorted(ci))}",
                "Add the image's Python to CI's python-version (or the CI image), or build the"
                " image from a Python CI tests.",
                ci=sorted(ci),
            )
        )
    if not checks:
        named = sorted({v for u in uses for v in u.versions})
        summary = (
            f"Python {', '.join(named)} (Dockerfile/CI) inside every requires-python"
            if named
            else "no Dockerfile or CI file names a Python version"
        )
        checks.append(ok("versions:python", summary, requires_python=requires))
    return checks
