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

from sakuin.search.analysis.normalize import normalize_term
from sakuin.search.analysis.sudachi import is_content, morphemes
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
    """The most frequent good example words of (term, count) pairs, most frequent first.

    Terms are normalized forms: a verb is indexed as its dictionary form (する as 為る),
    which nobody types, so only nouns are examples; and a word that contains an earlier
    example, or is contained in one (図書 and 図書館), is left out."""
    good = [(n, t) for t, n in counts if len(t) >= 2 and _CONTENT.search(t) and not t.isdigit()]
    chosen: list[str] = []
    for _, term in sorted(good, key=lambda x: (-x[0], x[1])):
        if any(term in c or c in term for c in chosen) or not _noun(term):
            continue
        chosen.append(term)
        if len(chosen) == limit:
            break
    return tuple(chosen)


def _noun(term: str) -> bool:
    morphs = morphemes(term)
    return len(morphs) == 1 and morphs[0].tag == "名詞"


def title_word_counts(titles: Iterable[str]) -> list[tuple[str, int]]:
    """(term, titles it is in) for the content words of ``titles``, each title read once: what a
    backend without a title lexicon of its own counts from a sample of sections."""
    counts: dict[str, int] = {}
    for title in dict.fromkeys(titles):
        for term in {normalize_term(m.normalized) for m in morphemes(title) if is_content(m)}:
            counts[term] = counts.get(term, 0) + 1
    return list(counts.items())


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


__all__ = ["QUESTION_CHARS", "Examples", "facet_example", "frequent_words", "question_from", "title_word_counts"]
