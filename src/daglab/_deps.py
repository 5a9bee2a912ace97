"""Whether the installed packages agree with each other, as ``pip check`` decides it.

The rules are pip's (``pip._internal.operations.check``), so ``daglab doctor --check-deps`` and
``pip check`` report the same problems: every installed distribution (the first of a name on the
path), each requirement whose marker holds (``extra`` empty), a missing one only when its marker
holds, a version outside the specifier (pre-releases allowed) a conflict. It reads package
metadata only: no pip (``uv`` environments have none), no imports of the packages.
"""

from __future__ import annotations

import importlib.metadata as md
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One broken requirement: ``package`` needs ``dependency``, missing or at a wrong version."""

    package: str
    version: str
    requirement: str
    dependency: str
    installed: str | None = None

    @property
    def missing(self) -> bool:
        return self.installed is None

    def describe(self) -> str:
        """pip check's own sentence for it."""
        if self.installed is None:
            return (
                f"{self.package} {self.version} requires {self.dependency}, which is not installed."
            )
        return (
            f"{self.package} {self.version} has requirement {self.requirement}, but you have"
            f" {self.dependency} {self.installed}."
        )


@dataclass(frozen=True)
class Installed:
    version: str
    requirements: tuple[Any, ...]  # packaging Requirement objects whose markers hold


def canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def installed_packages(path: Sequence[str] | None = None) -> dict[str, Installed]:
    """Every distribution on ``path`` (default: this interpreter's), by canonical name."""
    from packaging.requirements import InvalidRequirement, Requirement

    found: dict[str, Installed] = {}
    dists = md.distributions() if path is None else md.distributions(path=list(path))
    for dist in dists:
        name = dist.metadata["Name"]
        if not name:
            continue
        key = canonical(name)
        if key in found:  # a second copy further down the path: the first one wins
            continue
        requirements = []
        for text in dist.requires or []:
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                requirements.append(req)
        found[key] = Installed(dist.version, tuple(requirements))
    return found


def check_packages(
    packages: dict[str, Installed], only: Iterable[str] | None = None
) -> list[Problem]:
    """The broken requirements of ``packages`` (of those named in ``only``, when given)."""
    names = sorted(packages) if only is None else sorted({canonical(n) for n in only})
    problems = []
    for name in names:
        info = packages.get(name)
        if info is None:
            continue
        for req in info.requirements:
            dependency = canonical(req.name)
            present = packages.get(dependency)
            if present is None:
                problems.append(Problem(name, info.version, str(req), dependency))
            elif not req.specifier.contains(present.version, prereleases=True):
                problems.append(Problem(name, info.version, str(req), dependency, present.version))
    return problems


def dependency_tree(packages: dict[str, Installed], root: str) -> set[str]:
    """``root`` and every installed package it needs, directly or not."""
    seen: set[str] = set()
    queue = [canonical(root)]
    while queue:
        name = queue.pop()
        if name in seen or name not in packages:
            continue
        seen.add(name)
        queue += [canonical(req.name) for req in packages[name].requirements]
    return seen
