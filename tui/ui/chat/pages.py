"""What of a stored session the conversation shows: a page of its newest messages when it
opens (a screen or two of text), older pages on demand, and the widget for each message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.ui.chat.messages import AssistantTurn, UserTurn
from tui.ui.chat.toolcall import ToolCallTurn

if TYPE_CHECKING:
    from textual.widget import Widget

    from tui.service.history import Message

PAGE = 40  # messages rendered when a session opens; older ones on demand
# ... and at most about this much text (a screen or two): opening a session renders its
# newest replies in full, so the first paint costs about what is shown, not 40 long replies.
OPEN_CHARS = 6_000
FIRST_PAINT = 2  # messages mounted before the first paint of an opened session


def newest_within(messages: list[Message], chars: int, *, at_least: int = 2) -> list[Message]:
    """The newest of `messages` (oldest first) whose text adds up to at most `chars`
    (but at least `at_least` of them, however long)."""
    kept, used = 0, 0
    for message in reversed(messages):
        used += len(message.content or "") + len(message.thinking or "")
        if kept >= at_least and used > chars:
            break
        kept += 1
    return messages[len(messages) - kept:]


def widgets_for(messages: list[Message]) -> list[Widget]:
    """The conversation's widgets for stored `messages` (a reply that only called tools is
    shown by its calls)."""
    widgets: list[Widget] = []
    for message in messages:
        if message.role == "user":
            names = tuple(a.name for a in message.attachments)
            widgets.append(UserTurn(message.content, names, message_id=message.id))
        elif message.role == "tool":
            call = message.tool_calls[0] if message.tool_calls else {"name": message.tool_name or "", "arguments": {}}
            widgets.append(ToolCallTurn(call["name"], call["arguments"], result=message.content,
                                        kind=message.error or "ok", message_id=message.id))
        elif message.role == "assistant":
            if message.tool_calls and not message.content.strip() and not (message.thinking or "").strip():
                continue  # it only called tools: the calls that follow show it
            widgets.append(AssistantTurn(message.model or "", content=message.content,
                                         thinking=message.thinking or "", message_id=message.id,
                                         status=message.status, stats=message.stats,
                                         error=message.error))
    return widgets
