"""`ToolHub`: the configured MCP servers ([mcp.servers.<name>]), started when first needed (over
stdio or streamable HTTP with the official `mcp` SDK), their tools listed, calls made with a
timeout, and every server we started stopped on `aclose`.

Each server lives in a task of its own (the SDK's transports are anyio context managers that
must be left by the task that entered them); a server that cannot start, or stops answering,
is `failed` with the reason, and the others go on. A stdio server whose process ends while it
runs (between turns too) is `failed` at once: its output stream ends, which the hub watches. Tool descriptions and names from a server are
made inert and bounded here; a tool's result is kept as written (bounded), like model output,
and made inert by whatever shows it.

This module must not import textual.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO, TYPE_CHECKING, Any, Literal

from tui.service.untrusted import inert_deep, inert_short

if TYPE_CHECKING:
    from mcp import ClientSession

    from tui.service.config.model import McpServerConfig

log = logging.getLogger(__name__)

State = Literal["not started", "starting", "running", "failed", "off"]
RESULT_LIMIT = 100_000
"""A tool result longer than this is cut (with a note): the model's context is far smaller."""
START_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class ToolInfo:
    server: str
    name: str
    description: str
    parameters: Mapping[str, Any]

    def to_ollama(self) -> dict[str, Any]:
        """The entry of Ollama's `tools` request field."""
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": dict(self.parameters)}}


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """What a call came to: `text` is what the model is sent. `kind`: ok | error (the tool
    said isError) | timeout | failed (no server, the server died, the call could not be made) |
    refused (the user said no)."""

    text: str
    kind: Literal["ok", "error", "timeout", "failed", "refused"] = "ok"

    @property
    def is_error(self) -> bool:
        return self.kind != "ok"


@dataclass(eq=False)
class ServerState:
    """One configured server, as the Tools view shows it."""

    config: McpServerConfig
    state: State = "not started"
    reason: str = ""
    tools: list[ToolInfo] = field(default_factory=list)
    off: bool = False  # switched off until the app quits (the Tools view)
    _session: ClientSession | None = field(default=None, repr=False)
    _task: asyncio.Task[None] | None = field(default=None, repr=False)
    _stop: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _ready: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _errlog: IO[str] | None = field(default=None, repr=False)
    _calls: int = field(default=0, repr=False)  # calls under way

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def label(self) -> str:
        """"running", "failed: <reason>", "not started", "off"."""
        if self.off or not self.config.enabled:
            return "off" if self.config.enabled else "disabled in the config"
        return f"failed: {self.reason}" if self.state == "failed" and self.reason else self.state


StateCallback = Callable[[ServerState], None]


