"""The metadata entries an export attaches, typed for Dagster's UI."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._upload import iso_utc

if TYPE_CHECKING:
    from daglab._upload import Uploaded


def git_commit(path: Path) -> str | None:
    """The commit checked out where ``path`` lives, if it is in a git work tree."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607  git from PATH, fixed argv
            cwd=path.parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


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
