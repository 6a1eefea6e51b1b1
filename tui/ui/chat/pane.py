"""The Chat pane: session list, the open conversation, the prompt; streams replies."""

from __future__ import annotations

import asyncio
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from ...service.chats import ChatService, build_request
from ...service.errors import OllamaError
from ...service.names import same_model
from ...service.untrusted import inert
from .conversation import Conversation
from .messages import AssistantTurn, Notice, UserTurn
from .prompt import PromptArea
from .sessions import SessionList

PAGE = 40  # messages rendered when a session opens; older ones on demand


class ChatPane(Horizontal):
    DEFAULT_CSS = ""
    BINDINGS = [
        Binding("escape", "stop", "Stop reply", priority=True),
        Binding("ctrl+n", "new_session", "New session", priority=True),
        Binding("ctrl+l", "focus_sessions", "Sessions list ↔ prompt", priority=True),
        Binding("ctrl+b", "bottom", "Jump to bottom", priority=True),
        Binding("ctrl+o", "older", "Load older messages", priority=True, show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store: Any = None
        self.service: ChatService | None = None
        self.session: Any = None  # the open Session (None = a new chat not yet stored)
        self.session_model: str | None = None
        self.streaming: AssistantTurn | None = None
        self.oldest_id: int | None = None
        self.more_older = False
        self._store_ready = asyncio.Event()

    def compose(self) -> ComposeResult:
        yield SessionList(id="sessions")
        with Vertical(id="chat-main"):
            yield Static(id="chat-header")
            yield Conversation(id="conversation")
            yield PromptArea(id="prompt", placeholder="Ask anything — Enter sends, Ctrl+J newline")

    def on_mount(self) -> None:
        self.session_model = self.app.default_model
        self._show_header()
        self.focus_default()

    def focus_default(self) -> None:
        self.query_one(PromptArea).focus()

    # -- wiring -------------------------------------------------------------------------------

    async def attach_history(self, store: Any) -> None:
        self.store = store
        self.service = ChatService(self.app.client, store)
        self._store_ready.set()
        await self.refresh_sessions()

    async def refresh_sessions(self) -> None:
        sessions = await self.store.list_sessions()
        self.query_one(SessionList).show_sessions(sessions, self.session.id if self.session else None)

    def _show_header(self) -> None:
        model = self.session.model if self.session else self.session_model
        title = self.session.title if self.session else "New chat"
        config = self.app.config
        preset = (self.session.preset if self.session else None) or config.chat.default_preset
        header = Content.assemble(
            (inert(title), "bold"), "  ",
            ("model ", "$text-muted"), (inert(model or "?"), "$text-secondary"), "  ",
            ("preset ", "$text-muted"), (preset or "-", ""),
        )
        self.query_one("#chat-header", Static).update(header)

    # -- sending --------------------------------------------------------------------------------

    @on(PromptArea.Submitted)
    def on_prompt_submitted(self, event: PromptArea.Submitted) -> None:
        event.stop()
        text = event.text
        if not text.strip():
            self.notify("Nothing to send: the prompt is empty.", severity="warning", timeout=3)
            return
        if self.streaming is not None:
            self.notify("A reply is still streaming — Esc stops it.", severity="warning", timeout=3)
            return
        prompt = self.query_one(PromptArea)
        prompt.remember(text)
        prompt.text = ""
        self.send(text)

    @work(group="reply", exclusive=True, exit_on_error=False, description="stream a reply")
    async def send(self, text: str, images: list[tuple[str, str, bytes]] | None = None) -> None:
        conversation = self.query_one(Conversation)
        await conversation.mount(UserTurn(text, tuple(name for name, _m, _d in images or ())))
        conversation.jump_to_bottom()
        await self._store_ready.wait()
        if self.session is None:
            title = " ".join(text.split())[:48] or "New chat"
            self.session = await self.store.create_session(
                title=title, model=self.session_model, preset=self.app.config.chat.default_preset)
            self._show_header()
        await self.service.add_user_message(self.session.id, text, self.session.model, images or [])
        await self._stream_reply()

    async def _stream_reply(self) -> None:
        conversation = self.query_one(Conversation)
        session = self.session
        capabilities = await self._capabilities(session.model)
        request = build_request(self.app.config, session, capabilities)
        turn = AssistantTurn(session.model, status="streaming", num_ctx=request.options.get("num_ctx"))
        turn.on_flushed = conversation.keep_following
        await conversation.mount(turn)
        conversation.keep_following()
        turn.start_stream()
        self.streaming = turn
        self.refresh_bindings()
        try:
            result = await self.service.stream_reply(session.id, request, turn.feed)
        except asyncio.CancelledError:
            await turn.finish("stopped", None, None)
            raise
        except Exception as exc:  # the reply row is saved by the service; show it, keep going
            await turn.finish("error", None, str(exc))
        else:
            await turn.finish(result.status, result.stats, result.error, result.message_id)
            if result.status == "error":
                self.notify(result.error or "error", title="Reply failed", severity="error")
        finally:
            self.streaming = None
            self.refresh_bindings()
            conversation.keep_following()
            await self.refresh_sessions()

    async def _capabilities(self, model: str) -> tuple[str, ...] | None:
        cache: dict[str, tuple[str, ...]] = self.app.__dict__.setdefault("_capabilities", {})
        if model in cache:
            return cache[model]
        try:
            show = await self.app.client.show(model)
        except OllamaError:
            return None
        cache[model] = tuple(show.capabilities)
        return cache[model]

    # -- sessions -------------------------------------------------------------------------------

    async def open_session(self, session_id: int) -> None:
        if self.streaming is not None:
            self.notify("A reply is streaming — Esc stops it first.", severity="warning")
            return
        self.session = await self.store.get_session(session_id)
        self._show_header()
        conversation = self.query_one(Conversation)
        await conversation.remove_children()
        messages = await self.store.messages(session_id, limit=PAGE)
        total = await self.store.count_messages(session_id)
        self.oldest_id = messages[0].id if messages else None
        self.more_older = total > len(messages)
        widgets = self._widgets_for(messages)
        if self.more_older:
            widgets.insert(0, Notice(f"{total - len(messages)} earlier messages — Ctrl+O loads more"))
        await conversation.mount_all(widgets)
        prompt = self.query_one(PromptArea)
        prompt.history = await self.store.user_prompts(session_id)
        conversation.jump_to_bottom()

    def _widgets_for(self, messages: list[Any]) -> list[Any]:
        widgets = []
        for message in messages:
            if message.role == "user":
                widgets.append(UserTurn(message.content, message_id=message.id))
            elif message.role == "assistant":
                widgets.append(AssistantTurn(message.model or "", content=message.content,
                                             thinking=message.thinking or "", message_id=message.id,
                                             status=message.status, stats=message.stats,
                                             error=message.error))
        return widgets

    async def action_older(self) -> None:
        if not self.more_older or self.session is None:
            return
        older = await self.store.messages(self.session.id, before_id=self.oldest_id, limit=PAGE)
        conversation = self.query_one(Conversation)
        notice = conversation.query(Notice).first() if conversation.query(Notice) else None
        if older:
            self.oldest_id = older[0].id
            await conversation.mount_all(self._widgets_for(older), before=0)
        self.more_older = bool(older) and len(older) == PAGE
        if notice is not None and not self.more_older:
            await notice.remove()

    @on(SessionList.OptionSelected)
    async def on_session_selected(self, event: SessionList.OptionSelected) -> None:
        event.stop()
        await self.open_session(int(event.option.id))
        self.focus_default()

    async def action_new_session(self) -> None:
        if self.streaming is not None:
            self.notify("A reply is streaming — Esc stops it first.", severity="warning")
            return
        self.session = None
        self.session_model = self.app.default_model
        await self.query_one(Conversation).remove_children()
        self.query_one(PromptArea).history = []
        self._show_header()
        self.focus_default()

    # -- keys -----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self.streaming is not None
        return True

    def action_stop(self) -> None:
        self.app.workers.cancel_group(self, "reply")

    def action_focus_sessions(self) -> None:
        sessions = self.query_one(SessionList)
        if sessions.has_focus:
            self.focus_default()
        else:
            sessions.focus()

    def action_bottom(self) -> None:
        self.query_one(Conversation).jump_to_bottom()

    def on_connection(self, state: Any) -> None:
        pass
