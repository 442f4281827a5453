"""Term-at-a-time scoring for question queries, with per-term score caching.

A typed question becomes an OR of a dozen words and a few dozen character
bigrams. Whoosh scores such a query posting by posting through its matcher tree
(about 10 µs a posting, ~10,000 postings a question). A term's BM25 score in a
section depends only on the term and the section, so we compute each term's
(section, score) arrays once per index version, keep the recent ones, and rank a
question by adding arrays: the same scores Whoosh would give, several times
faster, and faster still for the common words that recur across questions.

Design decisions:

* **numpy accumulation.** Scores are added into one dense float array per query
  (8 bytes per section: 8 MB at 1M sections), term by term in the query's order,
  so each section's sum is the same sequence of float additions as before and the
  scores are equal to the last bit. A section's document numbers are unique
  within one term, so ``acc[docs] += scores`` is exact (no ``np.add.at``).
* **Bulk term scores.** A term's postings are read a Whoosh block at a time and
  scored with numpy from the segment's length column and Whoosh's own BM25F
  statistics (idf, average length, B, K1), in the same float operations: the
  scores are Whoosh's to the last bit, without a Python call per posting (which
  was most of a server's CPU on distinct queries).
* **The cache is bounded in bytes** (12 bytes per cached posting plus a fixed
  overhead per term), belongs to one snapshot (``sakuin.search.embedded.reading.snapshot``) and is
  dropped with it: an index update never leaves the old version's scores behind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.reading import TermNotFound
from whoosh.scoring import BM25FScorer
from whoosh.searching import Searcher
from whoosh.util.numeric import _length_byte_cache

from sakuin.search.embedded.reading.caches import ByteLRU
from sakuin.search.embedded.reading.scoring import best
from sakuin.search.embedded.writing.w3blocks import read_blocks

Postings = tuple[np.ndarray, np.ndarray]

#: Bytes of cached term scores per index version and process.
CACHE_BYTES = 64 * 1024 * 1024
#: What a cached term costs besides its arrays (key, tuple, two array headers).
_ENTRY_OVERHEAD = 400


def _cost(value: Postings) -> int:
    return int(value[0].nbytes + value[1].nbytes) + _ENTRY_OVERHEAD


class TermScoreCache:
    """(field, term) → (docnums, BM25 scores) for one index version (its snapshot owns it), shared by threads."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self._items: ByteLRU[Postings] = ByteLRU(max_bytes, _cost)
        self._lengths: dict[tuple[str, str], np.ndarray] = {}  # (segment, field) → length bytes

    def get(self, searcher: Searcher, fieldname: str, term: str) -> Postings:
        return self._items.get_or_make(
            (fieldname, term), lambda: _score_postings(searcher, fieldname, term, self._lengths)
        )

    def peek(self, fieldname: str, term: str) -> Postings | None:
        """The term's cached (docnums, scores), or None if it is not cached (nothing is read)."""
        return self._items.peek((fieldname, term))

    @property
    def bytes(self) -> int:
        return self._items.bytes

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        self._items.clear()
        self._lengths.clear()


#: Whoosh's one-byte field lengths, decoded (``whoosh.util.numeric.byte_to_length``).
_BYTE_TO_LENGTH = np.array(_length_byte_cache, np.float64)


def _leaf_postings(reader: Any, fieldname: str, term: str) -> tuple[np.ndarray, np.ndarray]:
    """(segment-local docnums, term frequencies) of ``term`` in one segment, deleted sections dropped.

    Reads Whoosh's W3 posting blocks whole (``sakuin.search.embedded.writing.w3blocks.read_blocks``) instead of
    posting by posting; postings inlined in the terms file come through Whoosh's matcher.
    """
    ids: list[Any] = []
    weights: list[Any] = []
    blocks = read_blocks(reader, fieldname, term)
    if blocks is not None:
        for deltas, w, _values in blocks:
            # The block's (delta-encoded ids, weights, values) tuple, decoded with numpy
            # rather than by Whoosh's per-posting generator (``_read_ids``/``_read_weights``).
            ids.append(np.cumsum(np.asarray(deltas, np.int64)))
            if w is None or isinstance(w, float):  # all 1.0, or all the same (float32 in Whoosh)
                w = np.full(len(deltas), 1.0 if w is None else w, np.float32)
            weights.append(np.asarray(w, np.float64))
    else:
        tbytes = reader._text_to_bytes(fieldname, term)
        matcher = reader._terms.matcher(fieldname, tbytes, reader.schema[fieldname].format)
        pairs = []
        while matcher.is_active():
            pairs.append((matcher.id(), matcher.weight()))
            matcher.next()
        ids.append(np.array([i for i, _ in pairs], np.int64))
        weights.append(np.array([w for _, w in pairs], np.float64))
    docs, tf = np.concatenate(ids), np.concatenate(weights)
    deleted = reader._perdoc.deleted_docs()
    if deleted:
        keep = ~np.isin(docs, np.fromiter(deleted, np.int64))
        docs, tf = docs[keep], tf[keep]
    return docs, tf


def term_docs(searcher: Searcher, fieldname: str, term: str) -> np.ndarray:
    """The live section numbers (ascending) that have ``term``, read a block at a time."""
    leaves = [(searcher, 0)] if searcher.is_atomic() else searcher.subsearchers
    out = []
    for sub, offset in leaves:
        reader = sub.reader()
        if (fieldname, term) in reader:
            out.append(_leaf_postings(reader, fieldname, term)[0] + offset)
    return np.concatenate(out) if out else np.empty(0, np.int64)


