"""One chat turn end to end: persist the prompt, stream the reply, save it however it ends."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Awaitable, Sequence
from contextlib import aclosing
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Callable, Literal, Protocol

from tui.service.ollama.errors import OllamaError, StreamError
from tui.service.ollama.names import same_model
from tui.service.untrusted import inert_short

if TYPE_CHECKING:
    from tui.service.config import Config
    from tui.service.history import HistoryStore, Message, Session
    from tui.service.ollama.types import ModelInfo, ToolCall
    from tui.service.providers.protocol import Provider
    from tui.service.providers.registry import HostRegistry
    from tui.service.tools import ToolHub, ToolOutcome

DeltaCallback = Callable[[str, str], None]
"""Called in the event loop for every chunk: (content piece, thinking piece)."""

MAX_REPLY_CHARS = 1_000_000
"""A reply (answer + thinking) longer than this is cut there: far beyond any real answer (a
runaway model or a broken server), and more would stall the screen and bloat the history."""


class ReplyTooLong(Exception):
    """Internal: the reply passed `max_reply_chars`."""


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """Everything one request needs, resolved from the session, its preset and the config."""

    model: str
    options: dict[str, Any]
    think: bool | str | None = None
    format: str | None = None
    keep_alive: str | int | None = None
    system_prompt: str | None = None


@dataclass(frozen=True, slots=True)
class TurnPlan:
    """What to send: the request (every layer resolved by `build_request`), the installed
    model it goes to (None when the list could not be had: the request will say what is
    wrong) and, when that model probably won't fit in memory, why (the user is asked)."""

    request: TurnRequest
    model: ModelInfo | None = None
    fit_warning: str | None = None


class TurnSettings(Protocol):
    """What `build_request` reads of a session: a stored `Session`, or a new chat's choices
    (the bench's, before any session is stored)."""

    @property
    def model(self) -> str: ...
    @property
    def preset(self) -> str | None: ...
    @property
    def options(self) -> dict[str, Any]: ...
    @property
    def think(self) -> bool | str | None: ...
    @property
    def system_prompt(self) -> str | None: ...
    @property
    def keep_alive(self) -> str | int | float | None: ...


Reason = Literal["no_model", "not_installed", "capability"]


@dataclass(frozen=True, slots=True)
class NotSent:
    """Why a turn is not sent: no model chosen, the model is not installed (offer a pull), or
    it lacks a capability the turn needs (`capability`: "vision" for images)."""

    reason: Reason
    model: str = ""
    capability: str | None = None


FitCheck = Callable[[str, "int | None"], Awaitable["str | None"]]
"""(model name, size on disk) → why it probably won't fit in free memory, or None."""


@dataclass(frozen=True, slots=True)
class ReplyResult:
    message_id: int
    content: str
    thinking: str
    status: str  # complete | stopped | error
    error: str | None
    stats: dict[str, Any] | None
    tool_calls: tuple[ToolCall, ...] = ()  # the calls the model asked for (complete replies only)
    notice: str | None = None  # something the chat says about how the reply was had (tools dropped)


def refuses_tools(exc: OllamaError) -> bool:
    """The server answered 400 because of the `tools` field (vLLM without
    --enable-auto-tool-choice: '"auto" tool choice requires --enable-auto-tool-choice and
    --tool-call-parser to be set'; Ollama: 'does not support tools')."""
    return getattr(exc, "status", None) in (400, 422) and "tool" in (exc.message or "").lower()


REFUSED = "The user refused to run this tool call. Do not call it again for this request; answer without it."
STOPPED = "The user stopped the turn before this tool call ran."
STOPPED_RUNNING = ("The user stopped the turn while this tool call ran: it may have done part of its work; "
                   "there is no result.")


