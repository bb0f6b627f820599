"""Bad inputs and outputs of every command end as one line naming the problem and the fix, exit
code 1, and leave nothing behind: binary or non-UTF-8 prompt lists, corrupt parquet and build
records, an --out under a file or without write permission, unknown component options, absurd
sizes, and credentials in --base-url."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _videos_helpers import prompt_records, write_prompts
from click.testing import CliRunner, Result

from dsr.cli import main

GOOD = "In a barn, a fox is on the left of a stump, then the fox trots to the right of the stump."
SYNTH = [
    "--generator",
    "synthetic",
    "--tracker",
    "annotations",
    "--seeds",
    "0",
    "--generator-opt",
    "num_frames=24",
    "--generator-opt",
    "height=48",
    "--generator-opt",
    "width=64",
]


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _one_line(result: Result, *needles: str) -> str:
    """The single error line; the command ended through the CLI boundary, not a traceback."""
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is a binary file, not a prompt list"),
        (
            ("prompt\n" + GOOD.replace("barn", "café") + "\n").encode("latin-1"),
            "not UTF-8 text (byte 0xe9 at line 2)",
        ),
        (("prompt\n" + GOOD + "\n").encode("utf-16"), "is a binary file, not a prompt list"),
    ],
    ids=["png", "latin-1", "utf-16"],
)
def test_build_prompts_file_that_is_not_utf8_text(
    tmp_path: Path, content: bytes, needle: str
) -> None:
    src = tmp_path / "prompts.csv"
    src.write_bytes(content)
    out = tmp_path / "ds"
    result = _run("build-prompts", "--backend", "file", "--input", str(src), "--out", str(out))
    _one_line(result, str(src), needle, "UTF-8")
    assert not out.exists()  # nothing written, not even the work area


def _corrupt_prompts(root: Path) -> Path:
    write_prompts(root, prompt_records(2))
    (parquet,) = (root / "prompts").glob("*.parquet")
    parquet.write_bytes(parquet.read_bytes()[:200])
    return parquet


@pytest.mark.parametrize("command", ["build-videos", "score-videos"])
def test_corrupt_prompts_parquet_is_named(tmp_path: Path, command: str) -> None:
    parquet = _corrupt_prompts(tmp_path / "ds")
    out = tmp_path / "out"
    if command == "build-videos":
        result = _run("build-videos", "--prompts", str(tmp_path / "ds"), "--out", str(out), *SYNTH)
    else:
        (tmp_path / "videos").mkdir()
        result = _run(
            "score-videos",
            str(tmp_path / "videos"),
            "--prompts",
            str(tmp_path / "ds"),
            "--out",
            str(out),
            "--tracker",
            "annotations",
            "--split",
            "train",
        )
    _one_line(result, str(parquet), "not a readable parquet file", "dsr build-prompts")
    assert not out.exists()


def test_damaged_build_record_is_named(tmp_path: Path) -> None:
    root = write_prompts(tmp_path / "ds", prompt_records(2))
    (root / "dsr_build.json").write_text('{"format_version": 1, "configs": {')
    result = _run("build-videos", "--prompts", str(root), "--out", str(root), *SYNTH)
    _one_line(result, "dsr_build.json is damaged", "restore it")


def _commands(tmp_path: Path, out: str) -> dict[str, list[str]]:
    tracks = tmp_path / "t.jsonl"
    tracks.write_text(
        '{"initial": "left", "final": "right", "animal_boxes": [[0,0,1,1]], "object_boxes": '
        "[[2,0,3,1]]}\n"
    )
    prompts = str(tmp_path / "ds")
    return {
        "build-prompts": ["build-prompts", "--out", out],
        "build-videos": ["build-videos", "--prompts", prompts, "--out", out, *SYNTH],
        "score-videos": ["score-videos", str(tmp_path), "--prompts", prompts, "--out", out],
        "score": ["score", str(tracks), "--out", out + "/s.jsonl"],
        "audit-tracker": ["audit-tracker", "--out", out + "/a.json"],
        "demo": ["demo", "--out", out],
    }


@pytest.mark.parametrize(
    "command", ["build-prompts", "build-videos", "score-videos", "score", "audit-tracker", "demo"]
)
def test_out_under_a_file_is_refused_before_any_work(tmp_path: Path, command: str) -> None:
    blocker = tmp_path / "notes.txt"
    blocker.write_text("x")
    result = _run(*_commands(tmp_path, str(blocker / "sub"))[command])
    _one_line(result, f"{blocker} is a file", "choose another path")


def _unprivileged() -> list[str]:
    """A command prefix that takes root's right to write anywhere (CAP_DAC_OVERRIDE) away, so
    that file permissions apply as they do for any user; nothing when not running as root."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}", "--"]


