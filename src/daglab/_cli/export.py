"""``daglab export``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from daglab._cli._context import CliState
from daglab._cli._endpoint import AuthToken, DagsterPort, DagsterUrl

if TYPE_CHECKING:
    from daglab import _export
    from daglab._partitions import AssetPartitions
    from daglab._partitions._backfill import PartitionChoice

EXAMPLES = """[bold]Examples[/]

  daglab export notebooks/explore.py                     HTML beside it (gzipped by default)

  daglab export nb.py --no-compress --retention-days 7   plain HTML; older exports go

  daglab export nb.py --attach asset://orders/daily_orders:2024-01-05

  daglab export nb.py --job quick_asset_job --metadata-key analysis

  daglab export nb.py --job daily_sales_job --partition 2024-01-05

  daglab export nb.py --attach asset://shop/by_region --partition date=2024-01-05,region=eu

  daglab export nb.py --attach asset://shop/weekly_sales --all-partitions

  daglab export nb.py --attach asset://orders/raw_orders --upload s3://my-bucket/exports --json

[bold]Attaching[/] records one asset observation whose metadata entry KEY (--metadata-key)
holds the HTML's path, with KEY_notebook, KEY_git_commit, KEY_exported_at and, after an
upload, KEY_url and KEY_signed_url (valid 7 days). It goes through the webserver, as text;
where DAGSTER_HOME is the webserver's own instance (checked: it must hold the webserver's
latest runs), it is recorded there instead, with typed path/url entries the UI shows as links.
Dagster's own instance messages go to daglab's log file (--log-level INFO shows them).
[bold]--job NAME[/] attaches to every asset the job materializes; a job of ops only is refused
(exit 7): Dagster keeps no metadata on a job.

[bold]Partitions[/]: a partitioned asset is attached to one partition (asset://KEY:PARTITION or
--partition KEY, multi-dimensional as dim=key,dim=key) or to each of them (--all-partitions),
never as a whole. Without either, a terminal asks which; otherwise it is exit 7, before the
notebook runs. Unpartitioned assets of a --job are attached to as a whole.

Exit codes: 2 bad flags, --attach syntax or storage scheme; 3 a missing filesystem package
(pip install 'daglab\\[cloud]') or a webserver without the observation endpoint (the code to
attach from inside the asset is printed); 5 webserver down or upload failed; 6 credentials
refused (or the sandbox refuses attaching: nothing written); 7 notebook missing, empty or not
text, a partitioned asset without a partition (or with one it does not have), a file name too
long, an --output folder outside the project that does not exist, a cell
failed (nothing written) or no such asset/job; 8 the file exists and daglab did not write it
(--force overwrites it).

