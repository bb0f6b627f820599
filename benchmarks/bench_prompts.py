"""Benchmark of build-prompts: template prompts per second, and HTTP requests of a cached re-run.

Run: .venv/bin/python benchmarks/bench_prompts.py [--n 20000]
Prints (1) template generation alone, (2) generation + parse + field check + dedup, (3) a full
500/120 template build, and (4) the requests an openai build makes against the loopback OpenAI
server the first time and on a cached re-run (must be 0).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from servers.openai import OpenAIServer, prompt_responder  # noqa: E402

from dsr.builders.prompt_backends import PROMPT_BACKENDS, BackendContext  # noqa: E402
from dsr.builders.prompt_records import PromptPool  # noqa: E402
from dsr.builders.prompts import PromptBuildConfig, build_prompts  # noqa: E402
from dsr.prompts import DSRType  # noqa: E402


def template_rates(n: int, tmp: Path) -> tuple[float, float]:
    backend = PROMPT_BACKENDS.resolve("template")(BackendContext(0, tmp))
    wanted = {t: n // 6 for t in DSRType}
    start = time.perf_counter()
    count = sum(1 for _ in backend.generate(wanted, 0))
    generate = count / (time.perf_counter() - start)
    pool = PromptPool()
    start = time.perf_counter()
    for candidate in backend.generate(wanted, 0):
        pool.add(candidate)
    validated = count / (time.perf_counter() - start)
    return generate, validated


def cached_rerun_requests(tmp: Path) -> tuple[int, int]:
    server = OpenAIServer(default=prompt_responder).start()
    try:
        config = PromptBuildConfig(
            out=tmp / "openai",
            backend="openai",
            n_train=60,
            n_test=24,
            backend_options={"base_url": server.base_url},
        )
        build_prompts(config)
        first = server.requests
        build_prompts(config)
        return first, server.requests - first
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=30000, help="template prompts to draw")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        generate, validated = template_rates(args.n, Path(tmp))
        print(f"template generation:                  {generate:12,.0f} prompts/s")
        print(f"template + parse/check/dedup:         {validated:12,.0f} prompts/s")
        start = time.perf_counter()
        build_prompts(PromptBuildConfig(out=Path(tmp) / "template"))
        print(f"full template build 500/120 (write):  {time.perf_counter() - start:12.2f} s")
        first, rerun = cached_rerun_requests(Path(tmp))
        print(f"openai build, first run:              {first:12d} HTTP requests")
        print(f"openai build, cached re-run:          {rerun:12d} HTTP requests")


if __name__ == "__main__":
    main()