class ChatService:
    """Sends a turn of a session and keeps the history store in step with what was received.

    The user's message is written before the request goes out; the reply row is created at once
    with status 'streaming', saved every `save_interval` seconds while it grows (in the
    background, so a slow disk never stalls the stream), and written a last time when the
    stream ends — complete, stopped (cancelled) or error.
    """

    def __init__(self, hosts: HostRegistry, store: HistoryStore, *, save_interval: float = 1.0,
                 max_reply_chars: int = MAX_REPLY_CHARS, tools: ToolHub | None = None) -> None:
        self.hosts = hosts
        self.store = store
        self.tools = tools
        self.save_interval = save_interval
        self.max_reply_chars = max_reply_chars
        #: (host, model) → the model's capabilities on that host, once known.
        self._capabilities: dict[tuple[str, str], tuple[str, ...]] = {}
        #: (host, model) pairs whose server refused a request with tools (400): sent none since.
        self._no_tools: set[tuple[str, str]] = set()

    @property
    def client(self) -> Provider:
        """The current host's provider (asked for at each use: the host may change)."""
        return self.hosts.provider

    # -- before sending ----------------------------------------------------------------------

    async def capabilities(self, model: str) -> tuple[str, ...] | None:
        """`model`'s capabilities on the current host (None when they could not be had).
        Cached per (host, model): another host's model of the same name is asked anew."""
        key = (self.hosts.key, model)
        if key in self._capabilities:
            return self._capabilities[key]
        try:
            show = await self.client.show(model)
        except OllamaError:  # not found, unreachable…: the request itself will say
            return None
        self._capabilities[key] = tuple(show.capabilities)
        return self._capabilities[key]

    async def missing_capability(self, model: str, needs: Sequence[str]) -> NotSent | None:
        """A NotSent("capability") when `model` is known to lack one of `needs`, else None."""
        if not needs:
            return None
        capabilities = await self.capabilities(model)
        if capabilities is None:
            return None
        missing = next((need for need in needs if need not in capabilities), None)
        return None if missing is None else NotSent("capability", model, missing)

    async def installed(self, model: str) -> ModelInfo | None | Literal[False]:
        """`model`'s entry in the server's list; False when it is not there; None when the
        list could not be had."""
        try:
            tags = await self.client.tags()
        except OllamaError:
            return None
        info = next((m for m in tags if same_model(model, m.name)), None)
        return False if info is None else info

    async def prepare(self, session: Session, config: Config, *, needs: Sequence[str] = (),
                      fit_check: FitCheck | None = None) -> TurnPlan | NotSent:
        """What `session`'s next turn sends, or why it is not sent (see NotSent). `needs`:
        capabilities the turn requires ("vision" with images); `fit_check` judges whether the
        installed model fits in memory (a model loaded already is not checked)."""
        model = session.model or ""
        if not model.strip():
            return NotSent("no_model")
        missing = await self.missing_capability(model, needs)
        if missing is not None:
            return missing
        info = await self.installed(model)
        if info is False:
            return NotSent("not_installed", model)
        warning = await fit_check(info.name, info.size) if info is not None and fit_check else None
        request = build_request(config, session, await self.capabilities(model))
        return TurnPlan(request, info, warning)

    # -- tools -------------------------------------------------------------------------------

    async def tools_for(self, model: str) -> list[dict[str, Any]]:
        """The `tools` field for a request to `model`: the tools of the enabled MCP servers
        (started now if they were not), only when the model has the `tools` capability. An
        OpenAI-compatible server says nothing of capabilities: tools are sent to its models until
        the server refuses them (stream_reply then retries without and remembers)."""
        if self.tools is None or not self.tools.configured:
            return []
        if (self.hosts.key, model) in self._no_tools:
            return []
        if self.client.kind != "openai":
            capabilities = await self.capabilities(model)
            if capabilities is None or "tools" not in capabilities:
                return []
        return [tool.to_ollama() for tool in await self.tools.tools()]

    async def answer_tool_call(self, session_id: int, call: ToolCall, *, run: bool, model: str | None = None,
                               timeout: float | None = None) -> ToolOutcome:
        """Run `call` (or, `run` False, refuse it) and store the `tool` message the model is sent:
        the result, the tool's error, the timeout, or the refusal."""
        from tui.service.tools import ToolOutcome

        if call.error:  # could not be run as made (arguments not JSON): the model is told why
            outcome = ToolOutcome(call.error, "error")
        elif not run:
            outcome = ToolOutcome(REFUSED, "refused")
        elif self.tools is None:
            outcome = ToolOutcome("no tools are configured", "failed")
        else:
            outcome = await self.tools.call(call.name, call.arguments, timeout=timeout)
        await self.store_tool_result(session_id, call, outcome, model)
        return outcome

    async def store_tool_result(self, session_id: int, call: ToolCall, outcome: ToolOutcome,
                                model: str | None = None) -> Message:
        return await self.store.add_message(
            session_id, "tool", outcome.text, model=model, tool_name=call.name,
            tool_calls=[{"name": call.name, "arguments": dict(call.arguments)}],
            error=None if outcome.kind == "ok" else outcome.kind)

    # -- sending -----------------------------------------------------------------------------

    async def request_messages(self, session_id: int, system_prompt: str | None) -> list[dict[str, Any]]:
        """The active conversation as Ollama `messages` (images re-read from the store)."""
        count = await self.store.count_messages(session_id)
        history = await self.store.messages(session_id, limit=max(count, 1))
        messages: list[dict[str, Any]] = []
        if system_prompt:
            messages.append({"role": "system", "content": system_prompt})
        for message in history:
            if message.role not in ("user", "assistant", "system", "tool") or message.status == "streaming":
                continue
            if message.role == "assistant" and not message.content and message.status != "complete":
                continue
            entry: dict[str, Any] = {"role": message.role, "content": message.content}
            if message.role == "assistant" and message.tool_calls:
                entry["tool_calls"] = [{"function": {"name": c["name"], "arguments": c["arguments"]}}
                                       for c in message.tool_calls]
            if message.role == "tool":
                entry["tool_name"] = message.tool_name or ""
            if message.role == "user" and message.has_images:
                attachments = await self.store.attachments(message.id)
                if attachments:
                    entry["images"] = [base64.b64encode(a.data).decode("ascii") for a in attachments]
            messages.append(entry)
        return messages

    async def add_user_message(
        self, session_id: int, text: str, model: str, images: list[tuple[str, str, bytes]] = ()
    ) -> Message:
        return await self.store.add_message(session_id, "user", text, model=model, images=list(images))

    async def stream_reply(
        self, session_id: int, request: TurnRequest, on_delta: DeltaCallback,
        tools: list[dict[str, Any]] | None = None,
    ) -> ReplyResult:
        """Stream the assistant's answer to the conversation as stored; returns how it ended.
        `tools`: Ollama's `tools` field (see tools_for); the calls the model makes are stored
        with the reply and returned in `ReplyResult.tool_calls`.

        Cancelling the task that awaits this (Esc) stores the partial reply as 'stopped' and
        re-raises CancelledError.
        """
        messages = await self.request_messages(session_id, request.system_prompt)
        reply = await self.store.add_message(
            session_id, "assistant", "", model=request.model, status="streaming"
        )
        content: list[str] = []
        thinking: list[str] = []
        started = time.perf_counter()
        first_token: float | None = None
        last_save = started
        pending_save: asyncio.Task[None] | None = None
        stats: dict[str, Any] | None = None
        received = 0
        overflow = False
        calls: list[ToolCall] = []

        def snapshot_save() -> None:
            nonlocal pending_save
            if pending_save is not None and not pending_save.done():
                return  # the previous save is still running: skip, the next tick catches up
            pending_save = asyncio.create_task(
                self.store.update_message(reply.id, content="".join(content), thinking="".join(thinking))
            )

        async def finish(status: str, error: str | None) -> ReplyResult:
            if pending_save is not None:
                await asyncio.gather(pending_save, return_exceptions=True)
            text, thought = "".join(content), "".join(thinking)
            made = tuple(calls) if status == "complete" else ()
            await self.store.update_message(
                reply.id, content=text, thinking=thought, status=status, stats=stats, error=error,
                tool_calls=[{"name": c.name, "arguments": dict(c.arguments)} for c in made] or None,
            )
            return ReplyResult(reply.id, text, thought, status, error, stats, made, notice)

        offered = None if (self.hosts.key, request.model) in self._no_tools else tools
        notice: str | None = None
        while True:
            try:
                client = self.client  # held open: a host switch meanwhile lets the reply finish
                async with self.hosts.hold(client):
                    stream = client.chat(
                        request.model,
                        messages,
                        options=request.options or None,
                        think=request.think,
                        format=request.format or None,
                        keep_alive=request.keep_alive,
                        **({"tools": offered} if offered else {}),
                    )
                    async with aclosing(stream):  # leaving early (too long) closes the HTTP response
                        async for chunk in stream:
                            piece, thought = chunk.content, chunk.thinking or ""
                            calls.extend(chunk.tool_calls)
                            room = self.max_reply_chars - received
                            if len(piece) + len(thought) > room:
                                thought = thought[:room]
                                piece = piece[: room - len(thought)]
                                overflow = True
                            received += len(piece) + len(thought)
                            if piece or thought:
                                if first_token is None:
                                    first_token = time.perf_counter() - started
                                if piece:
                                    content.append(piece)
                                if thought:
                                    thinking.append(thought)
                                on_delta(piece, thought)
                            if chunk.done and chunk.stats is not None:
                                stats = asdict(chunk.stats)
                                if first_token is not None:
                                    stats["ttft"] = first_token
                            if overflow:
                                raise ReplyTooLong
                            now = time.perf_counter()
                            if now - last_save >= self.save_interval:
                                last_save = now
                                snapshot_save()
            except ReplyTooLong:
                # Leaving the loop closes the stream: Ollama stops generating.
                return await finish("error", f"the reply passed {self.max_reply_chars:,} characters; "
                                             "stopped there (what came is kept)")
            except asyncio.CancelledError:
                # Esc: keep what arrived. Shield the write so the cancellation can't cut it short.
                await asyncio.shield(finish("stopped", None))
                raise
            except StreamError as exc:
                return await finish("error", exc.message)
            except OllamaError as exc:
                if offered and received == 0 and not calls and refuses_tools(exc):
                    # The server takes no tools for this model: once more without, remembered.
                    self._no_tools.add((self.hosts.key, request.model))
                    offered = None
                    notice = (f"{request.model} on this server refused tools ({inert_short(exc.message, 200)}); sent again "
                              "without them, and tools stay off for it this session.")
                    continue
                return await finish("error", exc.message)
            break
        if stats is None and first_token is not None:
            stats = {"ttft": first_token}
        return await finish("complete", None)


