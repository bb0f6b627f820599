"""The small error hierarchy of dsr.

Every error the library raises on purpose derives from :class:`DsrError`; the CLI turns those into
a one-line message and a non-zero exit without a traceback. Samples that fail a filter are *data*
(``valid=False`` with a reason), never exceptions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = [
    "BusyError",
    "ConfigError",
    "DataError",
    "DsrError",
    "HubError",
    "ModelLoadError",
    "PromptParseError",
    "model_load_errors",
]


class DsrError(Exception):
    """Base class of every error raised deliberately by dsr."""


class ConfigError(DsrError, ValueError):
    """A setting has a value that cannot work; the message names the value and the fix."""


class PromptParseError(DsrError, ValueError):
    """A text is not a DSR prompt; the message says which part is wrong."""


class DataError(DsrError, ValueError):
    """An input file or record is malformed; the message names the row and the field."""


class HubError(DsrError):
    """A Hub operation was refused (existing tag, missing token, ...)."""


class BusyError(DsrError):
    """Another live process holds the lock of the same output (a second concurrent run)."""


class ModelLoadError(DsrError):
    """A checkpoint could not be loaded (not found, gated, offline, wrong folder)."""


@contextlib.contextmanager
def model_load_errors(kind: str, model_id: str, option: str) -> Iterator[None]:
    """Turn the loaders' OSError / Hub HTTP errors into a :class:`ModelLoadError` naming the
    checkpoint and the option that chooses another one."""
    from huggingface_hub.errors import HfHubHTTPError

    try:
        yield
    except (OSError, HfHubHTTPError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelLoadError(
            f"could not load the {kind} {model_id!r}: {first} Pass a Hub id this machine can download "
            f"(HF_TOKEN for gated repos) or a local directory with {option}."
        ) from exc
