"""Render a new Dagster project from the ``minimal``, ``standard`` or ``ml`` template.

The layout is the one ``create-dagster project`` and ``dg`` use (``src/<package>/definitions.py``
loading ``src/<package>/defs/``); no package is ever named ``dagster``. Rendering writes nothing:
it returns relative paths and contents for the caller to write atomically.
"""

from __future__ import annotations

import keyword
import re
import sys
from pathlib import PurePosixPath

from daglab._errors import ValidationError

TEMPLATES: tuple[str, ...] = ("minimal", "standard", "ml")
TEMPLATE_ROOT = "project"
PACKAGE_PLACEHOLDER = "__package__"

RESERVED_PACKAGE_NAMES: frozenset[str] = frozenset(
    {"dagster", "daglab", "marimo", "test", "tests", "src", "notebooks", "site", "setup"}
    | set(sys.stdlib_module_names)
)

_STARTERS: dict[str, tuple[list[str], str]] = {
    "minimal": (["starter_numbers", "starter_total"], "starter_job"),
    "standard": (
        ["raw_orders", "daily_revenue", "top_customers", "revenue_report"],
        "orders_job",
    ),
    "ml": (["training_data", "features", "trained_model", "model_evaluation"], "training_job"),
}


def _check_template(template: str) -> None:
    if template not in TEMPLATES:
        raise ValidationError(
            f"unknown project template {template!r}",
            remediation=f"Use one of: {', '.join(TEMPLATES)}.",
        )


def package_name_for(directory_name: str) -> str:
    """A valid, safe package name from a folder name: ``"My Project-1"`` -> ``my_project_1``."""
    name = re.sub(r"[^0-9a-zA-Z_]+", "_", directory_name.strip()).strip("_").lower()
    remediation = "Pass --package-name with a Python identifier such as my_project."
    if not name or not name.isidentifier() or keyword.iskeyword(name):
        raise ValidationError(
            f"{directory_name!r} does not make a valid Python package name", remediation=remediation
        )
    if name in RESERVED_PACKAGE_NAMES or name.startswith("dagster_"):
        raise ValidationError(
            f"the package name {name!r} would shadow an installed module",
            remediation=remediation,
        )
    return name


def starter_assets(template: str) -> list[str]:
    """Asset keys (``a/b`` form) of the starter assets of ``template``."""
    _check_template(template)
    return list(_STARTERS[template][0])


def starter_job(template: str) -> str:
    """The config-taking job of ``template``."""
    _check_template(template)
    return _STARTERS[template][1]


def render_project(
    *, package: str, template: str, project_name: str, dagster_port: int = 3000
) -> dict[PurePosixPath, str]:
    """Relative path -> content of every file of the new project; writes nothing."""
    from daglab._render import environment

    _check_template(template)
    if package_name_for(package) != package:
        raise ValidationError(
            f"{package!r} is not a valid package name",
            remediation="Use lower-case letters, digits and underscores, e.g. my_project.",
        )
    context = {
        "package": package,
        "project_name": project_name,
        "template": template,
        "dagster_port": dagster_port,
        "starter_job": starter_job(template),
    }
    env = environment()
    files: dict[PurePosixPath, str] = {}
    for layer in ("_common", template):
        prefix = f"{TEMPLATE_ROOT}/{layer}/"
        for name in [n for n in env.list_templates() if n.startswith(prefix)]:
            relative = name[len(prefix) :].removesuffix(".j2")
            relative = relative.replace(PACKAGE_PLACEHOLDER, package)
            relative = re.sub(r"(^|/)dot-", r"\1.", relative)
            files[PurePosixPath(relative)] = env.get_template(name).render(**context)
    return files
