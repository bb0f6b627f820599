"""``dsr judge`` when things go wrong: unparsable answers and refusals, timeouts and rate limits, a
server that dies mid-run, a missing or rejected key, a key in the base URL, a large run not
confirmed, a second run on the same output; and the video mode beside another model's rows."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from _cli import error_line, run_cli
from servers.openai import Reply, message_videos

from dsr.builders.folder import DatasetFolder
from dsr.errors import BusyError, ConfigError
from dsr.judge.config import JudgeConfig, JudgeOptions
from dsr.judge.run import judge
from dsr.locks import exclusive_lock


def yes(body: dict[str, Any]) -> Reply:
    return Reply.text("Yes.")


def options(server: Any, **overrides: Any) -> JudgeOptions:
    values = {
        "model": "gpt-4o",
        "base_url": server.base_url,
        "limit": 1,
        "split": ["train"],
        "backoff": 0.01,
        "concurrency": 1,
        **overrides,
    }
    return JudgeOptions(**values)


def judgments(folder: Path) -> pl.DataFrame:
    files = DatasetFolder(folder).data_files("judgments", "train")
    return pl.concat([pl.read_parquet(f) for f in files]).sort(
        ["model", "sample_id", "question_kind"], descending=[False, False, True]
    )


def test_unparsable_answers_and_refusals_are_kept_as_such_and_never_asked_again(
    dataset: Path, openai_server
) -> None:  # type: ignore[no-untyped-def]
    openai_server.push(
        Reply.text("The fox is somewhere near the stump."),
        Reply.refused("I can't judge this video."),
    )
    result = judge(JudgeConfig(str(dataset), options(openai_server, pairs=True)))
    rows = judgments(dataset).to_dicts()
    assert [(r["question_kind"], r["answer"], r["raw_text"], r["refused"]) for r in rows] == [
        ("initial", "unparsable", "The fox is somewhere near the stump.", False),
        ("final", "unparsable", "I can't judge this video.", True),
    ]
    assert result.analysis.answers["initial"] == {"yes": 0, "no": 0, "unparsable": 1}
    assert (
        result.pairs is not None and result.pairs.counts["train"]["dropped_fewer_than_2_valid"] == 1
    )
    openai_server.reset(default=yes)
    judge(JudgeConfig(str(dataset), options(openai_server)))
    assert openai_server.requests == 0  # an answer, even an unparsable one, is cached


def test_a_timeout_a_429_with_retry_after_and_a_503_are_retried(
    dataset: Path, openai_server
) -> None:  # type: ignore[no-untyped-def]
    openai_server.reset(default=yes)
    openai_server.push(Reply.hang(3), Reply.error(429, retry_after=0.3), Reply.error(503))
    start = time.monotonic()
    result = judge(JudgeConfig(str(dataset), options(openai_server, timeout=0.4, max_retries=3)))
    assert (
        time.monotonic() - start >= 0.4 + 0.3
    )  # the timeout, then Retry-After (not the 0.01 s backoff)
    assert openai_server.requests == 5 and result.sent == 2
    assert judgments(dataset)["answer"].to_list() == ["yes", "yes"]


def test_a_server_dying_mid_run_stops_with_one_line_and_the_rerun_sends_only_the_missing(
    dataset: Path, openai_server
) -> None:  # type: ignore[no-untyped-def]
    served = {"n": 0}

    def dies_after_five(body: dict[str, Any]) -> Reply:
        served["n"] += 1
        return Reply.text("No.") if served["n"] <= 5 else Reply.dropped()

    openai_server.reset(default=dies_after_five)
    args = [
        "judge",
        str(dataset),
        "--model",
        "gpt-4o",
        "--base-url",
        openai_server.base_url,
        "--limit",
        "4",
        "--split",
        "train",
        "--concurrency",
        "1",
        "--max-retries",
        "1",
        "--backoff",
        "0.01",
    ]
    line = error_line(run_cli(*args))
    assert "did not answer" in line and "run the same command again" in line
    assert len(list((dataset / ".dsr" / "judge-cache").rglob("*.json"))) == 5
    assert "judgments" not in DatasetFolder(dataset).config_names()
    openai_server.reset(default=yes)
    result = run_cli(*args)
    assert result.exit_code == 0, result.output
    assert openai_server.requests == 8 - 5  # only what the first run did not get
    assert judgments(dataset)["answer"].value_counts().sort("answer").rows() == [
        ("no", 5),
        ("yes", 3),
    ]


@pytest.mark.parametrize(
    ("status", "needle"), [(401, "rejected the API key"), (400, r"refused the request \(400")]
)
def test_a_rejected_key_or_request_stops_at_once(
    dataset: Path, openai_server, status: int, needle: str
) -> None:  # type: ignore[no-untyped-def]
    openai_server.reset(default=lambda body: Reply.error(status))
    with pytest.raises(ConfigError, match=needle):
        judge(JudgeConfig(str(dataset), options(openai_server, limit=None, concurrency=2)))
    assert openai_server.requests <= 2  # no retry, nothing queued is sent


def test_no_api_key_is_one_line_before_any_request(
    dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    line = error_line(run_cli("judge", str(dataset), "--model", "gpt-4o", "--yes"))
    assert "$OPENAI_API_KEY is not set" in line and "--base-url" in line
    assert "judgments" not in DatasetFolder(dataset).config_names()


def test_a_key_in_the_base_url_is_never_sent_logged_or_written(
    dataset: Path, openai_server, monkeypatch, caplog
) -> None:  # type: ignore[no-untyped-def]
    key = "sk-test-judge-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    openai_server.reset(default=yes)
    url = openai_server.base_url.replace("http://", "http://proxyuser:url-secret-pw@")
    result = run_cli(
        "-v", "judge", str(dataset), "--model", "gpt-4o", "--base-url", url, "--limit", "1", "--yes"
    )
    assert result.exit_code == 0, result.output
    assert set(openai_server.auth_headers) == {f"Bearer {key}"} and openai_server.requests == 2
    assert (
        "url-secret-pw" not in result.output + caplog.text
        and key not in result.output + caplog.text
    )
    for path in dataset.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"url-secret-pw" not in data and key.encode() not in data, path
    assert openai_server.base_url in (dataset / "dsr_build.json").read_text()


@pytest.mark.parametrize(
    ("model", "needle"), [("gpt-4o", "~$"), ("Qwen/Qwen3-VL-8B-Instruct", "no price known")]
)
def test_a_large_run_is_estimated_and_asked_first(
    dataset: Path, openai_server, model: str, needle: str
) -> None:  # type: ignore[no-untyped-def]
    openai_server.reset(default=yes)
    args = [
        "judge",
        str(dataset),
        "--model",
        model,
        "--base-url",
        openai_server.base_url,
        "--limit",
        "2",
        "--split",
        "train",
        "--confirm-above",
        "3",
    ]
    refused = run_cli(*args, input="n\n")
    assert "to send to" in refused.output and needle in refused.output and "input" in refused.output
    assert "not confirmed" in error_line(refused) and openai_server.requests == 0
    accepted = run_cli(*args, input="y\n")
    assert accepted.exit_code == 0 and openai_server.requests == 4, accepted.output
    assert "Send 4 requests?" in accepted.output and "Figure 4" in accepted.output


def test_a_second_run_on_the_same_output_is_refused_at_once(dataset: Path, openai_server) -> None:  # type: ignore[no-untyped-def]
    with (
        exclusive_lock(dataset / ".dsr" / "judge.lock", "test"),
        pytest.raises(BusyError, match="in use by"),
    ):
        judge(JudgeConfig(str(dataset), options(openai_server)))
    assert openai_server.requests == 0


def test_video_mode_sends_the_mp4_and_keeps_the_other_models_rows(
    dataset: Path, openai_server
) -> None:  # type: ignore[no-untyped-def]
    openai_server.reset(default=yes)
    judge(JudgeConfig(str(dataset), options(openai_server, model="vlm-a")))
    judge(JudgeConfig(str(dataset), options(openai_server, model="vlm-b", video=True)))
    body = openai_server.bodies[-1]
    assert [p["type"] for p in body["messages"][0]["content"]] == ["video_url", "text"]
    first = DatasetFolder(dataset).data_files("samples", "train")[0]
    mp4 = pl.read_parquet(first).sort(["prompt_id", "seed"])["video"][0]["bytes"]
    assert message_videos(body) == [mp4]
    rows = judgments(dataset)
    assert rows["model"].to_list() == ["vlm-a", "vlm-a", "vlm-b", "vlm-b"]
    assert rows.filter(pl.col("model") == "vlm-b")["frames"].to_list() == [[], []]
    assert rows["frame_mode"].to_list() == ["frames", "frames", "video", "video"]
    assert set(DatasetFolder(dataset).config_record("judgments")["settings"]) == {"vlm-a", "vlm-b"}


@pytest.mark.slow
def test_a_run_killed_with_sigkill_resumes_with_only_the_missing_requests(
    dataset: Path, openai_server
) -> None:  # type: ignore[no-untyped-def]
    import os
    import signal
    import subprocess
    import sys

    served = {"n": 0}

    def hangs_after_six(body: dict[str, Any]) -> Reply:
        served["n"] += 1
        return Reply.text("Yes.") if served["n"] <= 6 else Reply.hang(20, then=Reply.text("Yes."))

    openai_server.reset(default=hangs_after_six)
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dsr",
            "judge",
            str(dataset),
            "--model",
            "gpt-4o",
            "--base-url",
            openai_server.base_url,
            "--limit",
            "5",
            "--concurrency",
            "1",
            "--yes",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cache = dataset / ".dsr" / "judge-cache"
    deadline = time.monotonic() + 120
    while served["n"] < 7 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(list(cache.rglob("*.json"))) == 6
    openai_server.reset(default=yes)
    judge(JudgeConfig(str(dataset), options(openai_server, limit=5)))
    assert openai_server.requests == 10 - 6
    assert judgments(dataset).height == 10


def test_a_200_that_is_no_chat_completion_is_one_line_naming_the_url(
    dataset: Path, openai_server
) -> None:  # type: ignore[no-untyped-def]
    openai_server.reset(default=lambda body: Reply.page("<html>Sign in to the proxy</html>"))
    args = ["judge", str(dataset), "--model", "gpt-4o", "--base-url", openai_server.base_url]
    line = error_line(run_cli(*args, "--limit", "1", "--concurrency", "1", "--yes"))
    assert line.startswith(
        f"Error: {openai_server.base_url}/chat/completions answered HTTP 200 with no chat "
        "completion (the body begins '<html>Sign in to the proxy</html>')"
    ), line
    assert "judgments" not in DatasetFolder(dataset).config_names()
