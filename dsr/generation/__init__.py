"""Video generators (``synthetic``, ``wan``, ``cogvideox``, ``ltx``, ``hunyuanvideo15``) behind one
interface, chosen by name."""

from __future__ import annotations

from dsr.generation.base import GENERATORS, Annotations, GeneratedVideo, VideoGenerator

__all__ = ["GENERATORS", "Annotations", "GeneratedVideo", "VideoGenerator"]
