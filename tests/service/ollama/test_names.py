"""Model-name rules (ollama-api.md, 'Model names')."""

from __future__ import annotations

import pytest

from tui.service.ollama.errors import InvalidModelName
from tui.service.ollama.names import (
    normalize_model_name,
    same_model,
    split_model_name,
    validate_model_name,
)


@pytest.mark.parametrize(
    "name",
    [
        "llama3.2",
        "llama3.2:latest",
        "llama3.2:3b-instruct-q4_K_M",
        "library/llama3.2",
        "user/model:tag",
        "registry.ollama.ai/library/llama3.2:latest",
        "host:5000/ns/model",  # the colon is before the last '/': a port, not a tag
        "host:5000/ns/model:v1",
        "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
        "_private",
        "x:cloud",
        "gpt-oss:120b-cloud",
        "x:local",
        "a",
        "m" * 80,
        "ns/" + "m" * 80 + ":" + "t" * 80,
        "h" * 350 + "/ns/m",
        "llama3.2@sha256:" + "a" * 64,
    ],
)
def test_valid_names(name: str) -> None:
    validate_model_name(name)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("model:", "empty tag"),
        ("/model", "empty namespace"),
        ("ns//m", "empty namespace"),
        ("ns/", "empty model"),
        ("/", "empty"),
        (":tag", "empty model"),
        ("model:-tag", "tag must start with a letter, digit or _"),
        ("model:.tag", "tag must start with a letter, digit or _"),
        ("-model", "model must start with a letter, digit or _"),
        (".model", "model must start with a letter, digit or _"),
        ("ns.dot/model", "namespace contains an invalid character '.'"),
        ("-ns/model", "namespace must start with a letter, digit or _"),
        ("-host/ns/model", "host must start with a letter, digit or _"),
        ("mo del", "model contains an invalid character ' '"),
        ("model:ta g", "tag contains an invalid character"),
        ("model:tag:extra", "model contains an invalid character ':'"),
        ("m" * 81, "model part longer than 80 characters"),
        ("ns/m:" + "t" * 81, "tag part longer than 80 characters"),
        ("n" * 81 + "/m", "namespace part longer than 80 characters"),
        ("h" * 351 + "/ns/m", "host part longer than 350 characters"),
        ("a/b/c/d", "too many '/'"),
        (" llama3.2", "spaces"),
        ("llama3.2@sha256:xyz", "digest"),
        ("llama3.2@", "digest"),
    ],
)
def test_invalid_names(name: str, reason: str) -> None:
    with pytest.raises(InvalidModelName) as info:
        validate_model_name(name)
    assert reason in str(info.value)


def test_invalid_model_name_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        validate_model_name("model:")


def test_split_model_name() -> None:
    assert split_model_name("host:5000/ns/model") == ("host:5000", "ns", "model", None, None)
    assert split_model_name("ns/model:tag") == (None, "ns", "model", "tag", None)
    assert split_model_name("model") == (None, None, "model", None, None)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("llama3.2", "llama3.2:latest"),
        ("llama3.2:latest", "llama3.2:latest"),
        ("Llama3.2:3B", "llama3.2:3b"),
        ("library/x", "x:latest"),
        ("library/x:tag", "x:tag"),
        ("registry.ollama.ai/library/x:tag", "x:tag"),
        ("registry.ollama.ai/user/x", "user/x:latest"),
        ("user/x", "user/x:latest"),
        ("hf.co/User/Repo:Q4_K_M", "hf.co/user/repo:q4_k_m"),
        ("host:5000/ns/model", "host:5000/ns/model:latest"),
        ("  qwen3:8b ", "qwen3:8b"),
    ],
)
def test_normalize_model_name(name: str, expected: str) -> None:
    assert normalize_model_name(name) == expected


def test_same_model() -> None:
    assert same_model("llama3.2", "llama3.2:latest")
    assert same_model("LLAMA3.2", "registry.ollama.ai/library/llama3.2:latest")
    assert same_model("library/qwen3:8b", "qwen3:8b")
    assert not same_model("llama3.2", "llama3.2:1b")
    assert not same_model("user/x", "x")
