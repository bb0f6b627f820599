"""Plain helpers of the training tests (settings of a fast tiny run, two CPU ranks under
torchrun); fixtures stay in conftest.py. A uniquely named module, so that importing it never
clashes with another directory's conftest."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

#: 33 frames (4k+1) of 64×96 (multiples of 16), like Wan's but tiny.
VIDEO = {"num_frames": 33, "height": 64, "width": 96, "fps": 8}
#: Settings of a fast tiny run (9 frames of the 33, full size).
FAST: dict[str, Any] = {
    "train_num_frames": 9,
    "max_sequence_length": 16,
    "effective_batch_size": 2,
    "warmup_steps": 0,
    "logging_steps": 1,
    "save_steps": 1000,
    "report_to": "none",
    "disable_tqdm": True,
    "learning_rate": 1e-3,
    "max_steps": 3,
    # recomputation only costs time on a model this small (test_config checks the default: on)
    "activation_checkpointing": False,
}


def run_two_ranks(settings: dict[str, Any], timeout: int = 240) -> subprocess.CompletedProcess[str]:
    """``_ddp_worker.py`` under ``torchrun --nproc-per-node 2`` on the CPU (gloo) with ``settings``
    (SpatialAlignConfig fields), on a free port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    worker = Path(__file__).with_name("_ddp_worker.py")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2"]
    cmd += ["--master-port", str(port), str(worker), json.dumps(settings)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
