"""Exclusive locks on an output, held with the OS (``fcntl.flock``): the kernel releases them when
the holding process dies, so a ``kill -9`` never leaves a lock that blocks the next run.

A lock file holds the name of its holder (``process <pid> on <host>``), so a refusal can say who
holds it; :func:`lock_holder` asks without taking the lock for longer than the question.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from dsr.errors import BusyError

__all__ = ["exclusive_lock", "lock_holder"]


def _holder_text(fd: int) -> str:
    return os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"


@contextlib.contextmanager
def exclusive_lock(path: str | Path, what: str) -> Iterator[None]:
    """Hold ``path`` locked for the block, or raise :class:`BusyError` at once naming ``what``."""
    lock = Path(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BusyError(
                f"{what} is in use by {_holder_text(fd)}: wait for it to finish, or use another "
                "output"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()} on {socket.gethostname()}".encode(), 0)
        yield
    finally:
        os.close(fd)


def lock_holder(path: str | Path) -> str | None:
    """Who holds the lock ``path`` now (as it wrote itself in), or None when no live process does
    or the file does not exist (it is never created here)."""
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return _holder_text(fd)
    finally:
        os.close(fd)
    return None
