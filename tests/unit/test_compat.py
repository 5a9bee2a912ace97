"""daglab._compat: tested ranges, the extras' remedy, and the client's choice of document."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from daglab._client._transport import Response
from daglab._compat import TESTED, outside_tested_range, require
from daglab._errors import EnvironmentMissingError, ValidationError
from tests.unit.test_client import ScriptedTransport, client, fast_retries, ok

__all__ = ["fast_retries"]  # the autouse fixture, imported to apply here too

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_extras_lower_bounds_are_the_oldest_tested_versions() -> None:
    extras = tomllib.loads(PYPROJECT.read_text("utf-8"))["project"]["optional-dependencies"]
    assert f"dagster>={TESTED['dagster'].oldest},<2" in extras["dagster"]
    assert f"dagster-webserver>={TESTED['dagster'].oldest},<2" in extras["dagster"]
    assert f"marimo>={TESTED['marimo'].oldest},<1" in extras["notebooks"]


@pytest.mark.parametrize(
    ("package", "version", "problem"),
    [
        ("dagster", "1.12.13", None),
        ("dagster", "1.13.29", None),
        ("dagster", "1.12.4", "older than the oldest tested (1.12.13)"),
        ("dagster", "1.14.0", "newer than the newest tested (1.13.x)"),
        ("dagster", "1!0+dev", None),
        ("marimo", "0.23.6", None),
        ("marimo", "0.23.5", "older than the oldest tested (0.23.6)"),
        ("marimo", "0.25.2", None),
        ("marimo", "0.22.5", "older than the oldest tested (0.23.6)"),
        ("marimo", "0.26.0", "newer than the newest tested (0.25.x)"),
        ("rich", "1.0", None),
    ],
)
def test_outside_tested_range(package: str, version: str, problem: str | None) -> None:
    found = outside_tested_range(package, version)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_a_missing_optional_package_is_exit_3_naming_the_extra() -> None:
    with pytest.raises(EnvironmentMissingError) as info:
        require("daglab_no_such_module", "dagster", needed_for="an in-process run")
    assert info.value.exit_code == 3
    assert "an in-process run needs dagster" in info.value.message
    assert "pip install 'daglab[dagster]'" in str(info.value.remediation)
    require("json", needed_for="reading JSON")  # present: nothing raised


def _metrics(field: str, value: Any, version: str) -> dict[str, Any]:
    entry = {"label": "rows", "__typename": "FloatMetadataEntry", field: value}
    materialization = {"assetKey": {"path": ["orders"]}, "metadataEntries": [entry]}
    run = {"__typename": "Run", "runId": "r1", "assetMaterializations": [materialization]}
    return {"version": version, "runOrError": run}


def _query(sent: dict[str, Any]) -> str:
    return str(sent["payload"]["query"])


def test_an_old_server_that_rejects_float_repr_gets_float_value_from_then_on() -> None:
    refusal = {"errors": [{"message": 'Cannot query field "floatRepr"'}]}
    transport = ScriptedTransport(
        Response(200, refusal, ""),
        ok({"version": "1.11.10"}),
        ok(_metrics("floatValue", 0.0, "1.11.10")),
        ok(_metrics("floatValue", 2.5, "1.11.10")),
    )
    dagster = client(transport, 1191)
    assert dagster.run_metrics("r1") == {"orders.rows": 0.0}  # 0.0 is a value, not missing
    assert dagster.run_metrics("r1") == {"orders.rows": 2.5}
    queries = [_query(s) for s in transport.sent]
    assert "floatRepr" in queries[0] and "DaglabVersion" in queries[1]
    assert all("floatValue" in q and "floatRepr" not in q for q in queries[2:])
    assert dagster.server_version == "1.11.10"


def test_a_refusal_the_variant_would_not_cure_is_raised() -> None:
    refusal = {"errors": [{"message": "run not found"}]}
    transport = ScriptedTransport(Response(200, refusal, ""), ok({"version": "1.13.27"}))
    with pytest.raises(ValidationError, match="run not found"):
        client(transport, 1194).run_metrics("r1")
    assert len(transport.sent) == 2


def test_a_current_server_answers_the_newest_document_in_one_round_trip() -> None:
    transport = ScriptedTransport(ok(_metrics("floatRepr", "nan", "1.13.27")))
    metrics = client(transport, 1192).run_metrics("r1")
    assert list(metrics) == ["orders.rows"] and metrics["orders.rows"] != metrics["orders.rows"]
    assert len(transport.sent) == 1 and "floatRepr" in _query(transport.sent[0])


def test_discover_on_a_server_that_cannot_resolve_is_asset_job() -> None:
    """Up to 1.12.13 the workspace comes back empty (with errors); the variant finds the jobs."""
    broken = {"version": "1.12.13", "workspaceOrError": None, "assetNodes": []}
    location = {
        "name": "etl",
        "loadStatus": "LOADED",
        "locationOrLoadError": {
            "__typename": "RepositoryLocation",
            "name": "etl",
            "repositories": [
                {
                    "name": "__repository__",
                    "jobs": [
                        {"name": "orders_job", "description": None, "tags": []},
                        {"name": "ops_job", "description": None, "tags": []},
                    ],
                    "assetGroups": [],
                }
            ],
        },
    }
    node = {
        "assetKey": {"path": ["orders"]},
        "jobNames": ["__ASSET_JOB", "orders_job"],
        "repository": {"name": "__repository__", "location": {"name": "etl"}},
    }
    answer = {
        "version": "1.12.13",
        "workspaceOrError": {"__typename": "Workspace", "locationEntries": [location]},
        "assetNodes": [node],
    }
    transport = ScriptedTransport(ok(broken), ok(answer))
    found = client(transport, 1193).discover()
    assert "isAssetJob" in _query(transport.sent[0])
    assert "isAssetJob" not in _query(transport.sent[1])
    assert {job.ref.name: job.is_asset_job for job in found.jobs} == {
        "orders_job": True,
        "ops_job": False,
    }


def test_when_the_version_cannot_be_learned_the_first_refusal_is_raised() -> None:
    refusal = {"errors": [{"message": 'Cannot query field "floatRepr"'}]}
    no_version = {"errors": [{"message": "version is not allowed here"}]}
    transport = ScriptedTransport(Response(200, refusal, ""), Response(200, no_version, ""))
    with pytest.raises(ValidationError, match="floatRepr"):
        client(transport, 1195).run_metrics("r1")
