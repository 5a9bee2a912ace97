"""``daglab migrate``: Jupyter notebooks to marimo notebooks, with a report of what changed.

``reading`` checks a Jupyter notebook, ``convert`` turns it into marimo's (marimo's own
converter, and what daglab adds around it), ``report`` says what changed, ``plan`` checks every
source and destination before anything is written and then writes (see ``daglab._owned``).
"""

from __future__ import annotations

from daglab._migrate.convert import (
    HELPER_NAMES,
    MAX_OUTPUT_LINE_CHARS,
    MAX_OUTPUT_LINES,
    Converted,
    convert_notebook,
    output_comment_lines,
)
from daglab._migrate.plan import MigrationPlan, execute, find_notebooks, plan_migration
from daglab._migrate.reading import parse_notebook, read_notebook
from daglab._migrate.report import (
    HELPERS_MODULE,
    REPORT_SUFFIX,
    Magic,
    NotebookReport,
    Rename,
    report_path_for,
)

__all__ = [
    "HELPERS_MODULE",
    "HELPER_NAMES",
    "MAX_OUTPUT_LINES",
    "MAX_OUTPUT_LINE_CHARS",
    "REPORT_SUFFIX",
    "Converted",
    "Magic",
    "MigrationPlan",
    "NotebookReport",
    "Rename",
    "convert_notebook",
    "execute",
    "find_notebooks",
    "output_comment_lines",
    "parse_notebook",
    "plan_migration",
    "read_notebook",
    "report_path_for",
]
