"""Small modal dialogs shared by the panes: confirm, ask for text, pick from a filtered list."""

from __future__ import annotations

from typing import Callable, Sequence

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > Vertical {{ width: 72; max-width: 95%; height: auto; max-height: 90%;
                    border: round $primary; background: $surface; padding: 0 1; }}
{name} .error {{ color: $text-error; height: auto; }}
{name} .hint {{ color: $text-muted; height: auto; }}
{name} OptionList {{ height: auto; max-height: 16; }}
"""


class ConfirmDialog(ModalScreen[bool]):
    """y/Enter confirms, n/Esc declines."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]
    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmDialog")

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(self.question))
            yield Static("y / Enter: yes    n / Esc: no", classes="hint")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class TextDialog(ModalScreen[str | None]):
    """Ask for one line of text; `validate` returns an error message or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = DIALOG_CSS.format(name="TextDialog")

    def __init__(self, title: str, value: str = "", *, placeholder: str = "",
                 validate: Callable[[str], str | None] | None = None,
                 suggester=None) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.validate = validate
        self.suggester = suggester

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(self.title_text))
            yield Input(self.value, placeholder=self.placeholder, suggester=self.suggester)
            yield Static("", classes="error")
            yield Static("Enter: OK    Esc: cancel", classes="hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        error = self.validate(event.value) if self.validate else None
        if error:
            self.query_one(".error", Static).update(Content(f"✕ {error}"))
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PickDialog(ModalScreen[str | None]):
    """Pick one of `items` (id, label); typing filters the list; Enter picks; Esc cancels.

    The dialog is as wide as its longest label (at least 72 columns, at most 95% of the screen),
    so long model names show whole; a label wider than the screen wraps, never cut."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = DIALOG_CSS.format(name="PickDialog")

    def __init__(self, title: str, items: Sequence[tuple[str, str]], *, current: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.items = list(items)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(self.title_text))
            yield Input(placeholder="type to filter")
            yield OptionList()
            yield Static("↑/↓ move · Enter pick · Esc cancel", classes="hint")

    #: Columns around a label: the dialog's border and padding, the list's border, padding and
    #: scrollbar.
    CHROME = 10
    WIDTH = 72

    def on_mount(self) -> None:
        widest = max((cell_len(label) for _i, label in self.items), default=0)
        self.query_one(Vertical).styles.width = max(self.WIDTH, widest + self.CHROME)  # CSS: max 95%
        self._fill("")

    def _fill(self, needle: str) -> None:
        options = self.query_one(OptionList)
        needle = needle.lower()
        shown = [(i, label) for i, label in self.items if needle in label.lower()]
        options.set_options([Option(Content(label), id=i) for i, label in shown])
        if shown:
            ids = [i for i, _ in shown]
            options.highlighted = ids.index(self.current) if self.current in ids else 0

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_key(self, event) -> None:
        options = self.query_one(OptionList)
        if event.key in ("up", "down"):
            event.stop()
            event.prevent_default()
            options.action_cursor_up() if event.key == "up" else options.action_cursor_down()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one(OptionList)
        if options.option_count:  # nothing highlighted yet (typed ahead): the first match
            self.dismiss(options.get_option_at_index(options.highlighted or 0).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
