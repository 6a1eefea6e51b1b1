"""The raw view: the config file's exact text in a TOML editor, and the problems found in it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static, TextArea

from tui.service.config.secrets import mask_headers, unmask_headers

MAX_SHOWN = 6  # problems listed under the editor; the rest are counted


class RawEditor(Vertical):
    """`loaded_text` is what the editor was filled with; `dirty` = the user changed it since.

    Header values are secrets: the editor shows each as MASK (`source_text` is the real text it
    was loaded from); `real_text` is what to save, each value left as MASK put back.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.loaded_text = ""
        self.source_text = ""

    def compose(self) -> ComposeResult:
        yield TextArea.code_editor("", language="toml", id="raw-editor", soft_wrap=False)
        yield Static(id="raw-problems")

    @property
    def editor(self) -> TextArea:
        return self.query_one("#raw-editor", TextArea)

    @property
    def text(self) -> str:
        return self.editor.text

    @property
    def real_text(self) -> str:
        """The text to save: the editor's, header values left masked put back (raises MaskLeft
        for a masked value with nothing stored behind it)."""
        return unmask_headers(self.editor.text, self.source_text)

    @property
    def dirty(self) -> bool:
        return self.editor.text != self.loaded_text

    def load(self, text: str, issues: Sequence[Any] = ()) -> None:
        """Fill the editor with `text`, header values masked (undo history starts afresh), and
        list `issues`."""
        self.source_text = text
        self.loaded_text = mask_headers(text)
        self.editor.load_text(self.loaded_text)
        self.show_issues(issues)

    def saved(self, real_text: str) -> None:
        """`real_text` (from real_text) is on disk now: the editor's text is the clean state."""
        self.source_text = real_text
        self.loaded_text = self.editor.text

    def show_issues(self, issues: Sequence[Any], *, refused: bool = False) -> None:
        """List problems with their line numbers; `refused`: the text was not saved because of them."""
        box = self.query_one("#raw-problems", Static)
        box.set_class(bool(issues), "-shown")
        box.set_class(any(i.is_error for i in issues), "-errors")
        if not issues:
            box.update("")
            return
        errors = sum(1 for i in issues if i.is_error)
        head = (f"Not saved: {errors} error(s) — fix them and save again (F5)" if refused else
                f"{errors} error(s), {len(issues) - errors} warning(s)")
        lines: list[Any] = [(head, "bold")]
        for issue in issues[:MAX_SHOWN]:
            lines += ["\n", ("✕ " if issue.is_error else "⚠ ", "$text-error" if issue.is_error else "$text-warning"),
                      str(issue)]
        if len(issues) > MAX_SHOWN:
            lines += ["\n", (f"… and {len(issues) - MAX_SHOWN} more", "$text-muted")]
        box.update(Content.assemble(*lines))

    def go_to(self, line: int | None, column: int | None = None) -> None:
        """Put the cursor on a 1-based line (and column) and bring it into view."""
        if line is None:
            return
        row = max(0, min(line - 1, self.editor.document.line_count - 1))
        self.editor.cursor_location = (row, max(0, (column or 1) - 1))
        self.editor.scroll_cursor_visible(center=True)
