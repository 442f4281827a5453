"""Word spans for highlighting, read from the embedded index's postings.

Postings store each occurrence's character offsets (taken from Sudachi on the
original text), so a hit's word spans cost no re-analysis: ``postings_spans``
reads them for the page's hits, and ``spans_from_postings`` hands them to the
backend-neutral highlighter (``sakuin.search.highlight.spans.match_spans``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from whoosh.searching import Searcher

from sakuin.search.embedded.reading.bagofwords import TermScoreCache
from sakuin.search.embedded.reading.occurrences import TermOccurrences, among
from sakuin.search.highlight.spans import SpansOf


def postings_spans(
    searcher: Searcher,
    fieldname: str,
    terms: Iterable[str],
    docnums: list[int],
    cache: TermScoreCache | None = None,
    occurrences: TermOccurrences | None = None,
) -> dict[int, list[tuple[int, int]]]:
    """Character spans of ``terms`` in each document, from the snapshot's decoded
    occurrences (``sakuin.search.embedded.reading.occurrences``; a private cache when None).

    A term whose scores ``cache`` holds (every term a question was ranked by) says
    which of the documents have it, so only those terms are decoded: most of a
    question's few dozen terms are in none of the ten hits.
    """
    occurrences = occurrences or TermOccurrences()
    spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
    wanted = sorted(docnums)
    for term in terms:
        known = cache.peek(fieldname, term) if cache is not None else None
        if known is not None and not among(wanted, known[0]).any():
            continue
        found = occurrences.get(searcher, fieldname, term, wanted)
        if not len(found.docs):
            continue
        starts, ends = found.starts, found.ends
        for docnum, row in zip(wanted, found.rows(wanted), strict=True):
            if row is not None:
                spans[docnum].extend(zip(starts[row[0] : row[1]].tolist(), ends[row[0] : row[1]].tolist(), strict=True))
    return spans


def spans_from_postings(
    searcher: Searcher, cache: TermScoreCache | None = None, occurrences: TermOccurrences | None = None
) -> SpansOf:
    """``match_spans``'s word spans from ``searcher``'s postings (``postings_spans``)."""

    def spans_of(fieldname: str, terms: Iterable[str], docnums: list[int]) -> dict[int, list[tuple[int, int]]]:
        return postings_spans(searcher, fieldname, terms, docnums, cache, occurrences)

    return spans_of


__all__ = ["postings_spans", "spans_from_postings"]
