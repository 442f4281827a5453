"""Ranking: a compiled query against one pinned snapshot → (sections matched, best N).

Three ways to rank, one result:

* a query that is a single sentence goes term at a time through the snapshot's
  cached term scores (``search.bagofwords``);
* any other query is scored by Whoosh in one pass over every match;
* a keyword query (words typed as they are) also finds the sections that contain
  its words only inside longer words (京都 in 東京都, ノヴゴロド in
  ニジニ・ノヴゴロド): candidates from the folded-bigram field, every typed word's
  bigrams required, then checked against the section's folded text (a word of
  two characters is one bigram, and bigrams never cross title, heading and body,
  so it needs no check). These substring matches rank after every word match,
  by their bigram score, and are marked ``match="substring"``.

Equal scores are ordered by section key (``search.scoring.best``), so the order
never depends on the order sections were added.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from search import bagofwords
from search.normalize import fold
from search.query import Compiled
from search.scoring import AllScores, best
from search.snapshot import Pinned

Match = Literal["word", "substring"]


@dataclass(frozen=True, slots=True)
class Ranked:
    """``total`` sections matched; ``top``: the best ``limit`` as (docnum, score, match)."""

    total: int
    top: list[tuple[int, float, Match]]


def rank(pinned: Pinned, compiled: Compiled, limit: int) -> Ranked:
    searcher = pinned.searcher
    keys: list[Any] = []

    def key_of(docnum: int) -> Any:  # equal scores rank in section-key order
        if not keys:
            keys.append(searcher.reader().column_reader("key"))
        return keys[0][docnum]

    words: list[tuple[int, float]] = []
    if compiled.bag is not None:
        total, top = bagofwords.rank(searcher, pinned.snapshot.scores, list(compiled.bag), limit, key_of)
        return Ranked(total, [(d, s, "word") for d, s in top])
    if compiled.query is not None:
        # Score every match in one pass: no block skipping (Whoosh would then run
        # the query again to count) and no matcher replacement (which drops OR
        # clauses that cannot reach the current top N, so the total and even the
        # top N would depend on the page size).
        collector = AllScores()
        searcher.search_with_collector(compiled.query, collector)
        words = collector.scored
    top: list[tuple[int, float, Match]] = [(d, s, "word") for d, s in best(words, limit, key_of)]
    if compiled.substring is None:
        return Ranked(len(words), top)
    found = _substrings(pinned, compiled, {d for d, _ in words})
    more = best(found, limit - len(top), key_of)  # nothing when the word matches fill the page
    return Ranked(len(words) + len(found), top + [(d, s, "substring") for d, s in more])


def _substrings(pinned: Pinned, compiled: Compiled, exclude: set[int]) -> list[tuple[int, float]]:
    """Sections whose folded text contains every typed word, not already word matches."""
    assert compiled.substring is not None
    searcher = pinned.searcher
    docs, scores = bagofwords.match_all(searcher, pinned.snapshot.scores, compiled.substring)
    if exclude and len(docs):
        keep = ~np.isin(docs, np.fromiter(exclude, np.int64, len(exclude)))
        docs, scores = docs[keep], scores[keep]
    pairs = list(zip(docs.tolist(), scores.tolist(), strict=True))
    check = [n for n in compiled.needles if len(n) > 2]  # two characters are one bigram: exact already
    if not check:
        return pairs
    folded = pinned.snapshot.folded
    out = []
    for docnum, score in pairs:
        texts = folded.get_or_make(docnum, lambda d=docnum: _fold_section(searcher.stored_fields(d)))
        if all(any(n in t for t in texts) for n in check):
            out.append((docnum, score))
    return out


def _fold_section(fields: dict[str, Any]) -> tuple[str, str, str]:
    return fold(fields.get("title") or ""), fold(fields.get("heading") or ""), fold(fields.get("body") or "")


__all__ = ["Match", "Ranked", "rank"]
