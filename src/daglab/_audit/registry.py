"""Registry: the workspace's own drift (as ``daglab workspace validate`` finds it) and the
location names of every file that lists them — dg.toml, workspace.yaml, dagster_cloud.yaml,
Helm values of the dagster-user-deployments chart, a self-hosted server's workspace.yaml under
``deploy/`` — unique in each and consistent between them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._audit.context import AuditContext, fail, load_yaml, ok, warn
from daglab._errors import DaglabError
from daglab._logging import get_logger
from daglab._report import Check

if TYPE_CHECKING:
    from daglab._workspace import Problem


@dataclass(frozen=True)
class NameList:
    """The location names one file lists, in its order (duplicates kept)."""

    file: Path
    kind: str  # "workspace", "dagster_cloud", "server" or "helm"
    names: tuple[str, ...]


def check_registry(ctx: AuditContext) -> list[Check]:
    checks = [check_workspace_drift(ctx)]
    lists = location_lists(ctx)
    checks += _check_unique(ctx, lists)
    checks += _check_consistent(ctx, lists)
    return checks


def check_workspace_drift(ctx: AuditContext) -> Check:
    """The problems the workspace package's own ``validate`` finds (without Dagster's schema,
    which imports Dagster: ``--load`` adds it), one check for them all."""
    from daglab._workspace import validate

    return problems_check(ctx, "registry:workspace", validate(ctx.workspace, schema=False))


def problems_check(ctx: AuditContext, name: str, problems: Sequence[Problem]) -> Check:
    """The workspace's problems as one check: failed by an error, warned by a warning."""
    where = ctx.rel(ctx.workspace.file)
    if not problems:
        return ok(
            name,
            f"{where}: {len(ctx.workspace.locations)} location(s), every path exists,"
            " every project folder registered, names unique",
        )
    messages = [p.message for p in problems]
    fixes = " ".join(dict.fromkeys(p.remediation for p in problems))
    data = {"problems": [p.to_dict() for p in problems]}
    if any(p.severity == "error" for p in problems):
        return fail(name, f"{where}: " + "; ".join(messages), fixes, **data)
    return warn(name, f"{where}: " + "; ".join(messages), fixes, **data)


def location_lists(ctx: AuditContext) -> list[NameList]:
    """The workspace file's names (and those of the other workspace file, when both exist),
    every dagster_cloud.yaml's and every Helm values file's."""
    from daglab._workspace import load_workspace

    lists = [
        NameList(
            ctx.workspace.file,
            "workspace",
            tuple(location.name for location in ctx.workspace.locations),
        )
    ]
    for name in ("dg.toml", "workspace.yaml", "workspace.yml"):
        other = ctx.root / name
        if other.is_file() and other != ctx.workspace.file:
            try:
                other_ws = load_workspace(other)
            except DaglabError as exc:  # the file the workspace uses is what matters
                get_logger("audit").warning("%s is not readable: %s", other, exc.message)
                continue
            lists.append(
                NameList(other, "workspace", tuple(loc.name for loc in other_ws.locations))
            )
    for path in ctx.named("dagster_cloud.yaml", "dagster_cloud.yml"):
        data = load_yaml(path)
        entries = data.get("locations") if isinstance(data, dict) else None
        names = _names(entries, "location_name")
        lists.append(NameList(path, "dagster_cloud", names))
    for path in server_workspace_files(ctx):
        data = load_yaml(path)
        entries = data.get("load_from") if isinstance(data, dict) else None
        lists.append(NameList(path, "server", _server_names(entries)))
    for path in helm_values_files(ctx):
        data = load_yaml(path)
        names = _names(_helm_deployments(data), "name")
        if names:
            lists.append(NameList(path, "helm", names))
    return lists


def helm_values_files(ctx: AuditContext) -> list[Path]:
    """``deploy/*/values*.yaml`` (and ``.yml``), as ``daglab deploy configure`` writes them."""
    deploy = ctx.root / "deploy"
    return [
        p
        for p in ctx.under(deploy)
        if p.parent.parent == deploy
        and p.name.startswith("values")
        and p.suffix in (".yaml", ".yml")
    ]


