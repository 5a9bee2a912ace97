"""Exporting a notebook as HTML, uploading it, and attaching it to assets in Dagster.

``html`` runs marimo and writes the file where it belongs (``paths``), as a file daglab owns
(``daglab._owned``); ``retention`` removes this notebook's older exports daglab recorded;
``targets`` parses and checks ``--attach``/``--job``; ``metadata`` builds the entries;
``attach`` records them in Dagster; ``command`` is ``daglab export`` as one call.
"""

from __future__ import annotations

from daglab._export.attach import Attached, attach_metadata, attach_targets
from daglab._export.command import ExportReport, export_notebook
from daglab._export.html import EXPORT_TIMEOUT, Exported, Stage, export_html
from daglab._export.metadata import (
    export_metadata,
    generate_compute_helper,
    git_commit,
    typed_metadata,
)
from daglab._export.paths import export_target
from daglab._export.retention import apply_retention
from daglab._export.targets import (
    ASSET_SCHEME,
    AttachTarget,
    Chooser,
    parse_attach,
    resolve_targets,
)

__all__ = [
    "ASSET_SCHEME",
    "EXPORT_TIMEOUT",
    "AttachTarget",
    "Attached",
    "Chooser",
    "ExportReport",
    "Exported",
    "Stage",
    "apply_retention",
    "attach_metadata",
    "attach_targets",
    "export_html",
    "export_metadata",
    "export_notebook",
    "export_target",
    "generate_compute_helper",
    "git_commit",
    "parse_attach",
    "resolve_targets",
    "typed_metadata",
]
