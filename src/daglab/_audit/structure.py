"""Structure: each module has its package, a definitions entry point and tests."""

from __future__ import annotations

from daglab._audit.context import AuditContext, Module, fail, ok, warn
from daglab._report import Check


def check_structure(ctx: AuditContext) -> list[Check]:
    return [_check_module(ctx, module) for module in ctx.selected]


def _check_module(ctx: AuditContext, module: Module) -> Check:
    name = f"structure:{module.name}"
    where = ctx.rel(module.path)
    package = module.package
    if package is None:
        return fail(
            name,
            f"{where}: no package is named (no [tool.dg.project] root_module,"
            " [tool.dagster] module_name or module in the workspace entry)",
            f"Set root_module under [tool.dg.project] in {where}/pyproject.toml.",
        )
    package_dir = module.package_dir()
    if package_dir is None:
        return fail(
            name,
            f"{where}: package {package!r} is missing (neither src/{package}/ nor {package}/)",
            f"Create {where}/src/{package}/__init__.py, or fix root_module in pyproject.toml.",
            package=package,
        )
    target = module.definitions_module
    if target is None or module.module_file(target) is None:
        shown = target or f"{package}.definitions"
        return fail(
            name,
            f"{where}: the definitions entry point {shown} does not exist",
            f"Add {where}/src/{shown.replace('.', '/')}.py defining `defs = dg.Definitions(…)`"
            " (or `@dg.definitions`), or point [tool.dg.project] code_location_target_module"
            " at the module that has them.",
            package=package,
            definitions=shown,
        )
    tests = module.path / "tests"
    if not tests.is_dir():
        return fail(
            name,
            f"{where}: no tests/ folder",
            f"Add {where}/tests/ with a test that loads the definitions, e.g."
            f" `from {target} import defs` and `defs.validate_loadable(defs)`.",
            package=package,
            definitions=target,
        )
    test_files = [p for p in ctx.under(tests) if p.name.startswith("test_") and p.suffix == ".py"]
    data = {"package": package, "definitions": target, "tests": len(test_files)}
    if not test_files:
        return warn(
            name,
            f"{where}: package {package}, definitions {target}; tests/ holds no test_*.py",
            f"Add {where}/tests/test_definitions.py that imports {target} and checks its defs.",
            **data,
        )
    return ok(
        name,
        f"{where}: package {package}, definitions {target}, {len(test_files)} test file(s)",
        **data,
    )
