"""``dsr judge``: the VLM-judge baseline over a dataset's samples → ``judgments``
(and ``pairs-vlm``).

The options are generated from :class:`dsr.judge.config.JudgeOptions`.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dsr.cli._dataclass_options import dataclass_options, field_kwargs
from dsr.cli._options import preflight_push_options, push_from_options, push_options
from dsr.judge.config import JudgeOptions

if TYPE_CHECKING:
    from dsr.judge.run import JudgePlan, JudgeResult


@click.command("judge")
@click.argument("source")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Dataset folder receiving `judgments` "
    "(and `pairs-vlm`) [default: SOURCE when it is a local folder; required for a Hub dataset].",
)
@dataclass_options(JudgeOptions)
@click.option(
    "--yes",
    "-y",
    "assume_yes",
    is_flag=True,
    help="Send the requests without asking, however many.",
)
@push_options()
def judge(source: str, out: Path | None, assume_yes: bool, **kw: Any) -> None:
    """Ask a vision model the paper's two questions about every sample of SOURCE (a dataset folder,
    or a Hub dataset repo[@revision]), compare the answers with the DSR-Score, and write them."""
    from dsr.cards import sanitize_command
    from dsr.fileio import check_output_dir
    from dsr.judge.config import JudgeConfig
    from dsr.judge.run import judge as run

    options = JudgeOptions(**field_kwargs(JudgeOptions, kw))
    config = JudgeConfig(
        source,
        options,
        out=str(out) if out else None,
        command=sanitize_command(["dsr", *sys.argv[1:]]),
    )
    check_output_dir(str(config.out))
    preflight_push_options(kw, need_version=True)  # before any request, not after
    result = run(config, confirm=functools.partial(_confirm, assume_yes=assume_yes))
    _report(result)
    if kw["push_repo"]:
        from dsr.judge.outputs import JUDGMENTS
        from dsr.judge.pairs_vlm import PAIRS_VLM

        push_from_options(
            kw, result.out, config_names=[JUDGMENTS] + ([PAIRS_VLM] if result.pairs else [])
        )


def plan_line(plan: JudgePlan) -> str:
    """What the run will send: requests, tokens and, for a known OpenAI model, dollars."""
    from dsr.judge.cost import PRICES_AS_OF

    o, est = plan.config.options, plan.estimate
    head = (
        f"{plan.asked.height} samples ({len(plan.without_video)} without a video) -> "
        f"{len(plan.jobs)} questions: {plan.cached} answered by the cache, {len(plan.missing)} to "
        f"send to {o.model} at {plan.endpoint.url}"
    )
    if not plan.missing:
        return head
    tokens = f"~{est.input_tokens:,} input" + (
        "" if est.images_counted else " (videos not counted)"
    )
    cost = (
        f", ~${est.cost_usd:,.2f} (prices of {PRICES_AS_OF})"
        if est.cost_usd is not None
        else " (no price known for this model)"
    )
    return f"{head}; {tokens} and at most {est.output_tokens:,} output tokens{cost}"


def _confirm(plan: JudgePlan, *, assume_yes: bool) -> None:
    from dsr.errors import ConfigError

    click.echo(plan_line(plan))
    if assume_yes or len(plan.missing) <= plan.config.options.confirm_above:
        return
    try:
        ok = click.confirm(f"Send {len(plan.missing)} requests?", default=False)
    except click.Abort:
        ok = False
    if not ok:
        raise ConfigError(
            f"not confirmed: none of the {len(plan.missing)} requests was sent; pass --yes to send "
            "them without the question"
        )


def _report(result: JudgeResult) -> None:
    from dsr.judge.analysis import format_analysis

    answers = result.analysis.answers
    click.echo(
        f"sent {result.sent} requests; answers: "
        + "; ".join(
            f"{kind} " + ", ".join(f"{a}={n}" for a, n in counts.items())
            for kind, counts in answers.items()
        )
    )
    for sample_id, why in sorted(result.unreadable.items()):
        click.echo(f"  not judged: {sample_id} ({why})")
    click.echo(format_analysis(result.analysis))
    if result.pairs is not None:
        for split, counts in result.pairs.counts.items():
            click.echo(f"pairs-vlm {split}: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    saved = ", ".join(str(p.relative_to(result.out)) for p in result.assets)
    click.echo(
        f"wrote judgments{' and pairs-vlm' if result.pairs is not None else ''} to "
        f"{result.out} ({saved})"
    )
