"""Attaching an export to assets in Dagster: one observation per asset (or partition).

The observation is recorded through the webserver's ``/report_asset_observation/`` endpoint
(GraphQL's runless-event mutation takes no metadata), which turns every value into text - unless
the webserver's instance is also this process's ``DAGSTER_HOME``: then it is recorded there,
once, with typed ``MetadataValue.path`` / ``MetadataValue.url`` entries, which the UI shows as a
path and a link. "The same instance" is proven, not assumed, and without writing anything: the
local instance must hold one of the runs the webserver lists as its latest (run ids are random,
so a ``DAGSTER_HOME`` pointing anywhere else cannot hold them, whatever its configuration looks
like). A webserver with no run yet proves nothing: the text entries are recorded then.
Opening the local instance is quiet: Dagster's messages go to daglab's log file.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._errors import (
    ConnectivityError,
    DaglabError,
    EnvironmentMissingError,
    ValidationError,
)
from daglab._logging import get_logger

if TYPE_CHECKING:
    from daglab._client import DagsterClient
    from daglab._session import Connection
    from daglab._upload import Uploaded

from daglab._export.metadata import export_metadata, generate_compute_helper, typed_metadata
from daglab._export.targets import AttachTarget, _as_target, resolve_targets

#: How many of the webserver's latest runs the local instance is checked for.
_PROOF_RUNS = 5

log = get_logger("export")


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

            from daglab._inprocess._quiet import dagster_quiet

            with dagster_quiet():
                self.instance = DagsterInstance.get()
        except Exception as exc:  # any failure only means: no typed entries
            self.problem = f"cannot open the instance in DAGSTER_HOME={home}: {exc}"

    def prove(self, client: DagsterClient) -> None:
        """Keep the instance only if it holds one of the webserver's latest runs."""
        if self.instance is None:
            return
        home = os.environ.get("DAGSTER_HOME")
        try:
            runs = client.runs(limit=_PROOF_RUNS)
            held = any(self.instance.has_run(run.run_id) for run in runs)
        except Exception as exc:  # no proof: the text entries, through the webserver
            runs, held = [], False
            self.problem = f"cannot compare DAGSTER_HOME={home} with the webserver's: {exc}"
        else:
            if not runs:
                self.problem = (
                    f"the webserver has no run yet to prove DAGSTER_HOME={home} is its instance"
                )
            elif not held:
                self.problem = (
                    f"DAGSTER_HOME={home} is not the webserver's instance (it holds none of the"
                    " webserver's latest runs)"
                )
        if not held:
            self.close()
            self.instance = None

    def record(self, target: AttachTarget, metadata: Mapping[str, Any], description: str) -> None:
        from dagster import AssetKey, AssetObservation

        from daglab._inprocess._quiet import dagster_quiet

        with dagster_quiet():
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
            from daglab._inprocess._quiet import dagster_quiet

            with dagster_quiet():
                self.instance.dispose()


@contextmanager
def _local_instance(enabled: bool, client: DagsterClient) -> Iterator[_LocalInstance | None]:
    local = _LocalInstance() if enabled else None
    if local is not None:
        local.prove(client)
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
    typed, note = False, local.problem if local is not None else None
    if local is not None and local.instance is not None:
        try:
            local.record(target, entries, description)
            typed = True
        except Exception as exc:  # the text entries, through the webserver, instead
            log.warning("typed metadata not recorded on the local instance: %s", exc)
            note = f"recording typed entries failed: {exc}"
    if not typed:
        _report(client, target, entries, metadata, description)
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


def _report(
    client: DagsterClient,
    target: AttachTarget,
    entries: Mapping[str, Any],
    metadata: Mapping[str, Any],
    description: str,
) -> None:
    """The observation, as text entries, through the webserver's REST endpoint."""
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


def attach_targets(
    client: DagsterClient,
    targets: Sequence[AttachTarget],
    metadata: Mapping[str, Any],
    *,
    metadata_key: str = "exploration",
    description: str | None = None,
    typed: bool = True,
    start: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Attached]:
    """Record one observation carrying ``metadata`` on each of ``targets`` (already checked);
    ``on_progress(done, total)`` after each."""
    text = description or "Notebook export recorded by daglab"
    attached: list[Attached] = []
    with _local_instance(typed and bool(targets), client) as local:
        for target in targets:
            attached.append(
                _attach_one(
                    client,
                    target,
                    metadata,
                    metadata_key=metadata_key,
                    description=text,
                    local=local,
                    start=start,
                )
            )
            if on_progress is not None:
                on_progress(len(attached), len(targets))
    return attached


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
