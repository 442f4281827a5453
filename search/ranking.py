"""Ranking: a compiled query against one pinned snapshot → (sections matched, best N).

Two ways to rank, one result: a query that is a single question goes term at a
time through the snapshot's cached term scores (``search.bagofwords``); any other
query is scored by Whoosh in one pass over every match. Both order equal scores
by section key (``search.scoring.best``), so the order never depends on the
order sections were added.
"""

from __future__ import annotations

from typing import Any

from search import bagofwords
from search.query import Compiled
from search.scoring import AllScores, best
from search.snapshot import Pinned

Ranked = tuple[int, list[tuple[int, float]]]


def rank(pinned: Pinned, compiled: Compiled, query: Any, limit: int) -> Ranked:
    """(sections matched, best ``limit`` (docnum, score)) for ``query``, one of ``compiled``'s."""
    if query is None:
        return 0, []
    searcher = pinned.searcher
    keys: list[Any] = []

    def key_of(docnum: int) -> Any:  # equal scores rank in section-key order
        if not keys:
            keys.append(searcher.reader().column_reader("key"))
        return keys[0][docnum]

    if query is compiled.query and compiled.bag is not None:
        return bagofwords.rank(searcher, pinned.snapshot.scores, compiled.bag, limit, key_of)
    # Score every match in one pass: no block skipping (Whoosh would then run
    # the query again to count) and no matcher replacement (which drops OR
    # clauses that cannot reach the current top N, so the total and even the
    # top N would depend on the page size).
    collector = AllScores()
    searcher.search_with_collector(query, collector)
    return collector.count(), best(collector.scored, limit, key_of)


__all__ = ["Ranked", "rank"]
