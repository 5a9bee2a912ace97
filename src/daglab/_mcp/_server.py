"""The MCP server: the registry's tools on the official SDK, guarded and redacted.

Every tool call goes through :func:`_guarded`: a tool whose operation is not allowed is refused
(exit 6, worded for an agent host) and recorded; a daglab error becomes a tool error carrying
the message, the remediation and the exit code; anything else is logged with its traceback to
the log file only and reported without it. Every result passes through redaction.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from daglab._errors import AuthenticationError, DaglabError, UsageError
from daglab._mcp._registry import MUTATIONS, TOOLS, ToolSpec, tools_for

if TYPE_CHECKING:
    from daglab._config import LoadedConfig
    from daglab._mcp._tools import Services

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
INSTRUCTIONS = (
    "daglab's tools for one Dagster deployment. Read-only unless the person running the server"
    " allowed more with --allow. Validate a run config before launching; wait_for_run never"
    " cancels a run. Errors carry a remediation and daglab's exit code."
)


@dataclass(frozen=True)
class ServeOptions:
    transport: str = "stdio"
    host: str = "127.0.0.1"
    port: int = 8765
    allow: tuple[str, ...] = ()


def allowed_operations(loaded: LoadedConfig, allow: Sequence[str]) -> frozenset[str]:
    """``--allow`` plus ``mcp.allow``; each must be an operation some tool needs."""
    wanted = [*allow, *loaded.config.mcp.allow]
    unknown = [op for op in wanted if op not in MUTATIONS]
    if unknown:
        from daglab._errors import did_you_mean

        raise UsageError(
            f"{unknown[0]!r} is not an operation the MCP server can allow"
            + did_you_mean(unknown[0], MUTATIONS),
            remediation=f"Allow one of: {', '.join(MUTATIONS)}.",
        )
    return frozenset(wanted)


def check_host(host: str) -> None:
    if host not in LOOPBACK_HOSTS:
        raise UsageError(
            f"--host {host!r} is not a loopback address; the MCP server listens on this machine"
            " only (its tools act with your Dagster credentials)",
            remediation="Use --host 127.0.0.1 (the default) and reach it through a tunnel you"
            " control if another machine needs it.",
        )


def _error_text(exc: DaglabError, spec: ToolSpec) -> str:
    from daglab._logging import redact

    data = exc.to_dict()
    if isinstance(exc, AuthenticationError) and spec.operation:
        data["remediation"] = (
            f"This server does not allow {spec.operation}. Ask the person running it to restart"
            f" it with `--allow {spec.operation}` (or add it to mcp.allow in daglab.yaml)."
        )
    return redact(json.dumps(data, default=str))


def _refusal(spec: ToolSpec) -> AuthenticationError:
    return AuthenticationError(
        f"{spec.name} needs {spec.operation}, which this MCP server does not allow",
        remediation=f"Restart the server with `--allow {spec.operation}`.",
    )


#: Changes made here rather than in Dagster; the client records the Dagster ones itself.
LOCAL_OPERATIONS = ("scaffoldNotebook", "exportNotebook")


def _audit(
    spec: ToolSpec, arguments: dict[str, Any], outcome: str, result: Any, root: Path
) -> None:
    """A refusal by this server, or a local change asked for over MCP, goes to the history.

    Changes in Dagster (launch, terminate, attach) are recorded by the client that sends them.
    """
    from daglab._client._audit import record

    assert spec.operation is not None  # noqa: S101  type narrowing, an invariant
    run_id = result.get("run_id") if isinstance(result, dict) else None
    record(
        origin="mcp",
        operation=spec.operation,
        variables={k: v for k, v in arguments.items() if k != "ctx"},
        outcome=outcome,
        run_id=run_id or arguments.get("run_id"),
        start=root,
    )


def _guarded(
    spec: ToolSpec, allowed: frozenset[str], root: Path, fn: Callable[..., Any]
) -> Callable[..., Any]:
    """``fn`` with daglab's refusals, error translation, redaction and audit around it."""
    from mcp.server.mcpserver.exceptions import ToolError

    from daglab._logging import get_logger, redact

    log = get_logger("mcp")

    def before(arguments: dict[str, Any]) -> None:
        if spec.operation is not None and spec.operation not in allowed:
            _audit(spec, arguments, "refused", None, root)
            raise ToolError(_error_text(_refusal(spec), spec))

    def after(arguments: dict[str, Any], result: Any) -> Any:
        if spec.operation in LOCAL_OPERATIONS:
            _audit(spec, arguments, "ok", result, root)
        return json.loads(redact(json.dumps(result, default=str)))

    def failed(arguments: dict[str, Any], exc: Exception) -> ToolError:
        if spec.operation in LOCAL_OPERATIONS:
            _audit(spec, arguments, f"error: {type(exc).__name__}", None, root)
        if isinstance(exc, DaglabError):
            log.info("tool %s: %s", spec.name, exc.message)
            return ToolError(_error_text(exc, spec))
        log.error("tool %s raised unexpectedly", spec.name, exc_info=exc)  # file only
        unexpected = DaglabError(f"{spec.name} failed unexpectedly: {type(exc).__name__}")
        return ToolError(_error_text(unexpected, spec))

    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def run_async(**arguments: Any) -> Any:
            before(arguments)
            try:
                result = await fn(**arguments)
            except ToolError:
                raise
            except Exception as exc:
                raise failed(arguments, exc) from None
            return after(arguments, result)

        return run_async

    @functools.wraps(fn)
    def run(**arguments: Any) -> Any:
        before(arguments)
        try:
            result = fn(**arguments)
        except Exception as exc:
            raise failed(arguments, exc) from None
        return after(arguments, result)

    return run


