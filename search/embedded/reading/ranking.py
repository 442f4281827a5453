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
   A reader's access filter (``sakuin.search.embedded.reading.permitted``) cuts the
   matches first, before any of the steps below: nothing a reader may not read is
   filtered, counted, collapsed or ranked.
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

from sakuin.search.config import TITLE_WINDOW, TYPED_WEIGHT
from sakuin.search.embedded.reading import allterms, arrayquery, bagofwords, proximity
from sakuin.search.embedded.reading.emit import Compiled
from sakuin.search.embedded.reading.metatables import all_of, evaluate
from sakuin.search.embedded.reading.occurrences import lookup
from sakuin.search.embedded.reading.scoring import AllScores
from sakuin.search.embedded.reading.snapshot import Pinned
from sakuin.search.embedded.schema import FOLDED_COLUMN
from sakuin.search.query.filters import FilterNode, fields_of, top_level
from sakuin.search.query.request import Sort
from sakuin.search.query.targets import contains_all, fold_section
from sakuin.search.results.facets import facet_list, selected_values

MatchKind = Literal["word", "substring", "synonym"]


@dataclass(frozen=True, slots=True)
class Ranked:
    """``total`` hits after collapsing (``sections`` before); ``top``: the best ``limit``
    as (docnum, score, match); ``duplicates``: docnum → sections collapsed into it;
    ``facets``: field → [(value, count)], most frequent first; ``substring_total``: the
    sections that have the typed words only inside longer words (whether listed or not)."""

    total: int
    top: list[tuple[int, float, MatchKind]]
    sections: int = 0
    duplicates: dict[int, int] = field(default_factory=dict)
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    substring_total: int = 0


@dataclass
class _Matches:
    docs: np.ndarray
    scores: np.ndarray
    substring: np.ndarray  # bool per match
    #: Per match, whether it writes every respelled word as typed (``Targets.typed``): these
    #: rank before the other word matches. None: the query respelled nothing.
    typed: np.ndarray | None = None
    #: Per match, whether the query's words are only in its document's title (which every
    #: section carries): known for the best ``TITLE_WINDOW``; these rank after the sections
    #: that have the words in their own text. None: not looked at.
    title_only: np.ndarray | None = None
    #: Per match, whether it is a word match only through a synonym (``Compiled.typed``): these
    #: rank after every match of the words as typed. None: the query has no synonym.
    synonym: np.ndarray | None = None

    def keep(self, mask: np.ndarray) -> _Matches:
        typed = self.typed[mask] if self.typed is not None else None
        title_only = self.title_only[mask] if self.title_only is not None else None
        synonym = self.synonym[mask] if self.synonym is not None else None
        return _Matches(self.docs[mask], self.scores[mask], self.substring[mask], typed, title_only, synonym)

    def with_scores(self, scores: np.ndarray) -> _Matches:
        return _Matches(self.docs, scores, self.substring, self.typed, self.title_only, self.synonym)

    @property
    def as_typed(self) -> np.ndarray:
        """The word matches of the words as typed (not substring, not only a synonym)."""
        words = ~self.substring
        return words & ~self.synonym if self.synonym is not None else words


def rank(
    pinned: Pinned,
    compiled: Compiled,
    limit: int,
    *,
    sort: Sort | None = None,
    facets: Sequence[str] = (),
    collapse: bool = True,
    substrings: bool = False,
    permitted: np.ndarray | None = None,
) -> Ranked:
    """``substrings``: list the sections that have the words only inside longer words (after
    every word match) even when there are word matches; without it they are only counted
    (``substring_total``), unless no section matches as a word. ``permitted``: the sections
    the reader may read (None: all); the others are never matched."""
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
    narrowest = all_of([m for m in (allowed, permitted) if m is not None])
    found = _match(pinned, compiled, permitted if own else narrowest)
    if permitted is not None:
        found = found.keep(permitted[found.docs])
    matches = found.keep(allowed[found.docs]) if allowed is not None else found
    substring_total = int(np.count_nonzero(matches.substring))
    if not substrings and matches.as_typed.any():  # the typed words match as words: those are the answer
        matches, found = matches.keep(~matches.substring), found.keep(~found.substring)
    if compiled.targets.typed and len(matches.docs):
        matches = _typed_first(pinned, compiled, matches)
    if compiled.pairs:
        snapshot = pinned.snapshot
        scores = proximity.with_pairs(
            searcher, snapshot.scores, snapshot.occurrences, compiled.pairs, matches.docs, matches.scores
        )
        matches = matches.with_scores(scores)
    if sort is None and compiled.bag is None and TITLE_WINDOW and len(matches.docs):
        matches = _own_text_first(pinned, compiled, matches)
    counts: dict[str, list[tuple[str, int]]] = {}
    for name in facets:
        docs = matches.docs
        if name in own:
            others = all_of([m for n, m in zip(nodes, masks, strict=True) if fields_of(n) != {name}])
            docs = found.docs[others[found.docs]] if others is not None else found.docs
        counts[name] = _facet(pinned, docs, name, compiled.filter)
    order = _Order(pinned, matches, sort, key_of)
    top, duplicates, total = _collapse(order, tables.dups(searcher) if collapse else None, limit)
    return Ranked(total, top, len(matches.docs), duplicates, counts, substring_total)


