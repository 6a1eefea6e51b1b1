"""tui.service.providers: the public names of this package (imported on first use)."""

from __future__ import annotations

from tui.lazy import lazy_exports

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


__getattr__ = lazy_exports(__name__, _WHERE)
