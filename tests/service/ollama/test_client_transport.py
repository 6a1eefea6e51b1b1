"""Client transport behaviour that needs a hand-made server: exact headers, odd bodies, no server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.loopback import LoopbackServer
from tui.service.ollama import OllamaClient
from tui.service.ollama import errors as errors

TOKEN = "s3cret-token-value"


class RawServer(LoopbackServer):
    """A one-route-fits-all HTTP/1.1 server on loopback that records raw requests."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.status = 200
        self.reason = "OK"
        self.body = b'{"version":"0.33.0"}'
        self.content_type = "application/json"

    async def answer(self, head: bytes, body: bytes, writer: asyncio.StreamWriter) -> None:
        self.requests.append(head + body)
        writer.write(
            f"HTTP/1.1 {self.status} {self.reason}\r\nContent-Type: {self.content_type}\r\n"
            f"Content-Length: {len(self.body)}\r\n\r\n".encode()
            + self.body
        )


@pytest_asyncio.fixture
async def raw() -> AsyncIterator[RawServer]:
    server = await RawServer().start()
    yield server
    await server.stop()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_configured_headers_are_sent_on_every_request(raw: RawServer) -> None:
    async with OllamaClient(raw.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        assert await client.version() == "0.33.0"
        raw.body = b'{"models":[]}'
        assert await client.tags() == []
        await client.ping()
    assert len(raw.requests) == 3
    for request in raw.requests:
        assert f"authorization: bearer {TOKEN}".encode() in request.lower()


async def test_token_never_in_repr_or_errors(raw: RawServer) -> None:
    client = OllamaClient(raw.url, headers={"Authorization": f"Bearer {TOKEN}"}, retries=0)
    try:
        assert TOKEN not in repr(client) and raw.url in repr(client)
        raw.status, raw.reason, raw.body = 500, "Internal Server Error", b'{"error":"boom"}'
        with pytest.raises(errors.ServerError) as info:
            await client.tags()
        assert str(info.value) == "boom" and TOKEN not in repr(info.value)
    finally:
        await client.aclose()
    down = OllamaClient(f"http://127.0.0.1:{_closed_port()}", headers={"Authorization": f"Bearer {TOKEN}"}, retries=0)
    try:
        with pytest.raises(errors.Unreachable) as info:
            await down.version()
        assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)
        assert TOKEN not in repr(down)
    finally:
        await down.aclose()


async def test_password_in_url_is_redacted() -> None:
    port = _closed_port()
    client = OllamaClient(f"http://user:hunter2@127.0.0.1:{port}", retries=0)
    try:
        assert "hunter2" not in repr(client)
        with pytest.raises(errors.Unreachable) as info:
            await client.ping()
        assert "hunter2" not in str(info.value) and f"127.0.0.1:{port}" in str(info.value)
    finally:
        await client.aclose()


async def test_unreachable_names_the_url() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    async with OllamaClient(url, retries=1, backoff=0.001) as client:
        with pytest.raises(errors.Unreachable) as info:
            await client.ping()
    assert str(info.value).startswith(f"Ollama not reachable at {url}: ")


async def test_unreachable_on_streams_too() -> None:
    async with OllamaClient(f"http://127.0.0.1:{_closed_port()}") as client:
        with pytest.raises(errors.Unreachable):
            async for _ in client.chat("llama3.2", [{"role": "user", "content": "hi"}]):
                pass


async def test_forbidden_with_empty_body_explains(raw: RawServer) -> None:
    raw.status, raw.reason, raw.body, raw.content_type = 403, "Forbidden", b"", "text/plain"
    async with OllamaClient(raw.url, retries=0) as client:
        with pytest.raises(errors.Forbidden) as info:
            await client.tags()
    assert info.value.status == 403 and "403" in str(info.value)


async def test_route_404_is_not_model_not_found(raw: RawServer) -> None:
    raw.status, raw.reason, raw.body, raw.content_type = 404, "Not Found", b"404 page not found", "text/plain"
    async with OllamaClient(raw.url, retries=0) as client:
        with pytest.raises(errors.ServerError) as info:
            await client.ps()
    assert not isinstance(info.value, errors.ModelNotFound)
    assert "/api/ps" in str(info.value) and info.value.status == 404


async def test_plain_text_error_body_is_the_message(raw: RawServer) -> None:
    raw.status, raw.reason, raw.body, raw.content_type = 502, "Bad Gateway", b"upstream went away\n", "text/plain"
    async with OllamaClient(raw.url, retries=0) as client:
        with pytest.raises(errors.ServerError) as info:
            await client.version()
    assert str(info.value) == "upstream went away" and info.value.status == 502


async def test_404_json_is_model_not_found(raw: RawServer) -> None:
    raw.status, raw.reason, raw.body = 404, "Not Found", b'{"error":"model \\"nope\\" not found, try pulling it first"}'
    async with OllamaClient(raw.url, retries=0) as client:
        with pytest.raises(errors.ModelNotFound) as info:
            await client.show("nope")
    assert str(info.value) == 'model "nope" not found, try pulling it first'


async def test_unexpected_json_shape_is_server_error(raw: RawServer) -> None:
    raw.body = b"[1, 2]"
    async with OllamaClient(raw.url, retries=0) as client:
        with pytest.raises(errors.ServerError):
            await client.tags()
        with pytest.raises(errors.ServerError):
            await client.version()


async def test_show_cache_by_digest(raw: RawServer) -> None:
    raw.body = b'{"template":"t","capabilities":["completion"]}'
    async with OllamaClient(raw.url) as client:
        a = await client.show("m", digest="d1")
        b = await client.show("m", digest="d1")
        assert a is b and len(raw.requests) == 1
        await client.show("m", digest="d2")  # the model changed: fetched again
        assert len(raw.requests) == 2
        await client.show("m")  # no digest: always asks
        assert len(raw.requests) == 3


def test_invalid_base_url_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="invalid Ollama URL"):
        OllamaClient("http://[::1")


async def test_url_without_scheme_is_unreachable_not_a_crash() -> None:
    async with OllamaClient("garbage", retries=0) as client:
        with pytest.raises(errors.Unreachable):
            await client.version()
