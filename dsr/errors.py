"""The small error hierarchy of dsr.

Every error the library raises on purpose derives from :class:`DsrError`; the CLI turns those into
a one-line message and a non-zero exit without a traceback. Samples that fail a filter are *data*
(``valid=False`` with a reason), never exceptions.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "DsrError",
    "HubError",
    "PromptParseError",
]


class DsrError(Exception):
    """Base class of every error raised deliberately by dsr."""


class ConfigError(DsrError, ValueError):
    """A setting has a value that cannot work; the message names the value and the fix."""


class PromptParseError(DsrError, ValueError):
    """A text is not a DSR prompt; the message says which part is wrong."""


class DataError(DsrError, ValueError):
    """An input file or record is malformed; the message names the row and the field."""


class HubError(DsrError):
    """A Hub operation was refused (existing tag, missing token, ...)."""
