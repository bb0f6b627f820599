"""Click options built from a config dataclass, as TRL builds its parser from its configs.

:func:`dataclass_options` adds one ``--field-name`` option per field, with the field's help text,
its choices (``metadata["choices"]``) and its default (shown, never restated). Unset options stay
out of the keyword arguments (:func:`field_kwargs`), so the dataclass applies its own default.
Fields map to options by type: ``bool`` → ``--name/--no-name``; ``list``/``tuple`` → a repeatable
option; ``dict`` → a repeatable ``KEY=VALUE`` option; a field without a default → a required
option. A command may rename an option, give it a click type (paths), a parser of its text, a
prefix of its help and of its keyword (when two configs of one command share a field name).

:func:`parse_field_args` parses free ``--field-name VALUE`` arguments against another dataclass
(for ``dsr train``: every ``transformers.TrainingArguments`` field) with the same conversions.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from dsr.errors import ConfigError

__all__ = [
    "OptionStyle",
    "dataclass_options",
    "field_default",
    "field_kwargs",
    "parse_field_args",
    "parse_key_values",
]

F = TypeVar("F", bound=Callable[..., Any])
_SCALARS = (bool, int, float, str)


@dataclass(frozen=True)
class OptionStyle:
    """How a command presents the fields of one config (all optional).

    ``names``: field → option declaration (``"--input"``, or ``"--structured/--json-mode"`` for a
    flag); ``types``: field → click type (e.g. ``click.Path(exists=True)``); ``parsers``: field →
    a function of the option's text (it may raise ``click.BadParameter``); ``dest_prefix``: put in
    front of each keyword (and removed again by :func:`field_kwargs`); ``help_prefix``: put in
    front of each help text (``"[openai] "``).
    """

    names: Mapping[str, str] = field(default_factory=dict)
    types: Mapping[str, click.ParamType] = field(default_factory=dict)
    parsers: Mapping[str, Callable[[str], Any]] = field(default_factory=dict)
    dest_prefix: str = ""
    help_prefix: str = ""


def parse_key_values(values: Sequence[str]) -> dict[str, Any]:
    """KEY=VALUE pairs; VALUE is parsed as JSON when it can be (numbers, true, lists)."""
    out: dict[str, Any] = {}
    for item in values:
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise click.BadParameter(f"{item!r}: expected KEY=VALUE")
        try:
            out[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            out[key.replace("-", "_")] = value
    return out


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


def field_default(cls: type, name: str) -> Any:
    """The default of field ``name`` of dataclass ``cls`` (None for a field without one)."""
    return _default({f.name: f for f in dataclasses.fields(cls)}[name])


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _help(f: dataclasses.Field[Any], style: OptionStyle) -> str:
    default = _default(f)
    shown: str | None
    if isinstance(default, (list, tuple)):
        shown = ", ".join(map(str, default))
    else:
        shown = None if default is None or default in ({}, "") else str(default)
    text = style.help_prefix + f.metadata.get("help", "")
    return text + ("" if shown is None else f"  [default: {shown}]")


def _element(tp: Any) -> Any:
    """The click type of the items of a ``list[X]`` / ``tuple[X, ...]`` field."""
    args = [a for a in typing.get_args(tp) if a is not Ellipsis]
    return args[0] if len(args) == 1 and args[0] in _SCALARS else str


def _parsed(parser: Callable[[str], Any]) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        return None if value is None else parser(value)

    return callback


def _key_values(
    ctx: click.Context, param: click.Parameter, value: Sequence[str]
) -> dict[str, Any] | None:
    return parse_key_values(value) if value else None


def _option(f: dataclasses.Field[Any], tp: Any, style: OptionStyle) -> Callable[[F], F]:
    name = style.names.get(f.name, "--" + f.name.replace("_", "-"))
    dest = style.dest_prefix + f.name
    base, _ = _unwrap(tp)
    origin = typing.get_origin(base)
    # a required option gets no default at all: click takes an explicit ``default=None`` as given
    common: dict[str, Any] = {"required": True} if _required(f) else {"default": None}
    common["help"] = _help(f, style)
    if f.name in style.parsers:
        return click.option(name, dest, type=str, callback=_parsed(style.parsers[f.name]), **common)
    if base is bool:
        flags = name if "/" in name else f"{name}/--no-{name[2:]}"
        return click.option(flags, dest, **common)
    if origin in (list, tuple):
        return click.option(
            name,
            dest,
            multiple=True,
            type=_element(base),
            **{**common, "default": (), "help": "Repeatable. " + common["help"]},
        )
    if origin is dict or base is dict:
        return click.option(
            name,
            dest,
            multiple=True,
            metavar="KEY=VALUE",
            callback=_key_values,
            **{**common, "default": (), "help": "Repeatable. " + common["help"]},
        )
    choices = f.metadata.get("choices")
    kind = style.types.get(f.name) or (click.Choice(list(choices)) if choices else None)
    return click.option(name, dest, type=kind or (base if base in _SCALARS else str), **common)


def _fields(
    cls: type, only: Sequence[str] | None, exclude: Sequence[str]
) -> list[dataclasses.Field[Any]]:
    by_name = {f.name: f for f in dataclasses.fields(cls)}
    names = list(only) if only is not None else list(by_name)
    unknown = [n for n in [*names, *exclude] if n not in by_name]
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {', '.join(unknown)}")
    return [by_name[n] for n in names if n not in exclude]


def dataclass_options(
    cls: type,
    *,
    only: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    style: OptionStyle | None = None,
) -> Callable[[F], F]:
    """Decorator adding an option for every field of dataclass ``cls`` (or the ``only`` ones, in
    that order), but ``exclude``, presented as ``style`` says."""
    hints = typing.get_type_hints(cls)
    chosen = _fields(cls, only, exclude)
    how = style or OptionStyle()

    def decorate(fn: F) -> F:
        for f in reversed(chosen):
            fn = _option(f, hints[f.name], how)(fn)
        return fn

    return decorate


def field_kwargs(cls: type, values: Mapping[str, Any], *, dest_prefix: str = "") -> dict[str, Any]:
    """The options the user actually gave, as keyword arguments for ``cls``: values of tuple
    fields as tuples, of other repeatable fields as lists."""
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        value = values.get(dest_prefix + f.name)
        if value is None or value == ():
            continue
        if isinstance(value, tuple):
            value = value if typing.get_origin(_unwrap(hints[f.name])[0]) is tuple else list(value)
        out[f.name] = value
    return out


def _convert(name: str, text: str, tp: Any) -> Any:
    base, optional = _unwrap(tp)
    takes_text = base is str or str in typing.get_args(base)
    # "none" is a value of a field that takes text (report_to="none"), as HfArgumentParser reads it
    if optional and text.lower() in ("none", "null") and not takes_text:
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
        raise ConfigError(
            f"--{name.replace('_', '-')} {text!r}: expected {getattr(base, '__name__', base)}"
        ) from None
    try:
        return json.loads(text)  # lists, dicts, numbers of union-typed fields
    except json.JSONDecodeError:
        return text


def parse_field_args(args: Sequence[str], cls: type, *, command: str) -> dict[str, Any]:
    """``--field-name VALUE`` / ``--field-name=VALUE`` / ``--flag`` arguments for
    fields of ``cls``."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        token = args[i]
        if not token.startswith("--"):
            raise ConfigError(
                f"unexpected argument {token!r}: options are --name VALUE (see `{command} --help`)"
            )
        raw, eq, value = token[2:].partition("=")
        key = raw.replace("-", "_")
        if key not in names:
            raise ConfigError(
                f"unknown option --{raw}: see `{command} --help` (any "
                "transformers.TrainingArguments field is accepted as --field-name VALUE)"
            )
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