class ToolHub:
    """The MCP servers of the config and the tools the chat may offer.

    `on_state(server)` is called (in the event loop) whenever a server's state changes: started,
    failed (with the reason), stopped."""

    def __init__(self, servers: Mapping[str, Any], *, timeout: float = 30.0,
                 on_state: StateCallback | None = None) -> None:
        self.servers: dict[str, ServerState] = {name: ServerState(cfg) for name, cfg in servers.items()}
        self.timeout = timeout
        self.on_state = on_state
        self.tools_off: set[str] = set()  # tool names switched off until the app quits
        # chat session id → the tool names the user allowed to run without asking in that chat
        self._allowed: dict[int, set[str]] = {}
        self._closing = False

    # -- what runs without asking ---------------------------------------------------------------

    def allowed(self, session_id: int | None) -> frozenset[str]:
        """The tools "always allow" was answered for in this chat (none for no chat): a
        permission given in one chat is not carried into another."""
        return frozenset(self._allowed.get(session_id, ())) if session_id is not None else frozenset()

    def allow(self, session_id: int, tool: str) -> None:
        """From now on `tool` runs without asking in this chat (until the app quits)."""
        self._allowed.setdefault(session_id, set()).add(tool)

    # -- what is offered ---------------------------------------------------------------------

    @property
    def configured(self) -> bool:
        """Whether any server is enabled (and not switched off): only then are tools offered."""
        return any(s.config.enabled and not s.off for s in self.servers.values())

    async def tools(self) -> list[ToolInfo]:
        """The tools on offer: every enabled server started (at once, in parallel) if it was not,
        the tools of those running, less the ones switched off. A name two servers share goes
        to the first."""
        wanted = [s for s in self.servers.values() if s.config.enabled and not s.off]
        await asyncio.gather(*(self.start(s.name) for s in wanted))
        seen: set[str] = set()
        out: list[ToolInfo] = []
        for server in wanted:
            if server.state != "running":
                continue
            for tool in server.tools:
                if tool.name not in seen and tool.name not in self.tools_off:
                    seen.add(tool.name)
                    out.append(tool)
        return out

    def server_of(self, tool: str) -> ServerState | None:
        for server in self.servers.values():
            if server.state == "running" and not server.off and any(t.name == tool for t in server.tools):
                return server
        return None

    def set_server_off(self, name: str, off: bool) -> None:
        self.servers[name].off = off
        self._changed(self.servers[name])

    def set_tool_off(self, tool: str, off: bool) -> None:
        (self.tools_off.add if off else self.tools_off.discard)(tool)

    # -- lifetime ----------------------------------------------------------------------------

    async def start(self, name: str) -> ServerState:
        """Start `name` unless it runs (or failed: that stays until `restart`); returns when it
        runs or has failed."""
        server = self.servers[name]
        if server.state in ("running", "failed") or self._closing:
            return server
        if server._task is None:
            server.state, server.reason = "starting", ""
            server._stop, server._ready = asyncio.Event(), asyncio.Event()
            server._task = asyncio.create_task(self._run(server), name=f"mcp server {name}")
            self._changed(server)
        try:
            await asyncio.wait_for(server._ready.wait(), START_TIMEOUT)
        except TimeoutError:
            self._fail(server, f"did not start within {START_TIMEOUT:.0f} s")
            server._stop.set()
        return server

    async def restart(self, name: str) -> ServerState:
        await self.stop(name)
        server = self.servers[name]
        server.state, server.reason = "not started", ""
        return await self.start(name)

    async def stop(self, name: str) -> None:
        """Stop `name` if we started it (its process ends with the transport)."""
        server = self.servers[name]
        task, server._task = server._task, None
        if task is None:
            return
        server._stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), 10)
        except (TimeoutError, Exception):  # noqa: BLE001 - stopping must not fail the app's exit
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        if server.state == "running":
            server.state = "not started"
        server._session = None
        self._changed(server)

    async def aclose(self) -> None:
        """Stop every server we started (and only those)."""
        self._closing = True
        await asyncio.gather(*(self.stop(name) for name in self.servers), return_exceptions=True)

    async def _run(self, server: ServerState) -> None:
        try:
            from mcp import ClientSession  # lazily: the SDK costs startup time

            async with contextlib.AsyncExitStack() as stack:
                read, write = await self._connect(server, stack)
                lost = asyncio.Event()  # the server's output ended: it stopped (or closed it)
                read = await _watched(stack, read, lost)
                session = await stack.enter_async_context(ClientSession(read, write))
                await session.initialize()
                listed = await session.list_tools()
                server.tools = [_tool_info(server.name, t) for t in listed.tools]
                server._session = session
                server.state, server.reason = "running", ""
                server._ready.set()
                self._changed(server)
                await _first(server._stop.wait(), lost.wait())
                if not server._stop.is_set() and server.state == "running":
                    why = "stopped during a call" if server._calls else "stopped"
                    tail = self._stderr_tail(server)
                    self._fail(server, inert_short(f"{why}{': ' + tail if tail else ''}", 300))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - an ExceptionGroup from anyio included
            log.warning("MCP server %s: %s", server.name, _describe(exc), exc_info=True)
            if not server._stop.is_set():
                self._fail(server, self._reason(server, exc))
        finally:
            server._session = None
            server._ready.set()
            if server._errlog is not None:
                server._errlog.close()
                server._errlog = None

    async def _connect(self, server: ServerState, stack: contextlib.AsyncExitStack) -> tuple[Any, Any]:
        cfg = server.config
        if cfg.url:
            import httpx
            from mcp.client.streamable_http import streamable_http_client

            client = await stack.enter_async_context(httpx.AsyncClient(
                headers=dict(cfg.headers), follow_redirects=False,
                timeout=httpx.Timeout(10, read=max(self.timeout, 10) + 5)))
            streams = await stack.enter_async_context(streamable_http_client(cfg.url, http_client=client))
            return streams[0], streams[1]
        import tempfile

        from mcp.client.stdio import StdioServerParameters, stdio_client

        # The server's stderr goes to a file, never to the terminal the app draws on; its last
        # lines say why it failed.
        server._errlog = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")
        params = StdioServerParameters(command=cfg.command, args=list(cfg.args), env=dict(cfg.env) or None)
        read, write = await stack.enter_async_context(stdio_client(params, errlog=server._errlog))
        return read, write

    def _reason(self, server: ServerState, exc: BaseException) -> str:
        reason = _describe(exc)
        tail = self._stderr_tail(server)
        return inert_short(f"{reason}{' — ' + tail if tail else ''}", 300)

    @staticmethod
    def _stderr_tail(server: ServerState) -> str:
        errlog = server._errlog
        if errlog is None:
            return ""
        try:
            errlog.flush()
            errlog.seek(0)
            lines = [line.strip() for line in errlog.read()[-4000:].splitlines() if line.strip()]
        except (OSError, ValueError):
            return ""
        return lines[-1] if lines else ""

    def _fail(self, server: ServerState, reason: str) -> None:
        server.state, server.reason = "failed", reason
        server._ready.set()
        self._changed(server)

    def _changed(self, server: ServerState) -> None:
        if self.on_state is not None:
            try:
                self.on_state(server)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop a server
                log.exception("tool hub listener failed")

    # -- calls -------------------------------------------------------------------------------

    async def call(self, tool: str, arguments: Mapping[str, Any], *, timeout: float | None = None) -> ToolOutcome:
        """Call `tool` with `arguments`; never raises for what the server does (the outcome
        says it: the tool's error, a timeout, the server gone)."""
        server = self.server_of(tool)
        if server is None or server._session is None:
            return ToolOutcome(f"no running server offers the tool {tool!r}", "failed")
        limit = self.timeout if timeout is None else timeout
        server._calls += 1
        try:
            result = await asyncio.wait_for(
                server._session.call_tool(tool, dict(arguments), read_timeout_seconds=timedelta(seconds=limit)),
                limit + 2)
        except TimeoutError:
            return ToolOutcome(f"the tool {tool} timed out after {limit:g} s", "timeout")
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - McpError, a closed stream, an ExceptionGroup
            text = _describe(exc)
            if "timed out" in text.lower() or "timeout" in text.lower():
                return ToolOutcome(f"the tool {tool} timed out after {limit:g} s", "timeout")
            if server.state == "failed":  # its end was seen (the watched output): said once
                return ToolOutcome(f"the server {server.name} stopped during the call ({server.reason})", "failed")
            if not await self._alive(server):
                reason = self._reason(server, exc) if text else "the server stopped"
                if server.state != "failed":
                    self._fail(server, f"stopped during a call: {reason}")
                server._stop.set()
                return ToolOutcome(f"the server {server.name} stopped during the call ({reason})", "failed")
            return ToolOutcome(f"the call failed: {text}", "failed")
        finally:
            server._calls -= 1
        text = _result_text(result)
        return ToolOutcome(text, "error" if getattr(result, "isError", False) else "ok")

    @staticmethod
    async def _alive(server: ServerState) -> bool:
        session = server._session
        if session is None:
            return False
        try:
            await asyncio.wait_for(session.send_ping(), 3)
        except BaseException:  # noqa: BLE001
            return False
        return True


