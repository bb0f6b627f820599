"""``dsr judge``: ask a vision-language model the paper's two questions about every sample, then
write the answers, the analysis and (optionally) VLM-derived pairs.

One run, under an OS lock on the output folder (a second run on it is refused at once):

1. **plan**: read the samples (and the sha256 of each video), derive the two questions per sample
   and their cache keys, count what the cache already answers, estimate the rest (requests,
   tokens, dollars) and let the caller confirm;
2. **ask**: stream the videos of unanswered samples, show each as K frames (or the video), and send
   its questions with bounded concurrency. Every answer is written to the cache at once
   (atomically), so a killed or failed run resumes by sending only what is missing; a re-run
   sends nothing;
3. **write**: ``judgments`` (replacing this model's rows only), the analysis figure and JSON, and
   with ``pairs`` the ``pairs-vlm`` config.

The cache key of a request is the sha256 of (endpoint, model, sampling settings, question text,
how the video is shown, the video's sha256): the images themselves are not stored.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from dsr.builders.dataset_source import DatasetSource
from dsr.builders.folder import WORK_DIR, DatasetFolder
from dsr.builders.pairs import PairsResult
from dsr.builders.prompt_backends.llm_cache import ResponseCache, request_key
from dsr.builders.prompt_backends.openai_calls import ChatEndpoint, ChatReply, map_bounded
from dsr.errors import DataError, EndpointError
from dsr.judge.analysis import JudgeAnalysis, analyze
from dsr.judge.config import JudgeConfig
from dsr.judge.cost import Estimate, estimate
from dsr.judge.frames import question_body, show_video
from dsr.judge.outputs import (
    CACHE_DIR,
    JUDGMENT_COLUMNS,
    other_models,
    write_analysis,
    write_judgments,
    write_pairs_vlm,
)
from dsr.judge.pairs_vlm import vlm_pairs
from dsr.judge.questions import Question, parse_answer, questions_for
from dsr.judge.source import first_of_each_split, iter_videos, open_source, sample_table
from dsr.locks import exclusive_lock
from dsr.progress import progress_bar

__all__ = ["Job", "JudgePlan", "JudgeResult", "judge", "plan_run"]

log = logging.getLogger(__name__)

LOCK = "judge.lock"


@dataclass(frozen=True)
class Job:
    """One question about one sample, with what its cache key is made of."""

    sample_id: str
    question: Question
    request: dict[str, Any]

    @property
    def key(self) -> str:
        return request_key(self.request)


@dataclass
class JudgePlan:
    """What a run will ask, and what the cache already answers."""

    config: JudgeConfig
    source: DatasetSource
    samples: pl.DataFrame  # every sample of the splits (their scores for the analysis)
    asked: pl.DataFrame  # the samples this run judges (``limit`` of each split)
    jobs: list[Job]
    missing: list[Job]
    without_video: list[str]
    estimate: Estimate
    endpoint: ChatEndpoint = field(repr=False)

    @property
    def cached(self) -> int:
        return len(self.jobs) - len(self.missing)


@dataclass
class JudgeResult:
    """What a run sent and wrote."""

    plan: JudgePlan
    sent: int
    unreadable: dict[str, str]
    analysis: JudgeAnalysis
    pairs: PairsResult | None
    assets: list[Path]
    out: Path


def _endpoint(config: JudgeConfig) -> ChatEndpoint:
    o = config.options
    return ChatEndpoint(
        o.base_url,
        o.api_key_env,
        o.timeout,
        o.max_retries,
        o.backoff,
        o.backoff_max,
        refused_hint="check --model (a vision model the endpoint serves) and --base-url, or try "
        "fewer --frames, a smaller --max-side or --video",
    )


def _jobs(samples: pl.DataFrame, config: JudgeConfig, endpoint: ChatEndpoint) -> list[Job]:
    o = config.options
    shown = o.encoding().describe()
    jobs = []
    for row in samples.filter(pl.col("video_sha256").is_not_null()).iter_rows(named=True):
        for question in questions_for(row):
            request = {
                "endpoint": endpoint.url,
                **o.sampling(),
                "question": question.text,
                "shown": shown,
                "video_sha256": row["video_sha256"],
            }
            jobs.append(Job(row["sample_id"], question, request))
    return jobs


def _missing(jobs: list[Job], cache: ResponseCache) -> list[Job]:
    """The jobs the cache does not answer, one per key (identical videos share their answers)."""
    out, seen = [], set()
    for job in jobs:
        if job.key not in seen and cache.get(job.key) is None:
            out.append(job)
        seen.add(job.key)
    return out


def plan_run(config: JudgeConfig, cache: ResponseCache) -> JudgePlan:
    """Read the samples and count the requests a run needs (nothing is sent)."""
    o = config.options
    repo, revision = config.repo_and_revision
    source = open_source(repo, revision, o.split)
    samples = sample_table(source, o.split)
    asked = first_of_each_split(samples, o.limit)
    endpoint = _endpoint(config)
    jobs = _jobs(asked, config, endpoint)
    missing = _missing(jobs, cache)
    if missing:
        endpoint.client()  # a missing API key is refused before anything else
    sizes = dict(
        zip(
            samples["sample_id"], zip(samples["width"], samples["height"], strict=True), strict=True
        )
    )
    cost = estimate(
        str(o.model),
        [sizes[j.sample_id] for j in missing],
        [j.question.text for j in missing],
        o.encoding(),
        o.max_tokens,
    )
    no_video = asked.filter(pl.col("video_sha256").is_null())["sample_id"].to_list()
    return JudgePlan(config, source, samples, asked, jobs, missing, no_video, cost, endpoint)


class _Asker:
    """Sends the missing questions of one sample at a time and caches each answer."""

    def __init__(self, plan: JudgePlan, cache: ResponseCache) -> None:
        self.plan, self.cache = plan, cache
        self.by_sample: dict[str, list[Job]] = {}
        for job in plan.missing:
            self.by_sample.setdefault(job.sample_id, []).append(job)
        self.sent = 0
        self.unreadable: dict[str, str] = {}
        self._lock = threading.Lock()

    def ask(self, item: tuple[str, bytes]) -> None:
        sample_id, video = item
        o = self.plan.config.options
        try:
            shown, frames = show_video(video, o.encoding())
        except DataError as exc:
            with self._lock:
                self.unreadable[sample_id] = str(exc)
            return
        for job in self.by_sample[sample_id]:
            reply, failure = self.plan.endpoint.complete(
                question_body(shown, job.question, o.sampling())
            )
            with self._lock:
                self.sent += 1
            if reply is None:
                raise EndpointError(
                    f"{self.plan.endpoint.url} did not answer ({failure}): the answers received "
                    "are cached; run the same command again to send only the missing ones"
                )
            self.cache.put(job.key, job.request, json.dumps({**asdict(reply), "frames": frames}))

    def run(self) -> None:
        o = self.plan.config.options
        chunk: list[tuple[str, bytes]] = []
        progress = _progress(len(self.by_sample))
        try:
            for item in iter_videos(self.plan.source, set(self.by_sample), o.split):
                chunk.append(item)
                if len(chunk) >= 2 * o.concurrency:
                    map_bounded(self.ask, chunk, o.concurrency)
                    progress.update(len(chunk))
                    chunk = []
            map_bounded(self.ask, chunk, o.concurrency)
            progress.update(len(chunk))
        finally:
            progress.close()


def _progress(total: int) -> Any:
    return progress_bar(total=total, unit="video", desc="judge", disable=total == 0)


def _row(job: Job, entry: dict[str, Any], sample: dict[str, Any], model: str) -> dict[str, Any]:
    reply = ChatReply(
        entry.get("content"),
        entry.get("refusal"),
        entry.get("usage") or {},
        entry.get("finish_reason"),
    )
    raw = reply.content if reply.content is not None else (reply.refusal or "")
    return {
        "sample_id": job.sample_id,
        "prompt_id": sample["prompt_id"],
        "split": sample["split"],
        "seed": sample["seed"],
        "model": model,
        "question_kind": job.question.kind,
        "relation": job.question.relation,
        "question": job.question.text,
        "answer": parse_answer(reply.content),
        "raw_text": raw,
        "refused": bool(reply.refusal),
        "frames": list(entry.get("frames") or []),
        "frame_mode": "video" if job.request["shown"]["mode"] == "video" else "frames",
        "prompt_tokens": reply.usage.get("prompt_tokens"),
        "completion_tokens": reply.usage.get("completion_tokens"),
        "video_sha256": job.request["video_sha256"],
    }


def _rows(plan: JudgePlan, cache: ResponseCache) -> pl.DataFrame:
    samples = {r["sample_id"]: r for r in plan.samples.iter_rows(named=True)}
    rows = []
    for job in plan.jobs:
        text = cache.get(job.key)
        if text is not None:
            rows.append(
                _row(job, json.loads(text), samples[job.sample_id], str(plan.config.options.model))
            )
    schema: dict[str, Any] = {c: pl.String for c in JUDGMENT_COLUMNS} | {
        "seed": pl.Int64,
        "refused": pl.Boolean,
        "frames": pl.List(pl.Int64),
        "prompt_tokens": pl.Int64,
        "completion_tokens": pl.Int64,
    }
    return pl.DataFrame(rows, schema=schema)


def _write(
    plan: JudgePlan, folder: DatasetFolder, rows: pl.DataFrame, endpoint: str
) -> tuple[JudgeAnalysis, PairsResult | None, list[Path]]:
    config, o = plan.config, plan.config.options
    model = str(o.model)
    if rows.is_empty():
        raise DataError(
            f"no sample of {config.source} could be judged (no readable video): nothing written"
        )
    others = other_models(folder, model)
    merged = rows if others is None else pl.concat([others, rows], how="diagonal_relaxed")
    analyses = {
        m: analyze(
            merged.filter(pl.col("model") == m), plan.samples, model=m, tau=o.tau, bins=o.bins
        )
        for m in sorted(merged["model"].unique().to_list())
    }
    settings = {**config.settings(), "endpoint": endpoint, "source": plan.source.describe()}
    write_judgments(folder, merged, analyses, {model: settings}, config.command)
    assets = write_analysis(folder, analyses[model])
    pairs = None
    if o.pairs:
        pairs = vlm_pairs(rows, plan.samples)
        write_pairs_vlm(
            folder, pairs, sorted(rows["split"].unique().to_list()), model, settings, config.command
        )
        if "samples" not in folder.config_names():
            log.warning(
                "pairs-vlm in %s names samples of %s, which this folder does not hold: train on a "
                "folder or repo with both (e.g. --push to the source repo)",
                folder.root,
                config.source,
            )
    return analyses[model], pairs, assets


def judge(config: JudgeConfig, confirm: Callable[[JudgePlan], None] | None = None) -> JudgeResult:
    """Run the judge (see the module docstring); ``confirm(plan)`` is called before any request and
    may raise to stop the run."""
    folder = DatasetFolder(str(config.out))
    with exclusive_lock(folder.root / WORK_DIR / LOCK, f"the judgments of {folder.root}"):
        for path in folder.remove_leftovers():
            log.info("removed %s, left by a killed run", path)
        cache = ResponseCache(folder.work_dir(CACHE_DIR))
        plan = plan_run(config, cache)
        if confirm is not None:
            confirm(plan)
        asker = _Asker(plan, cache)
        asker.run()
        analysis, pairs, assets = _write(plan, folder, _rows(plan, cache), plan.endpoint.url)
    return JudgeResult(plan, asker.sent, asker.unreadable, analysis, pairs, assets, folder.root)
