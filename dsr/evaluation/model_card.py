"""Evaluation results in an adapter's model card: a Hub ``model-index`` (task text-to-video, the
dataset repo, config, split and revision, one entry per metric, its variant as ``metric_config``
and in its name) in the YAML header, and a readable
table in a section of the card between two markers (replaced, never duplicated, on a re-run).

:func:`update_card` is pure text → text; :func:`write_model_card` applies it to an adapter folder's
``README.md`` or to a Hub model repo's card, pushed in one commit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsr.builders.dataset_source import looks_local
from dsr.errors import ConfigError, HubError
from dsr.evaluation.card_sample import GIF_PATH
from dsr.evaluation.results import METRIC_LABELS, format_table, metric_label, variant_of

if TYPE_CHECKING:
    from dsr.evaluation.card_sample import CardSample

__all__ = ["adapter_name", "card_eval_results", "update_card", "write_model_card"]

log = logging.getLogger(__name__)

START = "<!-- dsr-eval:start -->"
END = "<!-- dsr-eval:end -->"
CARD = "README.md"


def card_eval_results(results: Mapping[str, Any]) -> list[Any]:
    """``huggingface_hub.EvalResult`` entries of one evaluation (the point estimates)."""
    from huggingface_hub import EvalResult

    dataset = results["model"]["dataset"]
    repo = dataset.get("repo_id") or dataset.get("local_folder") or "local"
    entries = []
    for key in METRIC_LABELS:
        block = results["metrics"].get(key)
        if not block or block.get("estimate") is None:
            continue
        variant = variant_of(results, key)
        entries.append(
            EvalResult(
                task_type="text-to-video",
                task_name="Dynamic spatial relations (DSR)",
                dataset_type=repo,
                dataset_name=f"DSR-Dataset ({repo})",
                dataset_config=dataset.get("config"),
                dataset_split=dataset.get("split"),
                dataset_revision=dataset.get("commit") or dataset.get("revision"),
                metric_type=key,
                metric_name=metric_label(key, variant),
                metric_config=variant,
                metric_value=round(float(block["estimate"]), 6),
                metric_args={
                    "low": block.get("low"),
                    "high": block.get("high"),
                    "level": block.get("level"),
                },
            )
        )
    return entries


def _same_run(a: Any, b: Any) -> bool:
    """Entry ``a`` of the card is replaced by the new ``b``: the same data and metric, and the same
    variant (an entry without one, written before variants, is replaced by any)."""
    if a.metric_config is not None and a.metric_config != b.metric_config:
        return False
    return (
        a.dataset_type,
        a.dataset_config,
        a.dataset_split,
        a.dataset_revision,
        a.metric_type,
    ) == (b.dataset_type, b.dataset_config, b.dataset_split, b.dataset_revision, b.metric_type)


def _section(results: Mapping[str, Any], model_name: str, sample: CardSample | None) -> str:
    dataset = results["model"]["dataset"]
    where = dataset.get("repo_id") or dataset.get("local_folder")
    rev = dataset.get("commit") or dataset.get("revision")
    boot = results["settings"]["bootstrap"]
    return "\n".join(
        [
            START,
            "## Evaluation (dsr eval)",
            "",
            f"`{model_name}` on `{dataset.get('config')}` / `{dataset.get('split')}` of `{where}`"
            + (f" at `{rev}`" if rev else "")
            + f": {results['summary']['n_samples']} videos of {results['summary']['n_prompts']} "
            f"prompts. {int(boot['level'] * 100)} % intervals from {boot['n_resamples']} bootstrap "
            "resamples of the prompts.",
            "",
            format_table([{**results, "model": {**results["model"], "name": model_name}}]),
            "",
            *(
                [
                    f"![{sample.prompt}]({GIF_PATH})",
                    "",
                    f"The evaluated sample with the best DSR-Score ({sample.dsr_score:.3f}, "
                    f"`{sample.sample_id}`): *{sample.prompt}*",
                    "",
                ]
                if sample
                else []
            ),
            END,
        ]
    )


def update_card(
    text: str | None,
    results: Mapping[str, Any],
    *,
    model_name: str | None = None,
    sample: CardSample | None = None,
) -> str:
    """``text`` (a model card, or None for a new one) with the evaluation in its model-index and
    its evaluation section; entries of the same dataset, config, split and revision are replaced.
    The model-index and the section name the model ``model_name`` (default: the name the card
    already has, else the evaluation's); both are rewritten by every evaluation."""
    from huggingface_hub import ModelCard, ModelCardData

    card = ModelCard(text) if text else ModelCard("---\n---\n")
    data = (
        card.data if isinstance(card.data, ModelCardData) else ModelCardData(**card.data.to_dict())
    )
    new = card_eval_results(results)
    kept = [e for e in (data.eval_results or []) if not any(_same_run(e, n) for n in new)]
    data.eval_results = kept + new
    data.model_name = model_name or data.model_name or results["model"]["name"]
    body = card.text
    if sample:  # the Hub's widget shows it beside the card, as diffusers' LoRA cards do
        data["widget"] = [{"text": sample.prompt, "output": {"url": GIF_PATH}}]
    section = _section(results, data.model_name, sample)
    if START in body and END in body:
        head, rest = body.split(START, 1)
        body = head + section + rest.split(END, 1)[1]
    else:
        body = body.rstrip() + "\n\n" + section + "\n"
    return f"---\n{data.to_yaml()}\n---\n{body if body.startswith(chr(10)) else chr(10) + body}"


def _looks_local(target: str) -> bool:
    return Path(target).expanduser().exists() or looks_local(target)


def check_target(target: str) -> None:
    """Everything about ``--model-card`` that can fail, checked before the evaluation runs."""
    if _looks_local(target):
        if not Path(target).expanduser().is_dir():
            raise ConfigError(
                f"--model-card {target}: not an adapter folder: give the --output-dir of `dsr "
                "train` or a Hub model repo id (namespace/name)"
            )
        return
    from dsr.hub import preflight_push

    preflight_push(target, None, repo_type="model")


def adapter_name(target: str) -> str:
    """The name of the adapter whose card ``--model-card`` updates: its Hub repo id, or its folder's
    name (never a local path)."""
    return Path(target).expanduser().resolve().name if _looks_local(target) else target


def write_model_card(
    target: str,
    results: Mapping[str, Any],
    *,
    model_name: str | None = None,
    sample: CardSample | None = None,
    token: str | None = None,
) -> str:
    """Update the card of an adapter folder (returns its path) or of a Hub model repo (one commit;
    returns its sha). The model-index is named ``model_name`` (default: the adapter's name, see
    :func:`adapter_name`), not after the evaluated dataset."""
    name = model_name or adapter_name(target)
    if _looks_local(target):
        path = Path(target).expanduser() / CARD
        from dsr.builders.folder import atomic_write_text

        current = path.read_text(encoding="utf-8") if path.exists() else None
        if sample:
            gif = path.parent / GIF_PATH
            gif.parent.mkdir(parents=True, exist_ok=True)
            gif.write_bytes(sample.gif)
        atomic_write_text(path, update_card(current, results, model_name=name, sample=sample))
        return str(path)
    return _push_card(target, results, token, name, sample)


def _push_card(
    repo_id: str,
    results: Mapping[str, Any],
    token: str | None,
    name: str,
    sample: CardSample | None = None,
) -> str:
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, RemoteEntryNotFoundError

    from dsr.hub import _token

    api = HfApi(token=_token(token))
    try:
        try:
            current = Path(api.hf_hub_download(repo_id, CARD, repo_type="model")).read_text(
                encoding="utf-8"
            )
        except (EntryNotFoundError, RemoteEntryNotFoundError):
            current = None
        text = update_card(current, results, model_name=name, sample=sample)
        operations = [CommitOperationAdd(CARD, text.encode("utf-8"))]
        if sample:
            operations.append(CommitOperationAdd(GIF_PATH, sample.gif))
        info = api.create_commit(
            repo_id,
            operations=operations,
            commit_message=f"dsr eval: {name} on {results['model']['dataset'].get('split')}",
            repo_type="model",
        )
    except HfHubHTTPError as exc:
        raise HubError(
            f"the Hub refused the model card update of {repo_id}: {str(exc).splitlines()[0]}"
        ) from None
    log.info("updated the model card of %s at %s", repo_id, info.oid[:10])
    return str(info.oid)
