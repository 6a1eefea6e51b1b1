"""Tools for the chat: MCP servers (`ToolHub`). The `mcp` SDK is imported only when a server is
first started, so the app's startup does not pay for it. No Textual here."""

from tui.service.tools.hub import ServerState, ToolHub, ToolInfo, ToolOutcome

__all__ = ["ServerState", "ToolHub", "ToolInfo", "ToolOutcome"]
