"""``daglab partitions``: an asset's partition keys, and dynamic partitions to add or delete."""

from __future__ import annotations

from typing import Annotated

import typer

from daglab._cli._context import CliState
from daglab._cli._endpoint import AuthToken, DagsterPort, DagsterUrl, make_client

partitions_app = typer.Typer(
    help="List an asset's partitions; add or delete dynamic partitions.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

LIST_EXAMPLES = """[bold]Examples[/]

  daglab partitions list shop/daily_sales              type, count, first and last keys

  daglab partitions list shop/regional_orders --all    every key

  daglab partitions list shop/customer_report --json"""

ADD_EXAMPLES = """[bold]Examples[/]

  daglab partitions add shop/customer_report customer-7 customer-8

  daglab partitions add customer_ids customer-9        by the definition's name

  daglab partitions add shop/by_customer_and_day c1 --dimension customer

Under security.sandbox_mode, addDynamicPartition must be in security.allowed_operations."""

DELETE_EXAMPLES = """[bold]Examples[/]

  daglab partitions delete shop/customer_report customer-7

Every key must exist, or nothing is deleted. Under security.sandbox_mode,
deleteDynamicPartitions must be in security.allowed_operations."""

#: Keys a table shows at each end when there are more (``--all`` shows every one).
SHOWN_KEYS = 5

Target = Annotated[
    str,
    typer.Argument(
        help="An asset with dynamic partitions (a/b), or a dynamic partitions definition's name.",
        show_default=False,
    ),
]
Keys = Annotated[list[str], typer.Argument(help="Partition keys.", show_default=False)]
Dimension = Annotated[
    str | None,
    typer.Option(
        "--dimension",
        help="For a multi-partitioned asset: the dynamic dimension the keys belong to.",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print as JSON.")]


def register(app: typer.Typer) -> None:
    app.add_typer(partitions_app, name="partitions")


@partitions_app.command("list", epilog=LIST_EXAMPLES)
def list_partitions(
    ctx: typer.Context,
    asset: Annotated[str, typer.Argument(help="Asset key (a/b).", show_default=False)],
    show_all: Annotated[bool, typer.Option("--all", help="Show every key.")] = False,
    dagster_port: DagsterPort = None,
    url: DagsterUrl = None,
    auth_token: AuthToken = None,
    json_output: Json = False,
) -> None:
    """Show an asset's partitions definition and its keys, as the webserver has them now."""
    from daglab._partitions import asset_partitions

    state: CliState = ctx.ensure_object(CliState)
    with make_client(state, port=dagster_port, url=url, token=auth_token) as client:
        found = asset_partitions(client, asset)
    if json_output:
        from daglab._cli._output import print_json

        print_json(found.to_dict())
        return
    from daglab._cli._output import console, safe

    out = console()
    if found.type is None:
        out.print(f"{safe(found.asset)} is not partitioned.")
        return
    dynamic = f" (dynamic: {', '.join(found.dynamic.values())})" if found.dynamic else ""
    out.print(
        f"{safe(found.asset)}: {found.type.lower()}{safe(dynamic)}, {len(found.keys):,} keys"
        f"  [dim]{safe(found.description)}[/]"
    )
    keys = list(found.keys)
    if not show_all and len(keys) > 2 * SHOWN_KEYS:
        hidden = len(keys) - 2 * SHOWN_KEYS
        keys = [*keys[:SHOWN_KEYS], f"… {hidden:,} more (--all)", *keys[-SHOWN_KEYS:]]
    for key in keys:
        out.print(f"  {safe(key)}")


@partitions_app.command("add", epilog=ADD_EXAMPLES)
def add_partitions(
    ctx: typer.Context,
    target: Target,
    keys: Keys,
    dimension: Dimension = None,
    dagster_port: DagsterPort = None,
    url: DagsterUrl = None,
    auth_token: AuthToken = None,
    json_output: Json = False,
) -> None:
    """Add dynamic partition keys (a key that is already there is reported, not an error)."""
    from daglab import _partitions

    state: CliState = ctx.ensure_object(CliState)
    with make_client(state, port=dagster_port, url=url, token=auth_token) as client:
        where = _partitions.dynamic(client, target, dimension=dimension)
        done = _partitions.add(client, where, keys)
    if json_output:
        from daglab._cli._output import print_json

        print_json({"definition": where.name, "location": where.location, **done})
        return
    from daglab._cli._output import console, safe

    out = console()
    if done["added"]:
        out.print(f"Added to {safe(where.name)}: {safe(', '.join(done['added']))}")
    if done["existing"]:
        out.print(f"Already in {safe(where.name)}: {safe(', '.join(done['existing']))}")


@partitions_app.command("delete", epilog=DELETE_EXAMPLES)
def delete_partitions(
    ctx: typer.Context,
    target: Target,
    keys: Keys,
    dimension: Dimension = None,
    dagster_port: DagsterPort = None,
    url: DagsterUrl = None,
    auth_token: AuthToken = None,
    json_output: Json = False,
) -> None:
    """Delete dynamic partition keys; an unknown key deletes nothing (exit 7)."""
    from daglab import _partitions

    state: CliState = ctx.ensure_object(CliState)
    with make_client(state, port=dagster_port, url=url, token=auth_token) as client:
        where = _partitions.dynamic(client, target, dimension=dimension)
        deleted = _partitions.delete(client, where, keys)
    if json_output:
        from daglab._cli._output import print_json

        print_json({"definition": where.name, "location": where.location, "deleted": deleted})
        return
    from daglab._cli._output import console, safe

    console().print(f"Deleted from {safe(where.name)}: {safe(', '.join(deleted))}")
