"""What the Models pane does to one model: delete, copy, load (after the memory-fit check) and
unload — the dialogs, the server calls and their toasts. A helper object the pane owns."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget

from tui.service.ollama.errors import InvalidModelName, OllamaError
from tui.service.ollama.names import same_model
from tui.service.ollama.types import ModelInfo
from tui.service.units import format_size
from tui.service.untrusted import inert
from tui.ui.access import TuiApp, services, tui_app
from tui.ui.models.pull_panel import name_error
from tui.ui.widgets.dialogs import ConfirmDialog, TextDialog


class ModelActions:
    """Delete, copy, load and unload a model the caller names.

    The server calls run as workers of `owner` (the pane: they end with it, and a failure is
    reported like any worker's). When one is done, what changed is posted to `owner`:
    `LibraryChanged` (installed models; `select` is the model to keep the cursor on) after a
    delete or copy, `RunningChanged` (loaded models) after a load or unload.
    """

    #: The keys that act on the selected model (on the loaded-models row for l / k when that
    #: table has focus); the pane binds them so they work anywhere in it. `n` (create) starts a
    #: job in the pull panel, with the selected model as its base.
    PANE_KEYS = [
        Binding("d", "delete", "Delete", id="models_delete"),
        Binding("c", "copy", "Copy / tag the model", show=False, id="models_copy"),
        Binding("n", "create", "Create", id="models_create"),
        Binding("l", "load", "Load & keep loaded (keep_alive from config)", show=False, id="models_load"),
        Binding("k", "unload", "Unload the model now", show=False, id="models_unload"),
    ]

    class LibraryChanged(Message):
        """A model was deleted or copied: list the installed models again."""

        def __init__(self, select: str | None = None) -> None:
            super().__init__()
            self.select = select

    class RunningChanged(Message):
        """A model was loaded or unloaded: sample the loaded models again."""

    def __init__(self, owner: Widget) -> None:
        self.owner = owner

    @property
    def app(self) -> TuiApp:
        return tui_app(self.owner)

    def _notify(self, message: str, **kwargs: Any) -> None:
        self.owner.notify(message, **kwargs)

    def _run(self, work: Coroutine[Any, Any, None], description: str) -> None:
        self.owner.run_worker(work, group="model-action", exit_on_error=False, description=description)

    # -- delete ---------------------------------------------------------------------------------

    def delete(self, info: ModelInfo) -> None:
        """Ask, then delete `info` from the server."""
        size = format_size(info.size) if info.size else "size unknown"

        def answer(yes: bool | None) -> None:
            if yes:
                self._run(self._delete(info.name), "delete a model")

        self.app.push_screen(ConfirmDialog(
            f"Delete {inert(info.name)} ({size}) from the server? Its files are removed from disk."), answer)

    async def _delete(self, name: str) -> None:
        try:
            await services(self.owner).provider.delete(name)
        except OllamaError as exc:
            self._notify(f"{inert(name)}: {inert(exc.message)}", title="Delete failed", severity="error")
        else:
            self._notify(f"Deleted {inert(name)}", title="Delete")
        self.owner.post_message(self.LibraryChanged())

    # -- copy -----------------------------------------------------------------------------------

    def copy(self, info: ModelInfo) -> None:
        """Ask for a new name or tag, then copy `info` to it."""

        def check(value: str) -> str | None:
            error = name_error(value)
            if error is None and same_model(value.strip(), info.name):
                return "the new name is the model's own name"
            return error

        def done(value: str | None) -> None:
            if value:
                self._run(self._copy(info.name, value.strip()), "copy a model")

        self.app.push_screen(TextDialog(f"Copy {inert(info.name)} to (a new name or tag)", info.name,
                                        validate=check), done)

    async def _copy(self, source: str, destination: str) -> None:
        try:
            await services(self.owner).provider.copy(source, destination)
        except (OllamaError, InvalidModelName) as exc:
            self._notify(f"{inert(source)} → {inert(destination)}: {inert(str(exc))}",
                         title="Copy failed", severity="error")
            self.owner.post_message(self.LibraryChanged())
        else:
            self._notify(f"Copied {inert(source)} to {inert(destination)}", title="Copy")
            self.owner.post_message(self.LibraryChanged(select=destination))

    # -- load / unload --------------------------------------------------------------------------

    def load(self, name: str, size: int | None) -> None:
        """Load `name` and keep it loaded (keep_alive from the config); asks first when the
        monitor says it may not fit in memory (`size`: its size on disk, when known)."""
        keep_alive = services(self.owner).config.chat_settings(name).keep_alive
        self._run(self._load(name, size, keep_alive), "load a model")

    async def _load(self, name: str, size: int | None, keep_alive: str | float) -> None:
        warning = await tui_app(self.owner).monitor.fit_warning(name, size)
        if warning is not None and not await self.app.push_screen_wait(ConfirmDialog(
                f"⚠ {inert(warning)}.\n\nLoading it may swap or fail. Load anyway?")):
            self._notify(f"{inert(name)} not loaded.", timeout=3)
            return
        self._notify(f"Loading {inert(name)}…", timeout=2)
        try:
            await services(self.owner).provider.load(name, keep_alive=keep_alive)
        except OllamaError as exc:
            self._notify(f"{inert(name)}: {inert(exc.message)}", title="Load failed", severity="error")
        else:
            kept = "forever" if str(keep_alive).startswith("-") else f"keep_alive {keep_alive}"
            self._notify(f"Loaded {inert(name)} ({kept})", title="Load")
        self.owner.post_message(self.RunningChanged())

    def unload(self, name: str) -> None:
        """Unload `name` now."""
        self._run(self._unload(name), "unload a model")

    async def _unload(self, name: str) -> None:
        try:
            await services(self.owner).provider.unload(name)
        except OllamaError as exc:
            self._notify(f"{inert(name)}: {inert(exc.message)}", title="Unload failed", severity="error")
        else:
            self._notify(f"Unloaded {inert(name)}", title="Unload")
        self.owner.post_message(self.RunningChanged())
