"""The "create a model" form: new name, base model, system prompt, parameters, template."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from tui.service.ollama.errors import InvalidModelName
from tui.service.ollama.names import validate_model_name

# Options `/api/create` parameters accept, with their type (see ollama-api.md, Options).
# Ollama ignores unknown keys silently, so a typo is refused here instead.
PARAMETER_TYPES: dict[str, type] = {
    "temperature": float, "top_k": int, "top_p": float, "min_p": float, "typical_p": float,
    "repeat_last_n": int, "repeat_penalty": float, "presence_penalty": float,
    "frequency_penalty": float, "seed": int, "num_predict": int, "stop": list, "num_ctx": int,
    "num_batch": int, "num_gpu": int, "main_gpu": int, "num_thread": int, "use_mmap": bool,
    "num_keep": int,
}


@dataclass(frozen=True)
class CreateRequest:
    name: str
    from_: str
    system: str | None = None
    template: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


def _typed(key: str, raw: str, kind: type) -> Any:
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{key} must be a whole number (got {raw!r})") from None
    if kind is float:
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{key} must be a number (got {raw!r})") from None
    if kind is bool:
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise ValueError(f"{key} must be true or false (got {raw!r})")
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        raw = raw[1:-1]
    return raw


def parse_parameters(text: str) -> dict[str, Any]:
    """`key=value` per line → typed dict; `stop` may repeat and is always a list.

    Blank lines and `#` comments are skipped. Raises ValueError naming the line at fault.
    """
    out: dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, raw = line.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key:
            raise ValueError(f"parameters line {number}: expected key=value, got {line!r}")
        kind = PARAMETER_TYPES.get(key)
        if kind is None:
            raise ValueError(f"parameters line {number}: unknown parameter {key!r}")
        if not raw:
            raise ValueError(f"parameters line {number}: {key} has no value")
        try:
            value = _typed(key, raw, kind)
        except ValueError as exc:
            raise ValueError(f"parameters line {number}: {exc}") from None
        if kind is list:
            out.setdefault(key, []).append(value)
        elif key in out:
            raise ValueError(f"parameters line {number}: {key} is set twice")
        else:
            out[key] = value
    return out


def check_request(name: str, from_: str, parameters: str) -> tuple[CreateRequest | None, str | None]:
    """Validate the form's fields: (request, None) or (None, the reason)."""
    name, from_ = name.strip(), from_.strip()
    try:
        validate_model_name(name)
    except InvalidModelName as exc:
        return None, f"new name: {exc}"
    if not from_:
        return None, "base model: give the model to start from"
    try:
        validate_model_name(from_)
    except InvalidModelName as exc:
        return None, f"base model: {exc}"
    try:
        params = parse_parameters(parameters)
    except ValueError as exc:
        return None, str(exc)
    return CreateRequest(name=name, from_=from_, parameters=params), None


class CreateModelDialog(ModalScreen[CreateRequest | None]):
    """Ctrl+S (or the Create button) creates; Esc cancels; Tab moves between fields."""

    BINDINGS = [
        Binding("ctrl+s", "submit", "Create"),
        Binding("escape", "cancel", "Cancel"),
    ]
    DEFAULT_CSS = """
    CreateModelDialog { align: center middle; }
    CreateModelDialog > VerticalScroll { width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1; }
    CreateModelDialog .field { height: auto; margin: 0 0 0 0; }
    CreateModelDialog .field > Label { width: 11; padding: 0 1 0 0; }
    CreateModelDialog Input { width: 1fr; background: $boost; }
    CreateModelDialog TextArea { width: 1fr; height: 3; background: $boost; }
    CreateModelDialog #create-error { color: $text-error; height: auto; }
    CreateModelDialog .hint { color: $text-muted; height: auto; }
    CreateModelDialog #create-buttons { height: 1; }
    CreateModelDialog #create-buttons > Static { width: 1fr; }
    CreateModelDialog #create-buttons > Button { width: auto; }
    """

    def __init__(self, base: str = "") -> None:
        super().__init__()
        self.base = base

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Content("Create a model"), classes="title")
            with Horizontal(classes="field"):
                yield Label("New name")
                yield Input(placeholder="my-assistant:latest", id="create-name", compact=True)
            with Horizontal(classes="field"):
                yield Label("From")
                yield Input(self.base, placeholder="base model, e.g. llama3.2", id="create-from", compact=True)
            with Horizontal(classes="field"):
                yield Label("System")
                yield TextArea(id="create-system", compact=True, soft_wrap=True, show_line_numbers=False)
            with Horizontal(classes="field"):
                yield Label("Parameters")
                yield TextArea(id="create-parameters", compact=True, show_line_numbers=False)
            with Horizontal(classes="field"):
                yield Label("Template")
                yield TextArea(id="create-template", compact=True, show_line_numbers=False)
            yield Static("", id="create-error")
            yield Static(Content("Parameters: one key=value a line (temperature=0.7, num_ctx=8192, "
                                 "stop=<|end|>). Empty fields keep the base model's."), classes="hint")
            with Horizontal(id="create-buttons"):
                yield Static(Content("Ctrl+S create · Esc cancel · Tab next field"), classes="hint")
                yield Button("Create", id="create-ok", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#create-name", Input).focus()

    def _value(self, widget_id: str) -> str:
        widget = self.query_one(f"#{widget_id}")
        return widget.value if isinstance(widget, Input) else widget.text  # type: ignore[attr-defined]

    def action_submit(self) -> None:
        request, error = check_request(self._value("create-name"), self._value("create-from"),
                                       self._value("create-parameters"))
        if request is None:
            self.query_one("#create-error", Static).update(Content(f"✕ {error}"))
            return
        system = self._value("create-system")
        template = self._value("create-template")
        self.dismiss(CreateRequest(name=request.name, from_=request.from_, parameters=request.parameters,
                                   system=system if system.strip() else None,
                                   template=template if template.strip() else None))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_submit()

    def action_cancel(self) -> None:
        self.dismiss(None)
