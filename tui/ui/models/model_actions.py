"""The Models pane's actions on one model: delete, copy, load (after the memory-fit check) and
unload. Mixed into ModelsPane."""

from __future__ import annotations

from typing import Any

from textual import work

from tui.service.ollama.errors import InvalidModelName, OllamaError
from tui.service.ollama.names import same_model
from tui.service.units import format_size
from tui.service.untrusted import inert
from tui.ui.access import services, tui_app
from tui.ui.models.pull_flow import name_error
from tui.ui.widgets.dialogs import ConfirmDialog, TextDialog


class ModelActions:
    """Needs: self.app, self.library, self.running, self.models, self.refresh_models,
    self.refresh_running, self._selected_or_say, self.notify…"""

    def _target(self) -> str | None:
        """The model `k` / `l` act on: the running table's row when it has focus."""
        if self.app.focused is self.running and self.running.selected is not None:
            return self.running.selected.name
        info = self.library.selected
        return info.name if info else None

    def action_delete(self) -> None:
        info = self._selected_or_say()
        if info is None:
            return
        size = format_size(info.size) if info.size else "size unknown"

        def answer(yes: bool | None) -> None:
            if yes:
                self.delete_model(info.name)

        self.app.push_screen(ConfirmDialog(
            f"Delete {inert(info.name)} ({size}) from the server? Its files are removed from disk."), answer)

    @work(group="model-action", exit_on_error=False, description="delete a model")
    async def delete_model(self, name: str) -> None:
        try:
            await services(self).provider.delete(name)
        except OllamaError as exc:
            self.notify(f"{inert(name)}: {inert(exc.message)}", title="Delete failed", severity="error")
        else:
            self.notify(f"Deleted {inert(name)}", title="Delete")
        self.refresh_models()

    def action_copy(self) -> None:
        info = self._selected_or_say()
        if info is None:
            return

        def check(value: str) -> str | None:
            error = name_error(value)
            if error is None and same_model(value.strip(), info.name):
                return "the new name is the model's own name"
            return error

        def done(value: str | None) -> None:
            if value:
                self.copy_model(info.name, value.strip())

        self.app.push_screen(TextDialog(f"Copy {inert(info.name)} to (a new name or tag)", info.name,
                                        validate=check), done)

    @work(group="model-action", exit_on_error=False, description="copy a model")
    async def copy_model(self, source: str, destination: str) -> None:
        try:
            await services(self).provider.copy(source, destination)
        except (OllamaError, InvalidModelName) as exc:
            self.notify(f"{inert(source)} → {inert(destination)}: {inert(str(exc))}",
                        title="Copy failed", severity="error")
            self.refresh_models()
        else:
            self.notify(f"Copied {inert(source)} to {inert(destination)}", title="Copy")
            self.refresh_models(select=destination)

    def action_load(self) -> None:
        name = self._target()
        if name is None:
            self.notify("Select a model in the list first.", severity="warning", timeout=3)
            return
        keep_alive: Any = services(self).config.chat_settings(name).keep_alive
        self.load_model(name, keep_alive)

    @work(group="model-action", exit_on_error=False, description="load a model")
    async def load_model(self, name: str, keep_alive: Any) -> None:
        info = next((m for m in self.models if same_model(name, m.name)), None)
        warning = await tui_app(self).monitor.fit_warning(name, info.size if info else None)
        if warning is not None and not await self.app.push_screen_wait(ConfirmDialog(
                f"⚠ {inert(warning)}.\n\nLoading it may swap or fail. Load anyway?")):
            self.notify(f"{inert(name)} not loaded.", timeout=3)
            return
        self.notify(f"Loading {inert(name)}…", timeout=2)
        try:
            await services(self).provider.load(name, keep_alive=keep_alive)
        except OllamaError as exc:
            self.notify(f"{inert(name)}: {inert(exc.message)}", title="Load failed", severity="error")
        else:
            kept = "forever" if str(keep_alive).startswith("-") else f"keep_alive {keep_alive}"
            self.notify(f"Loaded {inert(name)} ({kept})", title="Load")
        self.refresh_running()

    def action_unload(self) -> None:
        name = self._target()
        if name is None:
            self.notify("Select a model first.", severity="warning", timeout=3)
            return
        self.unload_model(name)

    @work(group="model-action", exit_on_error=False, description="unload a model")
    async def unload_model(self, name: str) -> None:
        try:
            await services(self).provider.unload(name)
        except OllamaError as exc:
            self.notify(f"{inert(name)}: {inert(exc.message)}", title="Unload failed", severity="error")
        else:
            self.notify(f"Unloaded {inert(name)}", title="Unload")
        self.refresh_running()
