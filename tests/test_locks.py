"""One OS lock mechanism for shards, merges, prompt builds and staging folders: a refusal names
the holder, and asking who holds a lock neither takes it for long nor creates it."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from dsr.errors import BusyError
from dsr.locks import exclusive_lock, lock_holder


def test_lock_holder_names_the_holder_and_never_creates_the_file(tmp_path: Path) -> None:
    lock = tmp_path / "a" / "x.lock"
    assert lock_holder(lock) is None and not lock.parent.exists()
    with exclusive_lock(lock, "the x"):
        assert lock_holder(lock) == f"process {os.getpid()} on {socket.gethostname()}"
        with (
            pytest.raises(BusyError, match=f"the x is in use by process {os.getpid()}"),
            exclusive_lock(lock, "the x"),
        ):
            pass
    assert lock_holder(lock) is None
    with exclusive_lock(lock, "the x"):  # free again after the probe
        pass
