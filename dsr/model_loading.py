"""Loading a model from a Hub id or a local folder, failing fast when the Hub cannot be reached.

Every ``from_pretrained`` / ``snapshot_download`` of a model in dsr runs inside :func:`hub_model`,
which tells the loader whether to stay on the local Hub cache (``local_files_only``):

* a local folder, or a name that is no Hub id → loaded as given (no network);
* ``HF_HUB_OFFLINE=1`` → the local Hub cache only, as huggingface_hub itself does;
* otherwise the Hub endpoint is probed once (one request, :data:`PROBE_TIMEOUT` seconds, no
  retries; the answer is kept for :data:`PROBE_TTL` seconds). Reachable → the normal download.
  Unreachable → the load runs in offline mode, so a model already in the cache still loads and no
  library spends a minute retrying; a model missing there ends the run with one line that names
  it, says the Hub is unreachable and names the offline alternative.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dsr.errors import ModelLoadError, model_load_errors

__all__ = ["PROBE_TIMEOUT", "HubAccess", "forget_hub_access", "hub_access", "hub_model"]

log = logging.getLogger(__name__)

#: Seconds the probe waits for the Hub to answer.
PROBE_TIMEOUT = 5.0
#: Seconds a probe's answer is reused (the models of one run share it).
PROBE_TTL = 60.0

_ACCESS: dict[str, tuple[float, HubAccess]] = {}


@dataclass(frozen=True)
class HubAccess:
    """Whether models can be downloaded now, and if not, why (``HF_HUB_OFFLINE``, no answer)."""

    online: bool
    reason: str = ""


def forget_hub_access() -> None:
    """Probe again at the next load (tests that start and stop Hub servers)."""
    _ACCESS.clear()


def hub_access(endpoint: str | None = None) -> HubAccess:
    """``HF_HUB_OFFLINE``, else the (recent) answer of the probe of the Hub endpoint (default:
    huggingface_hub's, ``HF_ENDPOINT``)."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return HubAccess(False, "HF_HUB_OFFLINE is set")
    endpoint = endpoint or constants.ENDPOINT
    seen = _ACCESS.get(endpoint)
    if seen is None or time.monotonic() - seen[0] > PROBE_TTL:
        seen = (time.monotonic(), _probe(endpoint))
        _ACCESS[endpoint] = seen
    return seen[1]


def _probe(endpoint: str) -> HubAccess:
    """One HEAD request to the endpoint, no retries: any HTTP answer below 500 means reachable."""
    from huggingface_hub.utils import get_session

    try:
        response = get_session().head(f"{endpoint.rstrip('/')}/api/models", timeout=PROBE_TIMEOUT)
    except Exception as exc:  # noqa: BLE001 - any transport failure (the client's own types)
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return HubAccess(False, f"the Hub ({endpoint}) is unreachable ({detail})")
    if response.status_code >= 500:
        return HubAccess(
            False, f"the Hub ({endpoint}) is unreachable (HTTP {response.status_code})"
        )
    return HubAccess(True)


def _is_hub_id(model_id: str) -> bool:
    """A Hub repo id that is not also a local path."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    if Path(model_id).expanduser().exists():
        return False
    try:
        validate_repo_id(model_id)
    except HFValidationError:
        return False
    return True


@contextlib.contextmanager
def _offline_mode() -> Iterator[None]:
    """huggingface_hub's offline mode (what ``HF_HUB_OFFLINE=1`` sets) for the duration of one
    load: the libraries then read the cache instead of retrying a Hub that does not answer."""
    from huggingface_hub import constants

    before = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE = before


def offline_message(kind: str, model_id: str, reason: str, option: str, offline: str | None) -> str:
    """The one line of a model that the Hub cannot give and the cache does not hold."""
    ways = [offline] if offline else []
    ways += [
        f"pass a local folder with {option}",
        "download it once where the Hub is reachable, then run with HF_HUB_OFFLINE=1 "
        "(it is read from the local cache)",
    ]
    return (
        f"could not load the {kind} {model_id!r}: {reason} and it is not in the local Hub cache. "
        f"Without the Hub: {'; or '.join(ways)}."
    )


@contextlib.contextmanager
def hub_model(kind: str, model_id: str, option: str, offline: str | None = None) -> Iterator[bool]:
    """Load ``model_id`` inside this block; yields ``local_files_only`` for the loader.

    ``kind`` names the model in messages ("grounding model"), ``option`` the option that picks
    another checkpoint ("--detector PATH"), ``offline`` the way to work without this model at all
    ("run with --tracker annotations"). Load failures become one-line :class:`ModelLoadError`.
    """
    access = hub_access() if _is_hub_id(str(model_id)) else HubAccess(True)
    if access.online:
        with model_load_errors(kind, str(model_id), option):
            yield False
        return
    from huggingface_hub.errors import HfHubHTTPError

    log.debug("%s: loading %s from the local Hub cache", access.reason, model_id)
    try:
        with _offline_mode():
            yield True
    except (OSError, HfHubHTTPError) as exc:
        raise ModelLoadError(
            offline_message(kind, str(model_id), access.reason, option, offline)
        ) from exc
