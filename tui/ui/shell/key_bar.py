"""The footer: the keys that apply where the focus is, drawn as one line of text.

Textual's Footer mounts a widget per key and recomposes itself whenever the bindings change
(every focus change): at start-up that was a tenth of the time to a usable prompt. This bar
keeps the same look (key in bold, description after it, the palette key on the right) but
draws one line, and only when what it shows changed. A click on a key presses that key.
"""

from __future__ import annotations

from typing import NamedTuple

from rich.text import Text
from textual import events
from textual.screen import Screen
from textual.widget import Widget


class Key(NamedTuple):
    key: str  # what simulate_key presses on a click
    display: str
    description: str
    enabled: bool


class KeyBar(Widget, can_focus=False):
    """One line of key bindings for the screen it is on (the active bindings, shown ones)."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--description", "key-bar--disabled"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
        .key-bar--key { color: $footer-key-foreground; background: $footer-key-background; text-style: bold; }
        .key-bar--description { color: $footer-description-foreground; background: $footer-description-background; }
        .key-bar--disabled { text-style: dim; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.keys: tuple[Key, ...] = ()
        self.palette: Key | None = None
        self._pending = False
        self._spans: list[tuple[int, int, Key]] = []  # (start, end) columns of each key drawn

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        # Several changes in one frame (focus moved, then a refresh) are read once.
        if not self._pending and screen is self.screen:
            self._pending = True
            self.call_after_refresh(self._read_bindings)

    def _read_bindings(self) -> None:
        self._pending = False
        if not self.is_attached:
            return
        app = self.app
        keys: list[Key] = []
        palette = None
        seen_actions: set[str] = set()
        everywhere: list[Key] = []  # the app's own keys (panes, quit, strip): after the local ones
        for node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            if binding.action in ("command_palette", "app.command_palette"):  # wherever [keys] put it
                palette = Key(binding.key, app.get_key_display(binding), "palette", enabled)
                continue
            if not binding.show or binding.action in seen_actions:
                continue  # a second key for the same action (f1 and alt+1) is not shown twice
            seen_actions.add(binding.action)
            item = Key(binding.key, app.get_key_display(binding), binding.description, enabled)
            (everywhere if node is app else keys).append(item)
        keys += everywhere  # at 80 columns the keys of where the focus is come first
        if (tuple(keys), palette) != (self.keys, self.palette):
            self.keys, self.palette = tuple(keys), palette
            self.refresh()

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        description_style = self.get_component_rich_style("key-bar--description", partial=True)
        disabled_style = self.get_component_rich_style("key-bar--disabled", partial=True)
        width = self.size.width
        right = Text()
        if self.palette is not None:
            right = Text.assemble("▏", (self.palette.display, key_style), " ",
                                  (self.palette.description, description_style), " ")
        room = max(0, width - right.cell_len)
        line = Text(no_wrap=True, overflow="crop")
        spans: list[tuple[int, int, Key]] = []
        for item in self.keys:
            start = line.cell_len
            piece = Text.assemble(" ", (item.display, key_style), " ", (item.description, description_style), " ")
            if not item.enabled:
                piece.stylize(disabled_style)
            line.append_text(piece)
            if start < room:
                spans.append((start, min(line.cell_len, room), item))
        if line.cell_len > room:
            line.truncate(max(0, room - 1))
            line.append("…")
        line.pad_right(room - line.cell_len)
        if self.palette is not None:
            spans.append((room, width, self.palette))
            line.append_text(right)
        self._spans = spans
        return line

    def on_click(self, event: events.Click) -> None:
        for start, end, item in self._spans:
            if start <= event.x < end:
                if item.enabled:
                    self.app.simulate_key(item.key)
                else:
                    self.app.bell()
                return
