"""Staging folders and temporary files that a killed run leaves behind, and the next run removes.

A staging folder holds a lock file that its process keeps locked (:func:`dsr.locks.exclusive_lock`)
while it works; the kernel drops the lock when the process dies, even on ``kill -9``. So a folder
whose lock no live process holds (:func:`dsr.locks.lock_holder`) is a leftover, and
:func:`remove_stale_staging` deletes it. Its name, ``<prefix>~<pid>@<host>~<random>``, says which
process made it: one made on this host by a process still running is left alone even before it is
locked; one made on another host (shared storage) is left alone for ``GRACE_SECONDS``, as it may
not be locked yet.

Temporary files of atomic writes are named ``.<name>~<pid>@<host>~<random>.tmp``
(:func:`temp_prefix`); :func:`remove_stale_temp_files` deletes those whose process no longer runs
on this host.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from dsr.locks import exclusive_lock, lock_holder

__all__ = ["remove_stale_staging", "remove_stale_temp_files", "staging_dir", "temp_prefix"]

LOCK_FILE = ".owner.lock"
GRACE_SECONDS = 10.0
_TEMP = re.compile(r"^\..+~(?P<pid>\d+)@(?P<host>[^~/]+)~[^/]*\.tmp$")
_STAGING = re.compile(r"~(?P<pid>\d+)@(?P<host>[^~/]+)~[^~/]*$")


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _owned(folder: Path) -> bool:
    """Whether a live process holds ``folder``'s lock (or may be about to take it). A folder
    without a lock file is a run killed before it locked, or an older dsr's staging folder."""
    if lock_holder(folder / LOCK_FILE) is not None:
        return True
    hit = _STAGING.search(folder.name)
    if hit and hit["host"] == socket.gethostname():
        return _alive(int(hit["pid"]))
    return _age(folder) < GRACE_SECONDS


def remove_stale_staging(parent: Path) -> list[Path]:
    """Delete the staging folders under ``parent`` that no live process owns; returns them."""
    if not parent.is_dir():
        return []
    stale = [p for p in sorted(parent.iterdir()) if p.is_dir() and not _owned(p)]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


@contextlib.contextmanager
def staging_dir(parent: Path, prefix: str) -> Iterator[Path]:
    """A fresh folder under ``parent``, locked while the block runs and deleted after it (still
    locked, so that no other process takes it for a leftover); stale folders of killed runs are
    removed first."""
    parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(parent)
    path = Path(
        tempfile.mkdtemp(dir=parent, prefix=f"{prefix}~{os.getpid()}@{socket.gethostname()}~")
    )
    with exclusive_lock(path / LOCK_FILE, f"the staging folder {path}"):
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)


def temp_prefix(name: str) -> str:
    """Prefix of a temporary file for ``name`` that names this process (see the
    module docstring)."""
    return f".{name}~{os.getpid()}@{socket.gethostname()}~"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Delete the temporary files directly in ``folder`` whose process no longer
    runs on this host."""
    if not folder.is_dir():
        return []
    host = socket.gethostname()
    stale = []
    for path in sorted(folder.glob(".*.tmp")):
        hit = _TEMP.match(path.name)
        if hit and hit["host"] == host and not _alive(int(hit["pid"])):
            path.unlink(missing_ok=True)
            stale.append(path)
    return stale
