"""Exporting a notebook as HTML, uploading it, and attaching it to assets in Dagster.

The export is marimo's own (``marimo export html``, which runs the notebook and fails when a
cell fails), written to a temporary file first so a failed export leaves nothing behind.

Attaching records an asset observation through the webserver's ``/report_asset_observation/``
endpoint (GraphQL's runless-event mutation takes no metadata). That endpoint turns every value
into text, so when the webserver's instance is also reachable from this process, the same
metadata is recorded a second time in-process with typed ``MetadataValue.path`` /
``MetadataValue.url`` entries, which the UI shows as a path and a link. "The same instance" is
proven, not assumed: each attachment carries a fresh export id, and the in-process observation
is written only when the local instance (``DAGSTER_HOME``) already holds the observation the
webserver just recorded with that id. A ``DAGSTER_HOME`` pointing anywhere else cannot contain
it, whatever its configuration looks like.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._clean import EXPORT_SUFFIXES
from daglab._errors import (
    ConnectivityError,
    DaglabError,
    EnvironmentMissingError,
    UsageError,
    ValidationError,
    did_you_mean,
)
from daglab._logging import get_logger
from daglab._upload import iso_utc

if TYPE_CHECKING:
    from daglab._client import DagsterClient
    from daglab._session import Connection
    from daglab._upload import Destination, Progress, Uploaded

EXPORT_TIMEOUT = 600.0
ASSET_SCHEME = "asset://"
log = get_logger("export")

Stage = Callable[[str], None]


# -- export -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exported:
    path: Path
    size: int
    seconds: float
    removed: tuple[Path, ...] = ()
    uploaded: Uploaded | None = None
    notebook: Path | None = None
    exported_at: float = field(default_factory=time.time)

    @property
    def compressed(self) -> bool:
        return self.path.name.endswith(".gz")

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path.resolve()),
            "notebook": str(self.notebook) if self.notebook is not None else None,
            "size": self.size,
            "compressed": self.compressed,
            "seconds": round(self.seconds, 3),
            "exported_at": iso_utc(self.exported_at),
            "removed": [str(p) for p in self.removed],
            "uploaded": self.uploaded.to_dict() if self.uploaded is not None else None,
        }


def export_target(notebook: Path, output: Path | None, compress: bool) -> Path:
    """Where the export of ``notebook`` goes: beside it, or ``output``.

    ``output`` is a file when it ends in ``.html`` (or ``.htm``, ``.gz``), otherwise a folder.
    """
    if output is None:
        target = notebook.with_suffix(".html")
    elif output.is_dir() or not output.name.endswith((".html", ".htm", ".gz")):
        target = output / f"{notebook.stem}.html"  # a folder, made if need be
    else:
        target = output
    if compress and not target.name.endswith(".gz"):
        target = target.with_name(target.name + ".gz")
    return target


def _failure_summary(output: str) -> str:
    """What marimo said went wrong: the cell's error, not marimo's own traceback."""
    lines = [
        line
        for line in output.strip().splitlines()
        if not line.startswith("Error: Export was successful")
    ]
    if "Traceback (most recent call last):" in lines:
        return next((line for line in reversed(lines) if line.strip()), "")
    return "\n".join(lines[-15:]).strip()


def export_html(
    notebook: Path,
    output: Path | None = None,
    *,
    compress: bool = False,
    retention_days: float | None = None,
    timeout: float = EXPORT_TIMEOUT,
    upload: str | Destination | None = None,
    on_stage: Stage | None = None,
    on_upload: Progress | None = None,
) -> Exported:
    """Run ``notebook`` with marimo and write its HTML (``.html.gz`` with ``compress``).

    The default output is ``<notebook stem>.html`` beside the notebook; ``output`` may be a file
    or a folder. With ``retention_days``, this notebook's other exports in the output's folder
    older than that are removed afterwards (see :func:`apply_retention`). With ``upload``
    (``s3://bucket/prefix``, ``gs://…``, ``az://…``) the file is uploaded as well and a signed
    URL made for it. A cell that raises fails the export (exit 7) and writes nothing.
    """
    from daglab._compat import require
    from daglab._compat.versions import install_hint
    from daglab._fs import atomic_write

    require("marimo", needed_for="exporting a notebook")
    notebook = Path(notebook)
    destination = _preflight(notebook, upload)
    target = export_target(notebook, Path(output) if output is not None else None, compress)
    started = time.perf_counter()
    if on_stage is not None:
        on_stage(f"running {notebook.name} with marimo")
    # marimo writes its HTML even when a cell failed: into a scratch folder, never the target's.
    scratch_dir = tempfile.TemporaryDirectory(prefix="daglab-export-")
    scratch = Path(scratch_dir.name) / f"{notebook.stem}.html"
    command = [sys.executable, "-m", "marimo", "export", "html", str(notebook.resolve())]
    command += ["-o", str(scratch)]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=notebook.parent,
            check=False,
        )
        if done.returncode != 0 or not scratch.is_file():
            summary = _failure_summary(done.stderr or done.stdout)
            raise ValidationError(
                f"marimo could not export {notebook.name}: a cell failed or the notebook is"
                f" invalid: {summary}",
                remediation=f"Run `marimo edit {notebook}` and fix the failing cell;"
                " nothing was written.",
            )
        data = scratch.read_bytes()
    except FileNotFoundError as exc:
        raise EnvironmentMissingError(
            "marimo is not installed", remediation=install_hint("marimo") + "."
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise ValidationError(
            f"exporting {notebook.name} took longer than {timeout:g} s",
            remediation="Check for a cell that waits forever when run as a script.",
        ) from exc
    finally:
        scratch_dir.cleanup()
    if compress:
        data = gzip.compress(data, mtime=0)
    atomic_write(target, data)
    exported_at = time.time()
    removed = (
        apply_retention(notebook, target.parent, retention_days, keep=[target])
        if retention_days is not None
        else []
    )
    exported = Exported(
        target,
        len(data),
        time.perf_counter() - started,
        tuple(removed),
        notebook=notebook.resolve(),
        exported_at=exported_at,
    )
    if destination is not None:
        from daglab._upload import upload as upload_file

        if on_stage is not None:
            on_stage(f"uploading {target.name} to {destination.url}")
        try:
            uploaded = upload_file(target, destination, on_progress=on_upload)
        except DaglabError as exc:
            _record_export(exported, upload_error=exc.message)
            raise
        exported = replace(exported, uploaded=uploaded, seconds=time.perf_counter() - started)
    _record_export(exported)
    return exported


def _preflight(notebook: Path, upload: str | Destination | None) -> Destination | None:
    """What can fail before marimo runs: the notebook is there, the upload URL and its package."""
    if not notebook.is_file():
        raise ValidationError(
            f"{notebook}: no such notebook", remediation="Give the path of a marimo notebook."
        )
    if upload is None:
        return None
    from daglab._upload import check_available, parse_destination

    destination = parse_destination(upload) if isinstance(upload, str) else upload
    check_available(destination)
    return destination


def _record_export(exported: Exported, *, upload_error: str | None = None) -> None:
    from daglab import _history

    data: dict[str, Any] = {
        "notebook": str(exported.notebook),
        "path": str(exported.path.resolve()),
        "bytes": exported.size,
        "compressed": exported.compressed,
        "duration_s": round(exported.seconds, 3),
        "removed": len(exported.removed),
    }
    if exported.uploaded is not None:
        data["uploaded"] = exported.uploaded.url
    if upload_error is not None:
        data["upload_error"] = upload_error
    start = exported.notebook.parent if exported.notebook is not None else None
    _history.record("export", data, start=start)


def _export_base(name: str) -> str | None:
    for suffix in EXPORT_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return None


def apply_retention(
    notebook: Path, folder: Path, days: float, *, keep: Iterable[Path] = ()
) -> list[Path]:
    """Remove this notebook's exports in ``folder`` older than ``days``; return them.

    A notebook ``nb.py``'s exports are ``nb.html``, ``nb.html.gz`` and dated copies such as
    ``nb-2024-01-05.html``; a file that belongs to another notebook (``nb-v2.html`` when
    ``nb-v2.py`` sits beside ``nb.py``) is never touched, nor are links and folders.
    """
    cutoff = time.time() - days * 86400
    kept = {Path(p).resolve() for p in keep}
    base = notebook.stem
    removed = []
    for candidate in sorted(folder.glob(f"{base}*.html*")):
        owner = _export_base(candidate.name)
        if owner is None or candidate.is_symlink() or not candidate.is_file():
            continue
        if owner != base and not (
            owner.startswith((f"{base}-", f"{base}."))
            and not (notebook.parent / f"{owner}.py").exists()
        ):
            continue
        if candidate.resolve() in kept or candidate.stat().st_mtime >= cutoff:
            continue
        candidate.unlink()
        removed.append(candidate)
    return removed


def git_commit(path: Path) -> str | None:
    """The commit checked out where ``path`` lives, if it is in a git work tree."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=path.parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


# -- targets ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttachTarget:
    """An asset (and optionally one of its partitions) to attach an export to."""

    path: tuple[str, ...]
    partition: str | None = None

    @property
    def key(self) -> str:
        return "/".join(self.path)

    def __str__(self) -> str:
        return ASSET_SCHEME + self.key + (f":{self.partition}" if self.partition else "")


def parse_attach(text: str) -> AttachTarget:
    """``asset://orders/daily_orders:2024-01-05`` -> AttachTarget; bad syntax exits 2.

    The partition is everything after the first ``:`` (partition keys may hold colons; asset
    key parts cannot).
    """
    remedy = "Write --attach asset://KEY[:PARTITION], e.g. asset://orders/daily_orders:2024-01-05."
    if not text.startswith(ASSET_SCHEME):
        raise UsageError(
            f"--attach {text!r} does not start with {ASSET_SCHEME}", remediation=remedy
        )
    rest = text[len(ASSET_SCHEME) :]
    key, colon, partition = rest.partition(":")
    parts = key.split("/")
    if not key or any(not part.strip() or part != part.strip() for part in parts):
        raise UsageError(
            f"--attach {text!r}: the asset key is empty or malformed", remediation=remedy
        )
    if colon and not partition.strip():
        raise UsageError(f"--attach {text!r}: the partition after ':' is empty", remediation=remedy)
    return AttachTarget(tuple(parts), partition if colon else None)


def _as_target(asset: str | Sequence[str] | AttachTarget, partition: str | None) -> AttachTarget:
    if isinstance(asset, AttachTarget):
        target = asset
    elif isinstance(asset, str) and asset.startswith(ASSET_SCHEME):
        target = parse_attach(asset)
    elif isinstance(asset, str):
        target = AttachTarget(tuple(asset.strip("/").split("/")))
    else:
        target = AttachTarget(tuple(asset))
    if partition is not None:
        target = replace(target, partition=partition)
    return target


def _check_partition(client: DagsterClient, attach: AttachTarget) -> None:
    """The webserver records an observation on any partition string; a typo must not."""
    keys = client.partition_keys(attach.path)
    if attach.partition in keys:
        return
    if not keys:
        known = "It has no partition keys yet (a sensor or a run adds dynamic partitions)"
    elif len(keys) <= 5:
        known = f"Its partition keys: {', '.join(keys)}"
    else:
        known = f"Its {len(keys)} partition keys run from {keys[0]} to {keys[-1]}"
    raise ValidationError(
        f"asset {attach.key!r} has no partition {attach.partition!r}"
        + did_you_mean(str(attach.partition), keys),
        remediation=f"{known}; nothing was exported or attached.",
    )


def resolve_targets(
    client: DagsterClient,
    *,
    attach: AttachTarget | None = None,
    job: str | None = None,
) -> list[AttachTarget]:
    """The assets an export attaches to, each checked against the webserver.

    ``attach`` is one asset (its partition, if any, must be one of the asset's). ``job`` means
    every asset the job materializes; a job of ops only has no asset, and Dagster keeps no
    metadata on a job itself, so that is an error (exit 7) that says what to do instead.
    """
    discovery = client.discover()
    by_key = {asset.path: asset for asset in discovery.assets}
    if attach is not None:
        asset = by_key.get(attach.path)
        if asset is None:
            raise ValidationError(
                f"no asset {attach.key!r} on {client.base_url}"
                + did_you_mean(attach.key, (a.key for a in discovery.assets)),
                remediation="`daglab discover --filter assets` lists the asset keys;"
                " nothing was exported or attached.",
            )
        if attach.partition is not None and not asset.partitioned:
            raise ValidationError(
                f"asset {attach.key!r} is not partitioned, so it has no partition"
                f" {attach.partition!r}",
                remediation=f"Drop the partition: --attach asset://{attach.key}",
            )
        if attach.partition is not None:
            _check_partition(client, attach)
        return [attach]
    if job is None:
        return []
    jobs = {j.name for j in discovery.jobs}
    if job not in jobs:
        raise ValidationError(
            f"no job named {job!r} on {client.base_url}" + did_you_mean(job, jobs),
            remediation="`daglab discover --filter jobs` lists every job.",
        )
    assets = sorted(asset.path for asset in discovery.assets if job in asset.jobs)
    if not assets:
        raise ValidationError(
            f"job {job!r} materializes no assets, and Dagster has no place for metadata on a"
            " job: it keeps metadata on assets (observations) and on a run's outputs while the"
            " run executes, and a finished run's tags cannot be changed through its API",
            remediation="Attach to an asset with --attach asset://KEY, or record the export"
            " from an op with context.add_output_metadata({...}) in the job's next run.",
        )
    return [AttachTarget(path) for path in assets]


# -- metadata -----------------------------------------------------------------------------------


def export_metadata(
    metadata_key: str,
    *,
    html: Path | None = None,
    notebook: Path | None = None,
    uploaded: Uploaded | None = None,
    exported_at: float | None = None,
) -> dict[str, Any]:
    """The entries an export attaches: ``<key>`` is the HTML, the rest sit beside it."""
    entries: dict[str, Any] = {}
    if html is not None:
        entries[metadata_key] = str(Path(html).resolve())
        entries[f"{metadata_key}_exported_at"] = iso_utc(exported_at or time.time())
    if uploaded is not None:
        entries[f"{metadata_key}_url"] = uploaded.url
        if uploaded.signed_url is not None:
            entries[f"{metadata_key}_signed_url"] = uploaded.signed_url
        if uploaded.expires_at is not None:
            entries[f"{metadata_key}_signed_url_expires_at"] = iso_utc(uploaded.expires_at)
    if notebook is not None:
        resolved = Path(notebook).resolve()
        entries[f"{metadata_key}_notebook"] = str(resolved)
        commit = git_commit(resolved)
        if commit:
            entries[f"{metadata_key}_git_commit"] = commit
    return entries


def _kind(value: Any) -> str:
    """How a value is shown typed: ``url`` for links, ``path`` for absolute local paths."""
    if isinstance(value, str):
        scheme, sep, _ = value.partition("://")
        if sep and len(scheme) > 1 and scheme[0].isalpha() and scheme.isalnum():
            return "url"
        if "\n" not in value and Path(value).is_absolute():
            return "path"
    return "raw"


def typed_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """``metadata`` with links as ``MetadataValue.url`` and local paths as ``.path`` (Dagster)."""
    from dagster import MetadataValue

    typed: dict[str, Any] = {}
    for name, value in metadata.items():
        kind = _kind(value)
        typed[name] = (
            MetadataValue.url(value)
            if kind == "url"
            else MetadataValue.path(value)
            if kind == "path"
            else value
        )
    return typed


def generate_compute_helper(
    asset_key: str | Sequence[str], metadata: Mapping[str, Any], *, partition: str | None = None
) -> str:
    """Python that attaches ``metadata`` from inside the asset's own computation.

    For webservers without the observation endpoint: the next materialization carries the
    metadata (``context.add_output_metadata`` or ``MaterializeResult(metadata=...)``).
    """
    path = asset_key.strip("/").split("/") if isinstance(asset_key, str) else list(asset_key)
    lines = ["import dagster as dg", "", "NOTEBOOK_EXPORT = {"]
    for name, value in metadata.items():
        kind = _kind(value)
        shown = f"dg.MetadataValue.{kind}({value!r})" if kind != "raw" else repr(value)
        lines.append(f"    {name!r}: {shown},")
    lines.append("}")
    key = "/".join(path)
    where = f" (partition {partition!r})" if partition else ""
    lines += [
        "",
        f"# In the body of the asset {key}{where}, for example",
        f"# @dg.asset(key=dg.AssetKey({path!r}))",
        "# def my_asset(context: dg.AssetExecutionContext):",
        "#     ...",
        "context.add_output_metadata(NOTEBOOK_EXPORT)",
        "# or, when the asset returns a MaterializeResult:",
        "# return dg.MaterializeResult(metadata=NOTEBOOK_EXPORT)",
    ]
    return "\n".join(lines)


# -- attach -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attached:
    asset: str
    partition: str | None
    metadata: dict[str, Any]
    #: Whether the typed (path/url) copy was recorded on the local instance as well.
    typed: bool = False
    #: Why it was not, when it was not.
    typed_note: str | None = None
    export_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "asset": self.asset,
            "partition": self.partition,
            "metadata": self.metadata,
            "typed": self.typed,
            "typed_note": self.typed_note,
            "export_id": self.export_id,
        }


