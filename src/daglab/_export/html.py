"""Running a notebook with marimo and writing its HTML (``.html.gz``) where it belongs.

The export is marimo's own (``marimo export html``, which runs the notebook and fails when a
cell fails), written to a temporary file first so a failed export leaves nothing behind.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._errors import (
    DaglabError,
    EnvironmentMissingError,
    ValidationError,
)
from daglab._logging import get_logger
from daglab._upload import iso_utc

if TYPE_CHECKING:
    from daglab._upload import Destination, Progress, Uploaded

from daglab._export.paths import export_target, project_root
from daglab._export.retention import apply_retention
from daglab._fs import check_name

EXPORT_TIMEOUT = 600.0
log = get_logger("export")

Stage = Callable[[str], None]


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
    force: bool = False,
) -> Exported:
    """Run ``notebook`` with marimo and write its HTML (``.html.gz`` with ``compress``).

    The default output is ``<notebook stem>.html`` beside the notebook; ``output`` may be a file
    or a folder, inside the project or (explicitly named) outside it, in a folder that exists.
    An existing file is replaced only when daglab's manifest says daglab wrote it, unchanged
    since (else exit 8, unless ``force``). With ``retention_days``, this notebook's exports
    daglab recorded in the output's folder older than that are removed afterwards, inside the
    project only (see :func:`apply_retention`). With ``upload`` (``s3://bucket/prefix``,
    ``gs://…``, ``az://…``) the file is uploaded as well and a signed URL made for it. A cell
    that raises fails the export (exit 7) and writes nothing.
    """
    from daglab._compat import require
    from daglab._manifest import key_for
    from daglab._owned import check_destination, inside, write_owned

    require("marimo", needed_for="exporting a notebook")
    notebook = Path(notebook)
    destination = _preflight(notebook, upload)
    root = project_root(notebook)
    target = export_target(notebook, Path(output) if output is not None else None, compress)
    explicit = output is not None
    check_destination(root, target, explicit=explicit, force=force, what="export")
    started = time.perf_counter()
    if on_stage is not None:
        on_stage(f"running {notebook.name} with marimo")
    # marimo writes its HTML even when a cell failed: into a scratch folder, never the target's.
    scratch_dir = tempfile.TemporaryDirectory(prefix="daglab-export-")
    scratch = Path(scratch_dir.name) / f"{notebook.stem}.html"
    command = [sys.executable, "-m", "marimo", "export", "html", str(notebook.resolve())]
    command += ["-o", str(scratch)]
    try:
        done = subprocess.run(  # noqa: S603  fixed argv, no shell
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
        from daglab._compat.versions import install_hint

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
    source = key_for(root, notebook)
    write_owned(
        root,
        target,
        data,
        generator="export",
        kind="export",
        explicit=explicit,
        force=force,
        extra={"source": source},
    )
    exported_at = time.time()
    removed = (
        apply_retention(root, notebook, target.parent, retention_days, keep=[target])
        if retention_days is not None and inside(root, target)
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
    check_name(notebook, what="notebook")
    if not notebook.is_file():
        raise ValidationError(
            f"{notebook}: no such notebook", remediation="Give the path of a marimo notebook."
        )
    check_notebook_content(notebook)
    if upload is None:
        return None
    from daglab._upload import check_available, parse_destination

    destination = parse_destination(upload) if isinstance(upload, str) else upload
    check_available(destination)
    return destination


def check_notebook_content(notebook: Path) -> None:
    """An empty file, NUL bytes or undecodable text is not a notebook (marimo exports it anyway)."""
    data = notebook.read_bytes()
    problem = (
        "is empty"
        if not data.strip()
        else "contains NUL bytes"
        if b"\0" in data
        else "is not UTF-8 text"
        if not _utf8(data)
        else None
    )
    if problem is not None:
        raise ValidationError(
            f"{notebook} {problem}; it is not a marimo notebook, so nothing was exported",
            remediation="Give the path of a marimo notebook (`marimo new` makes one).",
            path=str(notebook),
        )


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


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
