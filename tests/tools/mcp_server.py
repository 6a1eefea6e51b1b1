"""A real MCP server for the tests (the official SDK's FastMCP), run as a subprocess over stdio:

    python tests/tools/mcp_server.py
    python tests/tools/mcp_server.py http PORT   (streamable HTTP on 127.0.0.1:PORT/mcp)

Tools: add(a, b) → the sum; echo(text) → the text; fail() raises (the result isError); slow()
sleeps past any test timeout; crash() ends the process mid-call. `MCP_TEST_PIDFILE` (env)
names a file the server writes its pid to; `MCP_TEST_LOG` one it appends each call to.
"""

from __future__ import annotations

import asyncio
import os
import sys

from mcp.server.fastmcp import FastMCP

HTTP = len(sys.argv) > 2 and sys.argv[1] == "http"
server = FastMCP("ollama-tui-test", port=int(sys.argv[2]) if HTTP else 8000, log_level="WARNING")


def _log(line: str) -> None:
    path = os.environ.get("MCP_TEST_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    _log(f"add {a} {b}")
    return a + b


@server.tool()
def echo(text: str) -> str:
    """Say the text back."""
    _log(f"echo {text}")
    return text


@server.tool()
def fail() -> str:
    """Always fails."""
    _log("fail")
    raise ValueError("the fail tool failed on purpose")


@server.tool()
async def slow() -> str:
    """Takes a minute."""
    _log("slow")
    await asyncio.sleep(60)
    return "finally"


def whoami() -> str:
    """The Authorization header of the HTTP request (offered over HTTP only)."""
    request = server.get_context().request_context.request
    return request.headers.get("authorization", "") if request is not None else ""


@server.tool()
def crash() -> str:
    """Ends the server process."""
    _log("crash")
    sys.stderr.write("crashing on purpose\n")
    sys.stderr.flush()
    os._exit(3)


if __name__ == "__main__":
    pidfile = os.environ.get("MCP_TEST_PIDFILE")
    if pidfile:
        with open(pidfile, "w", encoding="utf-8") as f:
            f.write(str(os.getpid()))
    if HTTP:
        server.tool()(whoami)
    server.run("streamable-http" if HTTP else "stdio")
