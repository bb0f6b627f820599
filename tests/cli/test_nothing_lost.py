"""Bad inputs met in the middle of a command, and what killed runs leave: an endpoint that answers
HTTP 200 with no chat completion, a row whose seed is not an integer, a damaged sample in the work
area, a second report on the same folder, a network that fails on ``--push``; staging folders and
temporary files of dead processes removed by the next run, even right after the kill."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from servers.openai import Reply

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "builders"))

from _videos_helpers import prompt_records, write_prompts  # noqa: E402

from dsr.cli import main  # noqa: E402
from dsr.locks import exclusive_lock  # noqa: E402
from dsr.report.layout import LOCK, MANIFEST  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BUILD = ["--generator", "synthetic", "--tracker", "annotations", "--generator-opt"]
BUILD += ["num_frames=24", "--generator-opt", "height=48", "--generator-opt", "width=64"]


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _error_line(result: Result) -> str:
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_prompts(tmp_path_factory.mktemp("built") / "ds", prompt_records(2))
    result = _run(
        "build-videos", "--prompts", str(root), "--out", str(root), *BUILD, "--seeds", "0"
    )
    assert result.exit_code == 0, result.output
    return root


# -- an endpoint that answers HTTP 200 with something else -------------------------------------
def test_build_prompts_names_the_url_when_a_200_is_no_chat_completion(
    tmp_path: Path, openai_server, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    openai_server.reset(default=lambda body: Reply.page("<html><body>Proxy login</body></html>"))
    result = _run(
        "build-prompts",
        "--backend",
        "openai",
        "--base-url",
        openai_server.base_url,
        "--n-train",
        "6",
        "--n-test",
        "0",
        "--concurrency",
        "1",
        "--out",
        str(tmp_path / "ds"),
    )
    line = _error_line(result)
    assert line.startswith(
        f"Error: {openai_server.base_url}/chat/completions answered HTTP 200 with no chat "
        "completion (the body begins '<html><body>Proxy login</body></html>')"
    ), line
    assert openai_server.requests == 1  # not retried: the same URL would answer the same


def test_a_json_body_without_choices_is_no_chat_completion_either(
    tmp_path: Path, openai_server, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789abcdef")
    openai_server.reset(default=lambda body: Reply.page('{"status": "ok"}', "application/json"))
    result = _run(
        "build-prompts",
        "--backend",
        "openai",
        "--base-url",
        openai_server.base_url,
        "--n-train",
        "6",
        "--n-test",
        "0",
        "--out",
        str(tmp_path / "ds"),
    )
    line = _error_line(result)
    assert "answered HTTP 200 with no chat completion (the body begins '{" in line, line
    assert '"status":"ok"' in line, line


# -- dsr score ---------------------------------------------------------------------------------
def test_score_reports_a_seed_that_is_not_an_integer_and_scores_the_rest(tmp_path: Path) -> None:
    row = '{{"initial": "left", "final": "right", "seed": {seed}, "animal_boxes": [[0,0,1,1]], '
    row += '"object_boxes": [[2,0,3,1]]}}\n'
    tracks = tmp_path / "tracks.jsonl"
    tracks.write_text(row.format(seed=3) + row.format(seed='"seven"'))
    out = tmp_path / "scores.jsonl"
    result = CliRunner().invoke(main, ["score", str(tracks), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Error: row 2: field 'seed' is 'seven', not an integer" in result.output
    assert [line.count('"seed": 3') for line in out.read_text().splitlines()] == [1]


# -- the work area -----------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["sample", "build record"])
def test_merge_only_names_a_damaged_work_area_file(tmp_path: Path, built: Path, which: str) -> None:
    import shutil

    root = Path(shutil.copytree(built, tmp_path / "ds"))
    split = root / ".dsr" / "videos" / "train"
    damaged = next(split.glob("shard-*/*.json")) if which == "sample" else split / "build.json"
    damaged.write_bytes(damaged.read_bytes()[:40])
    result = _run("build-videos", "--prompts", str(root), "--out", str(root), "--merge-only")
    line = _error_line(result)
    assert line.startswith(f"Error: {damaged} is damaged (JSONDecodeError"), line
    assert "run build-videos again" in line or "build-videos command again" in line


# -- dsr report --------------------------------------------------------------------------------
def test_a_second_report_on_the_same_folder_is_refused_at_once(tmp_path: Path, built: Path) -> None:
    out = tmp_path / "site"
    first = _run("report", str(built), "--out", str(out))
    assert first.exit_code == 0, first.output
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != LOCK}
    with exclusive_lock(out / LOCK, "a running report"):
        line = _error_line(_run("report", str(built), "--out", str(out)))
    assert line.startswith(f"Error: the report in {out} is in use by process {os.getpid()}"), line
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != LOCK} == before


def test_the_report_lock_does_not_make_a_new_folder_look_foreign(tmp_path: Path, built: Path):  # type: ignore[no-untyped-def]
    out = tmp_path / "site"
    out.mkdir()
    (out / LOCK).write_text("")  # left by a first run killed before it wrote anything
    result = _run("report", str(built), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert (out / MANIFEST).is_file()


# -- a network failure on --push ---------------------------------------------------------------
def test_a_network_failure_on_push_names_the_network(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port that nothing listens on: the connection is refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HF_ENDPOINT": f"http://127.0.0.1:{port}",
        "HF_TOKEN": "hf_" + "x" * 30,
    }
    args = ["build-prompts", "--out", str(tmp_path / "ds"), "--n-train", "6", "--n-test", "0"]
    proc = subprocess.run(
        [sys.executable, "-m", "dsr", *args, "--push", "me/ds", "--version", "v1.0.0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if x.startswith("Error: ")]
    assert "check the network connection" in line and "disk" not in line, line
    assert not (tmp_path / "ds").exists()


# -- leftovers of killed runs ------------------------------------------------------------------
#: A merge stand-in: opens a staging folder as a merge does, says where, then waits to be killed.
HOLDER = """
import sys, time
from dsr.builders.folder import DatasetFolder
with DatasetFolder(sys.argv[1]).staging("samples") as staging:
    (staging / "part.parquet").write_bytes(b"half written")
    print(staging, flush=True)
    time.sleep(600)
