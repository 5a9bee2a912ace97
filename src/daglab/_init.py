"""``daglab init``: add daglab to a Dagster project, or bootstrap a new one first.

Idempotent: a second run reports every file as unchanged or skipped and changes nothing unless
``force``. Every write is atomic and stays inside the project, and the run is all or nothing:
a failure half-way removes what this run created (see ``daglab._fs.undo_on_error``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from daglab import _manifest
from daglab._errors import ConflictError, EnvironmentMissingError, UsageError
from daglab._fs import Written, atomic_write, ensure_inside, make_dir, mkdirs, write_file
from daglab._gitignore import gitignore_entries, ignore_warnings
from daglab._logging import get_logger
from daglab._pairs import split_pairs
from daglab._project import Project, find_project

TaskRunner = Literal["none", "just", "make"]

#: Task-runner targets for the commands daglab has; each new command adds its line here.
TASKS: dict[str, tuple[str, str]] = {
    "dev": ("daglab dev", "Dagster UI and the marimo editor side by side"),
    "scaffold": ("daglab scaffold", "a notebook paired with an asset or job: --asset NAME"),
    "doctor": ("daglab doctor", "check the environment"),
    "clean": ("daglab clean", "remove old exports and caches"),
}
TASKS_MARKER = "# --- daglab targets ---"


@dataclass(frozen=True)
class InitOptions:
    path: Path
    bootstrap: bool = False
    template: str = "standard"
    package_name: str | None = None
    notebooks_dir: str | None = None
    dagster_port: int = 3000
    marimo_port: int = 3010
    examples: bool = True
    force: bool = False
    tasks: TaskRunner = "none"
    #: Register a bootstrapped project in the workspace around it (dg.toml or workspace.yaml).
    register: bool = True


@dataclass
class InitResult:
    project: Project
    mode: Literal["existing", "bootstrap"]
    notebooks_dir: Path
    files: list[Written] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    #: Problems that did not stop init: an ignore rule that hides the notebooks, say.
    warnings: list[str] = field(default_factory=list)
    #: What registering the bootstrapped project in its workspace did (None: no workspace).
    registration: str | None = None
    registered: bool = False

    @property
    def changed(self) -> bool:
        return self.registered or any(
            item.action in ("created", "overwritten", "updated") for item in self.files
        )


def init_project(options: InitOptions) -> InitResult:
    """Set daglab up in a project (bootstrapping it first with ``options.bootstrap``).

    All or nothing: when any step fails, the files and folders this run created are removed
    and files it changed get their old content back; nothing that was there before goes.
    """
    from daglab._fs import undo_on_error

    with undo_on_error():
        return _init_project(options)


def _init_project(options: InitOptions) -> InitResult:
    target = options.path.resolve()
    gitignore_base = ""
    if options.bootstrap:
        files, project, gitignore_base = _bootstrap(target, options)
        mode: Literal["existing", "bootstrap"] = "bootstrap"
    else:
        if not target.is_dir():
            raise EnvironmentMissingError(
                f"{target} does not exist",
                remediation=f"Create it, or run `daglab init --bootstrap {options.path}`.",
            )
        project = find_project(target)
        if not project.is_dagster_project:
            raise EnvironmentMissingError(
                f"No Dagster project found at {target} (looked for pyproject.toml with"
                " [tool.dg] or [tool.dagster], workspace.yaml, dagster.yaml, dg.toml)",
                remediation="cd into your Dagster project, or create one with"
                " `daglab init --bootstrap <folder>`.",
            )
        files, mode = [], "existing"
    root = project.root
    notebooks = _notebooks_dir(project, options.notebooks_dir)
    own = _daglab_home(project, notebooks, options)
    own.append(_daglab_yaml(project, notebooks, options))
    own.append(_gitignore(root, project.relative(notebooks), base=gitignore_base))
    if options.tasks != "none":
        own.append(_task_file(root, options.tasks, options.force))
    _manifest.record(root, own, generator="init", kind="config")
    files += own
    if options.examples:
        files += _examples(project, notebooks, options)
    result = InitResult(project=project, mode=mode, notebooks_dir=notebooks, files=files)
    if options.bootstrap and options.register:
        result.registered, result.registration = _register(root)
    result.next_steps = _next_steps(result, options)
    result.warnings = notebook_ignore_warnings(root, notebooks, [i.path for i in files])
    changed = [project.relative(i.path) for i in files if i.action not in ("unchanged", "skipped")]
    get_logger("init").info(
        "init (%s) in %s: %d file(s) changed: %s", mode, root, len(changed), ", ".join(changed)
    )
    return result


def _register(root: Path) -> tuple[bool, str | None]:
    """Register a bootstrapped project in the workspace around it, as `module new` does."""
    from daglab._modules import workspace as ws_lib

    workspace = ws_lib.find(root.parent)
    if workspace is None:
        return False, None
    return ws_lib.register(workspace, root)


def notebook_ignore_warnings(root: Path, notebooks: Path, written: list[Path]) -> list[str]:
    """Warnings for git ignore rules that hide the notebooks folder or a notebook in it."""
    inside = [p for p in written if p.suffix == ".py" and notebooks in p.parents]
    found = ignore_warnings(root, [notebooks, *inside])
    # else a notebook scaffold would write, for rules such as `*.py` when init wrote none
    return found or ignore_warnings(root, [notebooks / "assets" / "example_explore.py"])


def _bootstrap(target: Path, options: InitOptions) -> tuple[list[Written], Project, str]:
    """Write the project template; ``.gitignore`` is returned for `_gitignore` to complete."""
    from daglab._scaffold.project import package_name_for, render_project

    existing = find_project(target) if target.is_dir() else None
    if (
        existing is not None
        and existing.is_dagster_project
        and existing.root == target
        and "bootstrap" not in {i.get("generator") for i in _manifest.generated(target).values()}
        and not options.force
    ):
        raise ConflictError(
            f"{target} is already a Dagster project ({', '.join(existing.markers)})",
            remediation="Run `daglab init` without --bootstrap to add daglab to it.",
        )
    package = options.package_name or package_name_for(target.name)
    if options.package_name:
        package = package_name_for(options.package_name)
    rendered = render_project(
        package=package,
        template=options.template,
        project_name=target.name,
        dagster_port=options.dagster_port,
    )
    gitignore = rendered.pop(PurePosixPath(".gitignore"), "")
    mkdirs(target)
    written = [
        write_file(target, target / relative, content, force=options.force)
        for relative, content in sorted(rendered.items())
    ]
    _manifest.record(target, written, generator="bootstrap", kind=f"project:{options.template}")
    return written, find_project(target), gitignore


def _notebooks_dir(project: Project, option: str | None) -> Path:
    if option:
        path = Path(option)
        path = path if path.is_absolute() else project.root / path
        ensure_inside(project.root, path)
        return path
    from daglab._config import load_config

    return load_config(start=project.root, project=project).notebooks_dir


def _daglab_home(project: Project, notebooks: Path, options: InitOptions) -> list[Written]:
    root = project.root
    files = [
        make_dir(root, root / ".daglab"),
        make_dir(root, root / ".daglab" / "cache"),
        make_dir(root, root / ".daglab" / "templates"),
        make_dir(root, notebooks),
    ]
    if options.examples:
        from daglab._render import render

        files.append(make_dir(root, notebooks / "examples"))
        readme = render("init/notebooks_README.md.j2", package=project.package or root.name)
        files.append(write_file(root, notebooks / "README.md", readme, force=options.force))
    return files


def _examples(project: Project, notebooks: Path, options: InitOptions) -> list[Written]:
    """``examples/quickstart_explore.py`` and, after bootstrap, one notebook per starter asset.

    The quickstart explores every asset through the controls, so it needs nothing from the code;
    a starter asset's notebook imports the asset for in-process runs from the module the
    template put it in.
    """
    from datetime import date

    from daglab._client._models import ASSET_JOB
    from daglab._notebooks.render import NotebookSpec, NotebookTarget, render_notebook
    from daglab._notebooks.scaffold import author_for

    root = project.root
    folder = notebooks / "examples"
    author = author_for(root)
    today = date.today().isoformat()
    location = project.location_name
    quickstart = NotebookSpec(
        target=NotebookTarget("selection", "*", ASSET_JOB, None, location, ""),
        notebook_file="quickstart_explore.py",
        title="Quickstart: explore and run this project",
        author=author,
        created=today,
        inprocess=False,
        attach=False,
    )
    specs = [quickstart]
    if options.bootstrap and project.package:
        from daglab._scaffold.project import starter_asset_modules

        modules = starter_asset_modules(project.package, options.template)
        for asset, module in modules.items():
            target = NotebookTarget(
                "asset", asset, ASSET_JOB, None, location, asset, module, attach_to=asset
            )
            specs.append(
                NotebookSpec(
                    target=target,
                    notebook_file=f"{asset}_explore.py",
                    title=f"Explore {asset}",
                    author=author,
                    created=today,
                    import_module=module,
                    import_name=asset,
                )
            )
    written = [
        write_file(root, folder / spec.notebook_file, render_notebook(spec), force=options.force)
        for spec in specs
    ]
    _manifest.record(root, written, generator="init", kind="notebook")
    return written


def _daglab_yaml(project: Project, notebooks: Path, options: InitOptions) -> Written:
    from daglab._render import render

    content = render(
        "init/daglab.yaml.j2",
        notebooks_dir=project.relative(notebooks),
        dagster_port=options.dagster_port,
        marimo_port=options.marimo_port,
        repository_name=project.repository_name,
        locations=project.locations,
        served_by=served_by(project),
    )
    return write_file(project.root, project.root / "daglab.yaml", content, force=options.force)


def served_by(project: Project) -> str:
    """The command whose location names ``project.locations`` are."""
    from daglab._compat.commands import dev_command_name
    from daglab._host import find_executable

    return dev_command_name(project.kind, find_executable("dg") is not None)


def _gitignore(root: Path, notebooks_rel: str, *, base: str = "") -> Written:
    """Append the entries that are missing; never rewrite the user's lines.

    ``base`` is what a new file starts with (the project template's own entries).
    """
    path = root / ".gitignore"
    existed = path.is_file()
    text = path.read_text(encoding="utf-8") if existed else base
    present = {line.strip() for line in text.splitlines()}
    missing = [entry for entry in gitignore_entries(notebooks_rel) if entry not in present]
    if not missing:
        return Written(path, "unchanged")
    prefix = text if not text or text.endswith("\n") else text + "\n"
    block = "\n# daglab\n" if text else "# daglab\n"
    atomic_write(path, prefix + block + "\n".join(missing) + "\n")
    return Written(path, "updated" if existed else "created")


def _task_file(root: Path, runner: TaskRunner, force: bool) -> Written:
    """Add daglab's targets to a justfile or Makefile, after the user's own."""
    path = root / ("justfile" if runner == "just" else "Makefile")
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    if TASKS_MARKER in text:
        return Written(path, "unchanged")
    lines = [TASKS_MARKER]
    for name, (command, description) in TASKS.items():
        if runner == "just":
            lines += [f"# {description}", f"{name} *ARGS:", f"    {command} {{{{ARGS}}}}", ""]
        else:
            lines += [f"# {description}", f".PHONY: {name}", f"{name}:", f"\t{command} $(ARGS)", ""]
    existing_targets = {line.split(":")[0].strip() for line in text.splitlines() if ":" in line}
    clash = sorted(set(TASKS) & existing_targets)
    if clash and not force:
        raise ConflictError(
            f"{path.name} already defines {', '.join(clash)}",
            remediation="Rename those targets, or pass --force to add daglab's anyway.",
        )
    prefix = text if not text or text.endswith("\n") else text + "\n"
    atomic_write(path, prefix + ("\n" if text else "") + "\n".join(lines))
    return Written(path, "updated" if text else "created")


def _next_steps(result: InitResult, options: InitOptions) -> list[str]:
    project = result.project
    rel = project.relative(result.notebooks_dir)
    steps: list[str] = []
    if result.mode == "bootstrap":
        where = project.root
        steps += [
            f"cd {where}",
            "pip install -e .            # make the code package importable",
            "dagster dev                 # the Dagster UI on http://localhost:"
            f"{options.dagster_port}",
        ]
    elif project.kind == "dg-project":
        steps += ["dg check defs               # check the definitions load", "dg dev"]
    else:
        steps += ["dagster dev                 # start the Dagster UI"]
    steps += [
        "daglab doctor               # check the environment",
        f"notebooks go in {rel}/",
    ]
    return steps


def parse_ports(text: str) -> dict[str, int]:
    """``"dagster=3001,marimo=3011"`` -> ``{"dagster": 3001, "marimo": 3011}``."""
    example = "dagster=3001,marimo=3011"
    ports: dict[str, int] = {}
    parts = filter(None, (p.strip() for p in text.split(",")))
    for name, value in split_pairs(parts, flag="--ports", example=example):
        name = name.lower()
        if name not in ("dagster", "marimo"):
            raise UsageError(
                f"--ports: {name!r} is not dagster or marimo",
                remediation=f"Example: --ports {example}",
            )
        if not value.isdigit() or not 1 <= int(value) <= 65535:
            raise UsageError(
                f"--ports: {value!r} is not a port number (1-65535)",
                remediation=f"Example: --ports {example}",
            )
        ports[name] = int(value)
    return ports
