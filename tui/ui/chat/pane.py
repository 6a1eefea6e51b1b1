"""The Chat pane: session list, the open conversation, the prompt; sends turns and streams
replies. What to send (or why not) is the chat service's (`ChatService.prepare`); the parts
own their own keys: the session list its rename/delete/export, the header its line."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical

from tui.service.chat.options import format_overrides, parse_overrides
from tui.service.chat.turns import ChatService, NotSent, TurnPlan
from tui.service.ollama.errors import OllamaError
from tui.service.ollama.names import same_model
from tui.service.untrusted import inert
from tui.ui.access import services, tui_app
from tui.ui.chat.conversation import Conversation
from tui.ui.chat.header import ChatHeader, think_label
from tui.ui.chat.hosts import (
    follow_session_host,
    header_host,
    pick_model_everywhere,
    session_host,
)
from tui.ui.chat.messages import AssistantTurn, Notice, UserTurn
from tui.ui.chat.paths import PathSuggester, read_image
from tui.ui.chat.prompt import PromptArea
from tui.ui.chat.sessions import SessionList
from tui.ui.chat.toolcall import ToolCallTurn
from tui.ui.events import ConfigChanged
from tui.ui.widgets.dialogs import ConfirmDialog, PickDialog, TextDialog

THINK_CYCLE: tuple[Any, ...] = (None, True, False, "low", "medium", "high")
_CODE_BLOCK = re.compile(r"```[^\n]*\n(.*?)```", re.S)

PAGE = 40  # messages rendered when a session opens; older ones on demand
# ... and at most about this much text (a screen or two): opening a session renders its
# newest replies in full, so the first paint costs about what is shown, not 40 long replies.
OPEN_CHARS = 6_000
FIRST_PAINT = 2  # messages mounted before the first paint of an opened session


class ChatPane(Horizontal):
    BINDINGS = [
        Binding("escape", "stop", "Stop reply / cancel edit", priority=True, id="chat_stop"),
        Binding("ctrl+n", "new_session", "New session", priority=True, id="chat_new_session"),
        Binding("ctrl+l", "focus_sessions", "Sessions ↔ prompt", priority=True, id="chat_sessions"),
        Binding("ctrl+o", "change_model", "Model", priority=True, id="chat_model"),
        Binding("ctrl+t", "pick_preset", "Preset", priority=True, id="chat_preset"),
        Binding("f12", "session_options", "Session options (temperature, num_ctx…)", priority=True, id="chat_options"),
        Binding("f9", "cycle_think", "Thinking on/off/level", priority=True, id="chat_think"),
        Binding("ctrl+r", "regenerate", "Regenerate last reply", priority=True, id="chat_regenerate"),
        Binding("ctrl+g", "edit_last", "Edit last message and resend", priority=True, id="chat_edit_last"),
        Binding("ctrl+f", "search", "Search all chats", priority=True, id="chat_search"),
        Binding("ctrl+b", "bottom", "Jump to bottom", priority=True, id="chat_bottom"),
        Binding("ctrl+up", "older", "Load older messages", priority=True, show=False, id="chat_older"),
        Binding("f5", "copy_code", "Copy last code block", priority=True, id="chat_copy_code"),
        Binding("f6", "copy_reply", "Copy last reply", priority=True, show=False, id="chat_copy_reply"),
        Binding("f8", "attach", "Attach image", priority=True, show=False, id="chat_attach"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store: Any = None  # the HistoryStore, once open
        self.service: ChatService | None = None
        self.session: Any = None  # the open Session (None = a new chat not yet stored)
        self.session_model: str | None = None
        self.streaming: AssistantTurn | None = None
        self.asking: ToolCallTurn | None = None  # a tool call waiting for y / n / a
        self._reported_failures: dict[str, str] = {}  # tool server → the failure already said
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
            yield ChatHeader(id="chat-header")
            yield Conversation(id="conversation")
            yield PromptArea(id="prompt", placeholder="Ask anything — Enter sends, Ctrl+J newline")

    def on_mount(self) -> None:
        self.session_model = tui_app(self).default_model
        self.show_header()
        self.focus_default()

    def focus_default(self) -> None:
        # At once, not after a refresh (Widget.focus): keys typed ahead over SSH land here.
        self.screen.set_focus(self.query_one(PromptArea))

    # -- wiring -------------------------------------------------------------------------------

    async def attach_history(self, service: ChatService) -> None:
        self.store = service.store
        self.service = service
        self._store_ready.set()
        await self.refresh_sessions()

    async def refresh_sessions(self) -> None:
        sessions = await self.store.list_sessions()
        self.query_one(SessionList).show_sessions(sessions, self.session.id if self.session else None)

    def show_header(self) -> None:
        """Redraw the header line (the session, model, editing or attachments changed)."""
        self.query_one(ChatHeader).show(
            services(self).config, self.session, self.session_model, editing=self.editing is not None,
            attachments=[name for name, _m, _d in self.attachments], host=header_host(self))

    def on_config_changed(self, event: ConfigChanged) -> None:
        self.show_header()

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
            self.session = await self.store.create_session(  # preset None: the model's, else the default
                title=title, model=self.session_model, preset=None, host=session_host(self))
        elif self.session.title == "New chat":
            self.session = await self.store.update_session(self.session.id, title=" ".join(text.split())[:48])
        self.show_header()
        service = self._service()
        if images:
            refused = await service.missing_capability(self.session.model, ("vision",))
            if refused is not None:
                await turn.remove()
                self.attachments = images
                self.query_one(PromptArea).text = text
                self.notice(f"✕ {self.session.model} can't read images (no 'vision' capability). "
                            "Pick a vision model (Ctrl+O) or remove the attachment (Ctrl+N starts over).",
                            error=True)
                return
        message = await service.add_user_message(self.session.id, text, self.session.model, images)
        turn.message_id = message.id
        await self._send_turn()

    @work(group="reply", exclusive=True, exit_on_error=False, description="regenerate a reply")
    async def regenerate(self) -> None:
        await self._send_turn()

    def _service(self) -> ChatService:
        assert self.service is not None, "the chat service comes with the history"
        return self.service

    async def _send_turn(self) -> None:
        """Ask the service what to send; say why not, or ask, or stream the reply."""
        app = tui_app(self)
        plan = await self._service().prepare(self.session, services(self).config,
                                             fit_check=app.monitor.fit_warning)
        if isinstance(plan, NotSent):
            self._not_sent(plan)
            return
        if plan.fit_warning is not None and not await self._go_ahead(plan.fit_warning):
            return
        await self._stream_reply(plan)

    def _not_sent(self, refused: NotSent) -> None:
        model = refused.model
        if refused.reason == "no_model":
            self.notice("No model for this chat: Ctrl+O picks one. Your message is saved; Ctrl+R sends it.",
                        error=True)
        elif refused.reason == "not_installed":
            self.notice(f"Model {model} is not installed. Your message is saved; pull the model, then "
                        "Ctrl+R sends it.", error=True)

            def answer(yes: bool) -> None:
                if yes:
                    tui_app(self).request_pull(model)

            self.app.push_screen(ConfirmDialog(f"{inert(model)} is not installed. Pull it now?"), answer)
        else:
            self.notice(f"✕ {model} lacks the '{refused.capability}' capability this turn needs.", error=True)

    async def _go_ahead(self, warning: str) -> bool:
        """Warn before a request that would load a model bigger than free VRAM + RAM (less the
        configured margin); the user may go ahead."""
        if await self.app.push_screen_wait(ConfirmDialog(f"⚠ {inert(warning)}.\n\nLoading it may swap or "
                                                         "fail. Send anyway?")):
            return True
        self.notice("Not sent: the model probably won't fit. Your message is saved; Ctrl+R sends it.")
        return False

    async def _stream_reply(self, plan: TurnPlan) -> None:
        """Stream the reply; when the model calls tools, ask about each, send the results back
        and stream again, at most [chat] max_tool_rounds rounds (then without tools: it answers)."""
        session = self.session
        max_rounds = services(self).config.chat.max_tool_rounds
        tools = await self._tools_for(session.model)
        rounds = 0
        while True:
            offer = tools if rounds < max_rounds else None
            result = await self._stream_once(plan, offer)
            if result is None or result.status != "complete" or not result.tool_calls or not offer:
                return
            rounds += 1
            await self._answer_tool_calls(result.tool_calls)

    async def _tools_for(self, model: str) -> list[dict[str, Any]]:
        """The tools to offer `model` (none to a model without the `tools` capability); tool
        servers that failed to start are said (a toast and a line), and the chat goes on."""
        try:
            tools = await self._service().tools_for(model)
        except Exception as exc:  # noqa: BLE001 - tools must never stop a chat
            self.notice(f"✕ Tools unavailable: {exc}", error=True)
            return []
        self._report_tool_failures()
        return tools

    def _report_tool_failures(self) -> None:
        hub = services(self).tools
        if hub is None:
            return
        for server in hub.servers.values():
            if server.state == "failed" and self._reported_failures.get(server.name) != server.reason:
                self._reported_failures[server.name] = server.reason
                text = f"Tool server {server.name} failed: {server.reason}. Chat goes on without its tools."
                self.notify(inert(text), title="Tools", severity="error", timeout=8)
                self.notice("✕ " + text, error=True)

    async def _answer_tool_calls(self, calls: Any) -> None:
        """Ask about each call (y / n / a; a tool allowed with `a` runs without asking), run it
        or refuse it, show and store what came of it. Esc stops the turn: the calls not yet
        answered are stored as stopped, so the conversation stays well-formed."""
        conversation = self.query_one(Conversation)
        service = self._service()
        hub = services(self).tools
        timeout = services(self).config.chat.tool_timeout
        session = self.session
        pending = list(calls)
        try:
            while pending:
                call = pending[0]
                widget = ToolCallTurn(call.name, call.arguments)
                await conversation.mount(widget)
                conversation.keep_following()
                note = ""
                if hub is not None and call.name in hub.allowed:
                    answer, note = "run", "always allowed"
                else:
                    self.asking = widget
                    self.refresh_bindings()
                    try:
                        answer = await widget.ask()
                    finally:
                        self.asking = None
                        if self.is_attached:
                            self.refresh_bindings()
                            self.focus_default()
                if answer == "always" and hub is not None:
                    hub.allowed.add(call.name)
                    note = f"{call.name} now runs without asking this session"
                if answer != "refuse":
                    widget.running()
                outcome = await service.answer_tool_call(session.id, call, run=answer != "refuse",
                                                         model=session.model, timeout=timeout)
                pending.pop(0)
                await widget.show_outcome(outcome.text, outcome.kind, note)
                conversation.keep_following()
                if outcome.kind == "failed":
                    self._report_tool_failures()
        except asyncio.CancelledError:
            from tui.service.chat.turns import STOPPED
            from tui.service.tools import ToolOutcome

            async def stopped() -> None:
                for call in pending:
                    await service.store_tool_result(session.id, call, ToolOutcome(STOPPED, "refused"), session.model)

            await asyncio.shield(stopped())
            for widget in conversation.query(ToolCallTurn):
                if widget.kind is None:
                    await widget.show_outcome(STOPPED, "refused", "stopped (Esc)")
            raise

    async def _stream_once(self, plan: TurnPlan, tools: list[dict[str, Any]] | None) -> Any:
        conversation = self.query_one(Conversation)
        session = self.session
        request = plan.request
        turn = AssistantTurn(session.model, status="streaming", num_ctx=request.options.get("num_ctx"))
        turn.on_flushed = conversation.keep_following
        await conversation.mount(turn)
        conversation.keep_following()
        turn.start_stream()
        self.streaming = turn
        self.refresh_bindings()
        result = None
        try:
            result = await self._service().stream_reply(session.id, request, turn.feed, tools=tools or None)
        except asyncio.CancelledError:
            await turn.finish("stopped", None, None)
            raise
        except Exception as exc:  # the service saved the row; show what happened, keep going
            await turn.finish("error", None, str(exc))
        else:
            await turn.finish(result.status, result.stats, result.error, result.message_id)
            if result.tool_calls and not result.content.strip() and not result.thinking.strip():
                await turn.remove()  # a reply that only calls tools: the calls show it
            if result.status == "error":
                self._offer_fallback(result.error or "")
        finally:
            self.streaming = None
            self.refresh_bindings()
            conversation.keep_following()
            self.session = await self.store.get_session(session.id)
            await self.refresh_sessions()
            self._refresh_loaded()
        return result

    def _refresh_loaded(self) -> None:
        """A reply loads its model: let the status line say what is loaded now."""
        for status in self.app.query("StatusLine"):
            status.refresh_loaded()

    def _offer_fallback(self, error: str) -> None:
        fallback = services(self).config.chat.fallback_model
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

    # -- sessions -------------------------------------------------------------------------------

    async def open_session(self, session_id: int, *, focus_message: int | None = None) -> None:
        if self._reply_busy():
            self.notify("A reply is streaming — Esc stops it first.", severity="warning")
            return
        self.session = await self.store.get_session(session_id)
        self.editing = None
        await follow_session_host(self)
        self.show_header()
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
            elif message.role == "tool":
                call = message.tool_calls[0] if message.tool_calls else {"name": message.tool_name or "", "arguments": {}}
                widgets.append(ToolCallTurn(call["name"], call["arguments"], result=message.content,
                                            kind=message.error or "ok", message_id=message.id))
            elif message.role == "assistant":
                if message.tool_calls and not message.content.strip() and not (message.thinking or "").strip():
                    continue  # it only called tools: the calls that follow show it
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

    @on(SessionList.NewSession)
    async def on_session_new(self, event: SessionList.NewSession) -> None:
        event.stop()
        await self.action_new_session()

    @on(SessionList.Renamed)
    async def on_session_renamed(self, event: SessionList.Renamed) -> None:
        event.stop()
        if self.session is not None and self.session.id == event.session.id:
            self.session = event.session
            self.show_header()
        await self.refresh_sessions()

    @on(SessionList.Deleted)
    async def on_session_deleted(self, event: SessionList.Deleted) -> None:
        event.stop()
        if self.session is not None and self.session.id == event.session_id:
            await self.action_new_session()
        await self.refresh_sessions()

    async def action_new_session(self) -> None:
        if self._reply_busy():
            self.notify("A reply is streaming — Esc stops it first.", severity="warning")
            return
        self.session = None
        self.editing = None
        self.windowed = False
        self.attachments = []
        self.session_model = tui_app(self).default_model
        await self.query_one(Conversation).remove_children()
        self.query_one(PromptArea).recall = []
        self.show_header()
        if self.store is not None:
            await self.refresh_sessions()
        self.focus_default()

    # -- keys -----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "stop":
            return self.streaming is not None or self.asking is not None or self.editing is not None
        return True

    def action_stop(self) -> None:
        if self.streaming is not None or self.asking is not None:
            self.app.workers.cancel_group(self, "reply")
        elif self.editing is not None:
            self.editing = None
            self.query_one(PromptArea).text = ""
            self.show_header()

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

    # -- model / preset / options ---------------------------------------------------------------

    async def action_change_model(self) -> None:
        if services(self).hosts.fleet:
            await pick_model_everywhere(self)
            return
        try:
            models = await services(self).provider.tags()
        except OllamaError as exc:
            self.notify(f"Can't list models: {exc}", severity="error")
            return
        items = [(m.name, f"{m.name}  {m.details.parameter_size or ''} {m.details.quantization_level or ''}")
                 for m in models]
        current = self.session.model if self.session else self.session_model

        async def chosen(name: str | None) -> None:
            if name:
                await self.set_model(name)

        self.app.push_screen(PickDialog("Model for this session", items, current=current), chosen)

    async def set_model(self, name: str) -> None:
        if self.session is not None:
            self.session = await self.store.update_session(self.session.id, model=name)
            await self.refresh_sessions()
        else:
            self.session_model = name
        self.show_header()
        self.notify(f"Model: {name}", timeout=2)

    async def action_pick_preset(self) -> None:
        presets = services(self).config.presets
        items = [(name, f"{name}  " + format_overrides(p.to_options())) for name, p in presets.items()]

        async def chosen(name: str | None) -> None:
            if name:
                await self._ensure_session()
                self.session = await self.store.update_session(self.session.id, preset=name)
                self.show_header()

        model = self.session.model if self.session else self.session_model
        current = services(self).config.preset_for(model or "", self.session.preset if self.session else None)
        self.app.push_screen(PickDialog("Preset for this session", items, current=current), chosen)

    async def action_session_options(self) -> None:
        await self._ensure_session()
        current = format_overrides(self.session.options or {})

        def validate(text: str) -> str | None:
            _values, errors = parse_overrides(text)
            return "; ".join(errors) or None

        async def done(text: str | None) -> None:
            if text is None:
                return
            # The field shows the current overrides: what is left in it is the new set (a key
            # deleted from the text is cleared, as `key=` is).
            values, _ = parse_overrides(text)
            options = {k: v for k, v in values.items() if v is not None}
            self.session = await self.store.update_session(self.session.id, options=options)
            self.show_header()

        self.app.push_screen(TextDialog(
            "Session overrides (key=value …; key= clears): temperature top_p top_k min_p repeat_penalty "
            "num_ctx num_predict seed stop format", current, validate=validate), done)

    async def action_cycle_think(self) -> None:
        await self._ensure_session()
        index = THINK_CYCLE.index(self.session.think) if self.session.think in THINK_CYCLE else 0
        value = THINK_CYCLE[(index + 1) % len(THINK_CYCLE)]
        self.session = await self.store.update_session(self.session.id, think=value)
        self.show_header()
        self.notify(f"Thinking: {think_label(value)}", timeout=2)

    async def _ensure_session(self) -> None:
        await self._store_ready.wait()
        if self.session is None:
            self.session = await self.store.create_session(  # preset None: not picked (build_request)
                title="New chat", model=self.session_model, preset=None, host=session_host(self))
            await self.refresh_sessions()

    # -- regenerate / edit ---------------------------------------------------------------------

    def _turns(self) -> list[Any]:
        return list(self.query_one(Conversation).query("UserTurn, AssistantTurn, ToolCallTurn"))

    async def action_regenerate(self) -> None:
        if self._reply_busy() or self.session is None:
            return
        await self.show_latest()
        turns = self._turns()
        last = turns[-1] if turns else None
        if isinstance(last, ToolCallTurn):
            await self._regenerate_tool_turn(turns)
            return
        if isinstance(last, UserTurn) and last.message_id is not None:
            # A prompt left without a reply (model missing, app closed): answer it now.
            self.regenerate()
            return
        if isinstance(last, AssistantTurn) and last.message_id is None:
            # A reply stopped with Esc: its row was stored, but the widget never learnt the id.
            stored = await self.store.messages(self.session.id, limit=1)
            if stored and stored[-1].role == "assistant":
                last.message_id = stored[-1].id
        if not isinstance(last, AssistantTurn) or last.message_id is None:
            self.notify("No reply to regenerate.", severity="warning")
            return
        # The old reply stays in history as an earlier branch (searchable, exported).
        await self.store.supersede_from(last.message_id)
        await last.remove()
        self.regenerate()

    async def _regenerate_tool_turn(self, turns: list[Any]) -> None:
        """The turn ended in tool calls (stopped, or a round cut short): redo the whole turn from
        the user's message; its calls and replies stay in history as an earlier branch."""
        users = [t for t in turns if isinstance(t, UserTurn) and t.message_id is not None]
        if not users:
            self.notify("No reply to regenerate.", severity="warning")
            return
        prompt = users[-1]
        stored = await self.store.messages(self.session.id, limit=PAGE)
        after = [m for m in stored if m.id > prompt.message_id]
        if after:
            await self.store.supersede_from(after[0].id)
        for widget in turns[turns.index(prompt) + 1:]:
            await widget.remove()
        self.regenerate()

    async def action_edit_last(self) -> None:
        if self._reply_busy():
            return
        await self.show_latest()
        users = [t for t in self._turns() if isinstance(t, UserTurn) and t.message_id is not None]
        if not users:
            self.notify("No earlier message to edit.", severity="warning")
            return
        # Pressed again while editing: step back to the message before (edit from further back).
        index = users.index(self.editing) - 1 if self.editing in users else len(users) - 1
        self.editing = users[max(0, index)]
        prompt = self.query_one(PromptArea)
        prompt.text = self.editing.text
        prompt.move_cursor(prompt.document.end)
        prompt.focus()
        self.show_header()
        self.notify("Editing your message: Enter resends (later turns kept as an earlier branch), "
                    "Ctrl+G again edits an earlier one, Esc cancels.", timeout=5)

    async def resend_edited(self, text: str) -> None:
        target = self.editing
        self.editing = None
        if target.message_id is None:
            return
        await self.store.supersede_from(target.message_id)
        turns = self._turns()
        for widget in turns[turns.index(target):]:
            await widget.remove()
        self.show_header()
        self.send(text)

    # -- copy (OSC 52) ----------------------------------------------------------------------------

    def _last_reply(self) -> AssistantTurn | None:
        replies = [t for t in self._turns() if isinstance(t, AssistantTurn)]
        return replies[-1] if replies else None

    def action_copy_reply(self) -> None:
        reply = self._last_reply()
        if reply is None or not reply.content:
            self.notify("Nothing to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(reply.content)
        self.notify(f"Copied the last reply ({len(reply.content)} characters) via OSC 52.", timeout=3)

    def action_copy_code(self) -> None:
        for reply in reversed([t for t in self._turns() if isinstance(t, AssistantTurn)]):
            blocks = _CODE_BLOCK.findall(reply.content)
            if blocks:
                self.app.copy_to_clipboard(blocks[-1])
                lines = blocks[-1].count("\n")
                self.notify(f"Copied the last code block ({lines} lines) via OSC 52.", timeout=3)
                return
        self.notify("No code block in this conversation.", severity="warning")

    # -- attachments -----------------------------------------------------------------------------

    def action_attach(self) -> None:
        def validate(text: str) -> str | None:
            try:
                read_image(text)
            except ValueError as exc:
                return str(exc)
            return None

        def done(text: str | None) -> None:
            if text:
                self.attachments.append(read_image(text))
                self.show_header()

        self.app.push_screen(TextDialog("Attach an image (path; → accepts the completion shown)", "",
                                        validate=validate, suggester=PathSuggester()), done)

    # -- search ------------------------------------------------------------------------------------

    async def action_search(self) -> None:
        from tui.ui.chat.search import SearchScreen

        await self._store_ready.wait()

        async def chosen(hit: tuple[int, int] | None) -> None:
            if hit:
                await self.open_session(hit[0], focus_message=hit[1])

        self.app.push_screen(SearchScreen(self.store), chosen)

    def notice(self, text: str, *, error: bool = False) -> None:
        conversation = self.query_one(Conversation)
        conversation.mount(Notice(text, error=error))
        conversation.keep_following()


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
