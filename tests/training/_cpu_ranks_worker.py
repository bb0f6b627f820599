"""Run by ``torchrun --nproc-per-node 2`` from test_cpu_processes.py: builds the config as
``dsr train`` does, without ``use_cpu``, and writes what each process thinks it is."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from dsr.training.config import SpatialAlignConfig

if __name__ == "__main__":
    out = Path(sys.argv[1])
    config = SpatialAlignConfig(output_dir=str(out), report_to="none")
    from accelerate import PartialState

    state = PartialState()
    seen = {
        "process_index": config.process_index,
        "world_size": config.world_size,
        "use_cpu": config.use_cpu,
        "is_main_process": state.is_main_process,
    }
    (out / f"rank-{config.process_index}-{state.process_index}.json").write_text(json.dumps(seen))
