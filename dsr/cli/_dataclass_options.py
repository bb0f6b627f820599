"""Click options built from a config dataclass, as TRL builds its parser from its configs.

:func:`dataclass_options` adds one ``--field-name`` option per field, with the field's help text and
its default (shown, never restated). Unset options stay out of the keyword arguments, so the
dataclass applies its own default. :func:`parse_field_args` parses free ``--field-name VALUE``
arguments against another dataclass (for ``dsr train``: every ``transformers.TrainingArguments``
field) with the same conversions.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from dsr.errors import ConfigError

__all__ = ["dataclass_options", "field_kwargs", "parse_field_args"]

F = TypeVar("F", bound=Callable[..., Any])
_SCALARS = (bool, int, float, str)


def _unwrap(tp: Any) -> tuple[Any, bool]:
    """(the type without None, whether None is allowed)."""
    args = typing.get_args(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        return (rest[0] if len(rest) == 1 else tp), True
    return tp, False


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _option(f: dataclasses.Field[Any], tp: Any) -> Callable[[F], F]:
    name = "--" + f.name.replace("_", "-")
    base, _ = _unwrap(tp)
    default = _default(f)
    shown = ", ".join(map(str, default)) if isinstance(default, list) else default
    help_text = f.metadata.get("help", "") + ("" if default is None else f"  [default: {shown}]")
    common: dict[str, Any] = {"default": None, "help": help_text}
    if base is bool:
        return click.option(f"{name}/--no-{name[2:]}", f.name, **common)
    if typing.get_origin(base) is list:
        return click.option(name, f.name, multiple=True, metavar="VALUE",
                            **{**common, "default": (), "help": "Repeatable. " + help_text})
    choices = f.metadata.get("choices")
    kind = click.Choice(choices) if choices else (base if base in _SCALARS else str)
    return click.option(name, f.name, type=kind, **common)


def dataclass_options(cls: type, *, exclude: Sequence[str] = ()) -> Callable[[F], F]:
    """Decorator adding an option for every field of dataclass ``cls`` (but ``exclude``)."""
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.name not in exclude]

    def decorate(fn: F) -> F:
        for f in reversed(fields):
            fn = _option(f, hints[f.name])(fn)
        return fn

    return decorate


def field_kwargs(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """The options the user actually gave, as keyword arguments for ``cls`` (lists as lists)."""
    out = {}
    for f in dataclasses.fields(cls):
        value = values.get(f.name)
        if value is None or value == ():
            continue
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def _convert(name: str, text: str, tp: Any) -> Any:
    base, optional = _unwrap(tp)
    if optional and text.lower() in ("none", "null"):
        return None
    try:
        if base is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if base in (int, float):
            return base(text)
        if base is str:
            return text
    except ValueError:
        raise ConfigError(f"--{name.replace('_', '-')} {text!r}: expected {getattr(base, '__name__', base)}") from None
    try:
        return json.loads(text)  # lists, dicts, numbers of union-typed fields
    except json.JSONDecodeError:
        return text


def parse_field_args(args: Sequence[str], cls: type, *, command: str) -> dict[str, Any]:
    """``--field-name VALUE`` / ``--field-name=VALUE`` / ``--flag`` arguments for fields of ``cls``."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        token = args[i]
        if not token.startswith("--"):
            raise ConfigError(f"unexpected argument {token!r}: options are --name VALUE (see `{command} --help`)")
        raw, eq, value = token[2:].partition("=")
        key = raw.replace("-", "_")
        if key not in names:
            raise ConfigError(f"unknown option --{raw}: see `{command} --help` (any transformers.TrainingArguments "
                              "field is accepted as --field-name VALUE)")
        if not eq:
            flag = _unwrap(hints[key])[0] is bool
            if flag and (i + 1 == len(args) or args[i + 1].startswith("--")):
                value = "true"
            elif i + 1 < len(args):
                i, value = i + 1, args[i + 1]
            else:
                raise ConfigError(f"--{raw} needs a value")
        out[key] = _convert(key, value, hints[key])
        i += 1
    return out