def build_request(config: Config, session: TurnSettings, capabilities: tuple[str, ...] | None) -> TurnRequest:
    """The request for `session`'s next turn, every layer resolved.

    Preset: the session's explicit pick (`session.preset`; None = not picked) > the model's
    [models."<model>"] preset > [chat] default_preset (Config.preset_for). Options: that preset <
    the model's [models."<model>".options] < the session's own overrides. System prompt and
    keep_alive: the session's > the model's > [chat] / [server]. `format` and `think` the same
    way (session > model options > preset > [chat] think); `think` is sent only to models that
    can think (Ollama answers 400 otherwise). The model's table is found by Config.model_override
    (`llama3.2` matches `llama3.2:latest`).
    """
    model = session.model
    settings = config.chat_settings(model, session.preset)
    options: dict[str, Any] = dict(settings.options)
    session_options = dict(session.options or {})
    fmt = session_options.pop("format", None)
    if fmt is None:
        fmt = settings.format
    options.update({k: v for k, v in session_options.items() if v is not None})
    think: bool | str | None = session.think if session.think is not None else settings.think
    if capabilities is not None and "thinking" not in capabilities:
        think = None
    system = session.system_prompt or settings.system_prompt
    keep_alive = session.keep_alive if session.keep_alive not in (None, "") else settings.keep_alive
    return TurnRequest(model, options, think, fmt or None, keep_alive, system or None)
