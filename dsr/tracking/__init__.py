"""Trackers (``annotations``, ``grounded-sam2``, ``sam3``) behind one interface, chosen by name."""

from __future__ import annotations

from dsr.tracking.base import DEFAULT_TRACKER, DEVIATIONS, TRACKERS, Detection, Tracker, TrackResult

__all__ = ["DEFAULT_TRACKER", "DEVIATIONS", "TRACKERS", "Detection", "TrackResult", "Tracker"]
