"""Ranking: a compiled query against one pinned snapshot → (hits matched, best N, facet counts).

Every request goes the same four steps, so filters, facets, sorting and
collapsing work with every query form:

1. **Match.** A query that is a single sentence goes term at a time through the
   snapshot's cached term scores (``sakuin.search.embedded.reading.bagofwords``); any other text query is
   its Whoosh query tree evaluated over the same cached term arrays
   (``sakuin.search.embedded.reading.arrayquery``: Whoosh's matches and scores, without its per-posting
   matcher calls; Whoosh's own matcher for a node type it does not evaluate); a
   query of filters only matches every live section (score 0). A keyword query (words typed as they are) also
   finds the sections that contain its words only inside longer words (京都 in
   東京都, ノヴゴロド in ニジニ・ノヴゴロド): candidates from the folded-bigram
   field, every typed word's bigrams required, then checked against the
   section's folded text (a word of two characters is one bigram, and bigrams
   never cross title, heading and body, so it needs no check). These substring
   matches rank after every word match, by their bigram score, and are marked
   ``match="substring"``.
2. **Filter.** The plan's metadata filters (``sakuin.search.embedded.reading.metatables.evaluate``) as one
   boolean array; they select, they never score. Then a question's best sections
   that have its words side by side earn the pairs' bonus (``sakuin.search.embedded.reading.proximity``),
   after filtering, so the sections that pass decide the window.
3. **Count.** Facet counts over all matching sections (exact, not the page);
   a field's own filters are left out of its counts (``category:a`` still lists
   ``b`` with the count that checking it would add), as Algolia and Meilisearch
   count disjunctive facets.
4. **Order and collapse.** By relevance (equal scores in section-key order,
   ``sakuin.search.embedded.reading.scoring.best``, so the order never depends on the order sections
   were added) or by a date/number field (missing values last, then relevance).
   Sections with the same body text (``dup`` hash) collapse into the first of
   them, which carries how many more there are; ``total`` counts hits after
   collapsing (what the user pages through), ``sections`` before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from sakuin.search.embedded.reading import arrayquery, bagofwords, proximity
from sakuin.search.embedded.reading.emit import Compiled
from sakuin.search.embedded.reading.metatables import all_of, evaluate
from sakuin.search.embedded.reading.scoring import AllScores
from sakuin.search.embedded.reading.snapshot import Pinned
from sakuin.search.embedded.schema import FOLDED_COLUMN
from sakuin.search.query.filters import FilterNode, fields_of, top_level
from sakuin.search.query.request import Sort
from sakuin.search.query.targets import contains_all, fold_section
from sakuin.search.results.facets import facet_list, selected_values

MatchKind = Literal["word", "substring"]


@dataclass(frozen=True, slots=True)
class Ranked:
    """``total`` hits after collapsing (``sections`` before); ``top``: the best ``limit``
    as (docnum, score, match); ``duplicates``: docnum → sections collapsed into it;
    ``facets``: field → [(value, count)], most frequent first."""

    total: int
    top: list[tuple[int, float, MatchKind]]
    sections: int = 0
    duplicates: dict[int, int] = field(default_factory=dict)
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


@dataclass
class _Matches:
    docs: np.ndarray
    scores: np.ndarray
    substring: np.ndarray  # bool per match

    def keep(self, mask: np.ndarray) -> _Matches:
        return _Matches(self.docs[mask], self.scores[mask], self.substring[mask])


def rank(
    pinned: Pinned,
    compiled: Compiled,
    limit: int,
    *,
    sort: Sort | None = None,
    facets: Sequence[str] = (),
    collapse: bool = True,
) -> Ranked:
    searcher = pinned.searcher
    tables = pinned.snapshot.meta

    def key_of(docnum: int) -> Any:  # equal scores rank in key order
        return int(tables.key_ranks(searcher)[docnum])

    # Each top-level filter once; a facet's counts leave out the filters on its own
    # field, so its other values stay choosable (checking one more widens by OR).
    nodes = top_level(compiled.filter)
    masks = [evaluate(node, tables, searcher) for node in nodes]
    allowed = all_of(masks)
    own = {name for name in facets if any(fields_of(n) == {name} for n in nodes)}
    found = _match(pinned, compiled, None if own else allowed)
    matches = found.keep(allowed[found.docs]) if allowed is not None else found
    if compiled.pairs:
        snapshot = pinned.snapshot
        scores = proximity.with_pairs(
            searcher, snapshot.scores, snapshot.occurrences, compiled.pairs, matches.docs, matches.scores
        )
        matches = _Matches(matches.docs, scores, matches.substring)
    counts: dict[str, list[tuple[str, int]]] = {}
    for name in facets:
        docs = matches.docs
        if name in own:
            others = all_of([m for n, m in zip(nodes, masks, strict=True) if fields_of(n) != {name}])
            docs = found.docs[others[found.docs]] if others is not None else found.docs
        counts[name] = _facet(pinned, docs, name, compiled.filter)
    order = _Order(pinned, matches, sort, key_of)
    top, duplicates, total = _collapse(order, tables.dups(searcher) if collapse else None, limit)
    return Ranked(total, top, len(matches.docs), duplicates, counts)


# -- 1. match ---------------------------------------------------------------------------


def _match(pinned: Pinned, compiled: Compiled, allowed: np.ndarray | None) -> _Matches:
    searcher = pinned.searcher
    if compiled.bag is not None:
        docs, scores = bagofwords.accumulate(searcher, pinned.snapshot.scores, list(compiled.bag))
        return _Matches(docs.astype(np.int64), scores, np.zeros(len(docs), np.bool_))
    if compiled.query is None:
        if compiled.plan.root is not None:  # text with nothing to look up (only particles)
            return _Matches(np.empty(0, np.int64), np.empty(0), np.empty(0, np.bool_))
        docs = np.flatnonzero(pinned.snapshot.meta.live(searcher))  # filters only
        return _Matches(docs, np.zeros(len(docs)), np.zeros(len(docs), np.bool_))
    docs, scores = _word_matches(pinned, compiled.query)
    if compiled.targets.substring is None:
        return _Matches(docs, scores, np.zeros(len(docs), np.bool_))
    sdocs, sscores = _substrings(pinned, compiled, docs, allowed)
    return _Matches(
        np.concatenate([docs, sdocs]),
        np.concatenate([scores, sscores]),
        np.concatenate([np.zeros(len(docs), np.bool_), np.ones(len(sdocs), np.bool_)]),
    )


def _word_matches(pinned: Pinned, query: Any) -> tuple[np.ndarray, np.ndarray]:
    """Every match of the word query and its score, term arrays at a time (``arrayquery``)
    or, for a query type it does not evaluate, by Whoosh."""
    searcher = pinned.searcher
    try:
        snapshot = pinned.snapshot
        return arrayquery.evaluate(
            searcher, snapshot.scores, query, lambda: snapshot.meta.live(searcher), snapshot.occurrences
        )
    except arrayquery.Unsupported:
        pass
    # Score every match in one pass: no block skipping (Whoosh would then run the query
    # again to count) and no matcher replacement (which drops OR clauses that cannot
    # reach the current top N, so the total and even the top N would depend on the page size).
    collector = AllScores()
    searcher.search_with_collector(query, collector)
    words = collector.scored
    docs = np.fromiter((d for d, _ in words), np.int64, len(words))
    scores = np.fromiter((s for _, s in words), np.float64, len(words))
    return docs, scores


def _substrings(
    pinned: Pinned, compiled: Compiled, exclude: np.ndarray, allowed: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Sections whose folded text contains every typed word, not already word matches."""
    assert compiled.targets.substring is not None
    searcher = pinned.searcher
    docs, scores = bagofwords.match_all(searcher, pinned.snapshot.scores, compiled.targets.substring)
    docs = docs.astype(np.int64)
    keep = np.ones(len(docs), np.bool_)
    if len(exclude) and len(docs):
        keep &= ~np.isin(docs, exclude)
    if allowed is not None and len(docs):
        keep &= allowed[docs]  # filter before the text check, which reads each candidate
    docs, scores = docs[keep], scores[keep]
    check = compiled.targets.needles_to_check()
    if not check or not len(docs):
        return docs, scores
    return _checked(pinned, docs, scores, check)