@pytest.mark.parametrize("command", ["build-prompts", "score"])
def test_out_without_write_permission_is_refused(tmp_path: Path, command: str) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    args = _commands(tmp_path, str(locked / "ds"))[command]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run(
        [*_unprivileged(), sys.executable, "-m", "dsr", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert (
        f"no write permission in {locked}" in proc.stderr
        and "choose a folder you can write to" in proc.stderr
    )
    assert not list(locked.iterdir())


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (
            ["--tracker-opt", "box_thresh=0.5"],
            ("unknown tracker option box_thresh for 'grounded-sam2'", "box_threshold"),
        ),
        (
            ["--tracker", "annotations", "--tracker-opt", "label_match=fuzzy"],
            ("label_match='fuzzy'",),
        ),
        (["--tracker", "sam3", "--paper-exact"], ("--paper-exact with --tracker sam3",)),
    ],
)
def test_score_videos_bad_tracker_options_are_one_line(
    tmp_path: Path, args: list[str], needles: tuple
) -> None:
    (tmp_path / "videos").mkdir()
    result = _run(
        "score-videos",
        str(tmp_path / "videos"),
        "--prompts",
        str(tmp_path / "ds"),
        "--out",
        str(tmp_path / "out"),
        *args,
    )
    _one_line(result, *needles)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (
            ["--tracker-opt", "min_vaild=3"],
            ("unknown tracker option min_vaild for 'annotations'", "min_valid"),
        ),
        (
            ["--generator-opt", "frames=8"],
            ("unknown generator option frames for 'synthetic'", "num_frames"),
        ),
        (
            ["--generator-opt", "num_frames=1000000000"],
            ("SyntheticConfig.num_frames=1,000,000,000 exceeds the limit of 10,000",),
        ),
        (
            ["--seeds", "0-1000000000000"],
            ("--seeds count=1,000,000,000,001 exceeds the limit of 1,000",),
        ),
        (
            ["--samples-per-prompt", "1000000000"],
            ("samples_per_prompt=1,000,000,000 exceeds the limit of 1,000",),
        ),
        (["--batch-size", "100000"], ("batch_size=100,000 exceeds the limit",)),
    ],
)
def test_build_videos_bad_options_and_absurd_sizes(
    tmp_path: Path, args: list[str], needles: tuple
) -> None:
    root = write_prompts(tmp_path / "ds", prompt_records(1))
    base = ["--generator", "synthetic", "--tracker", "annotations"]
    if "--seeds" not in args and "--samples-per-prompt" not in args:
        base += ["--seeds", "0"]
    result = _run(
        "build-videos", "--prompts", str(root), "--out", str(tmp_path / "out"), *base, *args
    )
    _one_line(result, *needles)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ["--n-train", "1000000000000"],
            "n_train=1,000,000,000,000 exceeds the limit of 100,000 (the paper uses 500",
        ),
        (["--n-test", "200000"], "n_test=200,000 exceeds the limit of 100,000"),
        (
            ["--backend", "openai", "--per-request", "1000000"],
            "per_request=1,000,000 exceeds the limit of 1,000",
        ),
    ],
)
def test_build_prompts_absurd_sizes_are_refused_up_front(
    tmp_path: Path, args: list[str], needle: str
) -> None:
    result = _run("build-prompts", "--out", str(tmp_path / "ds"), *args)
    _one_line(result, needle, "give a smaller value")
    assert not (tmp_path / "ds").exists()


def test_base_url_with_credentials_still_sends_the_api_key(
    tmp_path: Path, openai_server, monkeypatch, caplog
) -> None:
    from servers.openai import prompt_responder

    key = "sk-test-abcdefghijklmnop"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    openai_server.reset(default=prompt_responder)
    url = openai_server.base_url.replace("http://", "http://proxyuser:proxy-secret-pw@")
    result = _run(
        "-vv",
        "build-prompts",
        "--backend",
        "openai",
        "--base-url",
        url,
        "--n-train",
        "6",
        "--n-test",
        "0",
        "--per-request",
        "1",
        "--out",
        str(tmp_path / "ds"),
    )
    assert result.exit_code == 0, result.output
    assert openai_server.auth_headers and set(openai_server.auth_headers) == {f"Bearer {key}"}
    logs = caplog.text + result.output
    assert "127.0.0.1" in caplog.text  # the requests were logged...
    assert "proxy-secret-pw" not in logs and key not in logs  # ...without any secret
    for path in (tmp_path / "ds").rglob("*"):
        if path.is_file():
            assert b"proxy-secret-pw" not in path.read_bytes(), path
