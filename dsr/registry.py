"""Name → implementation registries for the heavy, swappable components (generators, trackers,
prompt backends). Entries are ``"module:attr"`` strings so that choosing one imports only it.

:meth:`Registry.create` is the one place a component is built from user options: an unknown
option name or a value of the wrong type is a one-line :class:`~dsr.errors.ConfigError` naming the
option and the ones the component takes, for every command. :meth:`Registry.check` refuses the
same options without building the component.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from typing import Any

from dsr.errors import ConfigError, DsrError

__all__ = ["Registry", "option_names"]


def option_names(cls: Any) -> list[str]:
    """The options a component takes: the fields of its ``config_class`` (empty if it has none)."""
    config_class = getattr(cls, "config_class", None)
    if config_class is None or not dataclasses.is_dataclass(config_class):
        return []
    return [f.name for f in dataclasses.fields(config_class) if f.init]


class Registry:
    """A small registry of lazily imported factories."""

    def __init__(self, kind: str, entries: dict[str, str], *, option_flag: str | None = "") -> None:
        """``option_flag``: the CLI option that passes free options to a component, named in
        errors (default ``--<kind>-opt``; None where each option has its own flag)."""
        self.kind = kind
        self._entries = dict(entries)
        self.option_flag = f"--{kind}-opt" if option_flag == "" else option_flag

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

    def create(self, name: str, options: Mapping[str, Any] | None = None) -> Any:
        """``resolve(name)(**options)``; unknown option names and mistyped values are refused with
        a ConfigError naming them and the options the component takes."""
        cls = self.resolve(name)
        return self._build(name, cls, cls, options)

    def check(self, name: str, options: Mapping[str, Any] | None = None) -> None:
        """Refuse what :meth:`create` would refuse, building only the component's config (so that
        a command can check its options before it claims, writes or loads anything)."""
        cls = self.resolve(name)
        config_class = getattr(cls, "config_class", None)
        if config_class is not None:
            self._build(name, cls, config_class, options)

    def _build(self, name: str, cls: Any, factory: Any, options: Mapping[str, Any] | None) -> Any:
        given = dict(options or {})
        valid = option_names(cls)
        unknown = sorted(set(given) - set(valid)) if valid else []
        flag = f" ({self.option_flag})" if self.option_flag else ""
        if unknown:
            raise ConfigError(
                f"unknown {self.kind} option {', '.join(unknown)} for {name!r}{flag}: "
                f"it takes {', '.join(valid)}"
            )
        try:
            return factory(**given)
        except DsrError:
            raise
        except (TypeError, ValueError) as exc:
            shown = ", ".join(f"{k}={v!r}" for k, v in given.items())
            hint = f"; it takes {', '.join(valid)}" if valid else ""
            raise ConfigError(
                f"{self.kind} {name!r} cannot take {shown}{flag}: {exc}{hint}"
            ) from None
