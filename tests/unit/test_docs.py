"""The documentation site: it builds with ``mkdocs build --strict``, and its generated reference
pages hold every command, flag, example, config key, exit code and helper the code has.

The expectations are read from the code here, independently of ``docs/hooks/reference.py``, so
a page that drops something fails even when the hook and the code agree on a wrong answer.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow  # two real site builds


def _text(page: Path) -> str:
    """The visible text of a built page: tags removed, entities decoded, spaces collapsed."""
    body = page.read_text(encoding="utf-8")
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.DOTALL)
    body = re.sub(r"</?(?:span|code|a|em|strong)\b[^>]*>", "", body)  # inline: no gap
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def _build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("DAGLAB_")}
    env["NO_MKDOCS_2_WARNING"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        cwd=config.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "site"
    result = _build(ROOT / "mkdocs.yml", out)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    return out


def _commands() -> list[tuple[str, object]]:
    import typer.main

    from daglab._cli._app import app

    found: list[tuple[str, object]] = []

    def walk(command: object, path: list[str], parent: object = None) -> None:
        ctx = command.context_class(command, info_name=path[-1], parent=parent)  # type: ignore[attr-defined]
        found.append((" ".join(path), (command, ctx)))
        if hasattr(command, "list_commands"):
            for name in command.list_commands(ctx):
                walk(command.get_command(ctx, name), [*path, name], ctx)

    walk(typer.main.get_command(app), ["daglab"])
    return found


def test_every_command_flag_and_example_is_on_the_commands_page(site: Path) -> None:
    page = site / "reference" / "commands" / "index.html"
    raw = page.read_text(encoding="utf-8")
    text = _text(page)
    commands = _commands()
    assert {"daglab run", "daglab config show", "daglab partitions delete"} <= {
        name for name, _ in commands
    }
    for name, (command, ctx) in commands:  # type: ignore[misc]
        assert f'id="{name.replace(" ", "-")}"' in raw, f"no section for {name}"
        for param in command.get_params(ctx):
            for opt in [*param.opts, *param.secondary_opts]:
                if opt.startswith("-"):
                    assert opt in text, f"{name}: {opt} is not documented"
            help_text = " ".join((getattr(param, "help", "") or "").split())
            words = re.sub(r"\[/?[a-z ]*\]|\\|`", "", help_text)
            assert words[:40] in text, f"{name} {param.opts}: help text missing"
        for line in (command.epilog or "").splitlines():
            if line.startswith("  daglab"):
                example = re.split(r"\s{2,}", line.strip())[0].replace("\\[", "[")
                assert example in text, f"{name}: example {example!r} missing"


def test_every_config_key_default_and_variable_is_on_the_configuration_page(site: Path) -> None:
    from daglab._config_models import DaglabConfig, leaf_paths

    text = _text(site / "reference" / "configuration" / "index.html")
    defaults = DaglabConfig()
    assert "dagster.graphql.retry_budget_seconds" in leaf_paths()
    for path in leaf_paths():
        env = "DAGLAB_" + "__".join(part.upper() for part in path.split("."))
        assert path in text, f"config key {path} is not documented"
        assert env in text, f"{env} is not documented"
    # the defaults come from the models, not from a copy: the port and the retry budget
    assert f"dagster.port DAGLAB_DAGSTER__PORT integer {defaults.dagster.port}" in text
    assert f"{defaults.dagster.graphql.retry_budget_seconds}" in text
    # the sources, in the order daglab._config applies them
    layers = ["CLI flags", "DAGLAB_* environment", "./daglab.yaml", "[tool.daglab]", "defaults"]
    at = 0
    for layer in layers:
        at = text.index(layer, at)  # each after the one before


def test_the_file_of_every_default_is_a_valid_daglab_yaml(site: Path) -> None:
    import yaml

    from daglab._config_models import DaglabConfig

    raw = (site / "reference" / "configuration" / "index.html").read_text(encoding="utf-8")
    section = raw[raw.index('id="every-default-as-a-file"') :]
    block = section[section.index("<pre") : section.index("</pre>")]
    text = html.unescape(re.sub(r"<[^>]+>", "", block))
    assert DaglabConfig.model_validate(yaml.safe_load(text)) == DaglabConfig()


def test_every_exit_code_and_error_is_on_the_exit_codes_page(site: Path) -> None:
    import daglab._errors as errors

    text = _text(site / "reference" / "exit-codes" / "index.html")
    for code in errors.ExitCode:
        assert re.search(rf"\b{int(code)} {code.name}\b", text), f"exit code {code} missing"
    classes = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.DaglabError)
    ]
    assert len(classes) >= 9
    for cls in classes:
        assert cls.__name__ in text
        assert " ".join(cls.default_remediation.replace("`", "").split())[:40] in text


def test_every_helper_is_on_the_python_api_page(site: Path) -> None:
    import daglab
    import daglab.helpers

    page = site / "reference" / "helpers" / "index.html"
    raw = page.read_text(encoding="utf-8")
    text = _text(page)
    for name in daglab.helpers.__all__:
        assert f'id="{name}"' in raw, f"daglab.helpers.{name} is not documented"
    for name in daglab.__all__:
        assert f"daglab.{name}" in text
    # docstrings are rendered, Args sections included
    assert "io_managers" in text
    assert "Run the job or asset target of the project's Definitions in this process." in text


def test_an_unknown_marker_fails_the_build(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# x\n\n<!-- daglab:no-such-section -->\n")
    hook = ROOT / "docs" / "hooks" / "reference.py"
    (tmp_path / "mkdocs.yml").write_text(f"site_name: x\nhooks:\n  - {hook}\n")
    result = _build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0
    assert "unknown reference section 'no-such-section'" in result.stdout + result.stderr


def test_readme_keeps_the_two_commands_and_links_to_pages_that_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for script in ("demo", "test"):
        assert f"```bash\nbash scripts/{script}\n```" in readme
        assert (ROOT / "scripts" / script).is_file()
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme)
    local = [link for link in links if "://" not in link]
    assert len(local) >= 15
    for link in local:
        assert (ROOT / link).exists(), f"README links to {link}, which does not exist"
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = [link for link in local if link.startswith("docs/") and link.endswith(".md")]
    for page in pages:
        assert page.removeprefix("docs/") in nav, f"{page} is not in the site's navigation"
    for reference in ("commands", "configuration", "exit-codes", "helpers"):
        assert f"docs/reference/{reference}.md" in pages
    assert "mkdocs build --strict" in readme
