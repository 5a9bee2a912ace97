"""Render a new Dagster project from the ``minimal``, ``standard`` or ``ml`` template.

The layout is the one ``create-dagster project`` makes and ``dg`` reads::

    pyproject.toml              [tool.dg] project + [tool.dagster] module_name/code_location_name
    src/<package>/definitions.py  @dg.definitions loading src/<package>/defs/
    src/<package>/defs/...        the template's assets, jobs, schedules and resources
    tests/test_defs.py            loads the definitions and runs the starter job in-process

No generated package is ever named ``dagster`` (or anything else that would shadow a module the
project imports). Rendering writes nothing: it returns relative paths and contents for the caller
to write atomically.

Dagster 1.13 reads only ``module_name``, ``modules`` and ``code_location_name`` from
``[tool.dagster]`` and always uses the current directory as the working directory
(``dagster._core.workspace.load_target.get_target_from_toml_data``), so plain ``dagster dev``
imports ``<package>`` only once the project is installed (``pip install -e .``) or ``src`` is on
``PYTHONPATH``. ``dg check defs`` needs neither: it points the working directory at ``src``
itself (``dg list defs``, by contrast, imports the installed package).

Templates live in ``daglab/_templates/project/<layer>/``; the ``_common`` layer is rendered first,
then the template's own. In template paths ``__package__`` becomes the package name, a leading
``dot-`` becomes ``.`` and the ``.j2`` suffix is dropped.
"""

from __future__ import annotations

import keyword
import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from daglab._errors import ValidationError

TEMPLATES: tuple[str, ...] = ("minimal", "standard", "ml")

#: Top-level names a generated code package must not take, because importing the project would
#: then shadow (or be shadowed by) a module it needs. Any ``dagster_*`` name is refused as well.
RESERVED_PACKAGE_NAMES: frozenset[str] = frozenset(
    {
        "dagster",
        "daglab",
        "marimo",
        "test",
        "tests",
        "src",
        "notebooks",
        "setup",
        "pytest",
        "pip",
        "setuptools",
        "create_dagster",
    }
    | set(sys.stdlib_module_names)
)
RESERVED_PACKAGE_PREFIXES: tuple[str, ...] = ("dagster_",)

TEMPLATE_ROOT = "project"
COMMON_LAYER = "_common"
PACKAGE_PLACEHOLDER = "__package__"

_PACKAGE_PATTERN = re.compile(r"[a-z][a-z0-9_]*\Z")
_REMEDIATION = "Pass --package-name with a lower-case Python identifier such as my_project."


@dataclass(frozen=True)
class _Template:
    """What callers and the generated tests need to know about one template."""

    assets: tuple[str, ...]
    job: str
    #: The ``Config`` class the generated test passes to ``job`` (module under ``defs``, class,
    #: the asset it configures, and small values that keep the in-process run fast).
    config_module: str
    config_class: str
    config_asset: str
    #: The module under ``defs`` that defines ``job`` (a schedule imports it from there).
    job_module: str
    test_config: dict[str, Any] = field(default_factory=dict)


_TEMPLATES: dict[str, _Template] = {
    "minimal": _Template(
        assets=("starter_numbers", "starter_total"),
        job="starter_job",
        config_module="starter",
        config_class="StarterConfig",
        config_asset="starter_numbers",
        job_module="starter",
        test_config={"count": 3},
    ),
    "standard": _Template(
        assets=("raw_orders", "daily_revenue", "top_customers", "revenue_report"),
        job="orders_job",
        config_module="ingest",
        config_class="OrdersConfig",
        config_asset="raw_orders",
        job_module="jobs",
        test_config={"days": 2, "orders_per_day": 5},
    ),
    "ml": _Template(
        assets=("training_data", "features", "trained_model", "model_evaluation"),
        job="training_job",
        config_module="model",
        config_class="TrainingConfig",
        config_asset="trained_model",
        job_module="jobs",
        test_config={"learning_rate": 0.1, "epochs": 50},
    ),
}


def _template(template: str) -> _Template:
    try:
        return _TEMPLATES[template]
    except KeyError:
        raise ValidationError(
            f"unknown project template {template!r}",
            remediation=f"Use one of: {', '.join(TEMPLATES)}.",
        ) from None


def is_reserved_package_name(name: str) -> bool:
    """True when a top-level package called ``name`` would shadow a module the project needs."""
    lowered = name.lower()
    return lowered in RESERVED_PACKAGE_NAMES or lowered.startswith(RESERVED_PACKAGE_PREFIXES)


def _check_package(package: str, *, source: str | None = None) -> None:
    shown = repr(source if source is not None else package)
    if not _PACKAGE_PATTERN.match(package) or keyword.iskeyword(package):
        what = "does not make" if source is not None else "is not"
        raise ValidationError(
            f"{shown} {what} a valid package name (lower-case ASCII letters, digits and"
            " underscores, starting with a letter)",
            remediation=_REMEDIATION,
        )
    if is_reserved_package_name(package):
        raise ValidationError(
            f"the package name {package!r} would shadow a module the project imports"
            " (dagster, dagster_*, daglab, marimo, test(s), src or the standard library)",
            remediation=_REMEDIATION,
        )