class _LocalInstance:
    """The Dagster instance of ``DAGSTER_HOME``, opened once, if it is the webserver's."""

    def __init__(self) -> None:
        self.instance: Any = None
        self.problem: str | None = None
        home = os.environ.get("DAGSTER_HOME")
        if not home:
            self.problem = "DAGSTER_HOME is not set, so no local instance to record typed entries"
            return
        try:
            from dagster import DagsterInstance

            self.instance = DagsterInstance.get()
        except Exception as exc:  # any failure only means: no typed copy
            self.problem = f"cannot open the instance in DAGSTER_HOME={home}: {exc}"

    def holds(self, target: AttachTarget, id_key: str, export_id: str) -> bool:
        """Whether the local instance holds the observation the webserver just recorded."""
        from dagster import AssetKey

        records = self.instance.fetch_observations(AssetKey(list(target.path)), limit=20).records
        for record in records:
            observation = record.asset_observation
            value = observation.metadata.get(id_key) if observation is not None else None
            if getattr(value, "value", value) == export_id:
                return True
        return False

    def record(self, target: AttachTarget, metadata: Mapping[str, Any], description: str) -> None:
        from dagster import AssetKey, AssetObservation

        self.instance.report_runless_asset_event(
            AssetObservation(
                asset_key=AssetKey(list(target.path)),
                partition=target.partition,
                metadata=typed_metadata(metadata),
                description=description,
            )
        )

    def close(self) -> None:
        if self.instance is not None:
            self.instance.dispose()


