"""Trackers (``annotations``, ``grounded-sam2``, ``sam3``) behind one interface, chosen by name."""

from __future__ import annotations

from dsr.tracking.base import TRACKERS, Detection, Tracker, TrackResult

__all__ = ["TRACKERS", "Detection", "TrackResult", "Tracker"]
