"""The Chat pane: session list, the open conversation, the prompt, and the keys that act on
the open session (model, preset, options, thinking, copy, attach, search). A turn under way
(sending, streaming, tool calls, regenerate, edit and resend) is its `TurnRunner`'s
(tui/ui/chat/turn.py); what of a session is shown when it opens is tui/ui/chat/pages.py's.
The parts own their own keys: the session list its rename/delete/export, the header its line."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import DescendantFocus

from tui.service.chat.options import format_overrides
from tui.service.chat.turns import ChatService
from tui.service.ollama.errors import OllamaError
from tui.ui.access import services, tui_app
from tui.ui.chat.conversation import Conversation
from tui.ui.chat.header import ChatHeader, think_label
from tui.ui.chat.hosts import (
    follow_session_host,
    header_host,
    pick_model_everywhere,
    session_host,
)
from tui.ui.chat.messages import AssistantTurn, Notice
from tui.ui.chat.pages import FIRST_PAINT, OPEN_CHARS, PAGE, newest_within, widgets_for
from tui.ui.chat.paths import PathSuggester, read_image
from tui.ui.chat.prompt import PromptArea
from tui.ui.chat.session_options import SessionOptionsDialog, SessionSettings
from tui.ui.chat.sessions import SessionList
from tui.ui.chat.turn import TurnRunner
from tui.ui.events import ConfigChanged
from tui.ui.widgets.dialogs import PickDialog, TextDialog

if TYPE_CHECKING:
    from tui.service.history import HistoryStore, Session

THINK_CYCLE: tuple[Any, ...] = (None, True, False, "low", "medium", "high")
_CODE_BLOCK = re.compile(r"```[^\n]*\n(.*?)```", re.S)
#: Below this many columns the session list hides until Ctrl+L shows it over the conversation.
NARROW = 100


class ChatPane(Horizontal):
    BINDINGS = [
        Binding("escape", "stop", "Stop reply / cancel edit / hide session list", priority=True, id="chat_stop"),
        Binding("ctrl+n", "new_session", "New session", priority=True, id="chat_new_session"),
        Binding("ctrl+l", "focus_sessions", "Sessions ↔ prompt", priority=True, id="chat_sessions"),
        Binding("ctrl+o", "change_model", "Model", priority=True, id="chat_model"),
        Binding("ctrl+t", "pick_preset", "Preset", priority=True, id="chat_preset"),
        Binding("f12", "session_options", "Session options (temperature, num_ctx…, system prompt)", priority=True, id="chat_options"),
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
        self.store: HistoryStore | None = None  # once open
        self.service: ChatService | None = None
        self.session: Session | None = None  # the open one (None = a new chat not yet stored)
        self.session_model: str | None = None
        self.turns = TurnRunner(self)  # the turn under way: sending, streaming, tools, edit
        self.attachments: list[tuple[str, str, bytes]] = []
        self.oldest_id: int | None = None
        self.more_older = False
        self.windowed = False  # showing a search hit's page, not the end of the conversation
        self._rest_pending = False  # the older part of an opened page is still to be mounted
        self.store_ready = asyncio.Event()

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
        hub = services(self).tools
        if hub is not None:
            hub.on_state = self._tool_server_changed

    def _tool_server_changed(self, server: Any) -> None:
        """The hub says a tool server's state changed: one that failed (at its start, or its
        process ended while it ran, between turns too) is said at once, once."""
        if server.state == "failed" and self.is_attached:
            self.call_later(self.turns.report_tool_failures)

    def focus_default(self) -> None:
        # At once, not after a refresh (Widget.focus): keys typed ahead over SSH land here.
        self.screen.set_focus(self.query_one(PromptArea))

    # -- wiring -------------------------------------------------------------------------------

    async def attach_history(self, service: ChatService) -> None:
        self.store = service.store
        self.service = service
        self.store_ready.set()
        await self.refresh_sessions()

    async def refresh_sessions(self) -> None:
        sessions = await self.store.list_sessions()
        self.query_one(SessionList).show_sessions(sessions, self.session.id if self.session else None)

    def show_header(self) -> None:
        """Redraw the header line (the session, model, editing or attachments changed)."""
        self.query_one(ChatHeader).show(
            services(self).config, self.session, self.session_model, editing=self.turns.editing is not None,
            attachments=[name for name, _m, _d in self.attachments], host=header_host(self))

    def on_config_changed(self, event: ConfigChanged) -> None:
        self.show_header()

    # -- sending (the turn itself is the runner's) ----------------------------------------------

    @on(PromptArea.Submitted)
    async def on_prompt_submitted(self, event: PromptArea.Submitted) -> None:
        event.stop()
        await self.turns.submit(event.text)

    @property
    def streaming(self) -> AssistantTurn | None:
        """The reply being written now (None: no reply streams)."""
        return self.turns.streaming

    def notice(self, text: str, *, error: bool = False) -> None:
        """A line in the conversation (not a message): what happened to the turn, and why."""
        conversation = self.query_one(Conversation)
        conversation.mount(Notice(text, error=error))
        conversation.keep_following()

    # -- sessions -------------------------------------------------------------------------------

    async def open_session(self, session_id: int, *, focus_message: int | None = None) -> None:
        if self.turns.busy():
            self.notify("A reply is streaming — Esc stops it first.", severity="warning")
            return
        self.session = await self.store.get_session(session_id)
        self.turns.editing = None
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
        widgets = widgets_for(messages)
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
            # A reply that only called tools has no widget of its own: its calls, which follow it, show it.
            target = next((w for w in self.turn_widgets()
                           if w.message_id is not None and w.message_id >= focus_message), None)
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

    async def action_older(self) -> None:
        if not self.more_older or self.session is None or self._rest_pending:
            return
        page = await self.store.messages(self.session.id, before_id=self.oldest_id, limit=PAGE)
        older = newest_within(page, OPEN_CHARS)
        conversation = self.query_one(Conversation)
        notices = conversation.query(Notice)
        if older:
            self.oldest_id = older[0].id
            await conversation.mount_all(widgets_for(older), after=notices.first() if notices else None,
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
        if self.turns.busy():
            self.notify("A reply is streaming — Esc stops it first.", severity="warning")
            return
        self.session = None
        self.turns.editing = None
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
            return self.turns.stoppable() or self.has_class("-list-shown")
        return True

    def action_stop(self) -> None:
        if self.has_class("-list-shown"):
            self.focus_default()  # the list over the conversation goes first (on_descendant_focus)
        else:
            self.turns.stop()

    def action_focus_sessions(self) -> None:
        """Ctrl+L: to the session list and back to the prompt. Below NARROW columns the list is
        hidden: Ctrl+L shows it over the conversation, and it hides again when the focus leaves
        it (Ctrl+L, Esc, a session picked, a click elsewhere)."""
        sessions = self.query_one(SessionList)
        if sessions.has_focus:
            self.focus_default()
        else:
            self.set_class(self.has_class("-narrow"), "-list-shown")
            self.refresh_bindings()  # Esc now hides the list
            self.screen.set_focus(sessions)  # at once: Ctrl+L ↓ Enter typed ahead must reach the list

    def on_resize(self) -> None:
        narrow = self.size.width < NARROW
        if narrow == self.has_class("-narrow"):
            return
        self.set_class(narrow, "-narrow")
        # Narrowed while in the list: it stays, over the conversation, until the focus leaves it.
        self.set_class(narrow and self.query_one(SessionList).has_focus, "-list-shown")

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        if not isinstance(event.widget, SessionList) and self.has_class("-list-shown"):
            self.remove_class("-list-shown")
            self.refresh_bindings()

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
        """F12: this session's overrides and system prompt (SessionOptionsDialog)."""
        await self._ensure_session()
        session = self.session
        inherited = services(self).config.chat_settings(session.model or "", session.preset).system_prompt

        async def done(chosen: SessionSettings | None) -> None:
            if chosen is not None:
                self.session = await self.store.update_session(
                    self.session.id, options=chosen.options, system_prompt=chosen.system_prompt)
                self.show_header()

        self.app.push_screen(SessionOptionsDialog(session.options or {}, session.system_prompt,
                                                  inherited=inherited), done)

    async def action_cycle_think(self) -> None:
        await self._ensure_session()
        index = THINK_CYCLE.index(self.session.think) if self.session.think in THINK_CYCLE else 0
        value = THINK_CYCLE[(index + 1) % len(THINK_CYCLE)]
        self.session = await self.store.update_session(self.session.id, think=value)
        self.show_header()
        self.notify(f"Thinking: {think_label(value)}", timeout=2)

    async def _ensure_session(self) -> None:
        await self.store_ready.wait()
        if self.session is None:
            self.session = await self.store.create_session(  # preset None: not picked (build_request)
                title="New chat", model=self.session_model, preset=None, host=session_host(self))
            await self.refresh_sessions()

    # -- regenerate / edit ---------------------------------------------------------------------

    def turn_widgets(self) -> list[Any]:
        """The conversation's turns, oldest first (the notices left out)."""
        return list(self.query_one(Conversation).query("UserTurn, AssistantTurn, ToolCallTurn"))

    async def action_regenerate(self) -> None:
        await self.turns.regenerate_last()

    async def action_edit_last(self) -> None:
        await self.turns.edit_last()

    # -- copy (OSC 52) ----------------------------------------------------------------------------

    def _last_reply(self) -> AssistantTurn | None:
        replies = [t for t in self.turn_widgets() if isinstance(t, AssistantTurn)]
        return replies[-1] if replies else None

    def action_copy_reply(self) -> None:
        reply = self._last_reply()
        if reply is None or not reply.content:
            self.notify("Nothing to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(reply.content)
        self.notify(f"Copied the last reply ({len(reply.content)} characters) via OSC 52.", timeout=3)

    def action_copy_code(self) -> None:
        for reply in reversed([t for t in self.turn_widgets() if isinstance(t, AssistantTurn)]):
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

        await self.store_ready.wait()

        async def chosen(hit: tuple[int, int] | None) -> None:
            if hit:
                await self.open_session(hit[0], focus_message=hit[1])

        self.app.push_screen(SearchScreen(self.store), chosen)


