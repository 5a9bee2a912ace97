"""Tested version ranges, installed versions, and the error for a missing optional package."""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
from dataclasses import dataclass

from daglab._errors import EnvironmentMissingError


@dataclass(frozen=True)
class TestedRange:
    """The oldest and the newest release of a package daglab's test matrix runs with.

    ``oldest`` is the exact lower bound in ``pyproject.toml``; ``newest`` is a release prefix
    (``"1.13"`` covers every 1.13.x), since patch releases keep their minor's API.
    """

    oldest: str
    newest: str

    def describe(self) -> str:
        return f"{self.oldest} to {self.newest}.x"


#: Kept equal to the lower bounds of the extras in pyproject.toml and the cells of
#: ``nox -s compat`` (a unit test checks the first).
TESTED: dict[str, TestedRange] = {
    "dagster": TestedRange("1.12.13", "1.13"),
    "marimo": TestedRange("0.23.6", "0.25"),
}

#: The extra of daglab that installs each optional distribution.
EXTRAS: dict[str, str] = {
    "dagster": "dagster",
    "dagster-webserver": "dagster",
    "marimo": "notebooks",
}


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution`` (from its metadata), or None."""
    try:
        return md.version(distribution)
    except md.PackageNotFoundError:
        return None


def outside_tested_range(distribution: str, version: str) -> str | None:
    """Why ``version`` of ``distribution`` is outside daglab's tested range, or None."""
    from packaging.version import InvalidVersion, Version

    tested = TESTED.get(distribution)
    if tested is None:
        return None
    try:
        found = Version(version)
    except InvalidVersion:
        return f"{distribution} {version} is not a release version daglab can compare"
    if found.is_devrelease or found.local:
        return None  # a source checkout: its number says nothing about its API
    if found < Version(tested.oldest):
        return f"{distribution} {version} is older than the oldest tested ({tested.oldest})"
    newest = Version(tested.newest).release
    if found.release[: len(newest)] > newest:
        return f"{distribution} {version} is newer than the newest tested ({tested.newest}.x)"
    return None


def install_hint(distribution: str) -> str:
    """The command that installs ``distribution`` as daglab expects it."""
    extra = EXTRAS.get(distribution)
    if extra is None:
        return f"pip install {distribution}"
    return f"pip install 'daglab[{extra}]' (or {distribution} into the project's environment)"


def require(module: str, distribution: str | None = None, *, needed_for: str) -> None:
    """Raise exit 3 with the install remedy unless ``module`` can be imported here."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        name = distribution or module
        raise EnvironmentMissingError(
            f"{needed_for} needs {name}, which is not installed in this environment",
            remediation=install_hint(name) + ".",
        )
