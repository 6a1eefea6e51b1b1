"""A running chat turn: sending a prompt, streaming the reply, the tool-call rounds, and the
regenerate / edit-and-resend flow. The chat pane owns one `TurnRunner` and calls it; the
runner works on the pane's open session and conversation. What to send (or why not) is the
chat service's (`ChatService.prepare`)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Protocol

from tui.service.chat.turns import ChatService, NotSent, ReplyResult, TurnPlan
from tui.service.ollama.names import same_model
from tui.service.untrusted import inert
from tui.ui.access import services, tui_app
from tui.ui.chat.conversation import Conversation
from tui.ui.chat.hosts import SessionPane, session_host
from tui.ui.chat.messages import AssistantTurn, UserTurn
from tui.ui.chat.pages import PAGE
from tui.ui.chat.prompt import PromptArea
from tui.ui.chat.toolcall import ToolCallTurn
from tui.ui.widgets.dialogs import ConfirmDialog

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tui.service.ollama.types import ToolCall

REPLY_GROUP = "reply"  # the pane's workers for a turn: exclusive, Esc cancels the group


class TurnHost(SessionPane, Protocol):
    """What a turn needs of the chat pane that owns it (ChatPane is the one implementation).
    The pane imports the runner; naming the pane here would tie the two modules in a cycle."""

    service: ChatService | None
    store_ready: asyncio.Event
    attachments: list[tuple[str, str, bytes]]

    @property
    def is_attached(self) -> bool: ...
    def query_one(self, selector: Any, expect_type: Any = None) -> Any: ...
    def run_worker(self, work: Any, **kwargs: Any) -> Any: ...
    def refresh_bindings(self) -> None: ...
    def focus_default(self) -> None: ...
    def notice(self, text: str, *, error: bool = False) -> None: ...
    def turn_widgets(self) -> list[Any]: ...
    async def refresh_sessions(self) -> None: ...
    async def show_latest(self) -> None: ...


class TurnRunner:
    """The turn under way in `pane`: `streaming` is the reply being written, `asking` the tool
    call waiting for y / n / a, `running` the tool call being run, `editing` the user message
    being edited (Enter resends it)."""

    def __init__(self, pane: TurnHost) -> None:
        self.pane = pane
        self.streaming: AssistantTurn | None = None
        self.asking: ToolCallTurn | None = None
        self.running: ToolCallTurn | None = None
        self.editing: UserTurn | None = None
        self._reported_failures: dict[str, str] = {}  # tool server → the failure already said

    # -- state ----------------------------------------------------------------------------------

    def busy(self) -> bool:
        """A reply streams, or a turn is under way before it does (saving, checking the model):
        a second send would cancel it, as the 'reply' group is exclusive."""
        pane = self.pane
        return self.streaming is not None or any(
            w.group == REPLY_GROUP and not w.is_finished and w.node is pane for w in pane.app.workers)

    def stoppable(self) -> bool:
        return (self.streaming is not None or self.asking is not None or self.running is not None
                or self.editing is not None)

    def stop(self) -> None:
        """Esc: stop the reply (or the tool question, or the tool call under way), else cancel
        the edit."""
        pane = self.pane
        if self.streaming is not None or self.asking is not None or self.running is not None:
            pane.app.workers.cancel_group(pane, REPLY_GROUP)
        elif self.editing is not None:
            self.editing = None
            pane.query_one(PromptArea).text = ""
            pane.show_header()

    def _service(self) -> ChatService:
        assert self.pane.service is not None, "the chat service comes with the history"
        return self.pane.service

    def _run(self, work: Any, description: str) -> None:
        self.pane.run_worker(work, group=REPLY_GROUP, exclusive=True, exit_on_error=False,
                             description=description)

    # -- sending --------------------------------------------------------------------------------

    async def submit(self, text: str) -> None:
        """The prompt's text was submitted: send it, or resend the message being edited."""
        pane = self.pane
        if not text.strip():
            pane.notify("Nothing to send: the prompt is empty.", severity="warning", timeout=3)
            return
        if self.busy():
            pane.notify("A reply is still streaming — Esc stops it.", severity="warning", timeout=3)
            return
        await pane.show_latest()
        prompt = pane.query_one(PromptArea)
        prompt.remember(text)
        prompt.text = ""
        if self.editing is not None:
            await self.resend_edited(text)
        else:
            self.send(text)

    def send(self, text: str) -> None:
        self._run(self._send(text), "send a prompt")

    async def _send(self, text: str) -> None:
        pane = self.pane
        images, pane.attachments = pane.attachments, []
        conversation = pane.query_one(Conversation)
        turn = UserTurn(text, tuple(name for name, _m, _d in images))
        await conversation.mount(turn)
        conversation.jump_to_bottom()
        await pane.store_ready.wait()
        store = pane.store
        if pane.session is None:
            title = " ".join(text.split())[:48] or "New chat"
            pane.session = await store.create_session(  # preset None: the model's, else the default
                title=title, model=pane.session_model, preset=None, host=session_host(pane))
        elif pane.session.title == "New chat":
            pane.session = await store.update_session(pane.session.id, title=" ".join(text.split())[:48])
        pane.show_header()
        service = self._service()
        if images:
            refused = await service.missing_capability(pane.session.model, ("vision",))
            if refused is not None:
                await turn.remove()
                pane.attachments = images
                pane.query_one(PromptArea).text = text
                pane.notice(f"✕ {pane.session.model} can't read images (no 'vision' capability). "
                            "Pick a vision model (Ctrl+O) or remove the attachment (Ctrl+N starts over).",
                            error=True)
                return
        message = await service.add_user_message(pane.session.id, text, pane.session.model, images)
        turn.message_id = message.id
        await self._send_turn()

    def _regenerate(self) -> None:
        self._run(self._send_turn(), "regenerate a reply")

    async def _send_turn(self) -> None:
        """Ask the service what to send; say why not, or ask, or stream the reply."""
        pane = self.pane
        plan = await self._service().prepare(pane.session, services(pane).config,
                                             fit_check=tui_app(pane).monitor.fit_warning)
        if isinstance(plan, NotSent):
            self._not_sent(plan)
            return
        if plan.fit_warning is not None and not await self._go_ahead(plan.fit_warning):
            return
        await self._stream_reply(plan)

    def _not_sent(self, refused: NotSent) -> None:
        pane = self.pane
        model = refused.model
        if refused.reason == "no_model":
            pane.notice("No model for this chat: Ctrl+O picks one. Your message is saved; Ctrl+R sends it.",
                        error=True)
        elif refused.reason == "not_installed":
            pane.notice(f"Model {model} is not installed. Your message is saved; pull the model, then "
                        "Ctrl+R sends it.", error=True)

            def answer(yes: bool) -> None:
                if yes:
                    tui_app(pane).request_pull(model)

            pane.app.push_screen(ConfirmDialog(f"{inert(model)} is not installed. Pull it now?"), answer)
        else:
            pane.notice(f"✕ {model} lacks the '{refused.capability}' capability this turn needs.", error=True)

    async def _go_ahead(self, warning: str) -> bool:
        """Warn before a request that would load a model bigger than free VRAM + RAM (less the
        configured margin); the user may go ahead."""
        pane = self.pane
        if await pane.app.push_screen_wait(ConfirmDialog(f"⚠ {inert(warning)}.\n\nLoading it may swap or "
                                                         "fail. Send anyway?")):
            return True
        pane.notice("Not sent: the model probably won't fit. Your message is saved; Ctrl+R sends it.")
        return False

    # -- streaming and tool rounds --------------------------------------------------------------

    async def _stream_reply(self, plan: TurnPlan) -> None:
        """Stream the reply; when the model calls tools, ask about each, send the results back
        and stream again, at most [chat] max_tool_rounds rounds (then without tools: it answers)."""
        session = self.pane.session
        max_rounds = services(self.pane).config.chat.max_tool_rounds
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
            self.pane.notice(f"✕ Tools unavailable: {exc}", error=True)
            return []
        self.report_tool_failures()
        return tools

    def report_tool_failures(self) -> None:
        hub = services(self.pane).tools
        if hub is None:
            return
        for server in hub.servers.values():
            if server.state == "failed" and self._reported_failures.get(server.name) != server.reason:
                self._reported_failures[server.name] = server.reason
                text = f"Tool server {server.name} failed: {server.reason}. Chat goes on without its tools."
                self.pane.notify(inert(text), title="Tools", severity="error", timeout=8)
                self.pane.notice("✕ " + text, error=True)

    async def _answer_tool_calls(self, calls: Sequence[ToolCall]) -> None:
        """Ask about each call (y / n / a; a tool allowed with `a` runs without asking), run it
        or refuse it, show and store what came of it. Esc stops the turn, the call being run
        included: the calls not yet answered are stored as stopped, so the conversation stays
        well-formed."""
        pane = self.pane
        conversation = pane.query_one(Conversation)
        service = self._service()
        hub = services(pane).tools
        timeout = services(pane).config.chat.tool_timeout
        session = pane.session
        pending = list(calls)
        in_flight: tuple[Any, ToolCallTurn] | None = None  # the call being run, and its widget
        try:
            while pending:
                call = pending[0]
                widget = ToolCallTurn(call.name, call.arguments)
                await conversation.mount(widget)
                conversation.keep_following()
                note = ""
                if call.error:  # not runnable as made: shown and sent to the model as the result
                    answer, note = "refuse", "not run"
                elif hub is not None and call.name in hub.allowed(session.id):
                    answer, note = "run", "always allowed"
                else:
                    self.asking = widget
                    pane.refresh_bindings()
                    try:
                        answer = await widget.ask()
                    finally:
                        self.asking = None
                        if pane.is_attached:
                            pane.refresh_bindings()
                            pane.focus_default()
                if answer == "always" and hub is not None:
                    hub.allow(session.id, call.name)
                    note = f"{call.name} now runs without asking in this chat"
                if answer != "refuse":
                    widget.running(" — Esc stops it")
                    self.running, in_flight = widget, (call, widget)
                    pane.refresh_bindings()
                try:
                    outcome = await service.answer_tool_call(session.id, call, run=answer != "refuse",
                                                             model=session.model, timeout=timeout)
                finally:
                    self.running = None
                    if pane.is_attached:
                        pane.refresh_bindings()
                pending.pop(0)
                in_flight = None
                await widget.show_outcome(outcome.text, outcome.kind, note)
                conversation.keep_following()
                if outcome.kind == "failed":
                    self.report_tool_failures()
        except asyncio.CancelledError:
            from tui.service.chat.turns import STOPPED, STOPPED_RUNNING
            from tui.service.tools import ToolOutcome

            # A call stopped while it ran may have done part of its work: the model is told so.
            def said(call: Any) -> str:
                return STOPPED_RUNNING if in_flight is not None and call is in_flight[0] else STOPPED

            async def stopped() -> None:
                for call in pending:
                    await service.store_tool_result(session.id, call, ToolOutcome(said(call), "refused"), session.model)

            await asyncio.shield(stopped())
            for widget in conversation.query(ToolCallTurn):
                if widget.kind is None:
                    running = in_flight is not None and widget is in_flight[1]
                    await widget.show_outcome(STOPPED_RUNNING if running else STOPPED, "refused",
                                              "stopped while it ran (Esc)" if running else "stopped (Esc)")
            raise

    async def _stream_once(self, plan: TurnPlan, tools: list[dict[str, Any]] | None) -> ReplyResult | None:
        pane = self.pane
        conversation = pane.query_one(Conversation)
        session = pane.session
        request = plan.request
        turn = AssistantTurn(session.model, status="streaming", num_ctx=request.options.get("num_ctx"))
        turn.on_flushed = conversation.keep_following
        await conversation.mount(turn)
        conversation.keep_following()
        turn.start_stream()
        self.streaming = turn
        pane.refresh_bindings()
        result = None
        try:
            result = await self._service().stream_reply(session.id, request, turn.feed, tools=tools or None)
        except asyncio.CancelledError:
            await turn.finish("stopped", None, None)
            raise
        except Exception as exc:  # noqa: BLE001 - the service saved the row; show what happened, keep going
            await turn.finish("error", None, str(exc))
        else:
            await turn.finish(result.status, result.stats, result.error, result.message_id)
            if result.tool_calls and not result.content.strip() and not result.thinking.strip():
                await turn.remove()  # a reply that only calls tools: the calls show it
            if result.notice:
                pane.notice("⚠ " + result.notice)
            if result.status == "error":
                self._offer_fallback(result.error or "")
        finally:
            self.streaming = None
            pane.refresh_bindings()
            conversation.keep_following()
            pane.session = await pane.store.get_session(session.id)
            await pane.refresh_sessions()
            self._refresh_loaded()
        return result

    def _refresh_loaded(self) -> None:
        """A reply loads its model: let the status line say what is loaded now."""
        for status in self.pane.app.query("StatusLine"):
            status.refresh_loaded()

    def _offer_fallback(self, error: str) -> None:
        pane = self.pane
        fallback = services(pane).config.chat.fallback_model
        model = pane.session.model
        if not fallback or same_model(fallback, model):
            pane.notify(error, title="Reply failed", severity="error")
            return

        async def answer(yes: bool) -> None:
            if yes:
                await pane.set_model(fallback)
                await self.regenerate_last()  # the failed reply becomes an earlier branch

        pane.app.push_screen(ConfirmDialog(
            f"{inert(model)} failed: {inert(error)}\nSwitch this session to the fallback model {fallback} and retry?"),
            answer)

    # -- regenerate / edit ------------------------------------------------------------------------

    async def regenerate_last(self) -> None:
        """Ctrl+R: answer the last prompt again; the old reply stays as an earlier branch."""
        pane = self.pane
        if self.busy() or pane.session is None:
            return
        await pane.show_latest()
        turns = pane.turn_widgets()
        last = turns[-1] if turns else None
        if isinstance(last, ToolCallTurn):
            await self._regenerate_tool_turn(turns)
            return
        if isinstance(last, UserTurn) and last.message_id is not None:
            # A prompt left without a reply (model missing, app closed): answer it now.
            self._regenerate()
            return
        if isinstance(last, AssistantTurn) and last.message_id is None:
            # A reply stopped with Esc: its row was stored, but the widget never learnt the id.
            stored = await pane.store.messages(pane.session.id, limit=1)
            if stored and stored[-1].role == "assistant":
                last.message_id = stored[-1].id
        if not isinstance(last, AssistantTurn) or last.message_id is None:
            pane.notify("No reply to regenerate.", severity="warning")
            return
        # The old reply stays in history as an earlier branch (searchable, exported).
        await pane.store.supersede_from(last.message_id)
        await last.remove()
        self._regenerate()

    async def _regenerate_tool_turn(self, turns: list[Any]) -> None:
        """The turn ended in tool calls (stopped, or a round cut short): redo the whole turn from
        the user's message; its calls and replies stay in history as an earlier branch."""
        pane = self.pane
        users = [t for t in turns if isinstance(t, UserTurn) and t.message_id is not None]
        if not users:
            pane.notify("No reply to regenerate.", severity="warning")
            return
        prompt = users[-1]
        stored = await pane.store.messages(pane.session.id, limit=PAGE)
        after = [m for m in stored if m.id > prompt.message_id]
        if after:
            await pane.store.supersede_from(after[0].id)
        for widget in turns[turns.index(prompt) + 1:]:
            await widget.remove()
        self._regenerate()

    async def edit_last(self) -> None:
        """Ctrl+G: put the last message (again: the one before) in the prompt to edit and resend."""
        pane = self.pane
        if self.busy():
            return
        await pane.show_latest()
        users = [t for t in pane.turn_widgets() if isinstance(t, UserTurn) and t.message_id is not None]
        if not users:
            pane.notify("No earlier message to edit.", severity="warning")
            return
        # Pressed again while editing: step back to the message before (edit from further back).
        index = users.index(self.editing) - 1 if self.editing in users else len(users) - 1
        self.editing = users[max(0, index)]
        prompt = pane.query_one(PromptArea)
        prompt.text = self.editing.text
        prompt.move_cursor(prompt.document.end)
        prompt.focus()
        pane.show_header()
        pane.notify("Editing your message: Enter resends (later turns kept as an earlier branch), "
                    "Ctrl+G again edits an earlier one, Esc cancels.", timeout=5)

    async def resend_edited(self, text: str) -> None:
        pane = self.pane
        target = self.editing
        self.editing = None
        if target is None or target.message_id is None:
            return
        await pane.store.supersede_from(target.message_id)
        turns = pane.turn_widgets()
        for widget in turns[turns.index(target):]:
            await widget.remove()
        pane.show_header()
        self.send(text)
