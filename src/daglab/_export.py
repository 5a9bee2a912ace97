"""Exporting a notebook as HTML and attaching it to an asset in Dagster.

The export is marimo's own (``marimo export html``, which runs the notebook and fails when a
cell fails), written to a temporary file first so a failed export leaves nothing behind.
Attaching records an asset observation through the webserver's ``/report_asset_observation/``
endpoint; GraphQL's runless-event mutation takes no metadata.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._errors import EnvironmentMissingError, ValidationError

if TYPE_CHECKING:
    from daglab._session import Connection

EXPORT_TIMEOUT = 600.0


@dataclass(frozen=True)
class Exported:
    path: Path
    size: int
    seconds: float
    removed: tuple[Path, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "size": self.size,
            "seconds": round(self.seconds, 3),
            "removed": [str(p) for p in self.removed],
        }


def export_html(
    notebook: Path,
    output: Path | None = None,
    *,
    compress: bool = False,
    retention_days: int | None = None,
    timeout: float = EXPORT_TIMEOUT,
) -> Exported:
    """Run ``notebook`` with marimo and write its HTML (``.html.gz`` with ``compress``).

    The default output is ``<notebook stem>.html`` beside the notebook. With ``retention_days``,
    this notebook's exports older than that are removed afterwards.
    """
    from daglab._fs import atomic_write

    notebook = Path(notebook)
    if not notebook.is_file():
        raise ValidationError(
            f"{notebook}: no such notebook", remediation="Give the path of a marimo notebook."
        )
    target = Path(output) if output is not None else notebook.with_suffix(".html")
    if compress and target.suffix != ".gz":
        target = target.with_name(target.name + ".gz")
    started = time.perf_counter()
    scratch = target.with_name(f".{target.name}.{time.time_ns()}.tmp.html")
    command = [sys.executable, "-m", "marimo", "export", "html", str(notebook), "-o", str(scratch)]
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
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
            raise ValidationError(
                f"marimo could not export {notebook.name}: a cell failed or the notebook is"
                f" invalid.\n{tail}",
                remediation=f"Run `marimo edit {notebook}` and fix the failing cell.",
            )
        data = scratch.read_bytes()
    except FileNotFoundError as exc:
        raise EnvironmentMissingError(
            "marimo is not installed", remediation="pip install marimo"
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise ValidationError(
            f"exporting {notebook.name} took longer than {timeout:g} s",
            remediation="Check for a cell that waits forever when run as a script.",
        ) from exc
    finally:
        scratch.unlink(missing_ok=True)
    if compress:
        data = gzip.compress(data, mtime=0)
    atomic_write(target, data)
    removed = apply_retention(notebook, target.parent, retention_days) if retention_days else ()
    return Exported(target, len(data), time.perf_counter() - started, tuple(removed))


def apply_retention(notebook: Path, folder: Path, days: float) -> list[Path]:
    """Remove this notebook's exports in ``folder`` older than ``days``; return them."""
    cutoff = time.time() - days * 86400
    removed = []
    for candidate in folder.glob(f"{notebook.stem}*.html*"):
        fresh = candidate.is_symlink() or not candidate.is_file()
        if not fresh and candidate.stat().st_mtime < cutoff:
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


@dataclass(frozen=True)
class Attached:
    asset: str
    partition: str | None
    metadata: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"asset": self.asset, "partition": self.partition, "metadata": self.metadata}


def attach_metadata(
    asset: str | tuple[str, ...],
    metadata: Mapping[str, Any] | None = None,
    *,
    notebook: Path | None = None,
    html: Path | None = None,
    metadata_key: str = "exploration",
    partition: str | None = None,
    conn: Connection | None = None,
) -> Attached:
    """Record an observation on ``asset`` carrying ``metadata`` (and the export, if given).

    With ``html``, the entry ``metadata_key`` points at the exported file, with the notebook's
    path, git commit and the export time beside it. The asset must exist on the webserver.
    """
    from daglab._session import connect

    key = tuple(asset) if isinstance(asset, tuple) else tuple(asset.strip("/").split("/"))
    entries: dict[str, Any] = dict(metadata or {})
    if html is not None:
        entries[metadata_key] = str(Path(html).resolve())
        entries[f"{metadata_key}_exported_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    if notebook is not None:
        entries[f"{metadata_key}_notebook"] = str(Path(notebook).resolve())
        commit = git_commit(Path(notebook).resolve())
        if commit:
            entries[f"{metadata_key}_git_commit"] = commit
    connection = conn if conn is not None else connect()
    client = connection.require()
    known = {a.path for a in client.discover().assets}
    if key not in known:
        import difflib

        names = sorted("/".join(p) for p in known)
        close = difflib.get_close_matches("/".join(key), names, n=3)
        raise ValidationError(
            f"no asset {'/'.join(key)!r} on {client.base_url}"
            + (f"; did you mean {', '.join(close)}?" if close else ""),
            remediation="`daglab discover --filter assets` lists the asset keys.",
        )
    client.report_observation(key, entries, partition=partition)
    return Attached("/".join(key), partition, entries)
