"""Which variant of a GraphQL document a Dagster webserver accepts, by the version it reports.

Each operation has one document in ``daglab/_client/graphql/``, written for current Dagster.
Where an older webserver rejects or cannot resolve a field, the operation lists older variants
here, newest first, each with the first Dagster release that accepts the one before it. The
client sends the newest, learns the server's version from the answer (variant documents ask for
``version`` too) and sends the variant that version takes; after that it sends that one directly.

``tests/unit/test_graphql_schemas.py`` validates every variant against the schema of each tested
Dagster version (``tests/schemas/``) and checks that the one chosen for that version validates.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """A document file, and the first Dagster release it is for (None: any older one)."""

    file: str
    since: str | None


#: Newest first. Only operations whose document differs between versions are listed.
VARIANTS: dict[str, tuple[Variant, ...]] = {
    # Job.isAssetJob is in every tested schema, but up to Dagster 1.12.13 GrapheneJob never
    # sets the batch loader its resolver reads: the field raises "'GrapheneJob' object has no
    # attribute '_batch_loader'" and the workspace comes back empty (fixed in 1.12.14). Without
    # it, a job is an asset job when asset nodes name it (Discovery.from_graphql does that).
    "discover": (
        Variant("discover.graphql", "1.12.14"),
        Variant("discover_without_is_asset_job.graphql", None),
    ),
    # FloatMetadataEntry.floatRepr (which carries nan and inf) arrived in Dagster 1.11.11;
    # before it, floatValue (null for nan and inf).
    "run_metrics": (
        Variant("run_metrics.graphql", "1.11.11"),
        Variant("run_metrics_float_value.graphql", None),
    ),
}


#: Variants written as "the newer document without these leaf fields", so they cannot drift from
#: it: ``{variant file: (document it is made from, fields left out)}``.
DERIVED: dict[str, tuple[str, tuple[str, ...]]] = {
    "discover_without_is_asset_job.graphql": ("discover.graphql", ("isAssetJob",)),
}


def derive(text: str, fields: tuple[str, ...]) -> str:
    """``text`` without the leaf ``fields`` (scalars without arguments or selections)."""
    import re

    for name in fields:
        text = re.sub(rf"[ \t]*(?<![\w$]){re.escape(name)}(?![\w(])[ \t]*", " ", text)
    return text


def has_variants(operation: str) -> bool:
    """Whether ``operation`` sends a different document to some Dagster versions."""
    return operation in VARIANTS


def variant_files(operation: str) -> tuple[str, ...]:
    """Every document file of ``operation``, newest first (empty without variants)."""
    return tuple(v.file for v in VARIANTS.get(operation, ()))


def document_file(operation: str, default: str, server_version: str | None) -> str:
    """The file to send for ``operation`` to a server reporting ``server_version``.

    ``default`` (the operation's own file) when the operation has no variants, when the version
    is unknown, or when it is not a release number (a Dagster source checkout reports
    ``1!0+dev``): those get the newest document.
    """
    from packaging.version import InvalidVersion, Version

    variants = VARIANTS.get(operation)
    if not variants or not server_version:
        return default
    try:
        version = Version(server_version)
    except InvalidVersion:
        return default
    if version.local or version.epoch:
        return default
    for variant in variants:
        if variant.since is None or version >= Version(variant.since):
            return variant.file
    return variants[-1].file
