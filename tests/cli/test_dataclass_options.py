"""The option generator: one option per config field, with the field's help, default and
choices; unset options stay out of the config's keyword arguments."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import click
import pytest
from click.testing import CliRunner

from dsr.cli._dataclass_options import OptionStyle, dataclass_options, field_default, field_kwargs


@dataclass
class Toy:
    """A config with one field of every kind the generator handles."""

    name: str = field(metadata={"help": "A required name."})
    count: int = field(default=3, metadata={"help": "How many."})
    ratio: float | None = field(default=None, metadata={"help": "A ratio."})
    mode: str = field(default="fast", metadata={"help": "The mode.", "choices": ("fast", "slow")})
    loud: bool = field(default=False, metadata={"help": "Shout."})
    tags: list[str] = field(default_factory=lambda: ["a", "b"], metadata={"help": "Tags."})
    sizes: tuple[int, ...] = field(default=(1, 2), metadata={"help": "Sizes."})
    extra: dict[str, Any] = field(default_factory=dict, metadata={"help": "Extra options."})


def _command(style: OptionStyle | None = None, **kwargs: Any) -> click.Command:
    @click.command()
    @dataclass_options(Toy, style=style, **kwargs)
    def run(**kw: Any) -> None:
        click.echo(repr(field_kwargs(Toy, kw, dest_prefix=style.dest_prefix if style else "")))

    return run


def _given(args: list[str], style: OptionStyle | None = None) -> dict[str, Any]:
    result = CliRunner().invoke(_command(style), args)
    assert result.exit_code == 0, result.output
    return dict(eval(result.output))  # the repr of a dict of plain values


def test_only_the_options_given_reach_the_config() -> None:
    assert _given(["--name", "x"]) == {"name": "x"}
    assert Toy(**_given(["--name", "x"])) == Toy(name="x")


def test_values_are_converted_by_field_type() -> None:
    got = _given(
        [
            "--name",
            "x",
            "--count",
            "5",
            "--ratio",
            "0.5",
            "--mode",
            "slow",
            "--loud",
            "--tags",
            "t",
            "--sizes",
            "4",
            "--sizes",
            "5",
            "--extra",
            "k=1",
            "--extra",
            "s=text",
        ]
    )
    assert got == {
        "name": "x",
        "count": 5,
        "ratio": 0.5,
        "mode": "slow",
        "loud": True,
        "tags": ["t"],
        "sizes": (4, 5),
        "extra": {"k": 1, "s": "text"},
    }
    assert _given(["--name", "x", "--no-loud"]) == {"name": "x", "loud": False}


def test_help_shows_each_fields_help_and_default() -> None:
    text = " ".join(CliRunner().invoke(_command(), ["--help"]).output.split())
    assert "--count INTEGER How many. [default: 3]" in text
    assert "--mode [fast|slow] The mode. [default: fast]" in text
    assert "--tags TEXT Repeatable. Tags. [default: a, b]" in text
    assert "--extra KEY=VALUE Repeatable. Extra options." in text
    assert "--name TEXT A required name. [required]" in text
    assert "--ratio FLOAT A ratio." in text and "[default: None]" not in text


def test_bad_values_are_usage_errors() -> None:
    for args, words in (
        (["--count", "many"], "'many' is not a valid integer"),
        (["--mode", "medium"], "'medium' is not one of 'fast', 'slow'"),
        (["--extra", "novalue"], "expected KEY=VALUE"),
        ([], "Missing option '--name'"),
    ):
        result = CliRunner().invoke(_command(), args if args == [] else ["--name", "x", *args])
        assert result.exit_code == 2 and words in result.output


def test_style_renames_prefixes_parses_and_restricts() -> None:
    style = OptionStyle(
        names={"count": "--how-many", "loud": "--loud/--quiet"},
        dest_prefix="toy_",
        help_prefix="[toy] ",
        parsers={"ratio": lambda text: float(text.rstrip("%")) / 100},
    )
    assert _given(["--name", "x", "--how-many", "7", "--quiet", "--ratio", "25%"], style) == {
        "name": "x",
        "count": 7,
        "loud": False,
        "ratio": 0.25,
    }
    only = _command(style, only=("count", "loud"))
    assert [p.name for p in only.params] == ["toy_count", "toy_loud"]
    assert only.params[0].help == "[toy] How many.  [default: 3]"
    with pytest.raises(TypeError, match="Toy has no field colour"):
        dataclass_options(Toy, only=("colour",))


def test_field_default() -> None:
    assert (
        field_default(Toy, "count"),
        field_default(Toy, "tags"),
        field_default(Toy, "name"),
    ) == (3, ["a", "b"], None)


def test_none_is_text_for_a_field_that_takes_text_and_null_for_a_number() -> None:
    """As HfArgumentParser reads them: ``--report-to none`` is the text "none" (TrainingArguments
    refuses None there), ``--max-grad-norm``-like optional numbers take none as None."""
    from dsr.cli._dataclass_options import parse_field_args

    @dataclass
    class Args:
        report_to: None | str | list[str] = "none"  # as TrainingArguments types it
        limit: int | None = 3

    got = parse_field_args(["--report-to", "none", "--limit", "none"], Args, command="x")
    assert got == {"report_to": "none", "limit": None}