def server_workspace_files(ctx: AuditContext) -> list[Path]:
    """``deploy/*/workspace.yaml``: a self-hosted server's gRPC entries."""
    deploy = ctx.root / "deploy"
    return [
        p
        for p in ctx.under(deploy)
        if p.parent.parent == deploy and p.name in ("workspace.yaml", "workspace.yml")
    ]


def _server_names(entries: Any) -> tuple[str, ...]:
    """``location_name`` of each ``load_from`` entry (``- grpc_server: {location_name: …}``)."""
    names = []
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict):
            for value in entry.values():
                if isinstance(value, dict) and value.get("location_name"):
                    names.append(str(value["location_name"]))
    return tuple(names)


def _helm_deployments(data: Any) -> Any:
    """The ``deployments`` list of the dagster-user-deployments chart: under the subchart's key
    in the umbrella ``dagster`` chart's values, or at the top of the subchart's own."""
    if not isinstance(data, dict):
        return None
    sub = data.get("dagster-user-deployments")
    if isinstance(sub, dict) and "deployments" in sub:
        return sub["deployments"]
    return data.get("deployments")


def _names(entries: Any, key: str) -> tuple[str, ...]:
    if not isinstance(entries, list):
        return ()
    return tuple(str(entry[key]) for entry in entries if isinstance(entry, dict) and entry.get(key))


def _check_unique(ctx: AuditContext, lists: list[NameList]) -> list[Check]:
    checks = []
    for listed in lists:
        if listed.kind == "workspace":
            continue  # the workspace's own duplicates are its validate's finding
        where = ctx.rel(listed.file)
        twice = sorted(n for n, count in Counter(listed.names).items() if count > 1)
        name = f"registry:names:{where}"
        if twice:
            checks.append(
                fail(
                    name,
                    f"{where}: location name(s) listed more than once: {', '.join(twice)}",
                    f"Give each location in {where} its own name (Dagster serves one location"
                    " per name; the later entry replaces or breaks the earlier).",
                    duplicates=twice,
                )
            )
        else:
            checks.append(ok(name, f"{where}: {len(listed.names)} location name(s), each once"))
    return checks


def _check_consistent(ctx: AuditContext, lists: list[NameList]) -> list[Check]:
    """A name a deploy file or a second workspace file lists that the workspace does not is a
    failure (it deploys code that is not there); a location some deploy file leaves out is a
    warning (it may be deliberate)."""
    known = set(lists[0].names)
    main = ctx.rel(lists[0].file)
    checks = []
    for listed in lists[1:]:
        where = ctx.rel(listed.file)
        name = f"registry:consistent:{where}"
        unknown = sorted(set(listed.names) - known)
        missing = sorted(known - set(listed.names))
        if unknown:
            checks.append(
                fail(
                    name,
                    f"{where} lists location(s) {main} does not: {', '.join(unknown)}",
                    f"Rename them in {where} to the workspace's names ({', '.join(sorted(known))}),"
                    f" or register the code with `daglab workspace add PATH`.",
                    unknown=unknown,
                    missing=missing,
                )
            )
        elif missing and listed.kind != "workspace":
            checks.append(
                warn(
                    name,
                    f"{where} leaves out location(s) of {main}: {', '.join(missing)}",
                    "Add them with `daglab deploy configure`, or ignore this if they are not"
                    " deployed on purpose.",
                    missing=missing,
                )
            )
        elif missing:
            checks.append(
                fail(
                    name,
                    f"{where} leaves out location(s) of {main}: {', '.join(missing)}",
                    "Regenerate it: `daglab workspace export --format workspace.yaml`.",
                    missing=missing,
                )
            )
        else:
            checks.append(ok(name, f"{where}: the same location names as {main}"))
    return checks
