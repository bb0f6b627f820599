"""dsr: build the DSR-Dataset and train SpatialAlign adapters.

Light on import: the heavy libraries (torch, diffusers, transformers, datasets) are only imported by
the modules that need them.
"""

from __future__ import annotations

from dsr.errors import ConfigError, DataError, DsrError, HubError, ModelLoadError, PromptParseError

__version__ = "0.1.0"
#: The distribution name on PyPI (``pip install spatialalign``); the import name and the
#: CLI are ``dsr``.
DISTRIBUTION = "spatialalign"
PYPI_URL = f"https://pypi.org/project/{DISTRIBUTION}/"

__all__ = [
    "DISTRIBUTION",
    "PYPI_URL",
    "ConfigError",
    "DataError",
    "DsrError",
    "HubError",
    "ModelLoadError",
    "PromptParseError",
    "__version__",
]
