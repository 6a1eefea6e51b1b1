"""Pilot fixtures: the real App wired to a simulator over HTTP, a real config file and database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.waiting import wait_for  # noqa: F401  (the UI tests import it from here)
from tui.app import OllamaTUI
from tui.service.config import ConfigStore
from tui.service.ollama import OllamaClient
from tui.service.services import Services


@pytest.fixture
def make_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """make_app(url, **kw) → an OllamaTUI on `url` with its files under tmp_path."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "OLLAMA_HOST"):
        monkeypatch.delenv(var, raising=False)
    created: list[OllamaTUI] = []

    def factory(url: str, **kwargs) -> OllamaTUI:
        store = ConfigStore(kwargs.pop("config_path", tmp_path / "config.toml"))
        _config, issues = store.load()
        # The app's own connect timeout (3 s): a loopback connect is instant, but a Pilot app on a
        # loaded CI machine can be late to see it, and 0.5 s once failed a compare run there
        # ("connection timed out"). A stopped server refuses at once whatever the timeout.
        client = OllamaClient(url, retries=0)
        services = Services.build(store, provider=client,
                                  db_path=kwargs.pop("db_path", tmp_path / "history.sqlite3"),
                                  default_model=kwargs.pop("default_model", None),
                                  gpu_backend=kwargs.pop("gpu_backend", None))
        app = OllamaTUI(services=services, config_issues=issues, **kwargs)
        created.append(app)
        return app

    return factory
