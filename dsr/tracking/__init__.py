"""Trackers (``annotations``, ``grounded-sam2``, ``sam3``) behind one interface, chosen by name."""

from __future__ import annotations

from dsr.tracking.base import DEVIATIONS, TRACKERS, Detection, Tracker, TrackResult

__all__ = ["DEVIATIONS", "TRACKERS", "Detection", "TrackResult", "Tracker"]
