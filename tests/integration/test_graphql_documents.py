"""Every GraphQL document daglab sends validates against the live server's schema."""

from __future__ import annotations

import pytest
from graphql import build_client_schema, get_introspection_query, parse, validate

from daglab._client._documents import OPERATIONS, _read
from daglab._compat.graphql import variant_files
from tests.dagster_server import DagsterServer, graphql

pytestmark = pytest.mark.dagster


@pytest.fixture(scope="module")
def schema(dagster_server: DagsterServer):  # type: ignore[no-untyped-def]
    answer = graphql(dagster_server, get_introspection_query())
    return build_client_schema(answer["data"])


DOCUMENTS = sorted(
    (name, file) for name, op in OPERATIONS.items() for file in variant_files(name) or [op.file]
)


@pytest.mark.parametrize(("operation", "file"), DOCUMENTS)
def test_document_matches_the_live_schema(schema, operation: str, file: str) -> None:  # type: ignore[no-untyped-def]
    """Each document and each of its variants for older Dagster (daglab._compat.graphql)."""
    document = parse(_read(file))
    errors = validate(schema, document)
    assert errors == [], [e.message for e in errors]
    kind = document.definitions[0].operation.value  # type: ignore[attr-defined]
    assert (kind == "mutation") == OPERATIONS[operation].mutation
