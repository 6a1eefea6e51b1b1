"""The scrolling conversation: follows a streaming reply unless the user scrolled up."""

from __future__ import annotations

from textual.actions import SkipAction
from textual.containers import VerticalScroll


class Conversation(VerticalScroll):
    """`follow` is cleared by any user scroll upwards and set again at the bottom or by Ctrl+B.

    While following a conversation taller than the view, it is also anchored in Textual's sense:
    the compositor puts the view at the bottom in the same arrangement as a layout change.
    Without that, a reply's end (its reserved blank lines go, the stats line comes) was painted
    once with the old scroll position: a frame of blank rows under the reply, its start pushed
    off the top. Textual's own `anchor()` also anchors a short conversation, which then sits at
    the bottom of the view; hence the property below instead (Textual reads `_anchored` at each
    arrangement; if a later Textual stops doing so, this only brings that one frame back).

    Keys move the view at once, not in an animation: an animated page is ~a dozen frames (bytes
    over SSH) and its first visible step came ~90 ms after the key (issue 20 measured it).
    """

    follow = True

    @property
    def _anchored(self) -> bool:
        return self.follow and self.max_scroll_y > 0

    @_anchored.setter
    def _anchored(self, value: bool) -> None:
        pass  # written by Textual's Widget.__init__ and anchor(); `follow` decides here

    def _user_scrolled_up(self) -> None:
        self.follow = False

    def _maybe_resume(self) -> None:
        if self.scroll_y >= self.max_scroll_y - 1:
            self.follow = True

    def _can_scroll(self) -> None:
        if not self.allow_vertical_scroll:
            raise SkipAction()

    def action_scroll_up(self) -> None:
        self._user_scrolled_up()
        self._can_scroll()
        self.scroll_up(animate=False)

    def action_page_up(self) -> None:
        self._user_scrolled_up()
        self._can_scroll()
        self.scroll_page_up(animate=False)

    def action_scroll_home(self) -> None:
        self._user_scrolled_up()
        self._can_scroll()
        self.scroll_home(animate=False)

    def action_scroll_down(self) -> None:
        self._can_scroll()
        self.scroll_down(animate=False)
        self.call_after_refresh(self._maybe_resume)

    def action_page_down(self) -> None:
        self._can_scroll()
        self.scroll_page_down(animate=False)
        self.call_after_refresh(self._maybe_resume)

    def _on_mouse_scroll_up(self, event) -> None:
        self._user_scrolled_up()
        super()._on_mouse_scroll_up(event)

    def _on_mouse_scroll_down(self, event) -> None:
        super()._on_mouse_scroll_down(event)
        self.call_after_refresh(self._maybe_resume)

    def jump_to_bottom(self) -> None:
        self.follow = True
        self.scroll_end(animate=False)

    def keep_following(self) -> None:
        if self.follow:
            self.call_after_refresh(self._follow_now)

    def _follow_now(self) -> None:
        # Asked again once the new text is laid out: the user may have scrolled up meanwhile,
        # and a scroll queued before that must not pull the view back down.
        if self.follow:
            self.scroll_end(animate=False, immediate=True)
