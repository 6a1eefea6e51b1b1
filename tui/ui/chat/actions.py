"""The Chat pane's commands beyond sending: model, preset, options, regenerate, edit, copy,
search, export, rename, delete, attach, thinking. Mixed into ChatPane."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tui.service.chat.options import format_overrides, parse_overrides
from tui.service.ollama.errors import OllamaError
from tui.service.untrusted import inert
from tui.ui.chat.conversation import Conversation
from tui.ui.chat.messages import AssistantTurn, Notice, UserTurn
from tui.ui.chat.paths import PathSuggester, read_image
from tui.ui.chat.prompt import PromptArea
from tui.ui.widgets.dialogs import ConfirmDialog, PickDialog, TextDialog

THINK_CYCLE: tuple[Any, ...] = (None, True, False, "low", "medium", "high")
_CODE_BLOCK = re.compile(r"```[^\n]*\n(.*?)```", re.S)


def think_label(value: Any) -> str:
    return {None: "default", True: "on", False: "off"}.get(value, str(value))


class ChatActions:
    """Needs: self.app, self.store, self.session, self.streaming, self.query_one, self.notify…"""

    # -- model / preset / options ---------------------------------------------------------------

    async def action_change_model(self) -> None:
        try:
            models = await self.app.client.tags()
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
        self._show_header()
        self.notify(f"Model: {name}", timeout=2)

    async def action_pick_preset(self) -> None:
        presets = self.app.config.presets
        items = [(name, f"{name}  " + format_overrides(p.to_options())) for name, p in presets.items()]

        async def chosen(name: str | None) -> None:
            if name:
                await self._ensure_session()
                self.session = await self.store.update_session(self.session.id, preset=name)
                self._show_header()

        model = self.session.model if self.session else self.session_model
        current = self.app.config.preset_for(model or "", self.session.preset if self.session else None)
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
            self._show_header()

        self.app.push_screen(TextDialog(
            "Session overrides (key=value …; key= clears): temperature top_p top_k min_p repeat_penalty "
            "num_ctx num_predict seed stop format", current, validate=validate), done)

    async def action_cycle_think(self) -> None:
        await self._ensure_session()
        index = THINK_CYCLE.index(self.session.think) if self.session.think in THINK_CYCLE else 0
        value = THINK_CYCLE[(index + 1) % len(THINK_CYCLE)]
        self.session = await self.store.update_session(self.session.id, think=value)
        self._show_header()
        self.notify(f"Thinking: {think_label(value)}", timeout=2)

    async def _ensure_session(self) -> None:
        await self._store_ready.wait()
        if self.session is None:
            self.session = await self.store.create_session(
                title="New chat", model=self.session_model, preset=None)  # None: not picked (build_request)
            await self.refresh_sessions()

    # -- regenerate / edit ---------------------------------------------------------------------

    def _turns(self) -> list[Any]:
        return list(self.query_one(Conversation).query("UserTurn, AssistantTurn"))

    async def action_regenerate(self) -> None:
        if self._reply_busy() or self.session is None:
            return
        await self.show_latest()
        turns = self._turns()
        last = turns[-1] if turns else None
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
        self._show_header()
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
        self._show_header()
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
                self._show_header()

        self.app.push_screen(TextDialog("Attach an image (path; → accepts the completion shown)", "",
                                        validate=validate, suggester=PathSuggester()), done)

    # -- session list commands ----------------------------------------------------------------

    async def action_rename(self) -> None:
        # Like delete and export: the highlighted session when the list has focus.
        session = await self._highlighted_session()
        if session is None:
            return

        async def done(title: str | None) -> None:
            if title and title.strip():
                renamed = await self.store.update_session(session.id, title=title.strip())
                if self.session is not None and self.session.id == session.id:
                    self.session = renamed
                    self._show_header()
                await self.refresh_sessions()

        self.app.push_screen(TextDialog(f"Rename “{inert(session.title)}”", session.title), done)

    async def action_delete_session(self) -> None:
        session = await self._highlighted_session()
        if session is None:
            return

        async def done(yes: bool) -> None:
            if not yes:
                return
            await self.store.delete_session(session.id)
            if self.session is not None and self.session.id == session.id:
                await self.action_new_session()
            await self.refresh_sessions()
            self.notify(f"Deleted “{session.title}”.")

        self.app.push_screen(ConfirmDialog(
            f"Delete the session “{inert(session.title)}” and its {session.message_count} messages? "
            "This cannot be undone."), done)

    async def action_export(self, fmt: str) -> None:
        from tui.service.chat.export import export_session

        session = await self._highlighted_session()
        if session is None:
            return
        safe = re.sub(r"[^A-Za-z0-9._-]+", "-", session.title).strip("-")[:40] or f"session-{session.id}"
        default = str(Path.cwd() / f"{safe}.{ 'md' if fmt == 'md' else 'json'}")

        async def done(path: str | None) -> None:
            if not path:
                return
            try:
                await export_session(self.store, session.id, Path(path).expanduser(), fmt)
            except OSError as exc:
                self.notify(f"Export failed: {exc}", severity="error")
            else:
                self.notify(f"Exported to {path}")

        self.app.push_screen(TextDialog(f"Export “{inert(session.title)}” as {fmt.upper()} to", default,
                                        suggester=PathSuggester()), done)

    async def _highlighted_session(self) -> Any:
        from tui.ui.chat.sessions import SessionList

        await self._store_ready.wait()
        sessions = self.query_one(SessionList)
        if sessions.has_focus and sessions.highlighted is not None:
            option = sessions.get_option_at_index(sessions.highlighted)
            return await self.store.get_session(int(option.id))
        if self.session is None:
            self.notify("This chat has no messages yet.", severity="warning")
        return self.session

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