def _leaf_lengths(reader: Any, fieldname: str) -> np.ndarray:
    """One segment's per-section length bytes of ``fieldname`` (0 past the column's end)."""
    column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    out = np.zeros(reader.doc_count_all(), np.uint8)
    if column is not None and column._count:
        out[: column._count] = np.frombuffer(column._dbfile.get(column._basepos, column._count), np.uint8)
    return out


def _score_postings(
    searcher: Searcher, fieldname: str, term: str, lengths: dict[tuple[str, str], np.ndarray] | None = None
) -> Postings:
    """Every live section's BM25 score for one term, computed in bulk.

    The same formula, statistics and float operations, in the same order, as
    Whoosh's ``BM25FScorer`` (``tests/embedded/test_snapshot.py`` checks the scores are
    identical); only the per-posting Python calls are gone.
    """
    leaves = [(searcher, 0)] if searcher.is_atomic() else searcher.subsearchers
    docs: list[np.ndarray] = []
    scores: list[np.ndarray] = []
    scorer = None
    for sub, offset in leaves:
        reader = sub.reader()
        if (fieldname, term) not in reader:
            continue
        if scorer is None:
            # Every segment's scorer reads the same statistics, the whole index's (its
            # parent searcher's): make one, not one per segment (50 at 1M sections).
            scorer = searcher.weighting.scorer(sub, fieldname, term)
        if not isinstance(scorer, BM25FScorer):
            return _score_postings_slowly(searcher, fieldname, term)
        local, tf = _leaf_postings(reader, fieldname, term)
        key = (reader._segment.segment_id(), fieldname)
        column = lengths.get(key) if lengths is not None else None
        if column is None:
            column = _leaf_lengths(reader, fieldname)
            if lengths is not None:
                lengths[key] = column  # one byte per section and field, for the snapshot's life
        fl = _BYTE_TO_LENGTH[column[local]]
        idf, avgfl, b, k1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1
        scores.append(idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * fl / avgfl))))
        docs.append((local + offset).astype(np.int32))
    if not docs:
        return np.empty(0, np.int32), np.empty(0, np.float64)
    return np.concatenate(docs), np.concatenate(scores)


def _score_postings_slowly(searcher: Searcher, fieldname: str, term: str) -> Postings:
    """Whoosh's own matcher, posting by posting (a field whose scorer is not BM25F)."""
    docs: list[int] = []
    scores: list[float] = []
    try:
        m = searcher.postings(fieldname, term)
    except TermNotFound:
        return np.empty(0, np.int32), np.empty(0, np.float64)
    while m.is_active():
        docs.append(m.id())
        scores.append(m.score())
        m.next()
    return np.array(docs, np.int32), np.array(scores, np.float64)


def accumulate(
    searcher: Searcher, cache: TermScoreCache, terms: list[tuple[str, str, float]], min_words: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Sum the weighted term scores: (matching section numbers ascending, their scores).

    ``min_words``: a section counts only if it has at least that many of the word terms
    (the terms not in the ``grams`` field), each counted once."""
    size = searcher.reader().doc_count_all()
    acc = np.zeros(size, np.float64)
    seen = np.zeros(size, np.bool_)
    words = np.zeros(size, np.int32) if min_words else None
    counted: set[str] = set()
    for fieldname, term, weight in terms:
        docs, scores = cache.get(searcher, fieldname, term)
        if not len(docs):
            continue
        acc[docs] += scores if weight == 1.0 else weight * scores
        seen[docs] = True
        if words is not None and fieldname != "grams" and term not in counted:
            counted.add(term)
            words[docs] += 1
    if words is not None:
        seen &= words >= min_words
    matched = np.flatnonzero(seen)
    return matched, acc[matched]


def top(docs: np.ndarray, scores: np.ndarray, limit: int, key_of: Callable[[int], Any]) -> list[tuple[int, float]]:
    """The best ``limit`` of (docs, scores), equal scores in key order (``scoring.best``)."""
    if len(docs) > limit:
        # Only what can reach the top ``limit`` (ties with the cut included) goes on to ``best``.
        cut = np.partition(scores, len(scores) - limit)[len(scores) - limit]
        keep = scores >= cut
        docs, scores = docs[keep], scores[keep]
    return best(zip(docs.tolist(), scores.tolist(), strict=True), limit, key_of)


def rank(
    searcher: Searcher,
    cache: TermScoreCache,
    terms: list[tuple[str, str, float]],
    limit: int,
    key_of: Callable[[int], Any],
) -> tuple[int, list[tuple[int, float]]]:
    """Sum the weighted term scores; returns (sections matched, top ``limit`` (docnum, score))."""
    docs, scores = accumulate(searcher, cache, terms)
    return len(docs), top(docs, scores, limit, key_of)


def match_all(
    searcher: Searcher, cache: TermScoreCache, groups: tuple[tuple[str, ...], ...], fieldname: str = "grams"
) -> tuple[np.ndarray, np.ndarray]:
    """Sections that have every term of every group, with the sum of those terms' scores.

    The substring candidates of a keyword query: each typed word's folded bigrams,
    all required. Returns (docnums ascending, scores).
    """
    docs: np.ndarray | None = None
    total: np.ndarray | None = None
    for term in (t for group in groups for t in group):
        tdocs, tscores = cache.get(searcher, fieldname, term)
        if docs is None:
            docs, total = tdocs, tscores.copy()
        else:
            docs, left, right = np.intersect1d(docs, tdocs, assume_unique=True, return_indices=True)
            total = total[left] + tscores[right]  # type: ignore[index]
        if not len(docs):
            break
    if docs is None or total is None:
        return np.empty(0, np.int32), np.empty(0, np.float64)
    return docs, total


__all__ = ["CACHE_BYTES", "TermScoreCache", "accumulate", "match_all", "rank", "term_docs", "top"]