def _checked(pinned: Pinned, docs: np.ndarray, scores: np.ndarray, needles: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The candidates whose folded text contains every needle, read from the ``folded``
    column (UTF-8 bytes: a needle's bytes match only where its characters do); an index
    without that column (built before it) is checked against its stored fields, folded."""
    searcher = pinned.searcher
    leaves = searcher.reader().leaf_readers()
    starts = np.array([offset for _, offset in leaves])
    columns = [
        leaf._perdoc._cached_reader("folded", FOLDED_COLUMN)
        if "folded" in leaf.schema and leaf.has_column("folded")
        else None
        for leaf, _ in leaves
    ]
    encoded = [n.encode("utf-8", "surrogatepass") for n in needles]
    ok = np.zeros(len(docs), np.bool_)
    for i, (docnum, leaf) in enumerate(
        zip(docs.tolist(), (np.searchsorted(starts, docs, side="right") - 1).tolist(), strict=True)
    ):
        column = columns[leaf]
        if column is None:
            ok[i] = contains_all(fold_section(pinned.snapshot.stored_fields(searcher, docnum)), needles)
        else:
            text = column[docnum - int(starts[leaf])]
            ok[i] = all(n in text for n in encoded)
    return docs[ok], scores[ok]


# -- 3. count ---------------------------------------------------------------------------


def _facet(pinned: Pinned, docs: np.ndarray, name: str, where: FilterNode | None) -> list[tuple[str, int]]:
    """The values of ``name`` among the sections ``docs``, most frequent first."""
    searcher = pinned.searcher
    matched = np.zeros(searcher.reader().doc_count_all(), np.bool_)
    matched[docs] = True
    table = pinned.snapshot.meta.keyword(searcher, name)
    counts = table.counts(matched)
    found = [(table.values[v], int(counts[v])) for v in np.flatnonzero(counts).tolist()]
    return facet_list(name, found, selected_values(where).get(name, set()))


# -- 4. order and collapse ----------------------------------------------------------------


class _Order:
    """The matches in display order, produced a prefix at a time."""

    def __init__(self, pinned: Pinned, matches: _Matches, sort: Sort | None, key_of: Callable[[int], Any]) -> None:
        self.matches = matches
        self.key_of = key_of
        self.sort = sort
        self.pinned = pinned
        self._full: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.matches.docs)

    def first(self, n: int) -> list[tuple[int, float, MatchKind]]:
        m = self.matches
        if self.sort is not None:
            order = self._sorted()[:n].tolist()
            return [(int(m.docs[i]), float(m.scores[i]), "substring" if m.substring[i] else "word") for i in order]
        words = ~m.substring
        out: list[tuple[int, float, MatchKind]] = [
            (d, s, "word") for d, s in bagofwords.top(m.docs[words], m.scores[words], n, self.key_of)
        ]
        if len(out) < n and m.substring.any():
            more = bagofwords.top(m.docs[m.substring], m.scores[m.substring], n - len(out), self.key_of)
            out += [(d, s, "substring") for d, s in more]
        return out

    def _sorted(self) -> np.ndarray:
        """Missing values last, then the value, then relevance (word matches first), then
        section number: the sections of one document (which share its date) stay in order."""
        if self._full is None:
            assert self.sort is not None
            m = self.matches
            values = self.pinned.snapshot.meta.numbers(self.pinned.searcher, self.sort.field)[m.docs]
            missing = np.isnan(values)
            by = np.where(missing, 0.0, -values if self.sort.descending else values)
            self._full = np.lexsort((m.docs, -m.scores, m.substring, by, missing))
        return self._full


def _collapse(
    order: _Order, dups: np.ndarray | None, limit: int
) -> tuple[list[tuple[int, float, MatchKind]], dict[int, int], int]:
    """The first ``limit`` hits with equal-text sections folded into the first of each
    group; ``dups``: every section's group (its body hash, 0 for none)."""
    n = len(order)
    groups = dups[order.matches.docs] if dups is not None else None
    if groups is None or not groups.any():
        return order.first(limit), {}, n
    hashed = groups != 0
    values, counts = np.unique(groups[hashed], return_counts=True)
    total = int(np.count_nonzero(~hashed)) + len(values)
    repeated = counts > 1
    if not repeated.any():
        return order.first(limit), {}, n
    size = dict(zip(values[repeated].tolist(), counts[repeated].tolist(), strict=True))
    want = limit + 16
    while True:
        prefix = order.first(want)
        kept: list[tuple[int, float, MatchKind]] = []
        seen: set[int] = set()
        duplicates: dict[int, int] = {}
        for hit, g in zip(prefix, dups[[h[0] for h in prefix]].tolist(), strict=True):
            if g in size:
                if g in seen:
                    continue
                seen.add(g)
                duplicates[hit[0]] = size[g] - 1
            kept.append(hit)
            if len(kept) == limit:
                return kept, duplicates, total
        if len(prefix) >= n:
            return kept, duplicates, total
        want *= 4


__all__ = [
    "MatchKind",
    "Ranked",
    "rank",
]
