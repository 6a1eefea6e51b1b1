"""Shortening a model name for a narrow column: the `:tag` is always kept whole."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.service.ollama.names import shorten_model_name

CODER = "qwen2.5-coder:32b-instruct-q4_K_M"
HF = "hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M"


def test_a_name_that_fits_is_left_whole():
    assert shorten_model_name(CODER, len(CODER)) == CODER
    assert shorten_model_name(HF, 200) == HF


@pytest.mark.parametrize(("width", "expected"), [
    (45, "…/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M"),  # the host goes first
    (40, "…/Llama-3.2-3B-Instruct-GGUF:Q4_K_M"),  # then the namespace
    (28, "…/Llama-3.2…ruct-GGUF:Q4_K_M"),  # then the middle of the model part
    (12, "…/L…F:Q4_K_M"),
    (8, "…:Q4_K_M"),  # the tag alone, marked as cut
])
def test_a_namespaced_name_loses_its_host_and_namespace_first(width, expected):
    assert shorten_model_name(HF, width) == expected


def test_a_long_tag_is_kept_and_the_model_part_is_cut_in_the_middle():
    short = shorten_model_name(CODER, 28)
    assert short == "qwen…der:32b-instruct-q4_K_M"
    # the 7b and the 32b builds stay apart
    assert shorten_model_name("qwen2.5-coder:7b", 12).endswith(":7b")


def test_only_a_tag_wider_than_the_column_is_cut_and_then_in_its_middle():
    assert shorten_model_name(CODER, 21) == "…:32b-instruct-q4_K_M"
    assert shorten_model_name(CODER, 12) == "…:32b-…4_K_M"
    assert shorten_model_name(CODER, 1) == "…"
    assert shorten_model_name(CODER, 0) == ""


def test_names_without_a_tag_cut_the_middle():
    assert shorten_model_name("Qwen/Qwen2.5-7B-Instruct", 20) == "…/Qwen2.5-7…Instruct"
    # a colon before the last slash is a port, not a tag
    assert shorten_model_name("host:5000/ns/a-long-model-name", 20) == "…/a-long-model-name"


_PART = st.text("abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=40)


@given(host=st.one_of(st.none(), _PART), namespace=st.one_of(st.none(), _PART), model=_PART,
       tag=st.text("abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=20),
       width=st.integers(min_value=0, max_value=120))
def test_never_longer_than_the_width_and_the_tag_kept_whenever_it_fits(host, namespace, model, tag, width):
    name = "/".join(p for p in (host, namespace if host is None or namespace else "ns", model) if p) + ":" + tag
    short = shorten_model_name(name, width)
    assert len(short) <= width
    if len(name) <= width:
        assert short == name
    elif len(tag) + 2 <= width:  # ":" + tag and an ellipsis before it
        assert short.endswith(":" + tag) and "…" in short