@contextmanager
def _local_instance(enabled: bool) -> Iterator[_LocalInstance | None]:
    local = _LocalInstance() if enabled else None
    try:
        yield local
    finally:
        if local is not None:
            local.close()


def _endpoint_missing(exc: DaglabError) -> bool:
    """The REST endpoint is not there (old Dagster, or a proxy): an answer, but not its own."""
    status = exc.details.get("http_status")
    if not isinstance(status, int) or status >= 500:
        return False
    return isinstance(exc, ConnectivityError) or status in (404, 405)


def _attach_one(
    client: DagsterClient,
    target: AttachTarget,
    metadata: Mapping[str, Any],
    *,
    metadata_key: str,
    description: str,
    local: _LocalInstance | None,
    start: Path | None,
) -> Attached:
    export_id = uuid.uuid4().hex
    id_key = f"{metadata_key}_export_id"
    entries = {**metadata, id_key: export_id}
    try:
        client.report_observation(
            target.path, entries, partition=target.partition, description=description
        )
    except (ConnectivityError, ValidationError) as exc:
        if not _endpoint_missing(exc):
            raise
        code = generate_compute_helper(target.path, metadata, partition=target.partition)
        raise EnvironmentMissingError(
            f"{client.base_url} has no /report_asset_observation/ endpoint"
            f" (HTTP {exc.details.get('http_status')}): Dagster older than 1.5, or a proxy that"
            f" does not pass it on; nothing was attached to {target.key}",
            remediation="Upgrade Dagster, or attach the export from inside the asset:\n" + code,
            compute_helper=code,
        ) from exc
    typed, note = False, None
    if local is not None:
        typed, note = _record_typed(local, target, entries, id_key, export_id, description)
    attached = Attached(target.key, target.partition, entries, typed, note, export_id)
    from daglab import _history

    _history.record(
        "attach",
        {
            "asset": target.key,
            "partition": target.partition,
            "metadata_key": metadata_key,
            "html": metadata.get(metadata_key),
            "url": metadata.get(f"{metadata_key}_url"),
            "typed": typed,
            "export_id": export_id,
        },
        start=start,
    )
    return attached


