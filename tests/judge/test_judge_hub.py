"""``dsr judge`` on a Hub dataset at a tag, pushing its configs as a new tagged version of the same
repo (loopback Hub, real huggingface_hub and datasets clients): the push is checked before any
request, and ``dsr train`` can read the VLM pairs from the Hub."""

from __future__ import annotations

import json
from pathlib import Path

from _cli import error_line, run_cli
from _oracle import GroundTruthVLM


def test_a_hub_dataset_is_judged_and_pushed_as_a_new_version(
    dataset: Path,
    hub,
    hub_token,
    openai_server,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    from datasets import load_dataset

    from dsr.hub import push_folder
    from dsr.training.data import load_pair_set, resolve_dataset

    repo = "judge-test/dsr"
    push_folder(dataset, repo, version="v1.0.0")
    openai_server.reset(default=GroundTruthVLM(dataset))
    args = [
        "judge",
        f"{repo}@v1.0.0",
        "--out",
        str(tmp_path / "judged"),
        "--model",
        "gpt-4o",
        "--base-url",
        openai_server.base_url,
        "--pairs",
        "--yes",
        "--push",
        repo,
        "--version",
    ]
    assert "not a release tag" in error_line(run_cli(*args, "1.1"))
    assert "already has tag v1.0.0" in error_line(run_cli(*args, "v1.0.0"))
    assert openai_server.requests == 0  # both refused before any request
    result = run_cli(*args, "v1.1.0")
    assert result.exit_code == 0, result.output
    assert openai_server.requests == 2 * 36 and set(hub.tags(repo)) == {"v1.0.0", "v1.1.0"}
    files = hub.files(repo, "v1.1.0")
    assert {name.split("/")[0] for name in files} >= {
        "samples",
        "pairs",
        "judgments",
        "pairs-vlm",
        "assets",
    }
    record = json.loads(files["dsr_build.json"])
    assert record["configs"]["judgments"]["settings"]["gpt-4o"]["source"]["revision"] == "v1.0.0"
    assert str(tmp_path) not in files["dsr_build.json"].decode() + files["README.md"].decode()
    assert len(load_dataset(repo, "judgments", split="train", revision="v1.1.0")) == 2 * 36
    source = resolve_dataset(repo, "v1.1.0", configs=("pairs-vlm", "samples"))
    assert load_pair_set(source, pairs_config="pairs-vlm").prompts
