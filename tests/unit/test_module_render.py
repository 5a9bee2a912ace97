"""Rendering a module: the project template plus addons, from its answers."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from daglab._errors import ValidationError
from daglab._modules.meta import meta_from_table
from daglab._modules.render import Answers, check_answers, env_prefix, render_module
from daglab._scaffold.project import render_project


def answers(**changes: object) -> Answers:
    values: dict[str, object] = {"name": "sales-ingest", "package": "sales_ingest"}
    values.update({"template": "standard", "port": 4001, **changes})
    return Answers(**values)  # type: ignore[arg-type]


def test_the_project_template_is_rendered_unchanged_underneath() -> None:
    plain = render_project(package="sales_ingest", template="minimal", project_name="sales-ingest")
    module = render_module(answers(template="minimal"))
    for rel, text in plain.items():
        if rel.name not in ("pyproject.toml", ".gitignore"):
            assert module[rel] == text
    assert module[PurePosixPath("pyproject.toml")].startswith(
        plain[PurePosixPath("pyproject.toml")]
    )


def test_addons_add_their_files_requirements_and_env_names() -> None:
    files = render_module(answers(addons=("schedule", "mysql", "postgres"), cron="5 4 * * *"))
    names = {rel.as_posix() for rel in files}
    assert {
        "src/sales_ingest/defs/postgres.py",
        "src/sales_ingest/defs/mysql.py",
        "src/sales_ingest/defs/schedules.py",
        "tests/test_postgres.py",
        "tests/test_mysql.py",
        "tests/test_schedule.py",
    } <= names
    pyproject = files[PurePosixPath("pyproject.toml")]
    assert '"psycopg[binary]>=3.1,<4",' in pyproject and '"pymysql>=1.1,<2",' in pyproject
    import tomlkit

    table = tomlkit.parse(pyproject).unwrap()["tool"]["daglab"]["module"]
    meta = meta_from_table(table, source=Path("pyproject.toml"))
    assert meta.addons == ("postgres", "mysql", "schedule")  # a fixed order
    assert meta.env == ("SALES_INGEST_POSTGRES_URL", "SALES_INGEST_MYSQL_URL")
    assert (meta.cron, meta.timezone, meta.port) == ("5 4 * * *", "UTC", 4001)
    postgres = files[PurePosixPath("src/sales_ingest/defs/postgres.py")]
    assert 'POSTGRES_URL_ENV = "SALES_INGEST_POSTGRES_URL"' in postgres
    assert "dg.EnvVar(POSTGRES_URL_ENV)" in postgres
    schedule = files[PurePosixPath("src/sales_ingest/defs/schedules.py")]
    assert "from sales_ingest.defs import jobs" in schedule and "jobs.orders_job" in schedule


def test_gitignore_keeps_the_base_committed() -> None:
    gitignore = render_module(answers())[PurePosixPath(".gitignore")]
    lines = gitignore.splitlines()
    assert lines.index("!.daglab/module-base/") > lines.index(".daglab/*")


def test_without_schedule_no_cron_is_kept() -> None:
    checked = check_answers(answers(cron="0 1 * * *", timezone="UTC"))
    assert (checked.cron, checked.timezone) == (None, None)


def test_env_prefix() -> None:
    assert env_prefix("sales-ingest") == "SALES_INGEST"
    assert env_prefix("a.b") == "A_B"


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"name": "../evil"}, "module name"),
        ({"name": "1abc"}, "module name"),
        ({"template": "huge"}, "template"),
        ({"addons": ("redis",)}, "redis"),
        ({"package": "dagster"}, "dagster"),
        ({"addons": ("schedule",), "cron": "every day"}, "cron"),
        ({"addons": ("schedule",), "cron": "0 6 * * *\nimport os"}, "cron"),
        ({"addons": ("schedule",), "timezone": "Mars/Olympus"}, "time zone"),
        ({"addons": ("schedule",), "timezone": "../../etc/passwd"}, "time zone"),
        ({"port": 70000}, "port"),
    ],
)
def test_bad_answers_are_refused(changes: dict[str, object], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        render_module(answers(**changes))


def test_round_trip_through_dict() -> None:
    given = check_answers(answers(addons=("schedule",), timezone="Europe/Paris"))
    assert Answers.from_dict(given.to_dict()) == given