def _record_typed(
    local: _LocalInstance,
    target: AttachTarget,
    entries: Mapping[str, Any],
    id_key: str,
    export_id: str,
    description: str,
) -> tuple[bool, str | None]:
    if local.instance is None:
        return False, local.problem
    try:
        if not local.holds(target, id_key, export_id):
            home = os.environ.get("DAGSTER_HOME")
            return False, (
                f"DAGSTER_HOME={home} is not the webserver's instance (it does not hold the"
                " observation the webserver just recorded)"
            )
        local.record(target, entries, description)
    except Exception as exc:  # the text entries are recorded; typed ones are a bonus
        log.warning("typed metadata not recorded on the local instance: %s", exc)
        return False, f"recording typed entries failed: {exc}"
    return True, None


def attach_targets(
    client: DagsterClient,
    targets: Sequence[AttachTarget],
    metadata: Mapping[str, Any],
    *,
    metadata_key: str = "exploration",
    description: str | None = None,
    typed: bool = True,
    start: Path | None = None,
) -> list[Attached]:
    """Record one observation carrying ``metadata`` on each of ``targets`` (already checked)."""
    text = description or "Notebook export recorded by daglab"
    with _local_instance(typed and bool(targets)) as local:
        return [
            _attach_one(
                client,
                target,
                metadata,
                metadata_key=metadata_key,
                description=text,
                local=local,
                start=start,
            )
            for target in targets
        ]


