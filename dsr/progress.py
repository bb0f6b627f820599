"""Progress bars that suit where stderr goes: every long loop of dsr makes its bar here.

- stderr is a terminal (or a notebook): ``tqdm.auto``'s bar, as usual.
- otherwise (a log file, a batch scheduler, a pipe): no bar redraws, which would put one
  carriage-return update per sample into the log. A plain line in tqdm's format instead, when the
  loop starts, then at most one every :data:`LOG_INTERVAL` seconds, and one when it ends::

      build-videos:  40%|####      | 120/300 [10:00<15:00,  5.00s/sample, valid=0.93]

The standard tqdm variables apply to both: ``TQDM_DISABLE=1`` silences the bars, and
``TQDM_MININTERVAL`` (seconds) sets the interval between the lines of a non-terminal stderr.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator, Sized
from typing import Any, TextIO

__all__ = ["LOG_INTERVAL", "LogLineProgress", "progress_bar", "stderr_is_interactive"]

#: Seconds between two progress lines when stderr is not a terminal.
LOG_INTERVAL = 30.0


def stderr_is_interactive() -> bool:
    """Whether a redrawn progress bar suits stderr: a terminal, or a notebook frontend (where
    ``tqdm.auto`` draws a widget)."""
    import tqdm.auto  # noqa: F401 - imports tqdm.autonotebook (its choice) without warnings
    from tqdm.autonotebook import tqdm as chosen
    from tqdm.std import tqdm as plain

    if chosen is not plain:  # a notebook frontend
        return True
    stream = sys.stderr
    try:
        return stream is not None and stream.isatty()
    except ValueError:  # a closed stream
        return False


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    desc: str,
    unit: str,
    initial: int = 0,
    disable: bool = False,
) -> Any:
    """A tqdm-like bar (``update``, ``set_postfix``, ``close``, iteration, ``with``) over
    ``iterable`` or ``total`` items: tqdm's own on a terminal, periodic lines elsewhere."""
    if disable or _env_flag("TQDM_DISABLE"):
        from tqdm.auto import tqdm

        return tqdm(iterable, total=total, disable=True)
    if stderr_is_interactive():
        from tqdm.auto import tqdm

        return tqdm(
            iterable, total=total, desc=desc, unit=unit, initial=initial, dynamic_ncols=True
        )
    return LogLineProgress(
        iterable, total=total, desc=desc, unit=unit, initial=initial, interval=_log_interval()
    )


class LogLineProgress:
    """Progress as whole lines on stderr: at the start, every ``interval`` seconds at most, and
    at the end (the subset of tqdm's interface that dsr uses)."""

    def __init__(
        self,
        iterable: Iterable[Any] | None = None,
        *,
        total: int | None = None,
        desc: str,
        unit: str,
        initial: int = 0,
        interval: float = LOG_INTERVAL,
        file: TextIO | None = None,
    ) -> None:
        if total is None and isinstance(iterable, Sized):
            total = len(iterable)
        self.iterable, self.total, self.desc, self.unit = iterable, total, desc, unit
        self.n, self.initial, self.interval, self.file = initial, initial, interval, file
        self.postfix = ""
        self.closed = False
        self.start = self.last_line = time.monotonic()
        self._write()

    def update(self, n: int = 1) -> None:
        self.n += n
        if time.monotonic() - self.last_line >= self.interval:
            self._write()

    def set_postfix(
        self, ordered_dict: dict[str, Any] | None = None, refresh: bool = True, **kwargs: Any
    ) -> None:
        """Shown with the next line (tqdm's form ``key=value, ...``); never forces one, whatever
        ``refresh`` says (tqdm's redraw on every call is what floods a log)."""
        items = {**(ordered_dict or {}), **kwargs}
        self.postfix = ", ".join(f"{key}={value}" for key, value in items.items())

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._write()

    def __iter__(self) -> Iterator[Any]:
        if self.iterable is None:
            raise TypeError("this progress bar was made without an iterable")
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self) -> LogLineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self) -> None:
        from tqdm.std import tqdm

        now = time.monotonic()
        line = tqdm.format_meter(
            self.n,
            self.total,
            now - self.start,
            prefix=self.desc,
            unit=self.unit,
            postfix=self.postfix or None,
            initial=self.initial,
            ascii=True,
        )
        stream = self.file or sys.stderr
        stream.write(line + "\n")
        stream.flush()
        self.last_line = now


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _log_interval() -> float:
    try:
        return max(0.0, float(os.environ["TQDM_MININTERVAL"]))
    except (KeyError, ValueError):
        return LOG_INTERVAL
