"""Name → implementation registries for the heavy, swappable components (generators, trackers,
prompt backends). Entries are ``"module:attr"`` strings so that choosing one imports only it."""

from __future__ import annotations

import importlib
from typing import Any

from dsr.errors import ConfigError

__all__ = ["Registry"]


class Registry:
    """A small registry of lazily imported factories."""

    def __init__(self, kind: str, entries: dict[str, str]) -> None:
        self.kind = kind
        self._entries = dict(entries)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def register(self, name: str, target: str) -> None:
        """Add or replace an implementation, given as ``"package.module:Class"``."""
        self._entries[name] = target

    def resolve(self, name: str) -> Any:
        """The factory registered under ``name`` (imports its module)."""
        if name not in self._entries:
            raise ConfigError(
                f"unknown {self.kind} {name!r}: choose one of {', '.join(self.names())}"
            )
        module, _, attr = self._entries[name].partition(":")
        return getattr(importlib.import_module(module), attr)
