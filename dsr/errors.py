"""The small error hierarchy of dsr.

Every error the library raises on purpose derives from :class:`DsrError`; the CLI turns those into
a one-line message and a non-zero exit without a traceback. Samples that fail a filter are *data*
(``valid=False`` with a reason), never exceptions.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "BusyError",
    "ConfigError",
    "DataError",
    "DiskSpaceError",
    "DsrError",
    "EmptyVideoError",
    "EndpointError",
    "HubError",
    "ModelLoadError",
    "PromptParseError",
    "ReportInputError",
    "VariantMismatchError",
    "describe_os_error",
    "model_load_errors",
    "os_error_in_chain",
]


class DsrError(Exception):
    """Base class of every error raised deliberately by dsr."""


class ConfigError(DsrError, ValueError):
    """A setting has a value that cannot work; the message names the value and the fix."""


class PromptParseError(DsrError, ValueError):
    """A text is not a DSR prompt; the message says which part is wrong."""


class DataError(DsrError, ValueError):
    """An input file or record is malformed; the message names the row and the field."""


class EmptyVideoError(DataError):
    """A video holds nothing to score: 0 bytes, no video stream or zero frames."""


class VariantMismatchError(DataError):
    """Two evaluations computed one metric in different variants (e.g. the authors' CLIP-IQA and a
    Hugging Face CLIP): their numbers are not comparable."""


class HubError(DsrError):
    """A Hub operation was refused (existing tag, missing token, ...)."""


class ReportInputError(DataError):
    """A part of a report's input is missing or malformed (no ``samples`` config, a null video, no
    build record, ...). ``dsr report`` collects these instead of raising them: it writes the rest of
    the report, shows each message on the overview page and prints it as one line."""


class BusyError(DsrError):
    """Another live process holds the lock of the same output (a second concurrent run)."""


class EndpointError(DsrError):
    """A remote model endpoint kept failing after every retry (down, overloaded, unreachable)."""


class ModelLoadError(DsrError):
    """A checkpoint could not be loaded (not found, gated, offline, wrong folder)."""


class DiskSpaceError(DsrError):
    """A step was refused before it started because its disk cannot hold what it would write."""


@contextlib.contextmanager
def model_load_errors(kind: str, model_id: str, option: str) -> Iterator[None]:
    """Turn the loaders' OSError / Hub HTTP errors into a :class:`ModelLoadError` naming the
    checkpoint and the option that chooses another one."""
    from huggingface_hub.errors import HfHubHTTPError

    if _looks_like_path(model_id) and not Path(model_id).expanduser().exists():
        raise ModelLoadError(
            f"the {kind} {model_id!r} does not exist: it is a local path, not a Hub id "
            f"(namespace/name); pass an existing folder or a Hub id with {option}"
        )
    try:
        yield
    except (OSError, HfHubHTTPError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelLoadError(
            f"could not load the {kind} {model_id!r}: {first} Pass a Hub id this machine can "
            f"download (HF_TOKEN for gated repos) or a local directory with {option}."
        ) from exc


def _looks_like_path(model_id: str) -> bool:
    """A local path rather than a Hub id (``name`` or ``namespace/name``): absolute, relative,
    home-relative, with more than one separator, or with a backslash."""
    return (
        model_id.startswith(("/", "./", "../", "~"))
        or model_id.count("/") > 1
        or ("\\" in model_id)
    )


_NETWORK_FIX = (
    "check the network connection and that the server (the Hub at $HF_ENDPOINT, or --base-url) "
    "is reachable, then run the same command again: finished work is kept"
)

#: errno → what to do about it (the fix named in the one-line message of an OSError).
_OS_ERROR_FIXES = {
    errno.ENOSPC: "free some disk space (or choose another --out) and run the same command again: "
    "finished work is kept",
    errno.EDQUOT: (
        "free some of your disk quota and run the same command again: finished work is kept"
    ),
    errno.EFBIG: "the file system refused a file this large (file-size limit): raise the limit or "
    "choose another --out, then run the same command again",
    errno.EACCES: "choose a location you can write to, or fix its permissions",
    errno.EPERM: "choose a location you can write to, or fix its permissions",
    errno.EROFS: "the file system is read-only: choose another location",
    errno.ENOTDIR: "a part of the path is a file, not a folder: choose another path",
    errno.EISDIR: "the path is a folder where a file is expected: give a file name",
    errno.ENOENT: "check the path",
    errno.EEXIST: "the path exists as a file: choose another path",
    **dict.fromkeys(
        (
            errno.ECONNREFUSED,
            errno.ECONNRESET,
            errno.ECONNABORTED,
            errno.ETIMEDOUT,
            errno.EHOSTUNREACH,
            errno.ENETUNREACH,
            errno.ENETDOWN,
        ),
        _NETWORK_FIX,
    ),
}
#: "(os error 28)": how libraries written in Rust (safetensors, polars) report an OSError.
_RUST_OS_ERROR = re.compile(r"\(os error (\d+)\)")


def os_error_in_chain(exc: BaseException) -> OSError | None:
    """The first OSError among ``exc`` and its causes (libraries such as ``datasets`` wrap a full
    disk in their own error types), or None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, OSError) and current.errno is not None:
            return current
        hit = _RUST_OS_ERROR.search(str(current))
        if hit:
            number = int(hit[1])
            return OSError(number, os.strerror(number))
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return exc if isinstance(exc, OSError) else None


def describe_os_error(exc: OSError) -> str:
    """One line naming what failed, on which path, and the fix: ``No space left on device: '/x/y':
    free some disk space ...``."""
    what = exc.strerror or (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    paths = [p for p in (exc.filename, exc.filename2) if p is not None]
    where = (": " + " → ".join(repr(str(p)) for p in paths)) if paths else ""
    if isinstance(exc, socket.gaierror):  # a host name that does not resolve (no network, typo)
        return f"cannot resolve the server's host name ({what}): {_NETWORK_FIX}"
    fix = _OS_ERROR_FIXES.get(
        exc.errno or -1, "check the path and the disk, then run the command again"
    )
    return f"{what}{where}: {fix}"
