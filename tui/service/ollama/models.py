"""Liveness and model-management endpoints of the Ollama client: ping, version, tags, ps, show
(cached by digest), delete, copy.

This module does not import httpx.
"""

from __future__ import annotations

import time
from typing import Any

from tui.service.ollama import errors as errors
from tui.service.ollama.names import validate_model_name
from tui.service.ollama.transport import OllamaTransport
from tui.service.ollama.types import ModelInfo, ModelShow, RunningModel
from tui.service.untrusted import inert_short


class ModelsMixin(OllamaTransport):
    """`GET /`, `/api/version`, `/api/tags`, `/api/ps`; `/api/show`, `/api/delete`, `/api/copy`."""

    # -- liveness -----------------------------------------------------------------------------

    async def ping(self) -> float:
        """`GET /`: round-trip seconds. Raises Unreachable (or the mapped error for a bad status)."""

        async def once() -> float:
            started = time.perf_counter()
            await self._request("GET", "/")
            return self._answered(started)

        return await self._retrying(once)

    def _answered(self, started: float) -> float:
        """Note a light request's round trip (see ``last_answer``) and return it."""
        latency = time.perf_counter() - started
        self.last_answer = (self.base_url, time.monotonic(), latency)
        return latency

    async def version(self) -> str:
        async def once() -> str:
            data = await self._request_json("GET", "/api/version")
            version = data.get("version") if isinstance(data, dict) else None
            if not isinstance(version, str):
                raise errors.ServerError("unexpected answer from /api/version (no version)")
            return inert_short(version, 64)

        return await self._retrying(once)

    # -- models -------------------------------------------------------------------------------

    @staticmethod
    def _models(data: Any, path: str) -> list[dict[str, Any]]:
        if not isinstance(data, dict):
            raise errors.ServerError(f"unexpected answer from {path} (not a JSON object)")
        models = data.get("models") or []
        if not isinstance(models, list):
            raise errors.ServerError(f"unexpected answer from {path} (models is not a list)")
        return [m for m in models if isinstance(m, dict)]

    async def tags(self) -> list[ModelInfo]:
        """Installed models (`GET /api/tags`)."""

        async def once() -> list[ModelInfo]:
            data = await self._request_json("GET", "/api/tags")
            return [ModelInfo.from_json(m) for m in self._models(data, "/api/tags")]

        return await self._retrying(once)

    async def ps(self) -> list[RunningModel]:
        """Models loaded right now (`GET /api/ps`)."""

        async def once() -> list[RunningModel]:
            started = time.perf_counter()
            data = await self._request_json("GET", "/api/ps")
            self._answered(started)
            return [RunningModel.from_json(m) for m in self._models(data, "/api/ps")]

        return await self._retrying(once)

    async def show(self, model: str, *, verbose: bool = False, digest: str | None = None) -> ModelShow:
        """Details of one model (`POST /api/show`).

        Pass the model's `digest` (from `tags()`) to use a cache: the same (name, digest) is
        fetched once. Without a digest the server is always asked.
        """
        key = (model, verbose)
        if digest:
            cached = self._show_cache.get(key)
            if cached is not None and cached[0] == digest:
                return cached[1]
        body: dict[str, Any] = {"model": model}
        if verbose:
            body["verbose"] = True

        async def once() -> ModelShow:
            data = await self._request_json("POST", "/api/show", json_body=body)
            if not isinstance(data, dict):
                raise errors.ServerError("unexpected answer from /api/show (not a JSON object)")
            return ModelShow.from_json(data)

        result = await self._retrying(once)
        if digest:
            self._show_cache[key] = (digest, result)
        return result

    async def delete(self, model: str) -> None:
        """`DELETE /api/delete`. ModelNotFound if it is not installed. Never retried."""
        await self._request("DELETE", "/api/delete", json_body={"model": model})
        self._forget(model)

    async def copy(self, source: str, destination: str) -> None:
        """`POST /api/copy`; an existing destination is overwritten. Never retried."""
        validate_model_name(destination)
        await self._request("POST", "/api/copy", json_body={"source": source, "destination": destination})
        self._forget(destination)
