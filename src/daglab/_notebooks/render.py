"""Rendering a paired notebook from one of the templates ``default``, ``minimal`` and ``ml``.

Every value reaches the notebook as a Python literal (the ``pyrepr`` filter). The only names
written as code are the in-process import's module and attribute, and those are checked to be
dotted identifiers first, so no title, variable or name can inject code.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from daglab._errors import TemplateError

TEMPLATES = ("default", "minimal", "ml")
TargetKind = Literal["job", "asset", "selection"]
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class NotebookTarget:
    """What the notebook is paired with.

    ``job`` is the job the controls preselect (``__ASSET_JOB`` for assets), ``assets`` the
    selection text, ``attach_to`` the asset an export is attached to.
    """

    kind: TargetKind
    name: str
    job: str | None = None
    repository: str | None = None
    location: str | None = None
    assets: str = ""
    module: str | None = None
    attach_to: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "job": self.job,
            "repository": self.repository,
            "location": self.location,
            "assets": self.assets,
            "module": self.module,
            "attach_to": self.attach_to,
        }


@dataclass(frozen=True)
class NotebookSpec:
    """Everything a rendering depends on; equal specs render byte-identical notebooks."""

    target: NotebookTarget
    notebook_file: str
    title: str
    author: str
    created: str
    template: str = "default"
    modified: str | None = None
    inprocess: bool = True
    attach: bool = True
    seed_data: bool = False
    initial_config: str = ""
    import_module: str | None = None
    import_name: str | None = None
    template_vars: Mapping[str, str] = field(default_factory=dict)
    dagster_url: str | None = None
    metadata_key: str = "exploration"
    retention_days: int | None = None
    #: The target is partitioned: the controls get a partition picker the runs use.
    partitioned: bool = False

    @property
    def notebook_name(self) -> str:
        return self.notebook_file.removesuffix(".py")


def is_dotted_identifier(text: str) -> bool:
    parts = text.split(".")
    return all(_IDENTIFIER.fullmatch(p) and not keyword.iskeyword(p) for p in parts)


def sample_data(seed: str, rows: int = 8) -> list[dict[str, Any]]:
    """Small deterministic sample rows (same ``seed``, same rows) for ``--seed-data``."""
    import random

    generator = random.Random(seed)  # noqa: S311  seeded sample data, not a secret
    regions = ["north", "south", "east", "west"]
    return [
        {
            "id": index + 1,
            "region": generator.choice(regions),
            "quantity": generator.randint(1, 20),
            "price": round(generator.uniform(1, 100), 2),
        }
        for index in range(rows)
    ]


def render_notebook(spec: NotebookSpec) -> str:
    """The notebook's source text."""
    from importlib.metadata import PackageNotFoundError, version

    from daglab._render import render
    from daglab._version import __version__

    if spec.template not in TEMPLATES:
        raise TemplateError(
            f"unknown notebook template {spec.template!r}",
            remediation=f"Choose one of: {', '.join(TEMPLATES)}.",
        )
    inprocess = spec.inprocess and spec.template != "minimal"
    if inprocess:
        module, name = spec.import_module, spec.import_name
        if not (module and name and is_dotted_identifier(module) and is_dotted_identifier(name)):
            raise TemplateError(
                f"the in-process import {module!r}.{name!r} is not a Python import path",
                remediation="Pass --module, or --no-inprocess to leave the in-process cell out.",
            )
    try:
        marimo_version = version("marimo")
    except PackageNotFoundError:  # pragma: no cover - marimo is a dependency
        marimo_version = "unknown"
    return render(
        f"notebook/{spec.template}.py.j2",
        marimo_version=marimo_version,
        daglab_version=__version__,
        title=spec.title,
        author=spec.author,
        created=spec.created,
        modified=spec.modified or spec.created,
        template=spec.template,
        notebook_name=spec.notebook_name,
        notebook_file=spec.notebook_file,
        target=spec.target.to_dict(),
        template_vars=dict(spec.template_vars),
        dagster_url=spec.dagster_url,
        initial_config=spec.initial_config,
        inprocess=inprocess,
        attach=spec.attach and spec.template != "minimal",
        seed_data=spec.seed_data,
        sample_data=sample_data(spec.notebook_name),
        import_module=spec.import_module,
        import_name=spec.import_name,
        metadata_key=spec.metadata_key,
        retention_days=spec.retention_days,
        partitioned=spec.partitioned,
    )
