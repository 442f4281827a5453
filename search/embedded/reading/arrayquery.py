"""A Whoosh word query scored a term array at a time: the query tree → (sections, scores).

Keyword, phrase and field queries were scored by Whoosh's matcher tree, a Python
call per posting and per tree node (``skip_to``, ``id``, ``score``): most of a
server's CPU on distinct keyword queries. The tree is evaluated here with
numpy over the snapshot's cached term scores (``sakuin.search.embedded.reading.bagofwords``), which
questions already use::

    And([Term("content", "国防"), Term("content", "大臣")])
    → the sections that have both terms, each scored 国防's BM25 + 大臣's BM25

Design decisions:

* **Whoosh's scores, Whoosh's matches.** Each node gives what Whoosh's matcher for
  it gives: ``Term`` its BM25 score times its boost; ``And`` the sum of its
  children over the sections all of them match; ``Or`` the sum of the children
  that match; ``AndMaybe`` the required side plus the optional one where it
  matches; ``Not`` every live section its child misses, scored 1.0 as Whoosh's
  ``InverseMatcher`` does; ``Phrase`` the sum of its terms' scores where they
  stand at consecutive positions (``SpanNear2`` with slop 1, what
  ``Phrase.matcher`` builds). The matched sections are exactly Whoosh's.
* **Sums in query order.** A section's score adds its children's scores left to
  right, the same sequence of float additions for every section, where Whoosh
  adds them in a tree shaped by per-segment size estimates: equal scores stay
  equal whatever the segment layout, and a score can differ from Whoosh's in the
  last bit (``tests/equivalence/test_arrayquery.py`` compares to 1e-9).
* **Positions only where they can matter.** A phrase reads positions only for the
  sections that have all its terms and that the rest of the query still allows
  (``within``): inside ``AndMaybe(words, phrase)`` that is the sections the words
  matched, a handful for the typical query; in an ``And`` the children that hold a
  phrase (a compound typed as one word is an ``Or`` of the word and the phrase of its
  parts) come after the others. Positions come from the snapshot's decoded
  occurrences (``sakuin.search.embedded.reading.occurrences``), a binary search per section.
* **Rarest first.** An ``And`` evaluates its children from the fewest sections to the
  most (by document frequency), and a term asked about only some sections (``within``)
  is looked up there (``allterms.term_at``: the blocks that hold them, for a long list not
  yet cached) instead of decoded whole: もの テンション reads もの's blocks where テンション
  is, not its 150,000 postings. The scores still add in query order.
* Any other query type raises ``Unsupported``; the caller falls back to Whoosh.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher

from sakuin.search.embedded.reading.allterms import term_at
from sakuin.search.embedded.reading.bagofwords import TermScoreCache
from sakuin.search.embedded.reading.occurrences import TermOccurrences

Scored = tuple[np.ndarray, np.ndarray]  # (section numbers ascending, int64; scores, float64)
_EMPTY: Scored = (np.empty(0, np.int64), np.empty(0, np.float64))


class Unsupported(Exception):
    """A query node this module does not evaluate (Whoosh's matcher does)."""


def evaluate(
    searcher: Searcher,
    cache: TermScoreCache,
    query: wq.Query,
    live: Callable[[], np.ndarray],
    occurrences: TermOccurrences | None = None,
) -> Scored:
    """Every section ``query`` matches and its score; ``live()``: the live-section mask (for ``Not``);
    ``occurrences``: the snapshot's decoded positions (a private cache when None)."""
    return _Evaluator(searcher, cache, live, occurrences or TermOccurrences()).node(query, None)


class _Evaluator:
    def __init__(
        self, searcher: Searcher, cache: TermScoreCache, live: Callable[[], np.ndarray], occurrences: TermOccurrences
    ) -> None:
        self.searcher = searcher
        self.cache = cache
        self.live = live
        self.occurrences = occurrences

    def node(self, q: wq.Query, within: np.ndarray | None) -> Scored:
        """``q``'s matches; with ``within``, only those among ``within`` need be right."""
        if isinstance(q, wq.Term):
            if within is not None and q.fieldname in self.searcher.schema:
                docs, scores = term_at(self.searcher, self.cache, q.fieldname, q.text, within)
                return docs, scores if q.boost == 1.0 else scores * q.boost
            return self.term(q.fieldname, q.text, q.boost)
        if isinstance(q, wq.Phrase):
            return self._boost(self.phrase(q, within), q.boost)
        if isinstance(q, wq.Not):
            docs = self.node(q.query, within)[0]
            rest = np.flatnonzero(self.live())
            rest = rest[~np.isin(rest, docs, assume_unique=True)]
            return rest, np.ones(len(rest))
        if isinstance(q, wq.AndMaybe):
            a_docs, a_scores = self.node(q.a, within)
            b_docs, b_scores = self.node(q.b, a_docs)
            return self._boost((a_docs, _plus(a_docs, a_scores.copy(), b_docs, b_scores)), q.boost)
        if isinstance(q, wq.AndNot):
            a_docs, a_scores = self.node(q.a, within)
            keep = ~np.isin(a_docs, self.node(q.b, a_docs)[0], assume_unique=True)
            return self._boost((a_docs[keep], a_scores[keep]), q.boost)
        if type(q) is wq.And:
            return self._boost(self.conjunction(q.subqueries, within), q.boost)
        if type(q) is wq.Or and not q.minmatch and not q.scale:
            return self._boost(self.disjunction(q.subqueries, within), q.boost)
        raise Unsupported(type(q).__name__)

    @staticmethod
    def _boost(scored: Scored, boost: float) -> Scored:
        return scored if boost == 1.0 else (scored[0], scored[1] * boost)

    def term(self, fieldname: str, text: str, boost: float = 1.0) -> Scored:
        if fieldname not in self.searcher.schema:
            return _EMPTY
        docs, scores = self.cache.get(self.searcher, fieldname, text)
        return docs.astype(np.int64), scores if boost == 1.0 else scores * boost

    def conjunction(self, subs: list[wq.Query], within: np.ndarray | None) -> Scored:
        if not subs:
            return _EMPTY
        positive = [i for i, s in enumerate(subs) if not isinstance(s, wq.Not)]
        if not positive:  # only negations: Whoosh intersects their complements
            return self.conjunction_of([self.node(s, within) for s in subs])
        # Children with a phrase anywhere in them last, so their phrases read positions only
        # where every other child matches (日本人 クルマ: the phrase "日本 人" of the compound
        # is checked in the sections that have 車, not in every section with 日本 and 人);
        # the others rarest first, each later one read only where the earlier ones match.
        results: dict[int, Scored] = {}
        docs = within
        for i in sorted(positive, key=lambda i: (_has_phrase(subs[i]), self._estimate(subs[i]))):
            results[i] = self.node(subs[i], docs)
            docs = results[i][0] if docs is None else np.intersect1d(docs, results[i][0], assume_unique=True)
            if not len(docs):
                return _EMPTY
        assert docs is not None
        for sub in subs:
            if isinstance(sub, wq.Not):
                docs = docs[~np.isin(docs, self.node(sub.query, docs)[0], assume_unique=True)]
        scores = np.zeros(len(docs))
        for i, sub in enumerate(subs):  # in query order, as written
            if isinstance(sub, wq.Not):
                scores += 1.0  # Whoosh's InverseMatcher scores every match 1.0
                continue
            cdocs, cscores = results[i]
            scores += cscores[np.searchsorted(cdocs, docs)]
        return docs, scores

    def _estimate(self, q: wq.Query) -> int:
        """About how many sections ``q`` matches, from document frequencies (no postings read):
        a conjunction reads its rarest children first and looks the others up only there."""
        if isinstance(q, wq.Term):
            return self.searcher.doc_frequency(q.fieldname, q.text) if q.fieldname in self.searcher.schema else 0
        if isinstance(q, wq.Phrase):
            return min((self._estimate(wq.Term(q.fieldname, w)) for w in q.words), default=0)
        if isinstance(q, (wq.AndMaybe, wq.AndNot)):
            return self._estimate(q.a)
        if type(q) is wq.And:
            return min((self._estimate(c) for c in q.subqueries), default=0)
        if isinstance(q, wq.Or):
            return sum(self._estimate(c) for c in q.subqueries)
        return self.searcher.doc_count_all()

    @staticmethod
    def conjunction_of(parts: list[Scored]) -> Scored:
        docs = parts[0][0]
        for other, _ in parts[1:]:
            docs = np.intersect1d(docs, other, assume_unique=True)
        scores = np.zeros(len(docs))
        for cdocs, cscores in parts:
            scores += cscores[np.searchsorted(cdocs, docs)]
        return docs, scores

    def disjunction(self, subs: list[wq.Query], within: np.ndarray | None) -> Scored:
        parts = [self.node(s, within) for s in subs]
        parts = [p for p in parts if len(p[0])]
        if not parts:
            return _EMPTY
        if len(parts) == 1:
            return parts[0]
        docs = np.unique(np.concatenate([d for d, _ in parts]))
        scores = np.zeros(len(docs))
        for cdocs, cscores in parts:  # each child adds where it matches, in query order
            scores[np.searchsorted(docs, cdocs)] += cscores
        return docs, scores

    def phrase(self, q: wq.Phrase, within: np.ndarray | None) -> Scored:
        if q.slop != 1 or not q.words:
            raise Unsupported("Phrase with slop")
        if q.fieldname not in self.searcher.schema:
            return _EMPTY
        if within is None:
            parts = [self.term(q.fieldname, w) for w in q.words]
        else:  # only those sections: probed in the (often long) word lists, or looked up
            parts = [term_at(self.searcher, self.cache, q.fieldname, w, within) for w in q.words]
        docs, scores = self.conjunction_of(parts)
        if not len(docs):
            return _EMPTY
        ok = self._consecutive(q.fieldname, list(q.words), docs)
        return docs[ok], scores[ok]

    def _consecutive(self, fieldname: str, words: list[str], docs: np.ndarray) -> np.ndarray:
        """Per section of ``docs``: whether ``words`` stand at consecutive positions."""
        wanted = docs.tolist()
        by_word = {}
        for w in dict.fromkeys(words):
            found = self.occurrences.get(self.searcher, fieldname, w, wanted)
            by_word[w] = (found.positions.tolist(), found.rows(wanted))
        ok = np.zeros(len(docs), np.bool_)
        for i in range(len(docs)):
            starts: set[int] | None = None
            for k, w in enumerate(words):
                positions, rows = by_word[w]
                row = rows[i]
                mine = {p - k for p in positions[row[0] : row[1]]} if row is not None else set()
                starts = mine if starts is None else starts & mine
                if not starts:
                    break
            ok[i] = bool(starts)
        return ok


def _has_phrase(q: wq.Query) -> bool:
    """Whether ``q`` is or holds a phrase (whose evaluation reads positions)."""
    return isinstance(q, wq.Phrase) or any(_has_phrase(c) for c in q.children())


def _plus(docs: np.ndarray, scores: np.ndarray, more_docs: np.ndarray, more: np.ndarray) -> np.ndarray:
    """``scores`` (of ``docs``) plus ``more`` where ``more_docs`` are among ``docs``."""
    if len(more_docs):
        idx = np.searchsorted(docs, more_docs)
        hit = (idx < len(docs)) & (docs[np.minimum(idx, len(docs) - 1)] == more_docs)
        scores[idx[hit]] += more[hit]
    return scores


__all__ = ["Scored", "Unsupported", "evaluate"]