"""


def test_a_merge_right_after_a_killed_one_removes_its_staging_folder(
    tmp_path: Path, built: Path
) -> None:
    import shutil

    root = Path(shutil.copytree(built, tmp_path / "ds"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(root)], stdout=subprocess.PIPE, text=True, env=env
    )
    staging = Path(holder.stdout.readline().strip())
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    assert staging.is_dir()
    merged = _run("build-videos", "--prompts", str(root), "--out", str(root), "--merge-only")
    assert merged.exit_code == 0, merged.output
    assert not staging.exists()  # within seconds of the kill, not only after a grace period
    assert list((root / ".dsr" / "staging").iterdir()) == []


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=30)
    return proc.pid


def test_temporary_files_of_dead_processes_are_removed_by_the_next_build(
    tmp_path: Path, built: Path
) -> None:
    import shutil

    root = Path(shutil.copytree(built, tmp_path / "ds"))
    host, dead = socket.gethostname(), _dead_pid()
    (shard,) = [p for p in (root / ".dsr" / "videos" / "train").glob("shard-*-of-*") if p.is_dir()]
    sample = next(shard.glob("*.json")).stem
    left = [
        shard / f".{sample}.mp4~{dead}@{host}~ab12.tmp",
        shard / f".{sample}.json~{dead}@{host}~cd34.tmp",
        root / "assets" / f".samples_correctness.png~{dead}@{host}~plot.tmp",
    ]
    for path in left:
        path.write_bytes(b"half written")
    mine = shard / f".{sample}.mp4~{os.getpid()}@{host}~ef56.tmp"  # a live process's
    mine.write_bytes(b"in progress")
    again = _run("build-videos", "--prompts", str(root), "--out", str(root), *BUILD, "--seeds", "0")
    assert again.exit_code == 0, again.output
    assert [p for p in left if p.exists()] == [] and mine.is_file()


#: A merge's plot killed half-way through writing its PNG (as a full disk or a kill -9 stops it).
KILLED_PLOT = """
import os, signal, sys
from pathlib import Path
from matplotlib.figure import Figure
from dsr.scoring import correctness, plot_correctness

def half_written(self, path, **kwargs):
    Path(path).write_bytes(b"half a PNG")
    os.kill(os.getpid(), signal.SIGKILL)

Figure.savefig = half_written
plot_correctness(correctness([0.1, 0.8, None]), Path(sys.argv[1]))
"""


def test_a_plot_killed_while_written_leaves_a_file_the_next_merge_removes(
    tmp_path: Path, built: Path
) -> None:
    import shutil

    root = Path(shutil.copytree(built, tmp_path / "ds"))
    plot = root / "assets" / "samples_correctness.png"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_PLOT, str(plot)], env=env, timeout=120, check=False
    )
    assert proc.returncode == -signal.SIGKILL
    assert [p for p in plot.parent.iterdir() if p.suffix == ".tmp"]  # what the kill left
    merged = _run("build-videos", "--prompts", str(root), "--out", str(root), "--merge-only")
    assert merged.exit_code == 0, merged.output
    assert sorted(p.name for p in plot.parent.iterdir()) == ["samples_correctness.png"]
