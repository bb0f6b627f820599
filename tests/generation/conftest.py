"""Tiny random pipelines of every generator family, built once per test session."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

#: family → (builder module, builder function)
TINY_BUILDERS = {
    "cogvideox": "save_tiny_cogvideox",
    "ltx": "save_tiny_ltx",
    "hunyuanvideo15": "save_tiny_hunyuanvideo15",
}


@pytest.fixture(scope="session")
def tiny_family_model(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``tiny_family_model(family)``: the folder of that family's tiny pipeline (built on first
    use, then shared by the whole session)."""
    from dsr.generation import tiny_families

    built: dict[str, Path] = {}

    def get(family: str) -> Path:
        if family not in built:
            builder = getattr(tiny_families, TINY_BUILDERS[family])
            built[family] = builder(tmp_path_factory.mktemp(f"tiny-{family}") / family)
        return built[family]

    return get
