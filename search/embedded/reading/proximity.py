"""Proximity: a question's words found side by side in a section, in the question's order.

BM25 scores each word on its own, so a section that says 電話会談 and one that has
電話 in one sentence and 会談 three lines later score alike. The plan lists a
sentence's adjacent words (``sakuin.search.query.plan.Pair``: consecutive positions,
particles not counted); a section that has a pair side by side, in order, earns
the pair's weight once, however often it has it.

Design decisions:

* **Ordered adjacency, a constant per pair.** On the dev set (docs/relevance.md)
  that did better than unordered windows, distance-decayed or
  idf-weighted pair scores and the longest run of consecutive words: the
  question's phrasing found again is the signal, and a constant is what both
  backends add the same way (the cluster: a ``constant_score`` ``match_phrase``).
* **Only the best ``PAIR_WINDOW`` sections are checked.** Sections below the
  window keep their score and stay below it (a bonus only raises), so the order
  is a fixed rule of the scores, whatever page is asked for. On the dev set a
  window of 20 ranked as well as one of 100.
* **Positions cached per word, per index version** (the snapshot's
  ``sakuin.search.embedded.reading.occurrences.TermOccurrences``, which phrases and highlights share), as
  the term scores are: a word's positions are decoded once, all of them, into
  flat numpy arrays. Reading them per query from Whoosh's postings (a compressed,
  pickled block per 128 postings, unpickled again for each posting) cost half
  the question's time; the common words recur across questions.
"""

from __future__ import annotations

import numpy as np
from whoosh.searching import Searcher

from sakuin.search.config import PAIR_WINDOW
from sakuin.search.embedded.reading.bagofwords import TermScoreCache
from sakuin.search.embedded.reading.occurrences import Occurrences, TermOccurrences, among
from sakuin.search.query.plan import Pair


def window(scores: np.ndarray, size: int) -> np.ndarray:
    """Indices (ascending) of the ``size`` best scores, and of any score equal to the last of them."""
    if size <= 0:
        return np.empty(0, np.int64)
    if len(scores) <= size:
        return np.arange(len(scores))
    cut = np.partition(scores, len(scores) - size)[len(scores) - size]
    return np.flatnonzero(scores >= cut)


def with_pairs(
    searcher: Searcher,
    cache: TermScoreCache,
    occurrences: TermOccurrences,
    pairs: tuple[Pair, ...],
    docs: np.ndarray,
    scores: np.ndarray,
    size: int | None = None,
) -> np.ndarray:
    """``scores`` (of the ascending section numbers ``docs``) plus each pair's weight in the
    sections of the best ``size`` (``PAIR_WINDOW``) that have the pair side by side, in order."""
    if not pairs or not len(docs):
        return scores
    chosen = window(scores, PAIR_WINDOW if size is None else size)
    candidates = docs[chosen]
    has: dict[tuple[str, str], np.ndarray] = {}  # which candidates have the word (the cached scores say)
    bonus = np.zeros(len(candidates))
    for pair in pairs:
        masks = []
        for term in (pair.first, pair.second):
            key = (pair.field, term)
            if key not in has:
                has[key] = among(candidates, cache.get(searcher, pair.field, term)[0])
            masks.append(has[key])
        both = np.flatnonzero(masks[0] & masks[1])
        if not len(both):
            continue
        needed = candidates[both].tolist()
        first = _at(occurrences.get(searcher, pair.field, pair.first, needed), candidates[both])
        second = _at(occurrences.get(searcher, pair.field, pair.second, needed), candidates[both])
        for i, a, b in zip(both.tolist(), first, second, strict=True):
            if not set((a + 1).tolist()).isdisjoint(b.tolist()):
                bonus[i] += pair.weight
    out = scores.copy()
    out[chosen] += bonus
    return out


def _at(found: Occurrences, wanted: np.ndarray) -> list[np.ndarray]:
    """The positions of each section of ``wanted`` (all of which have the term)."""
    idx = np.searchsorted(found.docs, wanted)
    bounds, positions = found.bounds, found.positions
    return [positions[bounds[i] : bounds[i + 1]] for i in idx.tolist()]


__all__ = ["PAIR_WINDOW", "window", "with_pairs"]
