"""Notebook templates: snapshots, literal-only values, and real marimo over the option matrix.

Snapshots live in ``tests/snapshots/notebooks``; after a deliberate template change, rewrite them
with ``UPDATE_SNAPSHOTS=1 pytest tests/unit/test_notebook_templates.py``.
"""

from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from daglab._errors import TemplateError
from daglab._notebooks.render import NotebookSpec, NotebookTarget, render_notebook

SNAPSHOTS = Path(__file__).resolve().parent.parent / "snapshots" / "notebooks"
MARIMO = str(Path(sys.executable).parent / "marimo")
ASSET = NotebookTarget(
    "asset",
    "orders/daily_summary",
    "__ASSET_JOB",
    "__repository__",
    "sample_location",
    "orders/daily_summary",
    module="sample.assets",
    attach_to="orders/daily_summary",
)
JOB = NotebookTarget("job", "configurable_job", "configurable_job", "__repository__", "loc")
SELECTION = NotebookTarget(
    "selection", "orders/*", "__ASSET_JOB", None, None, "orders/*", attach_to="orders/raw"
)


def spec(
    template: str = "default", target: NotebookTarget = ASSET, **changes: object
) -> NotebookSpec:
    base = NotebookSpec(
        target=target,
        notebook_file=f"{template}_{target.kind}_explore.py",
        title=f"Explore {target.name}",
        author="Ada Lovelace",
        created="2026-01-02",
        template=template,
        initial_config="ops:\n  multiply:\n    config:\n      multiplier: 2\n"
        if target.kind == "job"
        else "",
        import_module="sample.assets" if target.kind != "selection" else "sample.definitions",
        import_name="daily_summary" if target.kind != "selection" else "defs",
        retention_days=30,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


MATRIX = {
    "default_asset": spec(),
    "default_asset_seed": spec(seed_data=True, template_vars={"owner": "data-team"}),
    "default_asset_lean": spec(inprocess=False, attach=False),
    "default_job": spec(target=JOB),
    "default_selection": spec(target=SELECTION),
    "minimal_asset": spec("minimal"),
    "minimal_job": spec("minimal", JOB, seed_data=True),
    "ml_asset": spec("ml"),
    "ml_job_lean": spec("ml", JOB, inprocess=False, attach=False),
    # a partitioned target: a partition picker in the controls, used by launch and in-process
    "default_asset_partitioned": spec(partitioned=True),
    "minimal_asset_partitioned": spec("minimal", partitioned=True),
    "ml_job_partitioned": spec("ml", JOB, partitioned=True),
}


@pytest.mark.parametrize(
    "name", ["default_asset", "minimal_job", "ml_asset", "default_asset_partitioned"]
)
def test_rendering_matches_the_snapshot(name: str) -> None:
    text = render_notebook(MATRIX[name])
    path = SNAPSHOTS / f"{name}.py"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    # The header records the marimo that rendered it: compared apart, so that the snapshots hold
    # on every marimo of the test matrix.
    assert f'__generated_with = "{importlib.metadata.version("marimo")}"' in text
    expected = path.read_text(encoding="utf-8")
    assert _version_free(text) == _version_free(expected), f"{name} changed; see the docstring"


def _version_free(text: str) -> str:
    return re.sub(r"^__generated_with = .*$", "__generated_with = ...", text, flags=re.MULTILINE)


def test_rendering_is_deterministic() -> None:
    assert render_notebook(spec(seed_data=True)) == render_notebook(spec(seed_data=True))


def _metadata(text: str) -> dict[str, object]:
    """The literal assignments of the metadata cell, evaluated without running anything."""
    module = ast.parse(text)
    cell = next(
        node
        for node in module.body
        if isinstance(node, ast.FunctionDef) and node.name == "metadata"
    )
    values = {}
    for statement in cell.body:
        if isinstance(statement, ast.Assign):
            target = statement.targets[0]
            assert isinstance(target, ast.Name)
            values[target.id] = ast.literal_eval(statement.value)
    return values


HOSTILE = [
    '"""; import os; os.system("touch /tmp/pwned") #',
    "'''\n__import__('os').system('x')\n'''",
    "{{ 7*7 }} {% raw %} ${x} {x!r}",
    "back\\slash \"quotes\" 'single' \x00 nul \u2028 sep",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_values_reach_the_notebook_as_literals_only(hostile: str) -> None:
    text = render_notebook(
        spec(
            title=hostile,
            author=hostile,
            template_vars={hostile: hostile, "plain": "x"},
            initial_config=hostile,
        )
    )
    module = ast.parse(text)
    calls = {
        node.func.attr
        for node in ast.walk(module)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert "system" not in calls
    values = _metadata(text)
    assert values["NOTEBOOK_TITLE"] == hostile
    assert values["NOTEBOOK_AUTHOR"] == hostile
    assert values["TEMPLATE_VARS"] == {hostile: hostile, "plain": "x"}


@pytest.mark.parametrize(
    ("module", "name"),
    [("os; import sys", "x"), ("sample.assets", "x as y"), ("sample", "import"), (None, "x")],
)
def test_import_names_must_be_identifiers(module: str | None, name: str) -> None:
    with pytest.raises(TemplateError, match="not a Python import path"):
        render_notebook(spec(import_module=module, import_name=name))


def test_templates_differ_in_their_sections() -> None:
    default = render_notebook(MATRIX["default_asset"])
    minimal = render_notebook(MATRIX["minimal_asset"])
    ml = render_notebook(MATRIX["ml_asset"])
    for section in ("# 4. Connection", "# 5. Controls", "# 6. Launch"):
        assert section in minimal and section in default and section in ml
    for section in ("# 7. In-process", "# 8. Performance", "# 9. Export", "# 10. Error recovery"):
        assert section in default and section in ml and section not in minimal
    assert "Runs compared across configs" in ml and "Runs compared" not in default
    lean = render_notebook(MATRIX["default_asset_lean"])
    assert "# 7. In-process" not in lean and "# 9. Export" not in lean
    assert "SAMPLE_DATA" in render_notebook(MATRIX["default_asset_seed"])
    assert "def test_" not in default + minimal + ml


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("notebooks")
    paths = {}
    for name, item in MATRIX.items():
        path = folder / f"{name}.py"
        path.write_text(render_notebook(item), encoding="utf-8")
        paths[name] = path
    return paths


def test_every_combination_of_options_passes_marimo_check(tmp_path: Path) -> None:
    """All templates x target kinds x in-process/attach/seed-data on and off."""
    import itertools

    files = []
    for template, target, inprocess, attach, seed in itertools.product(
        ("default", "minimal", "ml"), (ASSET, JOB, SELECTION), *([(True, False)] * 3)
    ):
        item = spec(template, target, inprocess=inprocess, attach=attach, seed_data=seed)
        path = tmp_path / f"{template}_{target.kind}_{inprocess:d}{attach:d}{seed:d}.py"
        path.write_text(render_notebook(item), encoding="utf-8")
        files.append(str(path))
    assert len(files) == 72
    done = subprocess.run([MARIMO, "check", "--strict", *files], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def _offline_env(tmp_path: Path) -> dict[str, str]:
    """No webserver on this port: the notebook must degrade, not fail."""
    return {
        **os.environ,
        "DAGLAB_DAGSTER__PORT": "9",
        "DAGLAB_DAGSTER__GRAPHQL__MAX_RETRIES": "0",
        "HOME": str(tmp_path),
    }


def test_every_rendering_passes_marimo_check_and_ruff(rendered: dict[str, Path]) -> None:
    files = [str(p) for p in rendered.values()]
    done = subprocess.run([MARIMO, "check", "--strict", *files], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    ruff = str(Path(sys.executable).parent / "ruff")
    done = subprocess.run(
        [ruff, "format", "--check", "--isolated", "--line-length", "100", *files],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_rendering_runs_as_a_script_without_a_server(
    rendered: dict[str, Path], tmp_path: Path
) -> None:
    env = _offline_env(tmp_path)

    def run(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(path)],
            capture_output=True,
            text=True,
            env=env,
            cwd=path.parent,
            timeout=300,
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(rendered, pool.map(run, rendered.values()), strict=True))
    failed = {n: r.stderr[-2000:] for n, r in results.items() if r.returncode != 0}
    assert not failed, failed
    for result in results.values():
        assert "Traceback" not in result.stderr, result.stderr[-2000:]


@pytest.mark.parametrize("name", ["default_asset_seed", "minimal_job", "ml_job_lean"])
def test_export_html_runs_every_cell_cleanly_without_a_server(
    rendered: dict[str, Path], name: str, tmp_path: Path
) -> None:
    out = tmp_path / f"{name}.html"
    done = subprocess.run(
        [MARIMO, "export", "html", str(rendered[name]), "-o", str(out), "-f"],
        capture_output=True,
        text=True,
        env=_offline_env(tmp_path),
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    html = out.read_text(encoding="utf-8")
    assert "not reachable" in html  # the connection cell says what is missing
    assert "daglab dev" in html  # and how to fix it
