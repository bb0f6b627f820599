"""Two processes on the CPU (torchrun, gloo): each rank draws its own pairs, DDP keeps the adapters
identical after every step, and only rank 0 writes the outputs."""

from __future__ import annotations

import json
from pathlib import Path

from _training_helpers import FAST, run_two_ranks


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_two_ranks_draw_different_pairs_and_stay_in_sync(tiny_wan, pairs_dataset, tmp_path) -> None:
    out = tmp_path / "ddp"
    settings = {
        **FAST,
        "output_dir": str(out),
        "dataset": str(pairs_dataset),
        "base_model": str(tiny_wan),
        "cache_dir": str(tmp_path / "cache"),
        "effective_batch_size": 4,
        "max_steps": 2,
    }
    proc = run_two_ranks(settings)
    assert proc.returncode == 0, proc.stderr[-3000:]

    digests = [_lines(out / "digests" / f"rank-{r}.jsonl") for r in (0, 1)]
    assert [d["step"] for d in digests[0]] == [1, 2]
    assert digests[0] == digests[1]  # bit-identical adapters on both ranks after each step
    assert digests[0][0]["digest"] != digests[0][1]["digest"]  # and they did change

    draws = [_lines(out / "pair_draws" / f"rank-{r}.jsonl") for r in (0, 1)]
    for rank, rows in enumerate(draws):
        assert {d["rank"] for d in rows} == {rank}
        assert [sum(d["step"] == s for d in rows) for s in (1, 2)] == [
            2,
            2,
        ]  # 4 pairs/step over 2 ranks
    ks = [{d["draw"] for d in rows} for rows in draws]
    assert not ks[0] & ks[1] and ks[0] | ks[1] == set(
        range(8)
    )  # each draw trained once, by one rank
    assert [(d["chosen"], d["rejected"]) for d in draws[0]] != [
        (d["chosen"], d["rejected"]) for d in draws[1]
    ]

    record = json.loads((out / "training_config.json").read_text())
    assert (
        record["world_size"] == 2 and record["total_batch_size"] == 4 and record["global_step"] == 2
    )
    assert (
        record["settings"]["gradient_accumulation_steps"] == 2
    )  # 4 pairs = 1 per device x 2 ranks x 2
    assert (out / "pytorch_lora_weights.safetensors").exists() and (out / "README.md").exists()
    # the final checkpoint: adapter + optimizer/scheduler/RNG states of both ranks,
    # never base weights
    files = sorted(p.name for p in (out / "checkpoint-2").iterdir())
    assert files == [
        "optimizer.pt",
        "pytorch_lora_weights.safetensors",
        "rng_state_0.pth",
        "rng_state_1.pth",
        "scheduler.pt",
        "trainer_state.json",
    ]
    log = [e for e in _lines(out / "training_log.jsonl") if "loss" in e]
    assert [e["step"] for e in log] == [1, 2]  # one log line per step, written once (rank 0)
