"""OLLAMA_HOST parsing and host precedence (ollama-api.md, 'OLLAMA_HOST')."""

from __future__ import annotations

import pytest

from tui.service.hosts import (
    DEFAULT_HOST,
    is_loopback,
    parse_host,
    redact_url,
    resolve_host,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # the examples in ollama-api.md
        ("example.com", "http://example.com:11434"),
        ("example.com:56789", "http://example.com:56789"),
        ("https://example.com", "https://example.com:443"),
        (":56789", "http://127.0.0.1:56789"),
        # scheme defaults
        ("http://example.com", "http://example.com:80"),
        ("http://example.com:56789", "http://example.com:56789"),
        ("https://example.com:56789", "https://example.com:56789"),
        ("HTTPS://Example.COM", "https://example.com:443"),
        ("1.2.3.4", "http://1.2.3.4:11434"),
        ("1.2.3.4:56789", "http://1.2.3.4:56789"),
        ("localhost", "http://localhost:11434"),
        ("127.0.0.1:11434", "http://127.0.0.1:11434"),
        # paths kept, trailing slash dropped
        ("example.com/", "http://example.com:11434"),
        ("example.com:56789/path", "http://example.com:56789/path"),
        ("https://example.com:56789/path/", "https://example.com:56789/path"),
        ("http://example.com/ollama/api/", "http://example.com:80/ollama/api"),
        # IPv6
        ("[0001:002:003:0004::1]", "http://[1:2:3:4::1]:11434"),
        ("[::1]", "http://[::1]:11434"),
        ("[::1]:56789", "http://[::1]:56789"),
        ("https://[::1]:56789/path", "https://[::1]:56789/path"),
        ("::1", "http://[::1]:11434"),
        # the server's listen-everywhere addresses are reached on loopback
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("0.0.0.0:11435", "http://127.0.0.1:11435"),
        ("http://0.0.0.0", "http://127.0.0.1:80"),
        ("[::]", "http://[::1]:11434"),
        ("[::]:8080", "http://[::1]:8080"),
        # spaces and quotes trimmed (as the Go CLI does)
        ("  example.com  ", "http://example.com:11434"),
        ('"example.com:1234"', "http://example.com:1234"),
        ("'https://example.com'", "https://example.com:443"),
        (' " 0.0.0.0 " ', "http://127.0.0.1:11434"),
        # userinfo kept (httpx turns it into basic auth)
        ("https://user:pw@example.com", "https://user:pw@example.com:443"),
    ],
)
def test_parse_host(value: str, expected: str) -> None:
    assert parse_host(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        '""',
        "ftp://example.com",
        "example.com:notaport",
        "example.com:99999",
        "example.com:0",
        "example.com:",
        "exa mple.com",
        "exa$mple.com",
        "http://",
        "[not-ipv6]:80",
        "[1.2.3.4]",
        "1:2:3",
        "example.com/?q=1",
        "example.com#frag",
    ],
)
def test_parse_host_rejects_garbage(value: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_host(value)
    assert str(info.value)  # a message a user can read


def test_parse_host_error_names_the_value() -> None:
    with pytest.raises(ValueError, match="ftp"):
        parse_host("ftp://example.com")


def test_resolve_host_precedence() -> None:
    env = {"OLLAMA_HOST": "envhost:1"}
    assert resolve_host("flaghost", env, "confighost") == "http://flaghost:11434"
    assert resolve_host(None, env, "confighost") == "http://envhost:1"
    assert resolve_host(None, {}, "https://confighost") == "https://confighost:443"
    assert resolve_host(None, {}, None) == DEFAULT_HOST == "http://127.0.0.1:11434"


def test_resolve_host_blank_values_count_as_unset() -> None:
    assert resolve_host("", {"OLLAMA_HOST": "  "}, "confighost:2") == "http://confighost:2"
    assert resolve_host(None, {"OLLAMA_HOST": '""'}, None) == DEFAULT_HOST


def test_resolve_host_rewrites_listen_everywhere() -> None:
    assert resolve_host(None, {"OLLAMA_HOST": "0.0.0.0"}, None) == "http://127.0.0.1:11434"


def test_resolve_host_garbage_raises() -> None:
    with pytest.raises(ValueError):
        resolve_host(None, {"OLLAMA_HOST": "ftp://x"}, None)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:11434", True),
        ("http://127.1.2.3:11434", True),
        ("http://localhost:11434", True),
        ("http://LOCALHOST", True),
        ("http://[::1]:11434", True),
        ("http://0.0.0.0:11434", True),
        ("127.0.0.1:11434", True),
        ("http://192.168.1.10:11434", False),
        ("https://example.com:443", False),
        ("http://[2001:db8::1]:80", False),
        ("not a url at all", False),
    ],
)
def test_is_loopback(url: str, expected: bool) -> None:
    assert is_loopback(url) is expected


def test_redact_url() -> None:
    assert redact_url("https://user:secret@example.com:443/x") == "https://user:***@example.com:443/x"
    assert "tok" not in redact_url("https://tok@example.com:443")
    assert redact_url("http://127.0.0.1:11434") == "http://127.0.0.1:11434"


async def test_a_parsed_host_reaches_the_server(sim) -> None:
    from tui.service.ollama import OllamaClient

    url = resolve_host(None, {"OLLAMA_HOST": f" '0.0.0.0:{sim.port}' "}, None)
    assert url == sim.url
    async with OllamaClient(url) as client:
        assert await client.version() == "0.33.0"
