# The commands a person types. Both `demo` and `test` set up what they need on a fresh machine.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.dsr-installed
# torch 2.14.1 + torchvision 0.29.1 come from this machine's local package cache; the SAM2/SAM3
# video processors need torchvision, which has no wheel matching the CPU-only torch build.
TORCH  := torch==2.14.1 torchvision==0.29.1

.PHONY: demo test lint bench clean setup

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v ffmpeg >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg; }
	@# the `dsr report` browser tests drive Debian's chromium headless (Playwright never downloads a browser)
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check $(TORCH)
	@# this project was installed as `dsr` before it became `spatialalign`: drop that name so
	@# that one distribution owns the `dsr` package and script
	@$(PY) -m pip uninstall -q -y dsr >/dev/null 2>&1 || true
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

demo: $(STAMP)
	$(VENV)/bin/dsr demo

# one pytest worker per core, at most 4 (each worker builds its own tiny models); a test file
# stays on one worker, so its module fixtures are built once
JOBS   ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)

test: $(STAMP)
	$(PY) -m pytest -q -n $(JOBS) --dist loadfile

lint: $(STAMP)
	$(VENV)/bin/ruff check dsr tests benchmarks
	$(VENV)/bin/ruff format --check dsr tests benchmarks
	$(VENV)/bin/mypy dsr

bench: $(STAMP)
	$(PY) benchmarks/bench_scoring.py

clean:
	rm -rf $(VENV) demo_output .pytest_cache