def attach_metadata(
    asset: str | tuple[str, ...] | AttachTarget,
    metadata: Mapping[str, Any] | None = None,
    *,
    notebook: Path | None = None,
    html: Path | None = None,
    metadata_key: str = "exploration",
    partition: str | None = None,
    conn: Connection | None = None,
    uploaded: Uploaded | None = None,
    typed: bool = True,
) -> Attached:
    """Record an observation on ``asset`` carrying ``metadata`` (and the export, if given).

    ``asset`` is a key (``orders/daily``), a key path, or ``asset://KEY[:PARTITION]``. With
    ``html``, the entry ``metadata_key`` points at the exported file, with the notebook's
    path, git commit and the export time beside it (and, with ``uploaded``, its URLs). The asset
    must exist on the webserver. Where the webserver's instance is this process's
    ``DAGSTER_HOME`` too, the paths and links are also recorded as typed entries.
    """
    from daglab._session import connect

    target = _as_target(asset, partition)
    entries: dict[str, Any] = dict(metadata or {})
    entries.update(export_metadata(metadata_key, html=html, notebook=notebook, uploaded=uploaded))
    connection = conn if conn is not None else connect()
    client = connection.require()
    (checked,) = resolve_targets(client, attach=target)
    start = Path(notebook).resolve().parent if notebook is not None else None
    (attached,) = attach_targets(
        client, [checked], entries, metadata_key=metadata_key, typed=typed, start=start
    )
    return attached


