"""``daglab mcp``: Dagster through daglab's client, as tools for an agent host.

The tool list is the registry in :mod:`daglab._mcp._registry`: read-only tools always, and a
tool that changes something only when its operation (``launchRun``, ``terminateRun``,
``scaffoldNotebook``, ``exportNotebook``) is allowed when the server starts (``--allow`` plus the
``mcp.allow`` config key). ``security.allowed_operations`` does not apply here: over MCP the
client always runs in sandbox mode with exactly the server's allow-list.

The SDK (``mcp``) is imported only when the server is built, never by ``daglab --help``.
"""

from __future__ import annotations

from daglab._mcp._registry import MUTATIONS, TOOLS, ToolSpec, tools_for

__all__ = ["MUTATIONS", "TOOLS", "ToolSpec", "tools_for"]
