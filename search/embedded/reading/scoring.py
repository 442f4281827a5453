"""Ranking function: BM25 with the Robertson/Lucene idf and tuned parameters.

Whoosh's default idf, log(N/(df+1))+1, flattens the gap between rare and common
words; questions are long, so that flattening lets common words outvote the
rare ones that identify the passage. Parameters were tuned on the dev set
(docs/relevance.md): short passages with few repeated words prefer a low K1.

Equal scores are ordered by section key, not by document number: document
numbers depend on the order sections were added (an update appends, a
compaction rewrites), so ordering ties by them would make an updated index rank
differently from a fresh build of the same inputs.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable
from math import log
from typing import Any

from whoosh.collectors import ScoredCollector
from whoosh.scoring import BM25F

from sakuin.search.config import K1, B


class SakuinBM25(BM25F):
    def __init__(self, B: float = B, K1: float = K1, **kwargs: Any) -> None:
        super().__init__(B=B, K1=K1, **kwargs)

    def idf(self, searcher: Any, fieldname: str, text: bytes | str) -> float:
        parent = searcher.get_parent()
        n = parent.doc_frequency(fieldname, text)
        total = parent.doc_count_all()
        return log(1 + (total - n + 0.5) / (n + 0.5))


def best(scored: Iterable[tuple[int, float]], limit: int, key_of: Callable[[int], int]) -> list[tuple[int, float]]:
    """The best ``limit`` (docnum, score) pairs; equal scores in ``key_of(docnum)`` order
    (a section's rank in section-key order, ``sakuin.search.embedded.reading.metatables.MetaTables.key_ranks``).

    Keys are looked up only for scores that occur more than once among the
    candidates (the top ``limit`` and whatever ties with its last score), so the
    common case costs one heap selection.
    """
    scored = list(scored)
    top = heapq.nsmallest(limit, scored, key=lambda item: (-item[1], item[0]))
    if not top:
        return top
    cut = top[-1][1]
    candidates = [item for item in scored if item[1] >= cut]
    counts = Counter(score for _, score in candidates)
    if len(candidates) == len(top) and len(counts) == len(top):
        return top
    candidates.sort(key=lambda item: (-item[1], key_of(item[0]) if counts[item[1]] > 1 else 0))
    return candidates[:limit]


class AllScores(ScoredCollector):
    """Collects every match's (docnum, score), unsorted, for ``best``.

    Whoosh's ``TopCollector`` keeps a heap ordered by document number for ties and
    drops what ties with the last kept score, which ``best`` needs to see.
    """

    def __init__(self) -> None:
        super().__init__(replace=0)

    def prepare(self, top_searcher: Any, q: Any, context: Any) -> None:
        super().prepare(top_searcher, q, context)
        self.scored: list[tuple[int, float]] = []

    def _collect(self, global_docnum: int, score: float) -> int:
        self.scored.append((global_docnum, float(score or 0.0)))
        return 0

    def computes_count(self) -> bool:
        return True

    def count(self) -> int:
        return len(self.scored)

    def results(self) -> list[tuple[int, float]]:
        return self.scored
