"""Keys in a text field happen in the order they were typed.

Textual's Input and TextArea insert a printable key in their own ``_on_key``, but run their
bound keys (Backspace, ←/→, Home, Ctrl+U, Enter to submit …) only after the key has bubbled up
to the App, one message queue at a time. When keys arrive together — over SSH they often do,
and a terminal or tmux sends them as one burst — the field inserts the next characters before
the bound key's action runs: "abc ⌫ d ← X" became "abdX" instead of "abXd", and "Ctrl+U x[/]
Enter" in the change-host dialog submitted an empty field. Textual issue #6605 (open; PR #6631
proposes this same fix upstream).

`keep_key_order` makes both widgets run their own non-priority editing bindings inline, in
their ``_on_key``, right after the widget's own handling, so a bound key is done before the
next key is looked at. What runs is what Textual would run (the widget's bindings with the
app's `[keys]` keymap applied, through `App.run_action`); only the moment changes. Left as
Textual runs them: Enter's `submit` (it ends the field; the command palette filters its list
in a worker after each character, and a submit that overtook that search would pick from the
unfiltered list) and the bindings of the widget's ancestors (a dialog's Esc, a pane's keys).
"""

from __future__ import annotations

from textual import events
from textual.widget import Widget
from textual.widgets import Input, TextArea

_PATCHED = "_ollama_tui_key_order"


async def run_own_binding(widget: Widget, event: events.Key) -> bool:
    """Run the widget's own (non-priority) editing binding for this key now; True if one ran."""
    bindings = widget._bindings.copy()
    keymap = widget.app._keymap
    if keymap:
        bindings.apply_keymap(keymap)
    for binding in bindings.key_to_bindings.get(event.key, ()):
        if binding.action == "submit":
            return False
        if not binding.priority and await widget.app.run_action(binding.action, widget):
            event.stop()
            event.prevent_default()
            return True
    return False


def _in_order(on_key):
    async def _on_key(self: Widget, event: events.Key) -> None:
        await on_key(self, event)
        if not event._stop_propagation:
            await run_own_binding(self, event)

    setattr(_on_key, _PATCHED, True)
    return _on_key


def keep_key_order() -> None:
    """Install the inline bindings on Input and TextArea (once; subclasses inherit them)."""
    for cls in (Input, TextArea):
        if not getattr(cls._on_key, _PATCHED, False):
            cls._on_key = _in_order(cls._on_key)  # type: ignore[method-assign]