# -- the whole command --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportReport:
    exported: Exported
    attached: list[Attached] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "export": self.exported.to_dict(),
            "attached": [a.to_dict() for a in self.attached],
        }


def export_notebook(
    notebook: Path,
    *,
    output: Path | None = None,
    compress: bool = False,
    retention_days: float | None = None,
    upload: str | Destination | None = None,
    attach: str | AttachTarget | None = None,
    job: str | None = None,
    metadata_key: str = "exploration",
    client: DagsterClient | None = None,
    timeout: float = EXPORT_TIMEOUT,
    on_stage: Stage | None = None,
    on_upload: Progress | None = None,
) -> ExportReport:
    """``daglab export``: check the targets, export, upload, then attach.

    Everything that can be checked first is (the ``--attach`` syntax, the upload URL, the asset
    or job on the webserver), so a bad target exports and attaches nothing.
    """
    if attach is not None and job is not None:
        raise UsageError("give --attach or --job, not both")
    target = parse_attach(attach) if isinstance(attach, str) else attach
    destination = _preflight(Path(notebook), upload)
    targets: list[AttachTarget] = []
    if target is not None or job is not None:
        if client is None:
            raise UsageError("attaching needs a Dagster client")
        if on_stage is not None:
            on_stage(f"checking the target on {client.base_url}")
        targets = resolve_targets(client, attach=target, job=job)
    exported = export_html(
        notebook,
        output,
        compress=compress,
        retention_days=retention_days,
        timeout=timeout,
        upload=destination,
        on_stage=on_stage,
        on_upload=on_upload,
    )
    if not targets:
        return ExportReport(exported)
    assert client is not None
    if on_stage is not None:
        on_stage(f"attaching to {len(targets)} asset(s)")
    entries = export_metadata(
        metadata_key,
        html=exported.path,
        notebook=Path(notebook),
        uploaded=exported.uploaded,
        exported_at=exported.exported_at,
    )
    attached = attach_targets(
        client,
        targets,
        entries,
        metadata_key=metadata_key,
        description=f"Notebook {Path(notebook).name} exported by daglab",
        start=Path(notebook).resolve().parent,
    )
    return ExportReport(exported, attached)
