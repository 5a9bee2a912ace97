"""Every GraphQL document, and each of its variants, against the schema of every tested Dagster.

The schemas (``tests/schemas/dagster-<version>.graphql``) are built offline from dagster-graphql
by ``scripts/schemas``; the live server's schema is checked by
``tests/integration/test_graphql_documents.py``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_schema, parse, validate

from daglab._client._documents import OPERATIONS, _read
from daglab._compat.graphql import DERIVED, VARIANTS, document_file, variant_files

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
VERSIONS = sorted(
    (p.stem.removeprefix("dagster-") for p in SCHEMAS.glob("dagster-*.graphql")),
    key=lambda v: tuple(int(part) for part in v.split(".")),
)
DOCUMENTS = Path(__file__).resolve().parents[2] / "src" / "daglab" / "_client" / "graphql"


@functools.cache
def schema(version: str) -> GraphQLSchema:
    return build_schema((SCHEMAS / f"dagster-{version}.graphql").read_text("utf-8"))


def errors(version: str, file: str) -> list[str]:
    return [e.message for e in validate(schema(version), parse(_read(file)))]


def test_the_tested_versions_have_schemas() -> None:
    assert VERSIONS[0] == "1.11.10" and VERSIONS[-1].startswith("1.13."), VERSIONS
    assert {"1.11.16", "1.12.22"} <= set(VERSIONS)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_the_document_chosen_for_each_version_validates(operation: str, version: str) -> None:
    op = OPERATIONS[operation]
    chosen = document_file(operation, op.file, version)
    assert errors(version, chosen) == []
    kind = parse(_read(chosen)).definitions[0].operation.value  # type: ignore[attr-defined]
    assert (kind == "mutation") == op.mutation


@pytest.mark.parametrize("operation", sorted(VARIANTS))
def test_variants_are_the_same_operation_and_validate_where_chosen(operation: str) -> None:
    op = OPERATIONS[operation]
    files = variant_files(operation)
    assert files[0] == op.file  # the newest is the operation's own document
    names = {parse(_read(f)).definitions[0].name.value for f in files}  # type: ignore[attr-defined]
    assert len(names) == 1, names  # one operation name: the sandbox and logs see one operation
    for version in VERSIONS:
        chosen = document_file(operation, op.file, version)
        assert chosen in files
        assert errors(version, chosen) == [], (version, chosen)


def test_float_repr_is_what_older_schemas_reject() -> None:
    """Why run_metrics has a variant: 1.11.10 has no floatRepr, and gets floatValue."""
    assert any("floatRepr" in e for e in errors("1.11.10", "run_metrics.graphql"))
    assert document_file("run_metrics", "run_metrics.graphql", "1.11.10") == (
        "run_metrics_float_value.graphql"
    )
    assert document_file("run_metrics", "run_metrics.graphql", "1.11.11") == "run_metrics.graphql"


def test_discover_avoids_is_asset_job_where_it_cannot_resolve() -> None:
    """isAssetJob validates everywhere, but webservers up to 1.12.13 raise resolving it."""
    assert all(errors(v, "discover.graphql") == [] for v in VERSIONS)
    pick = functools.partial(document_file, "discover", "discover.graphql")
    assert pick("1.12.13") == pick("1.11.16") == "discover_without_is_asset_job.graphql"
    assert pick("1.12.14") == pick("1.13.27") == "discover.graphql"
    # A version that says nothing of the API (unknown, a source checkout) gets the newest.
    assert pick(None) == pick("1!0+dev") == pick("not-a-version") == "discover.graphql"


def test_every_document_file_is_sent_by_some_operation() -> None:
    used = {op.file for op in OPERATIONS.values()}
    used |= {f for name in VARIANTS for f in variant_files(name)}
    on_disk = {p.name for p in DOCUMENTS.glob("*.graphql")}
    assert on_disk == used - set(DERIVED)  # derived variants are made from a file, not stored
    assert {base for base, _ in DERIVED.values()} <= on_disk
