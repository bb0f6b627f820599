"""Models with the Hub unreachable or offline: the first failed load ends the run within seconds,
with one line naming the model, the reason and the offline alternative; a model already in the
local Hub cache still loads. Each run is a fresh process, since huggingface_hub reads HF_ENDPOINT,
HF_HUB_OFFLINE and the cache folder when it is imported."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dsr.model_loading import forget_hub_access, hub_access

ROOT = Path(__file__).resolve().parents[1]
#: The old behaviour slept 1 + 2 + 4 + 8 + 8 s in retries for each file; a failed load now takes
#: one refused connection and a look into the cache.
LOAD_BOUND_S = 5.0

#: Loads, in one process with every import done first, a model of each family; prints one JSON
#: line per model: seconds, error class and message (or "loaded").
SCRIPT = """
import json, sys, time
# imports are not what is timed
from diffusers import AutoencoderKLWan, WanPipeline
from transformers import AutoModel, AutoModelForZeroShotObjectDetection, AutoProcessor
from dsr.errors import ModelLoadError
from dsr.evaluation.models import IdEmbedder
from dsr.generation.wan import WanGenerator
from dsr.tracking.models import load_pretrained

loads = {
    "grounding": lambda: load_pretrained("grounding", "AutoModelForZeroShotObjectDetection",
        "AutoProcessor", "IDEA-Research/grounding-dino-tiny", "cpu", "float32"),
    "dino": lambda: IdEmbedder("facebook/dinov2-base").model,
    "wan": lambda: WanGenerator(model="Wan-AI/Wan2.1-T2V-1.3B-Diffusers").pipeline,
    "cached": lambda: IdEmbedder("tiny-org/tiny-dinov2").model,
}
for name, load in loads.items():
    start = time.perf_counter()
    try:
        load()
        outcome = ["loaded", ""]
    except ModelLoadError as exc:
        outcome = ["ModelLoadError", str(exc)]
    print(json.dumps([name, time.perf_counter() - start, *outcome]), flush=True)
