"""Run by ``torchrun --nproc-per-node 2`` from test_ddp.py: trains a few steps on the CPU (gloo)
and writes, per rank and step, a digest of the rank's LoRA weights."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import torch
from transformers import TrainerCallback

from dsr.training.config import SpatialAlignConfig
from dsr.training.run import train


class Digests(TrainerCallback):
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def on_step_end(self, args, state, control, model=None, **kwargs):
        digest = hashlib.sha256()
        for name, param in sorted(model.named_parameters()):
            if "lora_" in name:
                digest.update(param.detach().cpu().numpy().tobytes())
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / f"rank-{args.process_index}.jsonl").open("a") as fh:
            fh.write(json.dumps({"step": state.global_step, "digest": digest.hexdigest()}) + "\n")


if __name__ == "__main__":
    settings = json.loads(sys.argv[1])
    # without CUDA, use_cpu is left to SpatialAlignConfig, which sets it for a multi-process run:
    # the two ranks then form one gloo group (the torchrun-on-CPU case)
    cpu = {"use_cpu": True} if torch.cuda.is_available() else {}
    config = SpatialAlignConfig(log_pair_draws=True, **cpu, **settings)
    train(config, callbacks=[Digests(Path(settings["output_dir"]) / "digests")])