[bold]Ownership[/]: daglab overwrites, and retention removes, only exports its manifest
(.daglab/manifest.json) records with their content unchanged. --output may point outside the
project (into a folder that exists); retention never applies there."""


def register(app: typer.Typer) -> None:
    app.command("export", epilog=EXAMPLES)(export)


def export(
    ctx: typer.Context,
    notebook_arg: Annotated[
        Path | None,
        typer.Argument(metavar="NOTEBOOK", help="The marimo notebook (.py).", show_default=False),
    ] = None,
    notebook_opt: Annotated[
        Path | None,
        typer.Option("--notebook", help="The marimo notebook, as an option.", show_default=False),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Where the HTML goes: a .html file, or a folder (default: beside the notebook,"
            " same name).",
            show_default=False,
        ),
    ] = None,
    compress: Annotated[
        bool | None,
        typer.Option(
            "--compress/--no-compress",
            help="gzip the HTML to .html.gz (default: export.compress).",
            show_default=False,
        ),
    ] = None,
    retention_days: Annotated[
        float | None,
        typer.Option(
            "--retention-days",
            help="Remove this notebook's exports older than N days (default:"
            " export.retention_days).",
            metavar="N",
            min=0,
            show_default=False,
        ),
    ] = None,
    attach: Annotated[
        str | None,
        typer.Option(
            "--attach",
            help="Attach to an asset: asset://KEY[:PARTITION].",
            metavar="URI",
            show_default=False,
        ),
    ] = None,
    job: Annotated[
        str | None,
        typer.Option(
            "--job",
            help="Attach to every asset this job materializes (op-only jobs have nowhere to"
            " hold metadata: exit 7).",
            show_default=False,
        ),
    ] = None,
    partition: Annotated[
        str | None,
        typer.Option(
            "--partition",
            help="The partition to attach to (multi-dimensional: dim=key,dim=key).",
            metavar="KEY",
            show_default=False,
        ),
    ] = None,
    all_partitions: Annotated[
        bool,
        typer.Option("--all-partitions", help="Attach to every partition of partitioned assets."),
    ] = False,
    metadata_key: Annotated[
        str | None,
        typer.Option(
            "--metadata-key",
            help="Name of the metadata entry (default: defaults.attach_metadata_key,"
            " 'exploration').",
            show_default=False,
        ),
    ] = None,
    upload: Annotated[
        str | None,
        typer.Option(
            "--upload",
            help="Upload the HTML to s3://BUCKET/PREFIX, gs://… or az://… and sign a URL"
            " (default: export.cloud_storage).",
            metavar="URL",
            show_default=False,
        ),
    ] = None,
    no_upload: Annotated[
        bool, typer.Option("--no-upload", help="Do not upload, whatever the config says.")
    ] = False,
    timeout: Annotated[
        float,
        typer.Option("--timeout", help="Seconds the notebook may run while exporting.", min=1),
    ] = 600.0,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Overwrite an existing file daglab did not write (else exit 8)."
        ),
    ] = False,
    dagster_port: DagsterPort = None,
    url: DagsterUrl = None,
    auth_token: AuthToken = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Export a marimo notebook to HTML; optionally upload it and attach it to assets.

    marimo runs the notebook ([cyan]marimo export html[/]); a cell that raises fails the export
    (exit 7) and nothing is written. The asset or job is checked on the webserver before the
    notebook runs, so a typo exports and attaches nothing.
    """
    from contextlib import nullcontext

    from daglab import _export
    from daglab._cli._endpoint import endpoint_overrides
    from daglab._cli._output import console, print_json, safe
    from daglab._errors import UsageError

    state: CliState = ctx.ensure_object(CliState)
    if notebook_arg is not None and notebook_opt is not None and notebook_arg != notebook_opt:
        raise UsageError("give the notebook once: as an argument or with --notebook")
    notebook = notebook_arg or notebook_opt
    if notebook is None:
        raise UsageError(
            "which notebook? give its path", remediation="daglab export path/to/notebook.py"
        )
    if upload is not None and no_upload:
        raise UsageError("give --upload or --no-upload, not both")
    if attach is not None and job is not None:
        raise UsageError("give --attach or --job, not both")
    target = _export.parse_attach(attach) if attach is not None else None
    start = notebook.parent if notebook.parent.is_dir() else None
    loaded = state.load(start=start, overrides=endpoint_overrides(dagster_port, url))
    settings = loaded.config
    destination = None
    if upload is not None:
        from daglab._upload import parse_destination

        destination = parse_destination(upload)
    elif not no_upload:
        from daglab._upload import configured_destination

        destination = configured_destination(settings.export.cloud_storage)
    client = None
    if target is not None or job is not None:
        from daglab._client import DagsterClient
        from daglab._logging import register_secret

        register_secret(auth_token)
        client = DagsterClient.from_config(loaded, token=auth_token)
    progress = console(stderr=True)
    compressed = settings.export.compress if compress is None else compress
    retention = settings.export.retention_days if retention_days is None else retention_days
    key = metadata_key or settings.defaults.attach_metadata_key
    spinner = nullcontext(None) if json_output else progress.status("starting…")
    try:
        with spinner as status:

            def stage(text: str) -> None:
                if status is not None:
                    status.update(f"{safe(text)}…")

            def sent(done: int, total: int) -> None:
                if status is not None:
                    status.update(
                        f"uploading: {done / 2**20:.1f} of {total / 2**20:.1f} MB"
                        f" ({done / max(total, 1):.0%})"
                    )

            report = _export.export_notebook(
                notebook,
                output=output,
                compress=compressed,
                retention_days=retention,
                upload=destination,
                attach=target,
                job=job,
                metadata_key=key,
                client=client,
                timeout=timeout,
                on_stage=stage,
                on_upload=sent,
                force=force,
                partition=partition,
                all_partitions=all_partitions,
                choose=_prompt(status) if _interactive(json_output) else None,
            )
    finally:
        if client is not None:
            client.close()
    if json_output:
        print_json(report.to_dict())
        return
    out = console()
    done = report.exported
    out.print(
        f"[green]✓[/] exported {safe(notebook.name)} → {safe(done.path)}"
        f" ({done.size:,} bytes, {done.seconds:.1f} s)",
        soft_wrap=True,
    )
    for path in done.removed:
        out.print(f"  removed old export {safe(path)}", soft_wrap=True)
    if done.uploaded is not None:
        up = done.uploaded
        out.print(f"[green]✓[/] uploaded to {safe(up.url)}", soft_wrap=True)
        if up.signed_url is not None:
            until = f" (valid until {up.to_dict()['expires_at']})" if up.expires_at else ""
            out.print(f"  signed URL{until}: {safe(up.signed_url)}", soft_wrap=True)
        else:
            out.print(f"  [yellow]no signed URL:[/] {safe(up.sign_error)}", soft_wrap=True)
    by_asset: dict[str, list[_export.Attached]] = {}
    for attached in report.attached:
        by_asset.setdefault(attached.asset, []).append(attached)
    for asset, entries in by_asset.items():
        first = entries[0]
        if len(entries) > 1:
            last = entries[-1].partition
            where = f" {len(entries):,} partitions ({safe(first.partition)} .. {safe(last)})"
        else:
            where = f" partition {safe(first.partition)}" if first.partition else ""
        out.print(
            f"[green]✓[/] attached to {safe(asset)}{where} as metadata {safe(key)!r}"
            + (" (with typed path/url entries)" if first.typed else ""),
            soft_wrap=True,
        )
        if not first.typed and first.typed_note:
            out.print(f"  [dim]text entries only: {safe(first.typed_note)}[/]", soft_wrap=True)


