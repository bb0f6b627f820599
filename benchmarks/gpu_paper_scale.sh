#!/usr/bin/env bash
# Paper-scale cost on one GPU with the real Wan2.1-T2V-1.3B architecture and random weights:
# one SpatialAlign training step (ours batched, ours sequential, the authors'), time and
# torch.cuda.max_memory_allocated at 81x480x832, then seconds per generated video (50 steps).
# Needs no download. Extra arguments go to the Python module, e.g. --gen-steps 10 or
# --text-encoder tiny (a one-layer text encoder instead of a random UMT5-XXL, ~11 GB in bf16).
#
#   bash benchmarks/gpu_paper_scale.sh            # results as JSON lines, also in gpu_paper_scale.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTORCH_CUDA_ALLOC_CONF="${PYTORCH_CUDA_ALLOC_CONF:-expandable_segments:True}"
"$PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else "no CUDA GPU visible: run `python benchmarks/gpu_paper_scale.py --size tiny` on the CPU instead")'
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$PYTHON" benchmarks/gpu_paper_scale.py --size paper --device cuda "$@" | tee "${OUT:-.}/gpu_paper_scale.jsonl"