# -- 1. match ---------------------------------------------------------------------------


def _match(pinned: Pinned, compiled: Compiled, allowed: np.ndarray | None) -> _Matches:
    searcher = pinned.searcher
    if compiled.bag is not None:
        docs, scores = bagofwords.accumulate(searcher, pinned.snapshot.scores, list(compiled.bag), compiled.min_words)
        return _Matches(docs.astype(np.int64), scores, np.zeros(len(docs), np.bool_))
    if compiled.query is None:
        if compiled.plan.root is not None:  # text with nothing to look up (only particles)
            return _Matches(np.empty(0, np.int64), np.empty(0), np.empty(0, np.bool_))
        docs = np.flatnonzero(pinned.snapshot.meta.live(searcher))  # filters only
        return _Matches(docs, np.zeros(len(docs)), np.zeros(len(docs), np.bool_))
    docs, scores = _word_matches(pinned, compiled.query)
    synonym = None
    if compiled.typed is not None:
        typed_docs, _ = _word_matches(pinned, compiled.typed)
        synonym = ~np.isin(docs, typed_docs)
    if compiled.targets.substring is None:
        return _Matches(docs, scores, np.zeros(len(docs), np.bool_), synonym=synonym)
    # A section that has a typed word inside a longer word and a synonym as a word writes what
    # was typed: it is a substring match, not a synonym match.
    sdocs, sscores = _substrings(pinned, compiled, docs if synonym is None else docs[~synonym], allowed)
    if synonym is not None and len(sdocs):
        keep = ~np.isin(docs, sdocs)
        docs, scores, synonym = docs[keep], scores[keep], synonym[keep]
    return _Matches(
        np.concatenate([docs, sdocs]),
        np.concatenate([scores, sscores]),
        np.concatenate([np.zeros(len(docs), np.bool_), np.ones(len(sdocs), np.bool_)]),
        synonym=None if synonym is None else np.concatenate([synonym, np.zeros(len(sdocs), np.bool_)]),
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
    docs, scores = allterms.match_all(searcher, pinned.snapshot.scores, compiled.targets.substring)
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


def _typed_first(pinned: Pinned, compiled: Compiled, matches: _Matches) -> _Matches:
    """The matches that write the respelled words as typed (ジャポン, not only ジャパン).

    A keyword query ranks them first: they are a tier (``_Matches.typed``). A question,
    ranked by how much of it a section covers, gives each such word ``TYPED_WEIGHT``
    instead (a typed word counts for about one more matched word). Sections are found
    as substring candidates are: the typed word's bigrams, then the folded text."""
    searcher, cache = pinned.searcher, pinned.snapshot.scores
    written = []
    for needle, grams in zip(compiled.targets.typed, compiled.targets.typed_grams, strict=True):
        candidates, _ = allterms.match_all(searcher, cache, (grams,))
        has = np.isin(matches.docs, candidates) & ~matches.substring
        if len(needle) > 2 and has.any():  # a two-character word is its one bigram: exact
            docs, _ = _checked(pinned, matches.docs[has], np.zeros(int(has.sum())), [needle])
            has &= np.isin(matches.docs, docs)
        written.append(has)
    if compiled.bag is not None:
        return matches.with_scores(matches.scores + TYPED_WEIGHT * np.sum(written, axis=0))
    return _Matches(
        matches.docs, matches.scores, matches.substring, np.logical_and.reduce(written), synonym=matches.synonym
    )


def _own_text_first(pinned: Pinned, compiled: Compiled, matches: _Matches) -> _Matches:
    """Which of a keyword query's best ``TITLE_WINDOW`` word matches have its words only in their
    document's title: every section of a document carries its title in ``content``, so each
    one matches the title's words, and a section that says nothing of them itself should not
    rank with those that do. A section has a word in its own text when the word occurs in
    ``content`` more often than in ``title`` (the same analysis: the counts compare). The
    counts are the term frequencies the score cache keeps (``TermScoreCache.frequencies``):
    the words' scores are there already, and decoding their positions instead cost a third
    of a two-word query at 1M sections."""
    terms = sorted(compiled.targets.typed_terms("content"))
    words = np.flatnonzero(matches.as_typed)
    if not terms or not len(words):
        return matches
    best = words[proximity.window(matches.scores[words], TITLE_WINDOW)]
    wanted = np.sort(matches.docs[best])
    searcher, cache = pinned.searcher, pinned.snapshot.scores
    own = np.zeros(len(wanted), np.bool_)
    for term in terms:
        in_content = _counts_at(*cache.frequencies(searcher, "content", term), wanted)
        in_title = _counts_at(*cache.frequencies(searcher, "title", term), wanted)
        own |= in_content > in_title
    title_only = np.zeros(len(matches.docs), np.bool_)
    title_only[best] = ~own[np.searchsorted(wanted, matches.docs[best])]
    return _Matches(matches.docs, matches.scores, matches.substring, matches.typed, title_only, matches.synonym)


def _counts_at(docs: np.ndarray, counts: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Each of the ascending ``wanted`` sections' count in (``docs``, ``counts``), 0 where absent."""
    if not len(docs):
        return np.zeros(len(wanted), np.int64)
    inside, found = lookup(docs, wanted)
    return np.where(found, counts[inside], 0).astype(np.int64)


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
    table = pinned.snapshot.meta.keyword(pinned.searcher, name)
    counts = table.counts_of(docs)
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

    def kind(self, i: int) -> MatchKind:
        m = self.matches
        return "substring" if m.substring[i] else "synonym" if m.synonym is not None and m.synonym[i] else "word"

    def first(self, n: int) -> list[tuple[int, float, MatchKind]]:
        m = self.matches
        if self.sort is not None:
            order = self._sorted()[:n].tolist()
            return [(int(m.docs[i]), float(m.scores[i]), self.kind(i)) for i in order]
        out: list[tuple[int, float, MatchKind]] = []
        words = m.as_typed
        tiers = [words] if m.typed is None else [words & m.typed, words & ~m.typed]
        if m.title_only is not None:  # in each tier, the sections that have the words in their own text first
            tiers = [part for tier in tiers for part in (tier & ~m.title_only, tier & m.title_only)]
        kinds: list[MatchKind] = ["word"] * len(tiers) + ["substring"]
        tiers.append(m.substring)
        if m.synonym is not None:
            tiers.append(m.synonym)
            kinds.append("synonym")
        for tier, kind in zip(tiers, kinds, strict=True):
            if len(out) < n and tier.any():
                best = bagofwords.top(m.docs[tier], m.scores[tier], n - len(out), self.key_of)
                out += [(d, s, kind) for d, s in best]
        return out

    def _sorted(self) -> np.ndarray:
        """Word matches, then substring matches, then synonym-only matches; then missing values
        last, then the value, then relevance, then section number: the sections of one document
        (which share its date) stay in order."""
        if self._full is None:
            assert self.sort is not None
            m = self.matches
            values = self.pinned.snapshot.meta.numbers(self.pinned.searcher, self.sort.field)[m.docs]
            missing = np.isnan(values)
            by = np.where(missing, 0.0, -values if self.sort.descending else values)
            tier = m.substring.astype(np.int8) + (2 * m.synonym if m.synonym is not None else 0)
            self._full = np.lexsort((m.docs, -m.scores, by, missing, tier))
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
