"""The audit's readers, on the texts they meet: Dockerfile lockfile references, URLs with a
password, schedules without a timezone, conflict markers, CI Python versions, Dagster pins."""

from __future__ import annotations

from pathlib import Path

from daglab._audit.context import Module
from daglab._audit.currency import conflict_markers
from daglab._audit.deploy import _empty, lockfile_sources
from daglab._audit.hygiene import find_passwords, schedules_without_timezone
from daglab._audit.versions import _find_key, common_dagster, dagster_pin


def test_lockfile_sources_in_copy_add_and_bind_mounts() -> None:
    dockerfile = (
        "# COPY uv.lock ./ in a comment\n"
        "FROM ghcr.io/astral-sh/uv:python3.12-bookworm-slim AS build\n"
        "COPY pyproject.toml uv.lock ./\n"
        'COPY ["uv.lock", "/app/"]\n'
        "COPY --from=build /app/uv.lock /app/uv.lock\n"
        "COPY --chown=app ./sub/uv.lock /app/\n"
        "COPY uv.lock* ./\n"
        "RUN --mount=type=cache,target=/root/.cache \\\n"
        "    --mount=type=bind,source=uv.lock,target=uv.lock \\\n"
        "    uv sync --frozen\n"
        "RUN --mount=type=bind,from=build,source=/app/uv.lock,target=x true\n"
    )
    assert lockfile_sources(dockerfile) == [
        (3, "uv.lock"),
        (4, "uv.lock"),
        (6, "./sub/uv.lock"),
        (8, "uv.lock"),
    ]


def test_find_passwords_redacts_and_skips_placeholders() -> None:
    text = (
        'URL = "postgresql://app:hunter2-long@db:5432/app"\n'
        "a: ${SCHEME}://user:${PASSWORD}@host\n"
        'b = f"mysql://{user}:{password}@{host}/db"\n'
        "c: https://example.com/no-credentials\n"
        "d: redis://:s3cr3t-redis@cache:6379/0\n"
        "e: postgresql://app:%(pw)s@db\n"
        "# e.g. postgresql://user:password@host/db or mysql://root:***@h or x://u:xxx@h\n"
    )
    text += "f: mysql://root:p@ss-w0rd@db:3306/x\n"
    found = find_passwords(text)
    assert found == [(1, "postgresql://app:***@"), (5, "redis://:***@"), (8, "mysql://root:***@")]
    assert (
        "hunter2" not in repr(found)
        and "s3cr3t" not in repr(found)
        and "ss-w0rd" not in repr(found)
    )


def test_schedules_without_timezone() -> None:
    source = (
        "import dagster as dg\nfrom dagster import ScheduleDefinition, schedule\n"
        "a = ScheduleDefinition(job=j, cron_schedule='@daily')\n"
        "b = dg.ScheduleDefinition(job=j, cron_schedule='@daily', execution_timezone='UTC')\n"
        "c = dg.build_schedule_from_partitioned_job(j)\n"
        "d = dg.build_schedule_from_partitioned_job(j, execution_timezone='Asia/Tokyo')\n"
        "e = ScheduleDefinition(**settings)\n"
        "@schedule(cron_schedule='* * * * *', job=j)\ndef f(context): ...\n"
        "@dg.schedule(cron_schedule='* * * * *', job=j, execution_timezone='UTC')\n"
        "def g(context): ...\n"
        "@dg.sensor(job=j)\ndef h(context): ...\n"
    )
    assert schedules_without_timezone(source) == [
        (3, "ScheduleDefinition(…)"),
        (5, "build_schedule_from_partitioned_job(…)"),
        (8, "@schedule f"),
    ]
    assert schedules_without_timezone("def broken(:\n") == []


def test_conflict_markers_need_all_three_lines() -> None:
    assert conflict_markers("a\n<<<<<<< ours\nb\n=======\nc\n>>>>>>> theirs\n") == [2]
    assert conflict_markers("<<<<<<< only an opening line\n=======\n") == []
    assert conflict_markers("# ======= a rule in a comment\n") == []


def test_ci_python_versions_as_strings() -> None:
    workflow = {
        "jobs": {
            "test": {
                "strategy": {"matrix": {"python-version": ["3.10", "3.12"]}},
                "steps": [{"with": {"python-version": "${{ matrix.python-version }}"}}],
            },
            "lint": {"steps": [{"with": {"python-version": "3.11.4"}}]},
        }
    }
    assert sorted(_find_key(workflow, "python-version")) == ["3.10", "3.11", "3.12"]
    gitlab = {"image": "python:3.12-slim", "test": {"image": {"name": "python:3.11"}}}
    assert sorted(_find_key(gitlab, "image")) == ["python:3.11", "python:3.12-slim"]


def test_dagster_pin_normalized() -> None:
    def module(*deps: str) -> Module:
        return Module("m", Path("/m"), {"project": {"dependencies": list(deps)}})

    assert dagster_pin(module("dagster-webserver", "dagster == 1.13.27")) == "==1.13.27"
    assert dagster_pin(module("dagster[pandas]>=1.12, <2 ; python_version>'3.9'")) == "<2,>=1.12"
    assert dagster_pin(module("dagster")) == ""
    assert dagster_pin(module("dagster-dg-cli")) is None


def test_an_all_commented_container_context_is_empty() -> None:
    assert _empty(None) and _empty({"k8s": None}) and _empty({"k8s": {"env_vars": []}})
    assert not _empty({"k8s": {"env_vars": ["A_URL"]}})


def test_dagster_pins_that_can_agree() -> None:
    assert common_dagster(["==1.13.27", "<2,>=1.13"]) == "1.13.27"
    assert common_dagster(["<2,>=1.13", ">=1.12"]) == "1.13"
    assert common_dagster(["==1.13.27", "<1.12,>=1.10"]) is None
    assert common_dagster(["==1.13.27", "==1.12.0"]) is None


def test_a_plain_cron_is_checked_without_importing_dagster() -> None:
    """Reading a module's stored answers (template currency, on audit's static path) checks its
    cron; the usual ones need no Dagster, and none accepted that way is one Dagster refuses."""
    from dagster._utils.schedules import is_valid_cron_string

    from daglab._modules.render import _plain_cron

    plain = ["0 6 * * *", "*/15 8-18 * * 1-5", "0,30 * * * *", "1-5/2 * * * 7", "0 0 29 2 *"]
    for cron in plain:
        assert _plain_cron(cron) and is_valid_cron_string(cron), cron
    for cron in ["@daily", "0 6 * * MON", "0 0 30 2 *", "60 * * * *", "*/0 * * * *", "5-1 * * * *"]:
        assert not _plain_cron(cron), cron
