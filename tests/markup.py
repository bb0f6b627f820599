"""Checks a rendered Markdown card as the Hub displays it: the raw HTML of its collapsible
sections (``<details>``, ``<summary>``) must open and close in order, outside code blocks."""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Fenced code blocks and inline code: their text is shown, not parsed as HTML.
_CODE = re.compile(r"^(```|~~~).*?^\1[^\n]*$|`[^`\n]*`", re.MULTILINE | re.DOTALL)
_TRACKED = ("details", "summary")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.problems: list[str] = []
        self.closed = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _TRACKED:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag not in _TRACKED:
            return
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
            return
        self.open.pop()
        self.closed += 1


def details_closed(markdown: str) -> int:
    """The number of closed ``<details>``/``<summary>`` elements; fails on any unclosed or
    mangled one, or on a tag turned into text by path masking (``<…/details>``)."""
    text = _CODE.sub("", markdown)
    parser = _Tags()
    parser.feed(text)
    parser.close()
    assert not parser.problems, parser.problems
    assert not parser.open, f"unclosed: {parser.open}"
    mangled = re.findall(r"[<‹]…|…/(?:details|summary)", markdown)
    assert not mangled, mangled
    return parser.closed
