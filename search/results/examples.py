"""Example queries taken from the index, for the pages that suggest what to type.

A fixed example ("国防大臣") finds nothing in a collection about something else; the
home page, the no-hit page and the help page show queries built from what is
indexed instead: its most frequent title words, a title typed as a question, and
a declared facet's most frequent value. Each backend counts its own candidates
(``SearchBackend.examples``); the rules of what makes a good example are here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sakuin.search.results.facets import facet_filter

#: A word worth typing: two or more characters with a kanji, katakana or Latin letter,
#: not only digits and signs (年, 2012, 「 are frequent in titles but say nothing).
_CONTENT = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf\u30a1-\u30faA-Za-z]")
#: Characters of a title shown as a question example at most.
QUESTION_CHARS = 40


@dataclass(frozen=True, slots=True)
class Examples:
    """``words``: the index's most frequent title words (up to three); ``question``: a title,
    typed as one run; ``filter``: a declared facet's most frequent value (``category:スポーツ``)."""

    words: tuple[str, ...] = ()
    question: str | None = None
    filter: str | None = None

    def word(self, i: int, default: str = "") -> str:
        return self.words[i] if i < len(self.words) else default

    def to_dict(self) -> dict[str, Any]:
        return {"words": list(self.words), "question": self.question, "filter": self.filter}


def frequent_words(counts: Iterable[tuple[str, int]], limit: int = 3) -> tuple[str, ...]:
    """The most frequent good example words of (term, count) pairs, most frequent first."""
    good = [(n, t) for t, n in counts if len(t) >= 2 and _CONTENT.search(t) and not t.isdigit()]
    return tuple(t for _, t in sorted(good, key=lambda x: (-x[0], x[1]))[:limit])


def question_from(titles: Iterable[str], words: tuple[str, ...]) -> str | None:
    """A title that holds the first example word (the first title when none does), cut to
    ``QUESTION_CHARS`` at a space or punctuation when it is longer."""
    first = None
    for title in titles:
        title = " ".join(title.split())
        if not title:
            continue
        first = first or title
        if words and words[0] in title:
            return _shorten(title)
    return _shorten(first) if first else None


def _shorten(title: str) -> str:
    if len(title) <= QUESTION_CHARS:
        return title
    cut = max(title.rfind(c, 0, QUESTION_CHARS) for c in " 　、。,:：・」』)）")
    return title[: cut if cut > QUESTION_CHARS // 2 else QUESTION_CHARS].rstrip(" 　、。,:：・")


def facet_example(name: str | None, value: str | None) -> str | None:
    return facet_filter(name, value) if name and value else None


__all__ = ["QUESTION_CHARS", "Examples", "facet_example", "frequent_words", "question_from"]
