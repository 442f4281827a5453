"""Sections that have every one of a few terms, rarest first: the substring candidates.

``term_at`` is the step: a term's sections and scores among given sections, probed or
looked up (``arrayquery`` uses it for a conjunction's later children and a phrase's
words, where the rest of the query already narrowed the sections).

A keyword query's substring candidates (京都 in 東京都) are the sections that have
every folded bigram of every typed word (``ranking._substrings``), scored by the sum
of those bigrams' scores. Decoding each bigram's whole list and intersecting them
cost most of a one-word query at 1M sections: a word's bigrams are often common
(リッ, ッタ, ター) while the sections that have all of them are few.

So the rarest bigram (by live document frequency, which the snapshot keeps) is
decoded whole, through the score cache, and each of the others, rarest first, is
only probed where the candidates so far are (``termblocks.TermLists.probe``: the
blocks that can hold them), unless it is cached or the candidates are as many as
its blocks, where decoding it whole (and caching it) costs no more. The scores are
then added in the groups' own order, repeats included, as intersecting term by
term in that order adds them: the same sections and the same bits.
"""

from __future__ import annotations

import contextlib

import numpy as np
from whoosh.searching import Searcher

from sakuin.search.embedded.reading.bagofwords import TermScoreCache
from sakuin.search.embedded.reading.occurrences import lookup
from sakuin.search.embedded.reading.termblocks import NotBM25, TermLists

#: Postings per block (Whoosh's default block limit, which the writer keeps).
BLOCK = 128


def match_all(
    searcher: Searcher, cache: TermScoreCache, groups: tuple[tuple[str, ...], ...], fieldname: str = "grams"
) -> tuple[np.ndarray, np.ndarray]:
    """Sections that have every term of every group, with the sum of those terms' scores
    (in the groups' order). Returns (docnums ascending, scores)."""
    sequence = [t for group in groups for t in group]
    if not sequence:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    unique = list(dict.fromkeys(sequence))
    by_rarity = sorted(unique, key=lambda t: searcher.doc_frequency(fieldname, t))
    answers: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # term → (its sections among the candidates, scores)
    docs: np.ndarray | None = None
    for term in by_rarity:
        found = term_at(searcher, cache, fieldname, term, docs)
        docs = found[0]
        answers[term] = found
        if not len(docs):
            return np.empty(0, np.int64), np.empty(0, np.float64)
    assert docs is not None
    total = np.zeros(len(docs))
    for term in sequence:  # each term's scores at the final sections, in the groups' order
        tdocs, tscores = answers[term]
        total += tscores[np.searchsorted(tdocs, docs)]
    return docs, total


def term_at(
    searcher: Searcher, cache: TermScoreCache, fieldname: str, term: str, docs: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The sections of the ascending ``docs`` (every section when None) that have ``term``,
    with its scores there: probed where ``docs`` are fewer than the term's blocks and it is
    not cached, else from its whole list (decoded and cached)."""
    cached = cache.peek(fieldname, term)
    lists = None
    if cached is None and docs is not None:
        with contextlib.suppress(NotBM25):
            lists = TermLists(searcher, cache, fieldname, term)
        if lists is not None and len(docs) * BLOCK < lists.stored:
            found, scores = lists.probe(docs)
            return docs[found], scores[found]
    tdocs, tscores = (
        cached
        if cached is not None
        else cache.get(searcher, fieldname, term, lists.lists if lists is not None else None)
    )
    tdocs = tdocs.astype(np.int64)
    if docs is None or not len(tdocs):
        return tdocs, tscores
    inside, found = lookup(tdocs, docs)
    return docs[found], tscores[inside[found]]


__all__ = ["BLOCK", "match_all", "term_at"]
