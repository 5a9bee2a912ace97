"""``daglab export`` as one call: check the targets, export, upload, then attach."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._errors import (
    UsageError,
)

if TYPE_CHECKING:
    from daglab._client import DagsterClient
    from daglab._upload import Destination, Progress

from daglab._export.attach import Attached, attach_targets
from daglab._export.html import EXPORT_TIMEOUT, Exported, Stage, _preflight, export_html
from daglab._export.metadata import export_metadata
from daglab._export.targets import AttachTarget, Chooser, parse_attach, resolve_targets


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
    force: bool = False,
    partition: str | None = None,
    all_partitions: bool = False,
    choose: Chooser | None = None,
) -> ExportReport:
    """``daglab export``: check the targets, export, upload, then attach.

    Everything that can be checked first is (the ``--attach`` syntax, the upload URL, the asset
    or job on the webserver, the partition of a partitioned asset), so a bad target exports and
    attaches nothing. A partitioned asset is attached to ``partition``, to every partition
    (``all_partitions``), or to what ``choose`` answers; without any of them it is refused.
    """
    if attach is not None and job is not None:
        raise UsageError("give --attach or --job, not both")
    target = parse_attach(attach) if isinstance(attach, str) else attach
    destination = _preflight(Path(notebook), upload)
    targets: list[AttachTarget] = []
    if (partition is not None or all_partitions) and target is None and job is None:
        raise UsageError(
            "--partition and --all-partitions choose the partition to attach to",
            remediation="Give --attach asset://KEY or --job NAME with them.",
        )
    if target is not None or job is not None:
        if client is None:
            raise UsageError("attaching needs a Dagster client")
        if on_stage is not None:
            on_stage(f"checking the target on {client.base_url}")
        # the sandbox refuses the observation: say so before anything is written
        client.check_allowed("report_observation")
        targets = resolve_targets(
            client,
            attach=target,
            job=job,
            partition=partition,
            all_partitions=all_partitions,
            choose=choose,
        )
    exported = export_html(
        notebook,
        output,
        compress=compress,
        retention_days=retention_days,
        timeout=timeout,
        upload=destination,
        on_stage=on_stage,
        on_upload=on_upload,
        force=force,
    )
    if not targets:
        return ExportReport(exported)
    assert client is not None  # noqa: S101  type narrowing, an invariant
    if on_stage is not None:
        assets = len({t.path for t in targets})
        on_stage(
            f"attaching to {assets} asset(s)"
            + (f", {len(targets)} partitions" if len(targets) > assets else "")
        )
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
        on_progress=_progress(on_stage) if len(targets) > 1 else None,
    )
    return ExportReport(exported, attached)


def _progress(on_stage: Stage | None) -> Callable[[int, int], None] | None:
    if on_stage is None:
        return None
    stage = on_stage

    def done(count: int, total: int) -> None:
        stage(f"attached {count:,} of {total:,}")

    return done
