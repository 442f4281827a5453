"""Highlight spans for matches the postings cannot locate.

Word matches carry offsets in the index. Two kinds of match do not: a kana query
matched through the reading field, and the n-gram fallback. For those few hits
we find the spans in the text itself.
"""

from __future__ import annotations

from search.analysis import cached_morphemes, fold, to_katakana


def reading_spans(text: str, readings: set[str]) -> list[tuple[int, int]]:
    """Spans of the words whose katakana reading was matched."""
    if not readings or not text:
        return []
    return [(m.start, m.end) for m in cached_morphemes(text) if m.reading and to_katakana(m.reading) in readings]


def literal_spans(text: str, needles: list[str]) -> list[tuple[int, int]]:
    """Spans of ``needles`` in ``text``, compared in folded form (width, kana, case).

    Folding can change lengths (ｶﾞ → が), so we fold one character at a time and
    keep a map from folded positions back to the original ones.
    """
    if not needles or not text:
        return []
    folded: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for f in fold(ch):
            folded.append(f)
            origin.append(i)
    hay = "".join(folded)
    spans: list[tuple[int, int]] = []
    for needle in needles:
        key = "".join(fold(ch) for ch in needle)
        if not key:
            continue
        start = hay.find(key)
        while start >= 0:
            end = start + len(key)
            spans.append((origin[start], origin[end - 1] + 1))
            start = hay.find(key, end)
    return spans
