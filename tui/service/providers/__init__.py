"""tui.service.providers: the public names of this package (imported on first use)."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ALL_FEATURES",
    "FeatureUnavailable",
    "Host",
    "HostRegistry",
    "Provider",
    "ProviderFactory",
    "feature_label",
    "ollama_factory",
    "provider_factory",
    "SERVER_HOST",
]

_WHERE = {
    "ALL_FEATURES": "protocol",
    "FeatureUnavailable": "protocol",
    "Provider": "protocol",
    "feature_label": "protocol",
    "Host": "registry",
    "HostRegistry": "registry",
    "ProviderFactory": "registry",
    "ollama_factory": "registry",
    "provider_factory": "registry",
    "SERVER_HOST": "registry",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
