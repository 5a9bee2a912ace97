"""``daglab deploy configure``: render a target's files, check them, write what changed.

Files go under ``<workspace>/deploy/<target>/`` (``dagster_cloud.yaml`` at the workspace root,
where Dagster+ looks for it). Every write is atomic and recorded in daglab's manifest; a file
daglab did not write (or that changed since) is refused unless ``force``, and a file whose
content is already right is not touched, so a second run changes nothing. All files are rendered
and checked before the first is written, and a failure half-way undoes the writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from daglab._deploy._inputs import (
    ABS_PATH,
    DEFAULT_BASE_PORT,
    HOST,
    CodeLocation,
    check_plain,
    check_target,
    find,
    gather,
)
from daglab._errors import ConflictError, UsageError

STRATEGIES: tuple[str, ...] = ("plus-serverless", "plus-hybrid", "helm", "git", "rsync")
GENERATOR = "deploy configure"
KIND = "deploy"
REGISTRY = r"[a-z0-9]([a-z0-9.:-]*[a-z0-9])?(/[a-z0-9]([a-z0-9._-]*[a-z0-9])?)*\Z"
IMAGE_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z"
USER = r"[a-z_][a-z0-9_-]{0,31}\Z"


@dataclass(frozen=True)
class Options:
    """Everything ``configure`` takes beyond the target and strategy (CLI flags)."""

    base_port: int = DEFAULT_BASE_PORT
    registry: str | None = None  # helm and hybrid: image registry (ghcr.io/acme)
    image_tag: str | None = None
    install_root: str | None = None  # self-hosted: default /opt/daglab/<target>
    venv: str | None = None  # default <install_root>/.venv
    env_dir: str | None = None  # default /etc/daglab/<target>
    dagster_home: str | None = None  # default /var/lib/daglab/<target>
    webserver_host: str = "127.0.0.1"
    webserver_port: int = 3000
    user: str | None = None


@dataclass(frozen=True)
class PlannedFile:
    path: Path
    kind: str  # dagster_cloud.yaml, helm-values, script, systemd-unit, workspace.yaml
    action: str  # created, overwritten, unchanged
    content: str
    mode: int | None = None

    def to_dict(self, root: Path, *, content: bool) -> dict[str, Any]:
        return {
            "path": self.path.relative_to(root).as_posix(),
            "kind": self.kind,
            "action": self.action,
            **({"content": self.content} if content else {}),
        }


@dataclass(frozen=True)
class Check:
    name: str
    status: Literal["ok", "skipped"]
    detail: str


@dataclass
class Plan:
    target: str
    strategy: str
    root: Path
    dry_run: bool
    locations: tuple[CodeLocation, ...]
    files: list[PlannedFile] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    server: dict[str, Any] | None = None

    @property
    def changed(self) -> bool:
        return any(item.action != "unchanged" for item in self.files)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "strategy": self.strategy,
            "root": str(self.root),
            "dry_run": self.dry_run,
            "changed": self.changed,
            "locations": [location.to_dict() for location in self.locations],
            "files": [item.to_dict(self.root, content=self.dry_run) for item in self.files],
            "checks": [check.__dict__ for check in self.checks],
            "notes": self.notes,
            **({"server": self.server} if self.server else {}),
        }


def configure(
    start: Path,
    target: str,
    strategy: str,
    *,
    options: Options | None = None,
    dry_run: bool = False,
    force: bool = False,
) -> Plan:
    """Render, check and (unless ``dry_run``) write the deployment files of ``target``."""
    options = options or Options()
    check_target(target)
    if strategy not in STRATEGIES:
        raise UsageError(
            f"unknown strategy {strategy!r}",
            remediation=f"Choose one of {', '.join(STRATEGIES)}.",
        )
    _check_options(options)
    workspace = find(start.resolve())
    recorded = _recorded_ports(workspace.root, target)
    inputs = gather(workspace, base_port=options.base_port, recorded=recorded)
    root = inputs.root
    plan = Plan(target, strategy, root, dry_run, inputs.locations, notes=list(inputs.notes))
    folder = root / "deploy" / target
    rendered: list[tuple[Path, str, str, int | None]] = []  # path, kind, content, mode
    if strategy in ("plus-serverless", "plus-hybrid"):
        rendered += _plus(plan, options)
    elif strategy == "helm":
        rendered += _helm_files(plan, folder, options)
    else:
        rendered += _selfhosted_files(plan, folder, options)
    ports = {loc.name: loc.port for loc in inputs.locations if loc.port_source == "assigned"}
    plan.files = [
        _planned(root, path, kind, text, mode, force) for path, kind, text, mode in rendered
    ]
    plan.files += _stale(plan, {path for path, *_ in rendered})
    if not dry_run:
        _write(plan, ports)
    return plan


def _stale(plan: Plan, current: set[Path]) -> list[PlannedFile]:
    """Files an earlier run wrote for this target that this one no longer makes (a location
    gone from the workspace, another strategy): removed while daglab provably wrote them,
    kept (with a note) once someone edited them."""
    from daglab import _manifest

    folder = (plan.root / "deploy" / plan.target).resolve()
    stale = []
    for key, info in sorted(_manifest.generated(plan.root, KIND).items()):
        path = _manifest.path_for(plan.root, key)
        if info.get("target") != plan.target or path in current:
            continue
        if not path.resolve().is_relative_to(folder) or not path.exists():
            continue
        if _manifest.is_unmodified(plan.root, key, info):
            stale.append(PlannedFile(path, str(info.get("kind", KIND)), "removed", ""))
        else:
            plan.notes.append(f"{key} is no longer generated but was edited: left in place.")
    return stale


def _check_options(options: Options) -> None:
    import re

    if not 1024 <= options.base_port <= 65535:
        raise UsageError(f"--base-port {options.base_port} is not between 1024 and 65535")
    if not 1 <= options.webserver_port <= 65535:
        raise UsageError(f"--webserver-port {options.webserver_port} is not a port")
    for value, pattern, what, example in (
        (options.registry, REGISTRY, "--registry", "ghcr.io/acme"),
        (options.image_tag, IMAGE_TAG, "--image-tag", "2026-01-05.1"),
        (options.user, USER, "--user", "dagster"),
    ):
        if value is not None:
            check_plain(value, re.compile(pattern), what, example)
    for value, what in (
        (options.install_root, "--install-root"),
        (options.venv, "--venv"),
        (options.env_dir, "--env-dir"),
        (options.dagster_home, "--dagster-home"),
    ):
        if value is not None:
            check_plain(value, ABS_PATH, what, "/opt/daglab/prod")
    check_plain(options.webserver_host, HOST, "--webserver-host", "127.0.0.1")


def dump_yaml(document: dict[str, Any], header: str = "") -> str:
    """Block-style YAML in the document's key order, without anchors (a repeated list is
    written out again: people read and edit these files)."""
    import yaml  # defer for import performance

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return header + yaml.dump(document, Dumper=Dumper, sort_keys=False, default_flow_style=False)


def _plus(plan: Plan, options: Options) -> list[tuple[Path, str, str, int | None]]:
    from daglab._deploy import _cloud

    hybrid = plan.strategy == "plus-hybrid"
    document = _cloud.cloud_yaml(plan.locations, hybrid=hybrid, registry=options.registry)
    status, detail = _cloud.check(document)
    plan.checks.append(Check("dagster_cloud.yaml", status, detail))  # type: ignore[arg-type]
    if hybrid and not options.registry:
        plan.notes.append(
            "No --registry: Dagster+ Hybrid pushes each location's image to build.registry;"
            " run again with --registry REGISTRY, or add it by hand."
        )
    plan.notes.append(
        "The CI workflow is left to `dg plus deploy configure` (it writes the GitHub/GitLab"
        " workflow and Dockerfiles and reads this dagster_cloud.yaml)."
    )
    names = sorted({name for loc in plan.locations for name in loc.env})
    if names and hybrid:
        plan.notes.append(
            "Create a Kubernetes Secret per location holding "
            + ", ".join(names)
            + " (e.g. kubectl create secret generic <location>-env --from-env-file=FILE)."
        )
    elif names:
        plan.notes.append(
            "Set " + ", ".join(names) + " in Dagster+ (Deployment → Environment variables)."
        )
    skipped = [loc.name for loc in plan.locations if loc.kind == "grpc"]
    if skipped:
        plan.notes.append(
            "gRPC locations left out (Dagster+ serves its own): " + ", ".join(skipped)
        )
    header = (
        f"# Dagster+ code locations ({plan.strategy}), generated by daglab deploy configure"
        f" --target {plan.target}.\n"
    )
    return [(plan.root / _cloud.FILE_NAME, "dagster_cloud.yaml", dump_yaml(document, header), None)]


def _helm_files(
    plan: Plan, folder: Path, options: Options
) -> list[tuple[Path, str, str, int | None]]:
    from daglab._deploy import _helm

    document = _helm.values(plan.locations, registry=options.registry, tag=options.image_tag)
    detail = _helm.check(document, source="the generated values")
    plan.checks.append(Check("helm values", "ok", detail))
    names = sorted({name for loc in plan.locations for name in loc.env})
    if names:
        plan.notes.append(
            "Create a Kubernetes Secret <location>-env per location holding "
            + ", ".join(names)
            + "; the values file refers to it (secretKeyRef), never to a value."
        )
    plan.notes.append(
        f"Install with: helm upgrade --install {plan.target} dagster/dagster-user-deployments"
        f" -f deploy/{plan.target}/values.yaml"
    )
    header = (
        f"# dagster-user-deployments values (chart files pinned at dagster-io/dagster@"
        f"{_helm.CHART_PIN['values.schema.json'][:8]}), generated by daglab deploy configure"
        f" --target {plan.target}.\n"
    )
    return [(folder / "values.yaml", "helm-values", dump_yaml(document, header), None)]


def _selfhosted_files(
    plan: Plan, folder: Path, options: Options
) -> list[tuple[Path, str, str, int | None]]:
    from daglab._deploy import _selfhosted

    install_root = options.install_root or f"/opt/daglab/{plan.target}"
    if plan.strategy == "git":
        from daglab._project import find_git_root

        git_root = find_git_root(plan.root)
        inside = plan.root.relative_to(git_root.resolve()).as_posix() if git_root else "."
        workspace = install_root if inside == "." else f"{install_root}/{inside}"
        script_rel = f"{'' if inside == '.' else inside + '/'}deploy/{plan.target}/deploy.sh"
        if git_root is None:
            plan.notes.append("The workspace is not in a git repository yet: `git init` first.")
    else:
        workspace = install_root
        script_rel = f"deploy/{plan.target}/deploy.sh"
    server = _selfhosted.Server(
        install_root=install_root,
        workspace=workspace,
        venv=options.venv or f"{install_root}/.venv",
        env_dir=options.env_dir or f"/etc/daglab/{plan.target}",
        dagster_home=options.dagster_home or f"/var/lib/daglab/{plan.target}",
        webserver_host=options.webserver_host,
        webserver_port=options.webserver_port,
        user=options.user,
    )
    plan.server = server.to_dict()
    rendered = _selfhosted.files(
        target=plan.target,
        strategy=plan.strategy,
        locations=plan.locations,
        server=server,
        script_rel=script_rel,
    )
    kinds = {"deploy.sh": "script", "workspace.yaml": "workspace.yaml"}
    with_env = [loc for loc in plan.locations if loc.env]
    for loc in with_env:
        plan.notes.append(
            f"On the server, put {', '.join(loc.env)} in {server.env_dir}/{loc.name}.env"
            " (mode 600); the unit reads it, daglab never writes a value."
        )
    if server.webserver_host not in ("127.0.0.1", "localhost", "::1"):
        plan.notes.append(
            f"The webserver binds {server.webserver_host} and has no login of its own: put a"
            " proxy with authentication in front of it."
        )
    push = "push --remote URL" if plan.strategy == "git" else "push --dest HOST:PATH"
    plan.notes.append(f"Deploy with: deploy/{plan.target}/deploy.sh {push}")
    return [
        (folder / rel, kinds.get(rel, "systemd-unit"), text, mode)
        for rel, (text, mode) in rendered.items()
    ]


def _planned(
    root: Path, path: Path, kind: str, content: str, mode: int | None, force: bool
) -> PlannedFile:
    from daglab import _manifest
    from daglab._owned import check_destination

    check_destination(root, path, explicit=False, force=True, what=kind)
    if path.is_file() and not path.is_symlink():
        if path.read_bytes() == content.encode("utf-8") and (
            mode is None or path.stat().st_mode & 0o111
        ):
            return PlannedFile(path, kind, "unchanged", content, mode)
        if not force and not _manifest.owns(root, path):
            raise ConflictError(
                f"{path} exists and daglab did not write it (or it changed since); left untouched",
                remediation="Pass --force to overwrite it, or move your version aside.",
                path=str(path),
            )
        return PlannedFile(path, kind, "overwritten", content, mode)
    return PlannedFile(path, kind, "created", content, mode)


def _write(plan: Plan, ports: dict[str, int]) -> None:
    from daglab import _manifest
    from daglab._fs import atomic_write, undo_on_error

    extra = {"target": plan.target, "strategy": plan.strategy, "ports": ports}
    with undo_on_error():
        for item in plan.files:
            if item.action == "unchanged":
                continue
            if item.action == "removed":
                item.path.unlink()
                _manifest.forget(plan.root, [_manifest.key_for(plan.root, item.path)])
                continue
            data = item.content.encode("utf-8")
            _manifest.record_pending(
                plan.root, item.path, data, generator=GENERATOR, kind=KIND, extra=extra
            )
            atomic_write(item.path, data, mode=item.mode)


def _recorded_ports(root: Path, target: str) -> dict[str, int]:
    """The ports assigned by the last run for ``target`` (kept while still free)."""
    from daglab import _manifest

    ports: dict[str, int] = {}
    for info in _manifest.generated(root, KIND).values():
        if info.get("target") == target and isinstance(info.get("ports"), dict):
            for name, port in info["ports"].items():
                if isinstance(name, str) and isinstance(port, int):
                    ports.setdefault(name, port)
    return ports
