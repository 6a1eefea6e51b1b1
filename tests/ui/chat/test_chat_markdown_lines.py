"""A streamed reply renders block by block: the same lines as the whole text, at a bounded cost."""

from __future__ import annotations

from tests.ui.conftest import wait_for
from tests.ui.chat.test_chat_support import ready, replies, send, text
from tui.simulator import Simulator
from tui.ui.chat.conversation import Conversation
from tui.ui.chat.markdown_lines import MarkdownLines

SECTION = (
    "## Part {n}\n\nSome *prose* for part {n}, long enough to wrap across the width of the "
    "conversation column at least once or twice.\n\n"
    "- first point of {n}\n- second point of {n}\n\n"
    "```python\ndef part_{n}():\n    return {n}\n```\n\n"
    "| col | value |\n|-----|-------|\n| n   | {n}     |\n\n"
)
DOC = "".join(SECTION.format(n=n) for n in range(8)) + "The end ZEBRA."


async def test_streamed_reply_matches_the_whole_text_rendered_at_once(make_app, monkeypatch):
    rendered: list[int] = []
    original = MarkdownLines._render_block

    def counting(self, block, width):
        rendered.append(len(block))
        return original(self, block, width)

    monkeypatch.setattr(MarkdownLines, "_render_block", counting)
    with Simulator(token_rate=600, reply=DOC) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 40)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "explain", replies_count=1)
            reply = replies(app)[0]
            assert reply.content == DOC
            await wait_for(pilot, lambda: "The end ZEBRA." in text(app))
            streamed = reply.query_one(".body", MarkdownLines)
            # Many frames, yet the text given to the renderer is a small multiple of the reply
            # (re-rendering the whole reply per frame would be about frames/2 times it).
            assert len(rendered) > 50  # blocks (41) + open-block frames
            assert sum(rendered) < 3 * len(DOC), (sum(rendered), len(DOC), len(rendered))
            whole = MarkdownLines(DOC, classes="body")
            await app.query_one(Conversation).mount(whole)
            await pilot.pause()
            assert streamed.plain_lines() == whole.plain_lines()
            shown = streamed.plain_lines()
            assert "Part 7" in "\n".join(shown) and "def part_7():" in "\n".join(shown)
            assert not any("```" in line or "**" in line for line in shown)  # rendered, not raw


async def test_room_below_a_growing_reply_goes_when_it_ends(make_app):
    with Simulator(token_rate=0, reply=DOC) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 40)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "explain", replies_count=1)
            body = replies(app)[0].query_one(".body", MarkdownLines)
            await wait_for(pilot, lambda: body.size.height == len(body.plain_lines()))
            assert body.plain_lines()[-1].strip() == "The end ZEBRA."


async def test_code_is_highlighted_streamed_or_whole_and_unknown_languages_are_plain(make_app):
    code = "```python\ndef answer(x):\n    return 42\n```\n\n```no-such-language\nplain words here\n```\n\nEND"

    def colours(body: MarkdownLines, word: str) -> set:
        """The foreground colours of the segments of `word`'s line that hold text."""
        for y, line in enumerate(body.plain_lines()):
            if word in line:
                strip = body._line(y)
                return {seg.style.color for seg in strip if seg.text.strip() and seg.style and seg.style.color}
        raise AssertionError(f"{word!r} not shown")

    with Simulator(token_rate=300, reply=code) as sim:
        app = make_app(sim.url)
        async with app.run_test(size=(100, 30)) as pilot:
            await ready(app, pilot)
            await send(app, pilot, "code", replies_count=1)
            await wait_for(pilot, lambda: "END" in text(app))
            streamed = replies(app)[0].query_one(".body", MarkdownLines)
            whole = MarkdownLines(code, classes="body")
            await app.query_one(Conversation).mount(whole)
            await pilot.pause()
            for body in (streamed, whole):
                assert len(colours(body, "def answer")) >= 2  # keyword, name, number: not one colour
                assert len(colours(body, "plain words here")) == 1