def package_name_for(directory_name: str) -> str:
    """A valid, safe package name from a folder name: ``"My Project-1"`` -> ``my_project_1``.

    Accents are folded to ASCII, every run of other characters becomes one underscore, and
    leading or trailing underscores are dropped. Raises :class:`ValidationError` when the result
    is not an identifier starting with a letter, is a keyword, or is reserved.
    """
    folded = unicodedata.normalize("NFKD", directory_name).encode("ascii", "ignore").decode()
    name = re.sub(r"[^0-9a-z]+", "_", folded.lower()).strip("_")
    _check_package(name, source=directory_name)
    return name


def starter_assets(template: str) -> list[str]:
    """Asset keys (``a/b`` form) of the starter assets of ``template``, upstream first."""
    return list(_template(template).assets)


def starter_job(template: str) -> str:
    """Name of the job of ``template`` that takes run config (a ``dg.Config`` class)."""
    return _template(template).job


def starter_job_module(template: str) -> str:
    """The module under ``defs`` that defines the starter job of ``template``."""
    return _template(template).job_module


def starter_asset_modules(package: str, template: str) -> dict[str, str]:
    """Starter asset -> the module defining it (``<package>.defs.<file>``), from the template."""
    files = render_project(package=package, template=template, project_name=package)
    found: dict[str, str] = {}
    for asset in starter_assets(template):
        for relative, content in sorted(files.items()):
            if relative.suffix == ".py" and re.search(rf"^def {asset}\(", content, re.M):
                found[asset] = ".".join(relative.with_suffix("").parts[1:])
                break
    return found


def render_project(
    *,
    package: str,
    template: str,
    project_name: str,
    dagster_port: int = 3000,
    extra_layers: Sequence[str] = (),
    extra_context: Mapping[str, Any] | None = None,
) -> dict[PurePosixPath, str]:
    """Relative path -> content of every file of the new project; writes nothing.

    ``extra_layers`` are further template folders (relative to ``daglab/_templates``) rendered
    after the template's own, with ``extra_context`` added to the variables: how
    ``daglab module new`` adds its addons. ``pyproject.toml.j2`` takes ``dependencies`` (more
    requirements) and ``tool_tables`` (TOML text appended at the end) from that context.

    Raises :class:`ValidationError` for an unknown template, an invalid or reserved package
    name, an empty project name or a port outside 1-65535.
    """
    spec = _template(template)
    _check_package(package)
    if not project_name.strip():
        raise ValidationError(
            "the project name is empty", remediation="Bootstrap into a folder with a name."
        )
    try:
        project_name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            f"the project name {project_name!r} is not valid text",
            remediation="Rename the folder using printable characters.",
        ) from None
    if isinstance(dagster_port, bool) or not isinstance(dagster_port, int):
        raise ValidationError(f"the Dagster port {dagster_port!r} is not a number")
    if not 1 <= dagster_port <= 65535:
        raise ValidationError(
            f"the Dagster port {dagster_port} is not between 1 and 65535",
            remediation="Pass --ports dagster=<port> with a free port, e.g. 3000.",
        )

    context: dict[str, Any] = {
        "package": package,
        "distribution_name": package.strip("_").replace("_", "-"),
        "project_name": project_name,
        "title": " ".join(project_name.split()),
        "template": template,
        "dagster_port": dagster_port,
        "starter_assets": list(spec.assets),
        "starter_job": spec.job,
        "config_module": spec.config_module,
        "config_class": spec.config_class,
        "config_asset": spec.config_asset,
        "test_config": spec.test_config,
        "dependencies": [],
        "tool_tables": "",
        **(extra_context or {}),
    }
    from daglab._render import render  # defer: jinja2 loads only when rendering

    layers = [f"{TEMPLATE_ROOT}/{COMMON_LAYER}", f"{TEMPLATE_ROOT}/{template}", *extra_layers]
    return {
        relative: render(name, **context) for name, relative in _template_files(layers, package)
    }


def _template_files(layers: Sequence[str], package: str) -> list[tuple[str, PurePosixPath]]:
    """(template name, output path) for each layer's files, a later layer's file winning."""
    from daglab._render import environment  # defer: jinja2 loads only when rendering

    names = sorted(environment().list_templates(extensions=["j2"]))
    found: dict[PurePosixPath, str] = {}
    for layer in layers:
        prefix = f"{layer.strip('/')}/"
        for name in names:
            if not name.startswith(prefix):
                continue
            parts = name[len(prefix) : -len(".j2")].split("/")
            parts = [package if part == PACKAGE_PLACEHOLDER else part for part in parts]
            if parts[-1].startswith("dot-"):
                parts[-1] = "." + parts[-1][len("dot-") :]
            found[PurePosixPath(*parts)] = name  # a template's file overrides a common one
    return [(name, path) for path, name in sorted(found.items())]