"""


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


@pytest.fixture(scope="module")
def hf_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An HF home whose Hub cache holds one model, ``tiny-org/tiny-dinov2``, in the cache's own
    layout (models--org--name/snapshots/<commit>/ and refs/main)."""
    from dsr.evaluation.tiny import save_tiny_dinov2

    home = tmp_path_factory.mktemp("hf-home")
    repo = home / "hub" / "models--tiny-org--tiny-dinov2"
    commit = "0123456789abcdef0123456789abcdef01234567"
    save_tiny_dinov2(repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    return home


def _env(hf_home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        HF_HOME=str(hf_home),
        HF_HUB_CACHE=str(hf_home / "hub"),
        HF_ENDPOINT=f"http://127.0.0.1:{_closed_port()}",
        HF_HUB_DISABLE_TELEMETRY="1",
        **extra,
    )
    return env


def _loads(env: dict[str, str]) -> tuple[dict[str, list[object]], str]:
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    assert "Retrying" not in run.stderr, run.stderr
    rows = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("[")]
    return {row[0]: row[1:] for row in rows}, run.stderr


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({}, "is unreachable"),
        pytest.param({"HF_HUB_OFFLINE": "1"}, "HF_HUB_OFFLINE is set", marks=pytest.mark.slow),
    ],
    ids=["unreachable", "offline"],
)
def test_missing_models_fail_at_once_naming_the_offline_way(
    hf_home: Path, extra: dict[str, str], reason: str
) -> None:
    loads, stderr = _loads(_env(hf_home, **extra))
    expected = {
        "grounding": ("IDEA-Research/grounding-dino-tiny", "--tracker annotations"),
        "dino": ("facebook/dinov2-base", "--metrics dsr"),
        "wan": ("Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "--generator synthetic"),
    }
    for name, (model, alternative) in expected.items():
        seconds, outcome, message = loads[name]
        assert outcome == "ModelLoadError", (name, message)
        assert isinstance(seconds, float) and seconds < LOAD_BOUND_S, (name, seconds)
        assert isinstance(message, str) and "\n" not in message
        assert f"'{model}'" in message and reason in message, message
        assert alternative in message and "HF_HUB_OFFLINE=1" in message, message
    # a model in the local cache loads without the Hub, as huggingface_hub's offline mode does
    assert loads["cached"][1] == "loaded", loads["cached"]
    # no CUDA here: asking for wan says how long a video takes before loading it
    assert "no CUDA GPU: the wan generator runs on the CPU, at least" in stderr
    assert " per video here (81 frames of 480x832, 50 steps)" in stderr


def test_build_videos_without_the_hub_ends_with_one_line(hf_home: Path, tmp_path: Path) -> None:
    """The issue's run: `dsr build-videos --generator synthetic` with the default tracker."""
    from dsr.builders.prompts import PromptBuildConfig, build_prompts

    folder = tmp_path / "ds"
    build_prompts(PromptBuildConfig(out=folder, backend="template", n_train=6, n_test=6))
    start = time.monotonic()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "dsr",
            "build-videos",
            "--prompts",
            str(folder),
            "--out",
            str(folder),
            "--generator",
            "synthetic",
            "--generator-opt",
            "num_frames=9",
            "--generator-opt",
            "height=64",
            "--generator-opt",
            "width=64",
            "--samples-per-prompt",
            "1",
        ],
        env=_env(hf_home),
        capture_output=True,
        text=True,
        timeout=300,
    )
    elapsed = time.monotonic() - start
    assert run.returncode == 1
    lines = [line for line in run.stderr.replace("\r", "\n").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0] == lines[-1], run.stderr
    assert "'IDEA-Research/grounding-dino-tiny'" in errors[0] and "unreachable" in errors[0]
    assert "--tracker annotations" in errors[0]
    assert not [line for line in lines if "WARNING" in line or "Retrying" in line], run.stderr
    # the retries alone used to take 46 s; imports on a busy machine take most of what is left
    assert elapsed < 40, elapsed


class _Refusing(BaseHTTPRequestHandler):
    """A Hub that answers every request with 503 (down for maintenance)."""

    def do_HEAD(self) -> None:
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet server
        pass


@pytest.fixture
def refusing_hub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    forget_hub_access()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        forget_hub_access()


def test_a_hub_that_answers_503_counts_as_unreachable(refusing_hub: str) -> None:
    access = hub_access(refusing_hub)
    assert not access.online and "HTTP 503" in access.reason and refusing_hub in access.reason


def test_a_closed_port_counts_as_unreachable_within_the_timeout() -> None:
    forget_hub_access()
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    start = time.monotonic()
    access = hub_access(endpoint)
    forget_hub_access()
    assert not access.online and "unreachable" in access.reason
    assert time.monotonic() - start < LOAD_BOUND_S


def test_sampling_flops_of_wan_1_3b_match_a_hand_count() -> None:
    """81 frames of 480x832 → 21 x 30 x 52 = 32,760 latent tokens of width 12 x 128 = 1,536; per
    block, in multiply-adds: self-attention projections 4·d²·L = 3.0917e11, scores and sum 2·L²·d
    = 3.2969e12, cross-attention projections 2·d²·(L + 512) = 1.5700e11, its scores and sum
    2·L·512·d = 5.1527e10, feed-forward 2·d·8960·L = 9.0172e11: 4.7165e12; x 30 blocks x 2
    FLOPs x 50 steps x 2 (guidance) = 2.8299e16."""
    from dsr.generation.wan import WanConfig, sampling_flops

    assert sampling_flops(WanConfig()) == pytest.approx(2.8299e16, rel=1e-3)
    # without guidance one forward per step, half the work
    assert sampling_flops(WanConfig(guidance_scale=1.0)) == pytest.approx(1.41495e16, rel=1e-3)
