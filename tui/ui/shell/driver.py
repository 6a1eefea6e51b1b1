"""Textual's Linux/macOS driver with an input thread that sleeps while nothing is typed.

Textual's input thread wakes ten times a second (``select(0.1)``) to see whether the app is
exiting and whether a lone Esc has waited long enough to be a key. Idle, that was a quarter of
the app's CPU. This one blocks until a byte arrives, a half-read escape sequence is due
(the parser's own deadline) or the app exits (a pipe written when the exit event is set).
Everything else is Textual's driver. Should Textual's internals this relies on change, the
thread falls back to Textual's own loop.

Output: every write goes through `FrameDiff` (frame_diff.py), which sends only the cells a frame
changes and turns a region moved up into a terminal scroll: a streamed reply costs a fraction
of the bytes over SSH. Long blank runs are erased (ECH) where terminfo says `bce`. OTUI_FULL_FRAMES=1 in the environment writes Textual's frames as they are.
"""

from __future__ import annotations

import os
import selectors
import threading
from codecs import getincrementaldecoder
from typing import Any

from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

from tui.ui.shell.frame_diff import FrameDiff


class _WakingEvent(threading.Event):
    """An Event that also writes to a pipe when set, to wake a thread blocked in select."""

    def __init__(self, wake_fd: int) -> None:
        super().__init__()
        self._wake_fd = wake_fd

    def set(self) -> None:
        super().set()
        try:
            os.write(self._wake_fd, b"x")
        except OSError:  # the pipe is full (already woken) or closed at exit
            pass


def _erases_with_background(fd: int) -> bool:
    """terminfo says the terminal erases with the background colour (`bce`), as ncurses asks."""
    try:
        import curses
    except ImportError:
        return False
    try:
        curses.setupterm(os.environ.get("TERM") or "dumb", fd)
        return curses.tigetflag("bce") > 0
    except curses.error:  # no terminfo entry for TERM: write the blanks
        return False


class QuietLinuxDriver(LinuxDriver):
    """See the module docstring."""

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.exit_event = _WakingEvent(self._wake_w)
        self.frames: FrameDiff | None = None
        if not os.environ.get("OTUI_FULL_FRAMES"):
            self.frames = FrameDiff(0, 0, erase=_erases_with_background(self._file.fileno()))

    def write(self, data: str) -> None:
        frames = self.frames
        if frames is not None:
            try:
                columns, rows = os.get_terminal_size(self._file.fileno())
            except (OSError, ValueError):
                columns, rows = 0, 0
            frames.resize(columns, rows)  # a new size: nothing known, the next frames go whole
            data = frames.apply(data) if columns and rows else data
        if data:
            super().write(data)

    def run_input_thread(self) -> None:
        parser = XTermParser(self._debug)
        if not hasattr(parser, "_timeout_time"):  # not the Textual this was written for
            super().run_input_thread()
            return
        selector = selectors.DefaultSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        selector.register(self._wake_r, selectors.EVENT_READ)
        decode = getincrementaldecoder("utf-8")().decode

        def process(ready: list[tuple[selectors.SelectorKey, int]], final: bool = False) -> None:
            for key, mask in ready:
                if key.fd == self._wake_r:
                    try:
                        os.read(self._wake_r, 4096)
                    except OSError:
                        pass
                elif mask & selectors.EVENT_READ:
                    text = decode(os.read(self.fileno, 1024 * 4), final=final)
                    if not text:
                        continue  # stdin was piped and has ended
                    for event in parser.feed(text):
                        self.process_message(event)
            for event in parser.tick():
                self.process_message(event)

        def timeout() -> float | None:
            due = parser._timeout_time  # set while a partial escape sequence waits for more
            return None if due is None else max(0.0, due - get_time())

        try:
            while not self.exit_event.is_set():
                process(selector.select(timeout()))
            process(selector.select(0.1), final=True)
        finally:
            selector.close()

    def close(self) -> None:
        super().close()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
