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

from tui.service.chat.options import format_overrides
from tui.service.chat.turns import ChatService, build_request
from tui.service.ollama.errors import ModelNotFound, OllamaError
from tui.service.ollama.names import same_model
from tui.service.untrusted import inert
from tui.ui.chat.actions import ChatActions, think_label
from tui.ui.chat.conversation import Conversation
from tui.ui.chat.messages import AssistantTurn, Notice, UserTurn
from tui.ui.chat.prompt import PromptArea
from tui.ui.chat.sessions import SessionList
from tui.ui.widgets.dialogs import ConfirmDialog

PAGE = 40  # messages rendered when a session opens; older ones on demand
# ... and at most about this much text (a screen or two): opening a session renders its
# newest replies in full, so the first paint costs about what is shown, not 40 long replies.
OPEN_CHARS = 6_000
FIRST_PAINT = 2  # messages mounted before the first paint of an opened session


class ChatPane(ChatActions, Horizontal):
    BINDINGS = [
        Binding("escape", "stop", "Stop reply / cancel edit", priority=True),
        Binding("ctrl+n", "new_session", "New session", priority=True),
        Binding("ctrl+l", "focus_sessions", "Sessions ↔ prompt", priority=True),
        Binding("ctrl+o", "change_model", "Model", priority=True),
        Binding("ctrl+t", "pick_preset", "Preset", priority=True),
        Binding("f12", "session_options", "Session options (temperature, num_ctx…)", priority=True),
        Binding("f9", "cycle_think", "Thinking on/off/level", priority=True),
        Binding("ctrl+r", "regenerate", "Regenerate last reply", priority=True),
        Binding("ctrl+g", "edit_last", "Edit last message and resend", priority=True),
        Binding("ctrl+f", "search", "Search all chats", priority=True),
        Binding("ctrl+b", "bottom", "Jump to bottom", priority=True),
        Binding("ctrl+up", "older", "Load older messages", priority=True, show=False),
        Binding("f5", "copy_code", "Copy last code block", priority=True),
        Binding("f6", "copy_reply", "Copy last reply", priority=True, show=False),
        Binding("f8", "attach", "Attach image", priority=True, show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store: Any = None
        self.service: ChatService | None = None
        self.session: Any = None  # the open Session (None = a new chat not yet stored)
        self.session_model: str | None = None
        self.streaming: AssistantTurn | None = None
        self.editing: UserTurn | None = None
        self.attachments: list[tuple[str, str, bytes]] = []
        self.oldest_id: int | None = None
        self.more_older = False
        self.windowed = False  # showing a search hit's page, not the end of the conversation
        self._rest_pending = False  # the older part of an opened page is still to be mounted
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
        # At once, not after a refresh (Widget.focus): keys typed ahead over SSH land here.
        self.screen.set_focus(self.query_one(PromptArea))

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
        """One line, most important first (it ends in "…" when the pane is narrow): the model,
        the preset with the temperature and num_ctx it sets, this session's own overrides, then
        the title (also in the session list)."""
        s = self.session
        config = self.app.config
        model = s.model if s else self.session_model
        settings = config.chat_settings(model or "", s.preset if s else None)
        preset = settings.preset
        parts: list[Any] = []
        if self.editing is not None:
            parts += [("✎ editing", "bold $text-warning"), "  "]
        parts += [("model ", "$text-muted"), (inert(model or "?"), "$text-secondary"), "  ",
                  ("preset ", "$text-muted"), (preset or "-", "")]
        values = settings.options  # the preset with the model's [models."…".options] on top
        for key, label in (("temperature", "temp"), ("num_ctx", "ctx")):
            if values.get(key) is not None:
                parts += [(f" · {label} ", "$text-muted"), str(values[key])]
        if s is not None and s.options:
            parts += ["  ", (format_overrides(s.options), "$text-accent")]
        if s is not None and s.think is not None:
            parts += ["  ", ("think ", "$text-muted"), think_label(s.think)]
        if self.attachments:
            parts += ["  ", (f"📎 {', '.join(inert(n) for n, _m, _d in self.attachments)}", "$text-accent")]
        parts += ["  ", (inert(s.title if s else "New chat"), "bold")]
        self.query_one("#chat-header", Static).update(Content.assemble(*parts))

    # -- sending --------------------------------------------------------------------------------

    @on(PromptArea.Submitted)
    async def on_prompt_submitted(self, event: PromptArea.Submitted) -> None:
        event.stop()
        text = event.text
        if not text.strip():
            self.notify("Nothing to send: the prompt is empty.", severity="warning", timeout=3)
            return
        if self._reply_busy():
            self.notify("A reply is still streaming — Esc stops it.", severity="warning", timeout=3)
            return
        await self.show_latest()
        prompt = self.query_one(PromptArea)
        prompt.remember(text)
        prompt.text = ""
        if self.editing is not None:
            await self.resend_edited(text)
        else:
            self.send(text)

    def _reply_busy(self) -> bool:
        """A reply streams, or a turn is under way before it does (saving, checking the model):
        a second send would cancel it, as the 'reply' group is exclusive."""
        return self.streaming is not None or any(
            w.group == "reply" and not w.is_finished and w.node is self for w in self.app.workers)

    @work(group="reply", exclusive=True, exit_on_error=False, description="send a prompt")
    async def send(self, text: str) -> None:
        images, self.attachments = self.attachments, []
        conversation = self.query_one(Conversation)
        turn = UserTurn(text, tuple(name for name, _m, _d in images))
        await conversation.mount(turn)
        conversation.jump_to_bottom()
        await self._store_ready.wait()
        if self.session is None:
            title = " ".join(text.split())[:48] or "New chat"
            self.session = await self.store.create_session(
                title=title, model=self.session_model, preset=None)  # None: the model's preset, else the default
        elif self.session.title == "New chat":
            self.session = await self.store.update_session(self.session.id, title=" ".join(text.split())[:48])
        self._show_header()
        if images:
            capabilities = await self._capabilities(self.session.model)
            if capabilities is not None and "vision" not in capabilities:
                await turn.remove()
                self.attachments = images
                self.query_one(PromptArea).text = text
                self.notice(f"✕ {self.session.model} can't read images (no 'vision' capability). "
                            "Pick a vision model (Ctrl+O) or remove the attachment (Ctrl+N starts over).",
                            error=True)
                return
        message = await self.service.add_user_message(self.session.id, text, self.session.model, images)
        turn.message_id = message.id
        if not await self._model_installed(self.session.model):
            return
        await self._stream_reply()

    @work(group="reply", exclusive=True, exit_on_error=False, description="regenerate a reply")
    async def regenerate(self) -> None:
        if not await self._model_installed(self.session.model):
            return
        await self._stream_reply()

    async def _model_installed(self, model: str) -> bool:
        try:
            tags = await self.app.client.tags()
        except OllamaError:
            return True  # let the chat request report what is wrong
        info = next((m for m in tags if same_model(model, m.name)), None)
        if info is not None:
            return await self._fits_or_go_ahead(info)
        self.notice(f"Model {model} is not installed. Your message is saved; pull the model, then "
                    "Ctrl+R sends it.", error=True)
        request_pull = getattr(self.app, "request_pull", None)
        if request_pull is not None:
            def answer(yes: bool) -> None:
                if yes:
                    request_pull(model)

            self.app.push_screen(ConfirmDialog(f"{inert(model)} is not installed. Pull it now?"), answer)
        return False

    async def _fits_or_go_ahead(self, info: Any) -> bool:
        """Warn before a request that would load a model bigger than free VRAM + RAM (less the
        configured margin); the user may go ahead. A model already loaded is not checked."""
        monitor = getattr(self.app, "monitor", None)
        warning = await monitor.fit_warning(info.name, info.size) if monitor is not None else None
        if warning is None:
            return True
        if await self.app.push_screen_wait(ConfirmDialog(f"⚠ {inert(warning)}.\n\nLoading it may swap or "
                                                         "fail. Send anyway?")):
            return True
        self.notice("Not sent: the model probably won't fit. Your message is saved; Ctrl+R sends it.")
        return False

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
        except Exception as exc:  # the service saved the row; show what happened, keep going
            await turn.finish("error", None, str(exc))
        else:
            await turn.finish(result.status, result.stats, result.error, result.message_id)
            if result.status == "error":
                self._offer_fallback(result.error or "")
        finally:
            self.streaming = None
            self.refresh_bindings()
            conversation.keep_following()
            self.session = await self.store.get_session(session.id)
            await self.refresh_sessions()
            self._refresh_loaded()

    def _refresh_loaded(self) -> None:
        """A reply loads its model: let the status line say what is loaded now."""
        for status in self.app.query("StatusLine"):
            status.refresh_loaded()

    def _offer_fallback(self, error: str) -> None:
        fallback = self.app.config.chat.fallback_model
        model = self.session.model
        if not fallback or same_model(fallback, model):
            self.notify(error, title="Reply failed", severity="error")
            return

        async def answer(yes: bool) -> None:
            if yes:
                await self.set_model(fallback)
                await self.action_regenerate()  # the failed reply becomes an earlier branch

        self.app.push_screen(ConfirmDialog(
            f"{inert(model)} failed: {inert(error)}\nSwitch this session to the fallback model {fallback} and retry?"),
            answer)

    async def _capabilities(self, model: str) -> tuple[str, ...] | None:
        cache: dict[str, tuple[str, ...]] = self.app.__dict__.setdefault("_capabilities", {})
        if model in cache:
            return cache[model]
        try:
            show = await self.app.client.show(model)
        except ModelNotFound:
            return None
        except OllamaError:
            return None
        cache[model] = tuple(show.capabilities)
        return cache[model]

    # -- sessions -------------------------------------------------------------------------------

    async def open_session(self, session_id: int, *, focus_message: int | None = None) -> None:
        if self._reply_busy():
            self.notify("A reply is streaming — Esc stops it first.", severity="warning")
            return
        self.session = await self.store.get_session(session_id)
        self.editing = None
        self._show_header()
        conversation = self.query_one(Conversation)
        await conversation.remove_children()
        messages = await self.store.messages(session_id, limit=PAGE)
        self.windowed = False
        if focus_message is not None and messages and all(m.id != focus_message for m in messages):
            # A search hit further back: load from it onwards (an earlier branch is shown too).
            messages = await self.store.messages(session_id, before_id=focus_message + PAGE, limit=PAGE,
                                                 include_superseded=True)
            self.windowed = True
        if not self.windowed:
            messages = newest_within(messages, OPEN_CHARS)
        total = await self.store.count_messages(session_id)
        self.oldest_id = messages[0].id if messages else None
        self.more_older = bool(messages) and total > len(messages)
        widgets = self._widgets_for(messages)
        if self.more_older:
            widgets.insert(0, Notice("Earlier messages — Ctrl+↑ loads more"))
        if self.windowed:
            widgets.append(Notice("Later messages — Ctrl+B shows the latest (sending does too)"))
        if focus_message is None and len(widgets) > FIRST_PAINT:
            # The newest exchange is painted first; the rest of the page goes in above it
            # right after (the view stays at the bottom), so the session shows at once.
            later, widgets = widgets[-FIRST_PAINT:], widgets[:-FIRST_PAINT]
            await conversation.mount_all(later)
            self._rest_pending = True
            self.call_after_refresh(self._mount_rest, widgets, later[0])
        else:
            await conversation.mount_all(widgets)
        self.query_one(PromptArea).recall = await self.store.user_prompts(session_id)
        await self.refresh_sessions()
        target = None
        if focus_message is not None:
            target = next((w for w in self._turns() if w.message_id == focus_message), None)
        if target is not None:
            conversation.follow = False
            conversation.call_after_refresh(conversation.scroll_to_widget, target, animate=False, top=True)
        else:
            conversation.call_after_refresh(conversation.jump_to_bottom)

    async def _mount_rest(self, widgets: list[Any], first_shown: Any) -> None:
        """The older part of an opened page, above what was painted first."""
        try:
            conversation = self.query_one(Conversation)
            if first_shown.parent is conversation:  # still the same session
                await conversation.mount_all(widgets, before=first_shown)
                if conversation.follow:
                    conversation.call_after_refresh(conversation.jump_to_bottom)
        finally:
            self._rest_pending = False

    def _widgets_for(self, messages: list[Any]) -> list[Any]:
        widgets = []
        for message in messages:
            if message.role == "user":
                names = tuple(a.name for a in getattr(message, "attachments", ()))
                widgets.append(UserTurn(message.content, names, message_id=message.id))
            elif message.role == "assistant":
                widgets.append(AssistantTurn(message.model or "", content=message.content,
                                             thinking=message.thinking or "", message_id=message.id,
                                             status=message.status, stats=message.stats,
                                             error=message.error))
        return widgets

    async def action_older(self) -> None:
        if not self.more_older or self.session is None or self._rest_pending:
            return
        page = await self.store.messages(self.session.id, before_id=self.oldest_id, limit=PAGE)
        older = newest_within(page, OPEN_CHARS)
        conversation = self.query_one(Conversation)
        notices = conversation.query(Notice)
        if older:
            self.oldest_id = older[0].id
            await conversation.mount_all(self._widgets_for(older), after=notices.first() if notices else None,
                                         before=None if notices else 0)
        self.more_older = len(page) == PAGE or len(older) < len(page)
        if notices and not self.more_older:
            await notices.first().remove()

    @on(SessionList.OptionSelected)
    async def on_session_selected(self, event: SessionList.OptionSelected) -> None:
        event.stop()
        await self.open_session(int(event.option.id))
        self.focus_default()

    @on(SessionList.Command)
    async def on_session_command(self, event: SessionList.Command) -> None:
        event.stop()
        handlers = {"new": self.action_new_session, "rename": self.action_rename,
                    "delete": self.action_delete_session}
        if event.name in handlers:
            await handlers[event.name]()
        elif event.name.startswith("export_"):
            await self.action_export(event.name.removeprefix("export_"))

    async def action_new_session(self) -> None:
        if self._reply_busy():
            self.notify("A reply is streaming — Esc stops it first.", severity="warning")
            return
        self.session = None
        self.editing = None
        self.windowed = False
        self.attachments = []
        self.session_model = self.app.default_model
        await self.query_one(Conversation).remove_children()
        self.query_one(PromptArea).recall = []
        self._show_header()
        if self.store is not None:
            await self.refresh_sessions()
        self.focus_default()

    # -- keys -----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self.streaming is not None or self.editing is not None
        return True

    def action_stop(self) -> None:
        if self.streaming is not None:
            self.app.workers.cancel_group(self, "reply")
        elif self.editing is not None:
            self.editing = None
            self.query_one(PromptArea).text = ""
            self._show_header()

    def action_focus_sessions(self) -> None:
        sessions = self.query_one(SessionList)
        if sessions.has_focus:
            self.focus_default()
        else:
            self.screen.set_focus(sessions)  # at once: Ctrl+L ↓ Enter typed ahead must reach the list

    async def action_bottom(self) -> None:
        if self.windowed:
            await self.show_latest()
        else:
            self.query_one(Conversation).jump_to_bottom()

    async def show_latest(self) -> None:
        """Leave a search hit's page for the end of the conversation (before anything is sent,
        regenerated or edited: those act on the latest turns)."""
        if self.windowed and self.session is not None and self.streaming is None:
            await self.open_session(self.session.id)


def newest_within(messages: list[Any], chars: int, *, at_least: int = 2) -> list[Any]:
    """The newest of `messages` (oldest first) whose text adds up to at most `chars`
    (but at least `at_least` of them, however long)."""
    kept, used = 0, 0
    for message in reversed(messages):
        used += len(message.content or "") + len(getattr(message, "thinking", "") or "")
        if kept >= at_least and used > chars:
            break
        kept += 1
    return messages[len(messages) - kept:]