def tool_inputs(name: str) -> list[str]:
    """The arguments a tool takes, in order (for ``--list-tools``)."""
    from typing import cast

    from daglab._mcp._functions import functions

    fn = functions(cast("Services", None))[name]  # signatures only: nothing is called
    return [param for param in inspect.signature(fn).parameters if param != "ctx"]


def build_server(services: Services) -> Any:
    """An ``MCPServer`` with every tool; only the allowed ones are listed."""
    from mcp.server.mcpserver import MCPServer
    from mcp_types import ToolAnnotations

    from daglab._mcp._functions import functions
    from daglab._version import __version__

    listed = {spec.name for spec in tools_for(services.allowed)}

    class DaglabServer(MCPServer[Any]):
        async def list_tools(self) -> Any:
            return [tool for tool in await super().list_tools() if tool.name in listed]

    server = DaglabServer(
        name="daglab", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )
    implementations = functions(services)
    for spec in TOOLS:
        annotations = ToolAnnotations(
            title=spec.name.replace("_", " "),
            read_only_hint=spec.read_only,
            destructive_hint=spec.destructive if not spec.read_only else False,
            idempotent_hint=spec.read_only or spec.idempotent,
            open_world_hint=True,
        )
        server.add_tool(
            _guarded(
                spec, services.allowed, services.loaded.project.root, implementations[spec.name]
            ),
            name=spec.name,
            description=spec.description,
            annotations=annotations,
            structured_output=True,
        )
    return server


def quiet_sdk_logging() -> None:
    """The SDK logs at WARNING, through daglab's redacting formatter, to the log file only;
    daglab's own console lines (stderr) carry no traceback: those go to the log file."""
    from daglab._logging import LOGGER_NAME, RedactingFormatter

    class NoTraceback(RedactingFormatter):
        def formatException(self, ei: Any) -> str:
            return ""

        def formatStack(self, stack_info: str) -> str:
            return ""

    ours = logging.getLogger(LOGGER_NAME)
    files = [h for h in ours.handlers if hasattr(h, "baseFilename")]
    for handler in ours.handlers:
        if handler not in files:
            handler.setFormatter(NoTraceback("daglab: %(levelname)s: %(message)s"))
    for name in ("mcp", "mcp_types", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.WARNING)
        logger.handlers = list(files)
        logger.propagate = False


def serve(services: Services, options: ServeOptions) -> None:
    """Serve until the host closes the connection (stdio) or the process is interrupted."""
    import anyio

    quiet_sdk_logging()
    server = build_server(services)
    if options.transport == "stdio":
        anyio.run(server.run_stdio_async)
        return
    check_host(options.host)
    from mcp.server.transport_security import TransportSecuritySettings

    hosts = [f"{name}:{options.port}" for name in ("127.0.0.1", "localhost", "[::1]")]
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[f"http://{host}" for host in hosts],
    )
    anyio.run(
        functools.partial(
            server.run_streamable_http_async,
            host=options.host,
            port=options.port,
            transport_security=security,
        )
    )
