"""Root test configuration: an isolated Hugging Face environment pointed at a loopback test Hub.

``huggingface_hub`` and ``datasets`` read ``HF_ENDPOINT``, ``HF_HUB_OFFLINE``,
``HF_HUB_DISABLE_XET`` and the cache folders at IMPORT time, so they are set here, when pytest
imports this module and before any test module imports those libraries. Nothing a test does can
reach the real Hub or OpenAI, or read the developer's token or caches.

Fixtures:

* ``hub`` (session): a :class:`servers.hub.HubServer` on ``HF_ENDPOINT``; ``.endpoint``,
  ``.token``, ``.files(repo_id, revision)``, ``.tags(repo_id)``, ``.head(repo_id)``,
  ``.count(...)``.
* ``hub_token`` (function): sets ``HF_TOKEN`` to the test Hub's token for one test.
* ``openai_server`` (function): a fresh-script :class:`servers.openai.OpenAIServer`
  (one process-wide
  server, reset for every test); ``.base_url``, ``.push(Reply...)``, ``.requests``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Under pytest-xdist (`make test` runs one worker per core): one torch/OpenMP thread per worker,
# or the workers' thread pools fight over the same cores. Set before any test imports torch;
# subprocesses the tests start inherit it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")

_TESTS = Path(__file__).resolve().parent
if str(_TESTS) not in sys.path:
    sys.path.insert(0, str(_TESTS))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


HUB_PORT = _free_port()
HUB_ENDPOINT = f"http://127.0.0.1:{HUB_PORT}"
_HF_HOME = tempfile.mkdtemp(prefix="dsr-test-hf-home-")
atexit.register(shutil.rmtree, _HF_HOME, ignore_errors=True)

os.environ.update(
    {
        "HF_ENDPOINT": HUB_ENDPOINT,
        "HF_HUB_DISABLE_XET": "1",
        "HF_HOME": _HF_HOME,
        "HF_HUB_CACHE": os.path.join(_HF_HOME, "hub"),
        "HF_DATASETS_CACHE": os.path.join(_HF_HOME, "datasets"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
        "DO_NOT_TRACK": "1",
    }
)
for _name in (
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_HUB_OFFLINE",
    "HF_DATASETS_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_TOKEN_PATH",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
):
    os.environ.pop(_name, None)


@pytest.fixture(scope="session")
def hub() -> Iterator[object]:
    """The loopback test Hub, listening on ``HF_ENDPOINT`` for the whole session."""
    from servers.hub import HubServer

    server = HubServer(port=HUB_PORT).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hub_token(hub: object, monkeypatch: pytest.MonkeyPatch) -> str:
    """Authenticate this test against the test Hub through ``HF_TOKEN`` (as a user would)."""
    token: str = hub.token
    monkeypatch.setenv("HF_TOKEN", token)
    return token


@pytest.fixture(scope="session")
def _openai_session() -> Iterator[object]:
    from servers.openai import OpenAIServer

    server = OpenAIServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def openai_server(_openai_session: object) -> object:
    """The loopback OpenAI-compatible server with an empty script and zeroed counters."""
    _openai_session.reset()
    return _openai_session


@pytest.fixture(autouse=True)
def _fresh_hub_probe() -> Iterator[None]:
    """Every test probes the Hub afresh: a test Hub started or stopped by another test must not
    be seen through a remembered answer."""
    from dsr.model_loading import forget_hub_access

    forget_hub_access()
    yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    from _schedule import longest_first

    longest_first(items, _TESTS)
