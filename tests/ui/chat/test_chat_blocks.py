"""Cutting streamed Markdown into finished blocks: chunk by chunk gives what the whole gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.ui.chat.blocks import BlockSplitter, split_blocks

DOC = (
    "# Title\n\nA paragraph\nover two lines.\n\n"
    "- item one\n- item two\n\n  continued inside item two\n\n"
    "```python\ndef f():\n\n    return 1\n```\n"
    "After the fence.\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    "~~~~\n```not a close\n~~~~\n\n"
    "> quote\n\nlast line"
)


def test_blocks_of_a_document():
    assert split_blocks(DOC) == [
        "# Title\n",
        "A paragraph\nover two lines.\n",
        "- item one\n- item two\n\n  continued inside item two\n",
        "```python\ndef f():\n\n    return 1\n```\n",
        "After the fence.\n",
        "| a | b |\n|---|---|\n| 1 | 2 |\n",
        "~~~~\n```not a close\n~~~~\n",
        "> quote\n\nlast line",  # a line is judged once it is complete: the last one never was
    ]


def test_a_blank_line_inside_a_fence_does_not_end_the_block():
    splitter = BlockSplitter()
    assert splitter.feed("```\ncode\n\nmore\n") == []
    assert splitter.in_fence
    assert splitter.feed("```\n") == ["```\ncode\n\nmore\n```\n"]
    assert not splitter.in_fence


def test_a_block_is_final_only_once_the_next_one_starts():
    splitter = BlockSplitter()
    assert splitter.feed("para\n\n") == []  # an indented continuation could still follow
    assert splitter.feed("  indented\n\n") == []
    assert splitter.feed("next\n") == ["para\n\n  indented\n"]
    assert splitter.open == "next\n"


def test_the_fence_start_is_known_when_text_precedes_it():
    splitter = BlockSplitter()
    splitter.feed("Here it is:\n```sh\nls\n")
    assert splitter.in_fence
    assert splitter.open[splitter.fence_start:].startswith("```sh")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(DOC)), max_size=30))
def test_any_chunking_gives_the_same_blocks(cuts):
    points = sorted(set(cuts))
    chunks = [DOC[a:b] for a, b in zip([0, *points], [*points, len(DOC)])]
    splitter = BlockSplitter()
    blocks: list[str] = []
    for chunk in chunks:
        blocks += splitter.feed(chunk)
    last = splitter.finish()
    assert blocks + ([last] if last else []) == split_blocks(DOC)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(["a", " ", "\n", "`", "~", "-", "#", "|"]), max_size=200),
       st.integers(min_value=1, max_value=7))
def test_arbitrary_text_chunked_matches_whole(text, step):
    splitter = BlockSplitter()
    blocks: list[str] = []
    for i in range(0, len(text), step):
        blocks += splitter.feed(text[i:i + step])
    last = splitter.finish()
    got = blocks + ([last] if last else [])
    assert got == split_blocks(text)
    assert "".join(got).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")
