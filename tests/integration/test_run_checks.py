"""Asset check results of a run launched in the real ``dagster dev`` (three-location fixture)."""

from __future__ import annotations

import pytest

from daglab._checks import blocking_failures, run_checks
from daglab._client import JobRef
from tests.dagster_server import DagsterServer
from tests.integration.test_backfill import client_for

pytestmark = pytest.mark.dagster


def test_a_run_reports_each_check_and_which_fail_it(shop_server: DagsterServer) -> None:
    with client_for(shop_server) as client:
        run = client.launch(JobRef("orders_job", "__repository__", "dagster_shop"))
        done = client.wait(run.run_id, timeout=240)
        assert done.status == "SUCCESS"  # Dagster's view: checks do not fail the run
        checks = {(c.asset, c.name): c for c in run_checks(client, run.run_id)}
    assert checks[("shop/orders", "orders_positive")].passed
    enough = checks[("shop/orders", "orders_enough_rows")]
    assert (enough.passed, enough.severity) == (False, "ERROR")
    ideal = checks[("shop/orders", "orders_ideal_rows")]
    assert (ideal.passed, ideal.severity) == (False, "WARN")
    assert checks[("shop/customers", "customers_have_ids")].passed
    assert [(c.asset, c.name) for c in blocking_failures(list(checks.values()))] == [
        ("shop/orders", "orders_enough_rows")
    ]
