"""Every GraphQL document daglab sends validates against the live server's schema."""

from __future__ import annotations

import pytest
from graphql import build_client_schema, get_introspection_query, parse, validate

from daglab._client._documents import OPERATIONS
from tests.dagster_server import DagsterServer, graphql

pytestmark = pytest.mark.dagster


@pytest.fixture(scope="module")
def schema(dagster_server: DagsterServer):  # type: ignore[no-untyped-def]
    answer = graphql(dagster_server, get_introspection_query())
    return build_client_schema(answer["data"])


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_document_matches_the_live_schema(schema, operation: str) -> None:  # type: ignore[no-untyped-def]
    document = parse(OPERATIONS[operation].text)
    errors = validate(schema, document)
    assert errors == [], [e.message for e in errors]
    kind = document.definitions[0].operation.value  # type: ignore[attr-defined]
    assert (kind == "mutation") == OPERATIONS[operation].mutation
