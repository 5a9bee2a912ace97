"""``daglab scaffold``: a paired notebook for a job, an asset or an asset selection.

The target is checked against the live webserver when it answers, otherwise against the
project's code. The in-process cell imports the real definition, so the import is resolved (in
a child process, by importing the project's code) before anything is written.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._client._models import ASSET_JOB
from daglab._errors import (
    ConflictError,
    ConnectivityError,
    DaglabError,
    EnvironmentMissingError,
    UsageError,
    ValidationError,
    did_you_mean,
)
from daglab._notebooks.locate import CodeIndex, locate_definitions
from daglab._notebooks.render import (
    TEMPLATES,
    NotebookSpec,
    NotebookTarget,
    is_dotted_identifier,
    render_notebook,
)

if TYPE_CHECKING:
    from daglab._client import DagsterClient, Discovery
    from daglab._config import LoadedConfig

_SLUG = re.compile(r"[^0-9A-Za-z_]+")


@dataclass(frozen=True)
class ScaffoldRequest:
    job: str | None = None
    asset: str | None = None
    selection: str | None = None
    repository: str | None = None
    location: str | None = None
    module: str | None = None
    filename: str | None = None
    template: str | None = None
    title: str | None = None
    template_vars: Mapping[str, str] = field(default_factory=dict)
    run_config: str | None = None
    inprocess: bool = True
    attach: bool = True
    #: None: the ``defaults`` section of daglab.yaml decides.
    validate_config: bool | None = None
    git_commit: bool | None = None
    seed_data: bool | None = None
    force: bool = False


@dataclass
class Scaffolded:
    path: Path
    action: str
    target: NotebookTarget
    checked_against: str
    import_line: str | None = None
    config_valid: bool | None = None
    commit: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "action": self.action,
            "target": self.target.to_dict(),
            "checked_against": self.checked_against,
            "import": self.import_line,
            "config_valid": self.config_valid,
            "commit": self.commit,
            "notes": self.notes,
        }


def slug(text: str) -> str:
    return _SLUG.sub("_", text.replace("*", "all")).strip("_").lower() or "notebook"


def _one_target(request: ScaffoldRequest) -> tuple[str, str]:
    given = [
        (flag, value)
        for flag, value in (
            ("--job", request.job),
            ("--asset", request.asset),
            ("--from-selection", request.selection),
        )
        if value
    ]
    if len(given) != 1:
        raise UsageError(
            "give exactly one of --job, --asset or --from-selection"
            + (f" (got {', '.join(flag for flag, _ in given)})" if given else ""),
            remediation="Example: daglab scaffold --asset orders/daily_orders",
        )
    flag, value = given[0]
    return {"--job": "job", "--asset": "asset", "--from-selection": "selection"}[flag], value


def _live_client(loaded: LoadedConfig, token: str | None) -> DagsterClient | None:
    """A client when the webserver answers now; scaffolding does not wait for a dead one."""
    from daglab._client import DagsterClient

    settings = loaded.config.dagster
    quick = settings.model_copy(
        update={"graphql": settings.graphql.model_copy(update={"max_retries": 0})}
    )
    client = DagsterClient(quick, token=token, launched_by="cli")
    try:
        client.version()
    except ConnectivityError:
        client.close()
        return None
    return client


def _did_you_mean(what: str, name: str, known: list[str], where: str) -> ValidationError:
    return ValidationError(
        f"no {what} {name!r} {where}" + did_you_mean(name, known, cutoff=0.5),
        remediation=f"`daglab discover --filter {what}s` lists them"
        if where.startswith("on")
        else "Check the name, or start the webserver so daglab can ask it.",
    )


def _asset_key(name: str, keys: list[str], where: str) -> str:
    """``name`` as a full key: exact, or a unique last path component."""
    wanted = name.strip("/")
    if wanted in keys:
        return wanted
    by_name = [k for k in keys if k.rsplit("/", 1)[-1] == wanted]
    if len(by_name) == 1:
        return by_name[0]
    if len(by_name) > 1:
        raise ValidationError(
            f"{name!r} names {len(by_name)} assets: {', '.join(by_name)}",
            remediation="Give the full asset key, e.g. --asset " + by_name[0],
        )
    raise _did_you_mean("asset", name, keys, where)


def _resolve_live(
    client: DagsterClient, discovery: Discovery, kind: str, value: str, request: ScaffoldRequest
) -> NotebookTarget:
    from daglab._runs import match_assets

    where = f"on {client.base_url}"
    if kind == "job":
        ref = client.resolve_job(
            value,
            repository=request.repository,
            location=request.location,
            discovery=discovery,
        )
        return NotebookTarget("job", ref.name, ref.name, ref.repository, ref.location)
    assets = [
        a
        for a in discovery.assets
        if request.location in (None, a.location) and request.repository in (None, a.repository)
    ]
    keys = [a.key for a in assets]
    if kind == "asset":
        key = _asset_key(value, keys, where)
        asset = next(a for a in assets if a.key == key)
        return NotebookTarget(
            "asset", key, ASSET_JOB, asset.repository, asset.location, key, attach_to=key
        )
    scoped = type(discovery)(discovery.locations, discovery.jobs, assets, discovery.groups)
    matched = ["/".join(k) for k in match_assets(scoped, value)]
    if not matched:
        raise ValidationError(
            f"the selection {value!r} matches no asset {where}",
            remediation="`daglab discover --filter assets` lists the asset keys.",
        )
    first = next(a for a in assets if a.key == matched[0])
    return NotebookTarget(
        "selection",
        value,
        ASSET_JOB,
        first.repository,
        first.location,
        value,
        attach_to=matched[0],
    )


def _resolve_code(index: CodeIndex, kind: str, value: str, request: ScaffoldRequest) -> Any:
    from daglab._runs import match_keys

    where = "in the project's code"
    location, repository = request.location, request.repository
    if kind == "job":
        if value not in index.jobs:
            raise _did_you_mean("job", value, sorted(index.jobs), where)
        return NotebookTarget("job", value, value, repository, location)
    keys = sorted(index.assets)
    if kind == "asset":
        key = _asset_key(value, keys, where)
        return NotebookTarget("asset", key, ASSET_JOB, repository, location, key, attach_to=key)
    matched = match_keys(keys, value)
    if not matched:
        raise ValidationError(
            f"the selection {value!r} matches no asset {where}",
            remediation="Check the pattern against the asset keys, e.g. orders/*.",
        )
    return NotebookTarget(
        "selection", value, ASSET_JOB, repository, location, value, attach_to=matched[0]
    )


def _is_partitioned(
    client: DagsterClient | None,
    discovery: Discovery | None,
    index: CodeIndex | None,
    target: NotebookTarget,
) -> bool:
    """Whether runs of ``target`` need a partition (a selection: its first asset's)."""
    if client is not None and discovery is not None:
        if target.kind == "job":
            from daglab._partitions._backfill import job_partition

            ref = client.resolve_job(
                target.name,
                repository=target.repository,
                location=target.location,
                discovery=discovery,
            )
            return bool(job_partition(client, ref, "")[0])
        key = target.attach_to or target.name
        return any(a.key == key and a.partitions is not None for a in discovery.assets)
    if index is not None:
        kind = "job" if target.kind == "job" else "asset"
        name = target.name if target.kind == "job" else (target.attach_to or target.name)
        return index.is_partitioned(kind, name)
    return False


def default_filename(target: NotebookTarget) -> Path:
    """``assets/<key path>_explore.py``, ``jobs/<job>_explore.py`` or ``selections/…``."""
    if target.kind == "job":
        return Path("jobs") / f"{slug(target.name)}_explore.py"
    if target.kind == "asset":
        *prefix, name = target.name.split("/")
        return Path("assets", *[slug(p) for p in prefix]) / f"{slug(name)}_explore.py"
    return Path("selections") / f"{slug(target.name)}_explore.py"


def notebook_path(notebooks_dir: Path, target: NotebookTarget, filename: str | None) -> Path:
    """Where the notebook goes; a name that would leave the notebooks folder is refused."""
    if filename is None:
        relative = default_filename(target)
    else:
        relative = Path(filename)
        if relative.is_absolute() or ".." in relative.parts:
            raise ValidationError(
                f"--filename {filename!r} would leave the notebooks folder",
                remediation="Give a name relative to the notebooks folder, e.g. orders_explore.py",
            )
        if relative.suffix != ".py":
            raise ValidationError(
                f"--filename {filename!r} must end in .py (marimo notebooks are Python files)",
                remediation=f"Use --filename {relative.with_suffix('.py').as_posix()}",
            )
    stem = relative.stem
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", stem) or stem.startswith("test_"):
        raise ValidationError(
            f"{relative.name!r} is not a usable notebook name",
            remediation="Use letters, digits and underscores, not starting with test_.",
        )
    path = notebooks_dir / relative
    from daglab._fs import check_name, ensure_inside

    check_name(path, what="--filename")

    ensure_inside(notebooks_dir, path)
    return path


def author_for(root: Path) -> str:
    """Who the notebook names as its author: git's user.name, else the login name."""
    import getpass

    try:
        done = subprocess.run(
            ["git", "config", "user.name"],  # noqa: S607  git from PATH, fixed argv
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        name = done.stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        name = ""
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _module_from_path(loaded: LoadedConfig, module: str) -> str:
    """``--module`` as a dotted module: given dotted, or a file path under an import root."""
    if is_dotted_identifier(module) and not module.endswith(".py"):
        return module
    project = loaded.project
    path = Path(module)
    candidates = [path] if path.is_absolute() else [project.root / path]
    if project.package_dir is not None and not path.is_absolute():
        candidates.append(project.package_dir / path)
    for candidate in candidates:
        if not candidate.is_file():
            continue
        resolved = candidate.resolve()
        for root in project.import_roots():
            try:
                relative = resolved.relative_to(root.resolve()).with_suffix("")
            except ValueError:
                continue
            parts = [p for p in relative.parts if p != "__init__"]
            dotted = ".".join(parts)
            if is_dotted_identifier(dotted):
                return dotted
    raise ValidationError(
        f"--module {module!r}: no such Python file or module in the project",
        remediation="Give a dotted module (my_pkg.defs.assets) or a path such as"
        " src/my_pkg/defs/assets.py.",
    )


def _initial_config(
    client: DagsterClient | None, target: NotebookTarget, request: ScaffoldRequest
) -> str:
    if request.run_config is not None:
        return request.run_config
    if client is None or target.kind != "job" or not target.repository or not target.location:
        return ""
    from daglab._client import JobRef

    ref = JobRef(target.name, target.repository, target.location)
    try:
        text = client.default_config_yaml(ref)
    except DaglabError:  # an older Dagster without rootDefaultYaml: start empty
        return ""
    return "" if text.strip() in ("", "{}") else text


def _validate(
    client: DagsterClient | None,
    target: NotebookTarget,
    config: str,
    discovery: Discovery | None = None,
) -> bool:
    from daglab._client import JobRef
    from daglab._session import parse_config

    if client is None:
        raise ConnectivityError(
            "--validate-config needs the Dagster webserver, which is not answering",
            remediation="Start it with `daglab dev` or `dagster dev`, or drop --validate-config.",
        )
    parsed = parse_config(config)
    # type narrowing: the target came from the server, which names both
    assert target.repository is not None and target.location is not None  # noqa: S101
    ref = JobRef(target.job or ASSET_JOB, target.repository, target.location)
    selection = [tuple(target.name.split("/"))] if target.kind == "asset" else None
    if target.kind == "selection":
        from daglab._runs import match_assets

        selection = match_assets(discovery or client.discover(), target.assets)
    problems = client.validate_config(ref, parsed, selection)
    if problems:
        raise ValidationError(
            f"the run config for {target.name} is invalid:\n"
            + "\n".join(f"  - {p.message}" for p in problems),
            remediation="Pass --run-config FILE with the values the job needs; nothing was"
            " written.",
        )
    return True


def _git_commit(root: Path, path: Path) -> str:
    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603  fixed argv, no shell
            ["git", *args],  # noqa: S607  git from PATH, fixed argv
            cwd=root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    relative = path.resolve().relative_to(root.resolve()).as_posix()
    added = git("add", "--", relative)
    done = git("commit", "-m", f"Add paired notebook {relative} (daglab scaffold)", "--", relative)
    if added.returncode != 0 or done.returncode != 0:
        detail = (added.stderr + done.stderr + done.stdout).strip().splitlines()
        raise EnvironmentMissingError(
            f"the notebook was written to {relative} but git could not commit it: "
            + (detail[-1] if detail else "unknown error"),
            remediation="Commit it yourself, e.g. git commit -- " + relative,
        )
    return git("rev-parse", "HEAD").stdout.strip()


def scaffold_notebook(
    loaded: LoadedConfig, request: ScaffoldRequest, *, token: str | None = None
) -> Scaffolded:
    """Check the target, render the notebook, write it (atomically) and record it."""
    from daglab import _manifest
    from daglab._fs import write_file

    kind, value = _one_target(request)
    project = loaded.project
    if not project.is_dagster_project and not project.daglab_dir.is_dir():
        raise EnvironmentMissingError(
            f"No Dagster or daglab project found at or above {project.root}",
            remediation="Run `daglab init` in your Dagster project (or `daglab init --bootstrap"
            " <folder>` for a new one), then scaffold from inside it.",
        )
    defaults = loaded.config.defaults
    template = request.template or defaults.notebook_template
    git_commit = defaults.git_commit if request.git_commit is None else request.git_commit
    if template not in TEMPLATES:
        raise ValidationError(
            f"unknown template {template!r}", remediation=f"Choose one of {', '.join(TEMPLATES)}."
        )
    if git_commit and project.git_root is None:
        raise EnvironmentMissingError(
            f"--git-commit: {project.root} is not in a git repository",
            remediation="Run `git init`, or drop --git-commit.",
        )
    module = _module_from_path(loaded, request.module) if request.module else None
    client = _live_client(loaded, token)
    notes: list[str] = []
    try:
        needs_import = request.inprocess and template != "minimal" and kind != "selection"
        if request.inprocess and kind == "selection" and template != "minimal":
            notes.append(
                "in-process runs take one asset or job, so a selection's notebook has no"
                " in-process cell; scaffold --asset for that"
            )
        index: CodeIndex | None = None
        discovery = None
        if client is not None:
            discovery = client.discover()
            target = _resolve_live(client, discovery, kind, value, request)
            checked = "server"
        else:
            index = locate_definitions(project, module)
            target = _resolve_code(index, kind, value, request)
            checked = "code"
            notes.append("the webserver is not answering; the target was checked in the code")
        import_module = import_name = None
        if needs_import:
            index = index or locate_definitions(project, module)
            import_module, import_name = index.import_for(target, module)
        partitioned = _is_partitioned(client, discovery, index, target)
        # The in-process cell runs the target from the project's Definitions (every location,
        # its resources and upstream assets); only a --module the user gave replaces them.
        target = replace(target, module=module)
        config = _initial_config(client, target, request)
        config_valid = None
        if request.validate_config:
            config_valid = _validate(client, target, config, discovery)
        elif request.validate_config is None and defaults.validate_config and client is not None:
            try:
                config_valid = _validate(client, target, config, discovery)
            except ValidationError as exc:
                config_valid = False
                notes.append(f"{exc} (the notebook's indicator shows this until it is fixed)")
    finally:
        if client is not None:
            client.close()

    path = notebook_path(loaded.notebooks_dir, target, request.filename)
    if path.exists() and not request.force:
        raise ConflictError(
            f"{project.relative(path)} already exists",
            remediation="Pass --force to overwrite it, or --filename to write another file.",
        )
    today = date.today().isoformat()
    spec = NotebookSpec(
        target=target,
        notebook_file=path.name,
        title=request.title or f"Explore {target.name}",
        author=author_for(project.root),
        created=today,
        template=template,
        inprocess=needs_import,
        attach=request.attach,
        seed_data=defaults.seed_data if request.seed_data is None else request.seed_data,
        initial_config=config,
        import_module=import_module,
        import_name=import_name,
        template_vars=dict(request.template_vars),
        dagster_url=None,
        metadata_key=defaults.attach_metadata_key,
        retention_days=loaded.config.export.retention_days,
        partitioned=partitioned,
    )
    if request.attach and target.kind == "job":
        notes.append("a job has no asset page: its notebook exports HTML without attaching it")
    text = render_notebook(spec)
    written = write_file(project.root, path, text, force=request.force)
    _manifest.record(project.root, [written], generator="scaffold", kind="notebook")
    _manifest.remember_last_notebook(project.root, path)
    result = Scaffolded(
        path,
        written.action,
        target,
        checked,
        f"from {import_module} import {import_name}" if import_module else None,
        config_valid,
        notes=notes,
    )
    if git_commit:
        assert project.git_root is not None  # noqa: S101  type narrowing, an invariant
        result.commit = _git_commit(project.git_root, path)
    return result
