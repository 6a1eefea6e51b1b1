"""The private parts of Textual, tomlkit and aiosqlite the app relies on, one test each.

pyproject.toml pins Textual to 8.x and tomlkit to 0.15.x; a newer release may still move one of
these. Each test names what moved and where the app uses it, so an upgrade fails here, loudly,
instead of somewhere odd at run time.

Textual
- `WorkerManager._remove_worker(worker)`, `WorkerManager._app` — tui/ui/shell/worker_errors.py
  (ReportingWorkerManager reports a worker that ended in ERROR)
- `App._workers` — tui/app.py (the app installs ReportingWorkerManager there)
- `App._handle_exception(error)` — tui/app.py (logs the traceback of an unhandled exception)
- `App._registered_themes` — tui/app.py watch_theme (only a registered theme is saved)
- `Widget._anchored`, read by the compositor at each arrangement — tui/ui/chat/conversation.py
  (a property: anchored only while following a conversation taller than the view)
- `Widget._on_mouse_scroll_up/_down(event)` — tui/ui/chat/conversation.py (a wheel up stops
  following)
- `TextArea._on_key(event)` (async) — tui/ui/chat/prompt.py (Enter sends, Ctrl+J newline, recall)
- `Input._on_key` / `TextArea._on_key` (async), `Widget._bindings` (a BindingsMap: `copy`,
  `apply_keymap`, `key_to_bindings`), `App._keymap`, `Message._stop_propagation`, and the
  bubbling that runs a focused field's bindings only once the key is back at the App —
  tui/ui/shell/key_order.py (a field's bound keys run inline, in the order typed; Textual #6605)
- `textual.keys._character_to_key(character)` — tui/ui/keymap.py (a [keys] value "?" read as
  Textual names the key, "question_mark")
- `Widget._dirty_regions` — tui/ui/monitor/widgets.py (cleared in render_line, which bypasses
  Widget.render_line)
- `textual._xterm_parser.XTermParser(debug)` with `feed`, `tick`, `_timeout_time`;
  `textual._time.get_time`; `LinuxDriver.run_input_thread`, `Driver._debug`,
  `LinuxDriver.exit_event`, `Driver.process_message`, `LinuxDriver.fileno` —
  tui/ui/shell/driver.py (QuietLinuxDriver's input thread that sleeps instead of polling)
- `LinuxDriver._file` (the terminal, for its size and terminfo) and what a frame is made of
  (`textual._compositor.LayoutUpdate.render_segments`: cursor moves, SGR, text, newlines) —
  tui/ui/shell/frame_diff.py (FrameDiff reads frames; anything else goes out unshortened)
- `Pilot._wait_for_screen(timeout)`, `App._exception_event`, `MessagePump._closing/_closed` —
  tests/pilot_wait.py (the tests' Pilot wait counts widgets removed meanwhile as done)
- and no other private Textual name is overridden by accident (test_no_accidental_overrides:
  MarkdownLines once shadowed `Widget._render`, which text selection calls)

tomlkit
- `Container._insert_at(index, key, value)` (a Table's `.value`) and `Table.value.body` —
  tui/service/config/toml_edit.py insert_key (a new key goes before the comments of what follows)

aiosqlite
- `Connection._thread` — tui/service/history/db.py (made a daemon; tolerated if absent, so the
  test only says the daemon flag no longer applies)
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest


def _has(owner: object, name: str, where: str) -> None:
    assert hasattr(owner, name), f"{getattr(owner, '__qualname__', owner)}.{name} is gone; used in {where}"


def _params(func: object) -> list[str]:
    return list(inspect.signature(func).parameters)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Textual


def test_worker_manager_remove_worker() -> None:
    from textual.worker_manager import WorkerManager

    where = "tui/ui/shell/worker_errors.py"
    _has(WorkerManager, "_remove_worker", where)
    assert _params(WorkerManager._remove_worker) == ["self", "worker"], \
        f"WorkerManager._remove_worker's signature changed; used in {where}"
    assert "self._remove_worker" in inspect.getsource(WorkerManager), \
        f"WorkerManager no longer passes _remove_worker to its workers; {where} would never report"
    assert "self._app = app" in inspect.getsource(WorkerManager.__init__), f"WorkerManager._app is gone; {where}"


def test_app_workers_and_exception_handler() -> None:
    from textual.app import App

    assert "self._workers = WorkerManager(self)" in inspect.getsource(App.__init__), \
        "App._workers is gone; tui/app.py installs ReportingWorkerManager there"
    _has(App, "_handle_exception", "tui/app.py")
    assert _params(App._handle_exception) == ["self", "error"], \
        "App._handle_exception's signature changed; overridden in tui/app.py"


def test_text_fields_bindings_for_key_order() -> None:
    from textual.app import App
    from textual.binding import BindingsMap
    from textual.message import Message
    from textual.widget import Widget
    from textual.widgets import Input, TextArea

    where = "tui/ui/shell/key_order.py"
    for cls in (Input, TextArea):
        assert inspect.iscoroutinefunction(cls._on_key) and _params(cls._on_key) == ["self", "event"], \
            f"{cls.__name__}._on_key changed; wrapped in {where}"
    for name in ("copy", "apply_keymap"):
        _has(BindingsMap, name, where)
    assert "key_to_bindings" in inspect.getsource(BindingsMap.__init__), f"BindingsMap.key_to_bindings is gone; {where}"
    assert "self._bindings" in inspect.getsource(Widget.__init__.__globals__["DOMNode"].__init__), \
        f"DOMNode._bindings is gone; {where}"
    assert "self._keymap" in inspect.getsource(App.__init__), f"App._keymap is gone; {where}"
    assert "_stop_propagation" in Message.__slots__, f"Message._stop_propagation is gone; {where}"
    assert "_check_bindings(event.key)" in inspect.getsource(App._on_key), \
        f"App._on_key no longer runs the focus chain's bindings; {where} may now run them twice"


def test_character_to_key() -> None:
    from textual import keys

    _has(keys, "_character_to_key", "tui/ui/keymap.py parse_key")
    assert [keys._character_to_key(c) for c in "?/a"] == ["question_mark", "slash", "a"], \
        "textual.keys._character_to_key names keys differently; tui/ui/keymap.py parse_key"


def test_pilot_wait_for_screen() -> None:
    from textual.app import App
    from textual.pilot import Pilot

    where = "tests/pilot_wait.py"
    _has(Pilot, "_wait_for_screen", where)
    assert _params(Pilot._wait_for_screen) == ["self", "timeout"], f"Pilot._wait_for_screen changed; {where}"
    app = App()
    _has(app, "_exception_event", where)
    _has(app, "_closing", where)
    _has(app, "_closed", where)


def test_app_registered_themes() -> None:
    from textual.app import App

    app = App()
    assert isinstance(getattr(app, "_registered_themes", None), dict), \
        "App._registered_themes is gone; used in tui/app.py watch_theme"


def test_widget_anchored_is_read_by_the_compositor() -> None:
    import textual._compositor
    from textual.widget import Widget

    where = "tui/ui/chat/conversation.py"
    assert "self._anchored" in inspect.getsource(Widget.__init__), f"Widget._anchored is gone; {where}"
    assert "widget._anchored" in inspect.getsource(textual._compositor), \
        f"the compositor no longer reads Widget._anchored; {where} would paint a frame at the old scroll"


def test_widget_mouse_scroll_handlers() -> None:
    from textual.widget import Widget

    for name in ("_on_mouse_scroll_up", "_on_mouse_scroll_down"):
        _has(Widget, name, "tui/ui/chat/conversation.py")
        assert _params(getattr(Widget, name)) == ["self", "event"], f"Widget.{name}'s signature changed"


def test_text_area_on_key() -> None:
    from textual.widgets import TextArea

    _has(TextArea, "_on_key", "tui/ui/chat/prompt.py")
    assert inspect.iscoroutinefunction(TextArea._on_key), \
        "TextArea._on_key is no longer async; tui/ui/chat/prompt.py awaits it"
    assert _params(TextArea._on_key) == ["self", "event"], "TextArea._on_key's signature changed"


def test_widget_dirty_regions() -> None:
    from textual.widget import Widget

    assert "self._dirty_regions" in inspect.getsource(Widget.__init__), \
        "Widget._dirty_regions is gone; tui/ui/monitor/widgets.py clears it in render_line"


def test_driver_input_thread_internals() -> None:
    from textual._time import get_time
    from textual._xterm_parser import XTermParser
    from textual.driver import Driver
    from textual.drivers.linux_driver import LinuxDriver

    where = "tui/ui/shell/driver.py"
    assert callable(get_time)
    parser = XTermParser(False)
    for name in ("feed", "tick", "_timeout_time"):
        _has(parser, name, where)
    _has(LinuxDriver, "run_input_thread", where)
    _has(Driver, "process_message", where)
    assert "self._debug" in inspect.getsource(Driver.__init__), f"Driver._debug is gone; {where}"
    linux_init = inspect.getsource(LinuxDriver.__init__)
    for name in ("self.exit_event", "self.fileno"):
        assert name in linux_init, f"LinuxDriver.{name[5:]} is gone; {where}"


def test_frames_are_made_of_what_frame_diff_reads() -> None:
    from rich.console import Console
    from rich.segment import Segment
    from rich.style import Style
    from textual._compositor import LayoutUpdate
    from textual.drivers.linux_driver import LinuxDriver
    from textual.geometry import Region
    from textual.strip import Strip

    from tui.ui.shell.frame_diff import FrameDiff

    where = "tui/ui/shell/driver.py and frame_diff.py"
    assert "self._file" in inspect.getsource(LinuxDriver.__init__), f"LinuxDriver._file is gone; {where}"
    strip = Strip([Segment("hi ", Style(bold=True, bgcolor="red")), Segment("日本", Style(color="blue"))])
    console = Console(color_system="256", force_terminal=True, width=20)
    data = LayoutUpdate([[strip], [strip]], Region(2, 3, 7, 2)).render_segments(console)
    diff = FrameDiff(20, 10)
    diff.apply(data)
    assert [cell[1] for cell in diff.screen[4][2:9]] == list("hi 日") + ["", "本", ""], \
        f"Textual's frames hold something FrameDiff does not read (it writes them whole); {where}"


# The private overrides the app means to make; anything else is an accident.
INTENDED = {
    ("tui.ui.chat.prompt", "PromptArea", "_on_key"),
    ("tui.ui.chat.conversation", "Conversation", "_on_mouse_scroll_up"),
    ("tui.ui.chat.conversation", "Conversation", "_on_mouse_scroll_down"),
    ("tui.ui.shell.worker_errors", "ReportingWorkerManager", "_remove_worker"),
    ("tui.app", "OllamaTUI", "_handle_exception"),
}
# Set per class by Textual's machinery (DOMNode.__init_subclass__ and the like), not by us.
_GENERATED = {"_decorated_handlers", "_reactives", "_inherit_css", "_inherit_bindings",
              "_inherit_component_classes", "_css_type_name", "_merged_bindings", "_css_type_names",
              "_computes", "_abc_impl"}


def test_no_accidental_overrides() -> None:
    import tui
    import tui.app

    modules = [tui.app] + [importlib.import_module(m.name) for m in pkgutil.walk_packages(tui.__path__, "tui.")
                           if m.name.startswith("tui.ui.")]
    found = set()
    for module in modules:
        for cls in vars(module).values():
            if not inspect.isclass(cls) or cls.__module__ != module.__name__:
                continue
            for name in cls.__dict__:
                if not name.startswith("_") or name.startswith("__") or name in _GENERATED:
                    continue
                for base in cls.__mro__[1:]:
                    if base.__module__.startswith("textual") and name in base.__dict__:
                        found.add((cls.__module__, cls.__name__, name))
                        break
    accidental = sorted(found - INTENDED)
    assert not accidental, f"these shadow a private Textual name (rename them): {accidental}"
    assert found == INTENDED, f"no longer overridden (update INTENDED and the docstring): {sorted(INTENDED - found)}"


# --------------------------------------------------------------------------- tomlkit


def test_tomlkit_container_insert_at() -> None:
    import tomlkit
    from tomlkit.container import Container

    where = "tui/service/config/toml_edit.py insert_key"
    _has(Container, "_insert_at", where)
    assert _params(Container._insert_at)[:4] == ["self", "idx", "key", "item"], \
        f"Container._insert_at's signature changed; {where}"
    doc = tomlkit.parse("[a]\nx = 1\n\n# b\n[b]\n")
    table = doc["a"]
    assert isinstance(table.value, Container) and isinstance(table.value.body, list), \
        f"a Table's .value.body is no longer a list of (key, item); {where}"


# --------------------------------------------------------------------------- aiosqlite


def test_aiosqlite_connection_thread() -> None:
    import aiosqlite

    conn = aiosqlite.connect(":memory:")
    thread = getattr(conn, "_thread", None)
    if thread is None:  # pragma: no cover - the app copes; say so rather than fail
        pytest.skip("aiosqlite.Connection._thread is gone: tui/service/history/db.py no longer "
                    "marks its thread a daemon")
    assert hasattr(thread, "daemon")
