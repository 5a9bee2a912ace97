"""Where the project's jobs and assets are defined, found by importing the code in a child.

``daglab scaffold`` needs the import path of the real definition for a notebook's in-process
cell, and the list of jobs and assets when the webserver is down. Importing user code (and
Dagster) happens in a child process, so the CLI stays light and nothing leaks into it; the
import succeeding there is the proof that the notebook's import will resolve.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._errors import ValidationError

if TYPE_CHECKING:
    from daglab._notebooks.render import NotebookTarget
    from daglab._project import Project

LOCATE_TIMEOUT = 300.0
#: A job object as a module holds it: ``@job`` gives the first, ``define_asset_job`` the second.
_JOB_TYPES = frozenset({"JobDefinition", "UnresolvedAssetJobDefinition"})


@dataclass(frozen=True)
class CodeIndex:
    """Job names and asset keys (``a/b``), each with the ``(module, attribute)`` defining it."""

    jobs: dict[str, tuple[str, str] | None] = field(default_factory=dict)
    assets: dict[str, tuple[str, str] | None] = field(default_factory=dict)
    definitions: tuple[str, str] | None = None

    #: With ``--module``: what that module itself binds, ``{"jobs"|"assets": {name: attr}}``.
    in_module: dict[str, dict[str, str]] = field(default_factory=dict)
    #: The partitioned ones: ``{"jobs"|"assets": [name, ...]}``.
    partitioned: dict[str, list[str]] = field(default_factory=dict)

    def is_partitioned(self, kind: str, name: str) -> bool:
        return name in self.partitioned.get(f"{kind}s", ())

    def import_for(self, target: NotebookTarget, module: str | None) -> tuple[str, str]:
        """The ``(module, attribute)`` the in-process cell imports for ``target``."""
        found: tuple[str, str] | None
        if target.kind == "selection":
            found = self.definitions
        elif module is not None:
            attribute = self.in_module.get(f"{target.kind}s", {}).get(target.name)
            found = (module, attribute) if attribute else None
        else:
            found = (self.jobs if target.kind == "job" else self.assets).get(target.name)
        if found is None:
            where = f" in {module}" if module else " at the top level of any project module"
            raise ValidationError(
                f"cannot find the {target.kind} {target.name!r} defined{where}, so the"
                " notebook's in-process cell could not import it",
                remediation="Pass --module with the module that defines it (e.g."
                " --module src/my_pkg/defs/assets.py), or --no-inprocess.",
            )
        return found


#: Top-level packages whose modules are never the project's, even inside its folder.
_OWN_LIBRARIES = frozenset({"daglab", "dagster", "dagster_graphql", "dagster_webserver"})


def locate_definitions(project: Project, module: str | None = None) -> CodeIndex:
    """Import the project's definitions in a child process and index them."""
    command = [sys.executable, "-m", "daglab._notebooks.locate", str(project.root)]
    if module:
        command.append(module)
    try:
        done = subprocess.run(  # noqa: S603  fixed argv, no shell
            command,
            capture_output=True,
            text=True,
            timeout=LOCATE_TIMEOUT,
            cwd=project.root,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ValidationError(
            f"importing the project's code took longer than {LOCATE_TIMEOUT:g} s",
            remediation="Check for module-level code that waits or loops.",
        ) from exc
    lines = done.stdout.strip().splitlines()
    try:
        answer = json.loads(lines[-1]) if lines else {}
    except ValueError:
        answer = {}
    if done.returncode != 0 or "error" in answer or not answer:
        message = answer.get("error") or "\n".join(done.stderr.strip().splitlines()[-8:])
        raise ValidationError(
            f"cannot load the project's definitions: {message}",
            remediation=answer.get("remediation")
            or "Check that the project imports: `dagster definitions validate`.",
        )
    return CodeIndex(
        jobs={k: tuple(v) if v else None for k, v in answer["jobs"].items()},
        assets={k: tuple(v) if v else None for k, v in answer["assets"].items()},
        definitions=tuple(answer["definitions"]) if answer.get("definitions") else None,
        in_module=answer.get("in_module") or {},
        partitioned=answer.get("partitioned") or {},
    )


def _index(root: Path, module: str | None) -> dict[str, Any]:
    """Run in the child: import the code, then map every job and asset to where it lives."""
    import importlib

    from daglab._errors import DaglabError
    from daglab._inprocess import load_repositories, load_repository
    from daglab._project import find_project

    project = find_project(root)
    sys.path[:0] = [str(p) for p in project.import_roots()]  # a throwaway process
    try:
        # every code location that loads: a target may live in any of them
        repositories = [(repo, name) for repo, name, _ in load_repositories(project)]
    except DaglabError:
        if module is None:
            raise
        repositories = [load_repository(project, module)]
    import dagster as dg

    jobs: dict[str, Any] = {}
    assets: dict[str, Any] = {}
    partitioned: dict[str, list[str]] = {"jobs": [], "assets": []}
    for repository, _ in repositories:
        jobs.update({name: None for name in repository.job_names if not name.startswith("__")})
        assets.update({key.to_user_string(): None for key in repository.assets_defs_by_key})
        partitioned["assets"] += [
            key.to_user_string()
            for key in repository.assets_defs_by_key
            if repository.asset_graph.get(key).partitions_def is not None
        ]
        for name in repository.job_names:
            try:
                if not name.startswith("__") and repository.get_job(name).partitions_def:
                    partitioned["jobs"].append(name)
            except Exception:  # noqa: S112  a job Dagster cannot build is reported when it runs
                continue
    loaded_module = repositories[0][1] if repositories else None
    definitions = None
    root_text = str(project.root.resolve())
    for name, mod in sorted(sys.modules.items()):
        location = getattr(mod, "__file__", None)
        if not location or not str(Path(location).resolve()).startswith(root_text):
            continue
        # daglab and Dagster themselves (an editable install inside the project); a user
        # package named dagster_shop or dagstermill_utils is the project's own code
        if "site-packages" in location or name.split(".")[0] in _OWN_LIBRARIES:
            continue
        for attribute, value in sorted(vars(mod).items()):
            if attribute.startswith("_"):
                continue
            if isinstance(value, dg.AssetsDefinition):
                for key in value.keys:
                    _prefer(assets, key.to_user_string(), (name, attribute), value, mod)
            elif type(value).__name__ in _JOB_TYPES:
                _prefer(jobs, value.name, (name, attribute), value, mod)
            elif isinstance(value, dg.Definitions) and definitions is None:
                definitions = (name, attribute)
    if definitions is None and loaded_module is not None:
        definitions = (loaded_module, "defs")
    in_module: dict[str, dict[str, str]] = {"jobs": {}, "assets": {}}
    if module is not None:
        try:
            explicit = importlib.import_module(module)
        except ImportError as exc:
            raise ValidationError(
                f"cannot import {module}: {exc}",
                remediation="Check --module; the project's code must import without errors.",
            ) from exc
        for attribute, value in sorted(vars(explicit).items()):
            if isinstance(value, dg.AssetsDefinition):
                for key in value.keys:
                    in_module["assets"].setdefault(key.to_user_string(), attribute)
            elif type(value).__name__ in _JOB_TYPES:
                in_module["jobs"].setdefault(value.name, attribute)
    return {
        "jobs": jobs,
        "assets": assets,
        "definitions": definitions,
        "in_module": in_module,
        "partitioned": partitioned,
    }


def _prefer(
    found: dict[str, Any], key: str, place: tuple[str, str], value: Any, module: Any
) -> None:
    """Keep the module that defines the object over ones that merely re-export it."""
    if key not in found:
        return
    current = found[key]
    defined_here = getattr(_function(value), "__module__", None) == module.__name__
    if current is None or defined_here:
        found[key] = list(place)


def _function(value: Any) -> Any:
    for path in ("op.compute_fn.decorated_fn", "node_def.compute_fn.decorated_fn"):
        current = value
        try:
            for part in path.split("."):
                current = getattr(current, part)
        except Exception:  # noqa: S112  no such attribute: next path
            continue
        return current
    return None


def main(argv: list[str]) -> int:
    from daglab._errors import DaglabError

    root = Path(argv[0])
    module = argv[1] if len(argv) > 1 else None
    try:
        answer = _index(root, module)
    except DaglabError as exc:
        answer = {"error": str(exc), "remediation": exc.remediation}
    except Exception as exc:  # the user's code raised while importing
        answer = {"error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write("\n" + json.dumps(answer) + "\n")
    return 0 if "error" not in answer else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
