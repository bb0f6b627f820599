"""The Trainer's logs on the terminal as aligned ``name value`` lines, one per logging step::

    step 3/8  loss 0.6933     grad_norm 0.009156   learning_rate 0.004752   ...
    step 4/8  loss 0.6932     grad_norm 0.01181    learning_rate 0.004059   ...

instead of a printed Python dict of quoted strings. The keys keep the Trainer's order, so every
value starts in the same column from one line to the next.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from transformers import PrinterCallback, ProgressCallback, Trainer, TrainerCallback

__all__ = ["LogLines", "ProgressLines", "format_log_line", "use_log_lines"]

log = logging.getLogger(__name__)

#: Width of a formatted value: ``-0.0004651`` and ``4.911e-05`` both fit.
VALUE_WIDTH = 10


def _value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def format_log_line(logs: Mapping[str, Any], step: int, max_steps: int) -> str:
    """``step N/M`` then ``name value`` pairs, values padded to :data:`VALUE_WIDTH`."""
    pairs = " ".join(
        f"{name} {_value(value):<{VALUE_WIDTH}}"
        for name, value in logs.items()
        if name != "total_flos"
    )
    return f"step {step:>{len(str(max_steps))}}/{max_steps}  {pairs}".rstrip()


class LogLines(TrainerCallback):
    """Replaces ``PrinterCallback`` (no progress bar): one log record per logging step."""

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        if state.is_local_process_zero and logs:
            log.info("%s", format_log_line(logs, state.global_step, state.max_steps))


class ProgressLines(ProgressCallback):
    """``ProgressCallback`` whose log lines above the bar are :func:`format_log_line`'s."""

    def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
        if state.is_world_process_zero and self.training_bar is not None and logs:
            self.training_bar.write(format_log_line(logs, state.global_step, state.max_steps))


def use_log_lines(trainer: Trainer) -> None:
    """Swap the Trainer's printing callbacks for the aligned ones (the others stay as they are)."""
    if trainer.pop_callback(PrinterCallback) is not None:
        trainer.add_callback(LogLines)
    if trainer.pop_callback(ProgressCallback) is not None:
        trainer.add_callback(ProgressLines)
