"""Small view helpers: paragraphs with highlights, pagination windows.

All HTML built here comes from ``search.snippets.mark_html`` (which escapes), so the
templates may mark exactly these values safe and nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markupsafe import Markup

from search.snippets import mark_html

_BLANK_LINES = re.compile(r"\n[ \t\u3000]*\n\s*")


def paragraphs(text: str, spans: list[tuple[int, int]] | None = None) -> list[Markup]:
    """``text`` split on blank lines, each paragraph escaped with its matches marked.

    Spans are offsets into the whole body (as the index stores them), so each is
    shifted into its paragraph and clipped at the paragraph's edges.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    spans = spans or []
    out: list[Markup] = []
    start = 0
    for m in [*_BLANK_LINES.finditer(text), None]:
        end = m.start() if m else len(text)
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip())
        body = piece.strip()
        if body:
            offset = start + lead
            local = [
                (max(s, offset) - offset, min(e, offset + len(body)) - offset)
                for s, e in spans
                if s < offset + len(body) and e > offset
            ]
            out.append(Markup(mark_html(body, local)))  # mark_html escapes
        if m:
            start = m.end()
    return out


@dataclass(frozen=True, slots=True)
class PageLink:
    """One pagination item; ``number`` None is a gap (…)."""

    number: int | None
    current: bool = False


def page_window(current: int, last: int, radius: int = 2) -> list[PageLink]:
    """First, last and the pages around the current one, with gaps marked."""
    wanted = {1, last, *range(current - radius, current + radius + 1)}
    numbers = sorted(n for n in wanted if 1 <= n <= last)
    out: list[PageLink] = []
    previous = 0
    for n in numbers:
        if n - previous == 2:
            out.append(PageLink(n - 1))
        elif n - previous > 2:
            out.append(PageLink(None))
        out.append(PageLink(n, n == current))
        previous = n
    return out
