"""Highlight spans for matches the postings cannot locate.

Word matches carry offsets in the index. Two kinds of match do not: a kana query
matched through the reading field, and the n-gram fallback. For those few hits
we find the spans in the text itself.
"""

from __future__ import annotations

from functools import lru_cache

from search.analysis import cached_morphemes, fold, to_katakana

#: Folding one character at a time is slow (NFKC + kana tables); texts reuse few
#: distinct characters, so memoising makes it cheap.
_fold_char = lru_cache(maxsize=65_536)(fold)


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
        for f in _fold_char(ch):
            folded.append(f)
            origin.append(i)
    hay = "".join(folded)
    spans: list[tuple[int, int]] = []
    for needle in needles:
        key = "".join(_fold_char(ch) for ch in needle)
        if not key:
            continue
        start = hay.find(key)
        while start >= 0:
            end = start + len(key)
            spans.append((origin[start], origin[end - 1] + 1))
            start = hay.find(key, end)
    return spans
