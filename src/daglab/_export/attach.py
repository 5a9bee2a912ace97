"""Attaching an export to assets in Dagster.

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

import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
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