async def _watched(stack: contextlib.AsyncExitStack, read: Any, lost: asyncio.Event) -> Any:
    """The transport's read stream passed on through a stream of our own, with `lost` set when
    it ends (a stdio server's process exited): the SDK's session just stops reading then."""
    import anyio

    send, receive = anyio.create_memory_object_stream[Any](0)

    async def forward() -> None:
        try:
            async with send:
                async for item in read:
                    await send.send(item)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass
        finally:
            lost.set()

    group = await stack.enter_async_context(anyio.create_task_group())
    stack.callback(group.cancel_scope.cancel)  # left before the group is: the forwarder ends
    group.start_soon(forward)
    stack.push_async_callback(receive.aclose)
    return receive


async def _first(*waits: Any) -> None:
    """Until the first of `waits` (coroutines) is done; the others are cancelled."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def _tool_info(server: str, tool: Any) -> ToolInfo:
    schema = tool.inputSchema if isinstance(getattr(tool, "inputSchema", None), dict) else {}
    return ToolInfo(server=server, name=inert_short(str(tool.name), 128),
                    description=inert_short(str(tool.description or ""), 2000),
                    parameters=inert_deep(schema, 2000) or {"type": "object", "properties": {}})


def _result_text(result: Any) -> str:
    """The text of a CallToolResult: its text parts, others described; structured content as
    JSON when there is no text."""
    import json

    parts: list[str] = []
    for item in getattr(result, "content", None) or []:
        kind = getattr(item, "type", "")
        if kind == "text":
            parts.append(str(item.text))
        elif kind == "resource":
            resource = item.resource
            parts.append(str(getattr(resource, "text", "") or f"[resource {resource.uri}]"))
        else:
            parts.append(f"[{kind or 'content'} omitted]")
    structured = getattr(result, "structuredContent", None)
    if not parts and structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False))
    text = "\n".join(parts)
    if len(text) > RESULT_LIMIT:
        text = text[:RESULT_LIMIT] + f"\n[cut at {RESULT_LIMIT:,} characters]"
    return text


def _describe(exc: BaseException) -> str:
    """One line for an exception, looking inside exception groups (anyio's task groups)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, FileNotFoundError):
        text = f"command not found ({exc.filename or text})"
    return text.splitlines()[0] if text else type(exc).__name__
