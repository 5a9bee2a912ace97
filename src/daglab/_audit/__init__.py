"""``daglab audit``: does a workspace of code locations still hold together?

Each check answers one question with ok / warn / fail and a fix, as ``daglab doctor`` presents
them (:mod:`daglab._report`); any failure exits 7. The checks live by concept: ``structure``
(package, definitions, tests), ``registry`` (workspace drift, location names across the
workspace and deploy files), ``versions`` (Dagster pins, Python), ``deploy`` (Dockerfile
lockfiles, container contexts), ``hygiene`` (passwords in URLs, schedule timezones) and
``currency`` (template updates, conflict markers). They read files only — no Dagster, no
marimo — so the static audit takes a fraction of a second; ``load`` adds loading every location
in its own process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from daglab._audit.context import AuditContext, Module, fail, modules_of, ok, warn
from daglab._audit.currency import check_currency
from daglab._audit.deploy import check_deploy
from daglab._audit.hygiene import check_hygiene
from daglab._audit.registry import check_registry
from daglab._audit.structure import check_structure
from daglab._audit.versions import check_versions
from daglab._errors import DaglabError, ExitCode
from daglab._logging import get_logger
from daglab._report import Check, CheckReport

if TYPE_CHECKING:
    from daglab._workspace import Problem

__all__ = ["AuditOptions", "AuditReport", "run_audit"]

#: The static checks, in the order they are shown.
STATIC_CHECKS: tuple[tuple[str, Callable[[AuditContext], list[Check]]], ...] = (
    ("structure", check_structure),
    ("registry", check_registry),
    ("versions", check_versions),
    ("deploy", check_deploy),
    ("hygiene", check_hygiene),
    ("currency", check_currency),
)


@dataclass
class AuditReport(CheckReport):
    """Every check of the workspace; any failure exits 7."""

    workspace: Path | None = None
    default_exit_code = ExitCode.VALIDATION

    def to_dict(self) -> dict[str, object]:
        return {"workspace": str(self.workspace), **super().to_dict()}


@dataclass(frozen=True)
class AuditOptions:
    start: Path
    workspace: Path | None = None
    names: tuple[str, ...] = ()
    load: bool = False


def run_audit(options: AuditOptions) -> AuditReport:
    ctx = _context(options)
    checks: list[Check] = []
    for concept, run in STATIC_CHECKS:
        try:
            checks += run(ctx)
        except DaglabError as exc:  # a file the check could not read is its finding
            checks.append(fail(concept, exc.message, exc.remediation))
    if options.load:
        checks += check_loading(ctx)
    report = AuditReport(checks, workspace=ctx.root)
    get_logger("audit").info(
        "audit %s: %d check(s), failures: %s",
        ctx.root,
        len(checks),
        ", ".join(c.name for c in report.failed) or "none",
    )
    return report


def _context(options: AuditOptions) -> AuditContext:
    from daglab._errors import EnvironmentMissingError, UsageError, did_you_mean
    from daglab._workspace import find_workspace, load_workspace

    if options.workspace is not None:
        workspace = load_workspace(options.workspace)
    else:
        found = find_workspace(options.start)
        if found is None:
            raise EnvironmentMissingError(
                f"no workspace (dg.toml or workspace.yaml) at or above {options.start}",
                remediation="cd into the workspace, pass --workspace PATH, or make one with"
                " `create-dagster workspace NAME`.",
            )
        workspace = found
    modules = modules_of(workspace)
    known = {location.name for location in workspace.locations}
    unknown = [name for name in options.names if name not in known]
    if unknown:
        raise UsageError(
            f"no code location named {unknown[0]!r} in {workspace.file}"
            + did_you_mean(unknown[0], known),
            remediation="`daglab workspace list` shows the names; audit takes them as they are"
            " listed.",
        )
    selected: tuple[Module, ...] = modules
    if options.names:
        selected = tuple(m for m in modules if m.name in options.names)
    return AuditContext(workspace, modules, selected, names=options.names)


def check_loading(ctx: AuditContext) -> list[Check]:
    """Each location loaded in its own process (and the workspace against Dagster's own
    schema), by the workspace package's ``validate``: one check per location."""
    from daglab._audit.registry import problems_check
    from daglab._workspace import validate

    problems = validate(ctx.workspace, load=True)
    checks = [problems_check(ctx, "registry:schema", [p for p in problems if p.code == "schema"])]
    names = {m.name for m in ctx.selected} if ctx.names else None
    for location in ctx.workspace.locations:
        if names is not None and location.name not in names:
            continue
        mine = [p for p in problems if p.code.startswith("load") and p.location == location.name]
        name = f"load:{location.name}"
        if not mine:
            if location.path is not None and not location.path.exists():
                continue  # registry:workspace says its folder is missing
            checks.append(ok(name, f"{location.name} loads (dagster definitions validate)"))
            continue
        checks.append(problem_as_check(name, mine[0]))
    return checks


def problem_as_check(name: str, problem: Problem) -> Check:
    if problem.severity == "error":
        return fail(name, problem.message, problem.remediation, code=problem.code)
    return warn(name, problem.message, problem.remediation, code=problem.code)
