"""Snippets: pick the passage of a section that shows the most matches, mark them.

Match offsets come from the index (postings store character offsets, taken from
Sudachi on the original text), so nothing is re-analysed per hit and a highlight
is exact even on half-width or full-width input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape

from sakuin.search.config import SNIPPET_CHARS
from sakuin.search.results.model import Snippet

#: How far back we look for a sentence start to begin the snippet cleanly.
_LEAD = 40
_SENTENCE_END = re.compile(r"[。．！？!?\n]")


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Union of overlapping spans (a compound and its parts overlap)."""
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def mark_html(text: str, spans: list[tuple[int, int]]) -> str:
    """Escape ``text`` and wrap each span in <mark>; spans must be merged and sorted."""
    parts: list[str] = []
    pos = 0
    for s, e in spans:
        parts.append(escape(text[pos:s]))
        parts.append(f"<mark>{escape(text[s:e])}</mark>")
        pos = e
    parts.append(escape(text[pos:]))
    return "".join(parts)


def best_window(spans: list[tuple[int, int]], width: int) -> int:
    """Start offset of the ``width``-char window that covers the most matches (the
    earliest of equals): a window starting at a span counts the spans that end inside
    it, and as the start moves right so does that last span (spans are merged, sorted)."""
    best_start, best_count = spans[0][0], 0
    end = 0
    for i, (s, _) in enumerate(spans):
        end = max(end, i)
        while end < len(spans) and spans[end][1] <= s + width:
            end += 1
        if end - i > best_count:
            best_start, best_count = s, end - i
    return best_start


def make_snippet(text: str, spans: Iterable[tuple[int, int]], width: int = SNIPPET_CHARS) -> Snippet:
    """A ``width``-character passage of ``text`` around the densest cluster of ``spans``."""
    merged = merge_spans((s, e) for s, e in spans if 0 <= s < e <= len(text))
    if len(text) <= width:
        start, end = 0, len(text)
    elif not merged:
        start, end = 0, width
    else:
        anchor = best_window(merged, width)
        start = anchor
        # Begin at the sentence start if it is close, so the snippet reads naturally.
        floor = max(0, anchor - _LEAD)
        for m in _SENTENCE_END.finditer(text, floor, anchor):
            start = m.end()
        if start == anchor:
            start = max(0, anchor - 10)
        end = min(len(text), start + width)
        start = max(0, min(start, end - width))
    piece = text[start:end].replace("\n", " ").replace("\r", " ").replace("\t", " ")  # translate is slower
    # Trim leading blanks (keeps offsets simple: we shift everything by the trim).
    lead = len(piece) - len(piece.lstrip())
    piece = piece[lead:].rstrip()
    start += lead
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + len(piece) < len(text.rstrip()) else ""
    shift = len(prefix) - start
    local = [
        (max(s, start) + shift, min(e, start + len(piece)) + shift)
        for s, e in merged
        if e > start and s < start + len(piece)
    ]
    snippet_text = prefix + piece + suffix
    return Snippet(snippet_text, mark_html(snippet_text, local), tuple(local))
