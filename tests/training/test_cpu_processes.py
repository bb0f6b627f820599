"""``torchrun --nproc-per-node 2 -m dsr train`` on a machine without CUDA: the two processes form
one group on the CPU (gloo), as with ``--use-cpu``, instead of two lone rank-0 runs that then
collide on the output folder's lock. The default suite covers the same through ``test_ddp.py``,
whose worker leaves ``use_cpu`` unset; this stand-alone check runs with ``-m slow``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU-only case")
def test_two_processes_without_cuda_form_one_cpu_group(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    worker = Path(__file__).with_name("_cpu_ranks_worker.py")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2"]
    cmd += ["--master-port", str(port), str(worker), str(tmp_path)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    files = sorted(tmp_path.glob("rank-*.json"))
    assert [p.name for p in files] == ["rank-0-0.json", "rank-1-1.json"]  # config and accelerate
    seen = [json.loads(p.read_text()) for p in files]
    assert [s["world_size"] for s in seen] == [2, 2] and all(s["use_cpu"] for s in seen)
    assert [s["is_main_process"] for s in seen] == [True, False]
