"""Snippets: pick the passage of a section that shows the most matches, mark them.

Match offsets come from the index (postings store character offsets, taken from
Sudachi on the original text), so nothing is re-analysed per hit and a highlight
is exact even on half-width or full-width input.

A snippet reads as text, not as a cut-out: it starts where the section starts or
right after a sentence end or a line break, the start of the sentence that holds
the densest cluster of matches. Only when that sentence starts too far back to
show its first match within the snippet does it start elsewhere: at the start of a
word a little before the match, after "…". It ends at a sentence end when one is
near the end of the window, else at the end of a word, and never inside a match.
Word boundaries are Sudachi's, read from a few dozen characters around the cut
(not the whole section: a section may be long, a snippet must be cheap).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape

from sakuin.search.config import SNIPPET_CHARS
from sakuin.search.results.model import Snippet

_ENDS = "。．！？!?\n"
_SENTENCE_END = re.compile(f"[{_ENDS}]")
#: Characters of context analysed on each side of a cut to find a word boundary there.
_CONTEXT = 24
#: Before a match that starts a snippet mid-sentence: about this much lead-in.
_LEAD_IN = 12


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


def sentence_start(text: str, pos: int) -> int:
    """Where the sentence holding ``pos`` starts: right after the last sentence end or line
    break before it (and the spaces after that), or 0."""
    start = max(text.rfind(c, 0, pos) for c in _ENDS) + 1
    while start < pos and text[start] in " \t\u3000":
        start += 1
    return start


def word_boundaries(text: str, lo: int, hi: int) -> list[int]:
    """Sudachi's word boundaries strictly inside (``lo``, ``hi``), read from a little more text
    on each side so that the words at the edges of the window are whole."""
    from sakuin.search.analysis.sudachi import morphemes

    a, b = max(0, lo - _CONTEXT), min(len(text), hi + _CONTEXT)
    return [a + m.start for m in morphemes(text[a:b]) if lo < a + m.start < hi]


def _start_before(text: str, anchor: int) -> int:
    """A word start a little before ``anchor`` (never inside the word that holds it)."""
    bounds = word_boundaries(text, max(0, anchor - 2 * _LEAD_IN), anchor + 1)
    before = [b for b in bounds if b <= anchor]
    if not before:
        return anchor
    target = anchor - _LEAD_IN
    return min(before, key=lambda b: (abs(b - target), -b))


def _end_at(text: str, start: int, width: int, spans: list[tuple[int, int]]) -> int:
    """Where a snippet from ``start`` ends: the text's end, a sentence end in the last third
    of the window, else the last word boundary in the window; never inside a match."""
    end = start + width
    if end >= len(text):
        return len(text)
    for s, e in spans:
        if s < end < e:
            end = e  # a match is never cut: the window grows by its rest
    sentence = [m.end() for m in _SENTENCE_END.finditer(text, start + 2 * width // 3, end)]
    if sentence:
        return sentence[-1]
    bounds = [b for b in word_boundaries(text, end - _CONTEXT, end + 1) if b <= end]
    return bounds[-1] if bounds else end


def make_snippet(text: str, spans: Iterable[tuple[int, int]], width: int = SNIPPET_CHARS) -> Snippet:
    """A passage of about ``width`` characters of ``text`` around the densest cluster of ``spans``
    (see the module doc for where it starts and ends)."""
    merged = merge_spans((s, e) for s, e in spans if 0 <= s < e <= len(text))
    if len(text) <= width:
        start, end = 0, len(text)
    elif not merged:
        start = 0
        end = _end_at(text, start, width, merged)
    else:
        anchor = best_window(merged, width)
        first_end = next(e for s, e in merged if s >= anchor)
        start = sentence_start(text, anchor)
        if first_end - start > width:  # the sentence starts too far back to show the match
            start = _start_before(text, anchor)
        end = _end_at(text, start, width, merged)
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