def _interactive(json_output: bool) -> bool:
    import sys

    return not json_output and sys.stdin.isatty() and sys.stderr.isatty()


def _prompt(status: Any) -> _export.Chooser:
    """Ask on the terminal which partition(s) a partitioned asset is attached to."""
    from daglab._cli._output import console, safe
    from daglab._partitions._backfill import PartitionChoice

    def choose(found: AssetPartitions) -> PartitionChoice:
        from rich.prompt import Prompt

        if status is not None:
            status.stop()
        err = console(stderr=True)
        keys = found.keys
        shown = ", ".join(keys[-_OFFERED:])
        more = f" (the last {_OFFERED} of {len(keys):,})" if len(keys) > _OFFERED else ""
        err.print(
            f"asset {safe(found.asset)} is partitioned ({safe((found.type or '').lower())})."
            f" Its keys{more}: {safe(shown) or 'none yet'}",
            soft_wrap=True,
        )
        answer = Prompt.ask(
            "Attach to which partition? (a key, or 'all')",
            console=err,
            default=keys[-1] if keys else None,
        )
        if status is not None:
            status.start()
        text = (answer or "").strip()
        return PartitionChoice(all=True) if text == "all" else PartitionChoice(key=text)

    return choose


#: How many of a partitioned asset's keys the prompt shows.
_OFFERED = 10
