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
from sakuin.search.embedded.writing.w3blocks import decode_ids_and_weights, inflated_blocks, term_info

Postings = tuple[np.ndarray, np.ndarray]
#: What the cache keeps per term: docnums, scores, and the term frequencies of a field
#: that has them (None where every one is 1: bigrams, readings).
_Entry = tuple[np.ndarray, np.ndarray, np.ndarray | None]
#: A term's posting list in each segment that has it: (segment searcher, first section number, term info).
Lists = list[tuple[Searcher, int, Any]]

#: Bytes of cached term scores per index version and process.
CACHE_BYTES = 64 * 1024 * 1024
#: What a cached term costs besides its arrays (key, tuple, three array headers).
_ENTRY_OVERHEAD = 500


def _cost(value: _Entry) -> int:
    return sum(int(a.nbytes) for a in value if a is not None) + _ENTRY_OVERHEAD


class TermScoreCache:
    """(field, term) → (docnums, BM25 scores) for one index version (its snapshot owns it), shared by threads.

    A word's term frequencies are kept beside its scores (``frequencies``): ranking asks
    whether a section has a word in its own text more often than in its title, which the
    frequencies answer without decoding the word's positions (a third of a two-word
    query's time at 1M sections when it did)."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self._items: ByteLRU[_Entry] = ByteLRU(max_bytes, _cost)
        self._lengths: dict[str, np.ndarray] = {}  # field → every section's length byte

    def _entry(self, searcher: Searcher, fieldname: str, term: str, lists: Lists | None = None) -> _Entry:
        return self._items.get_or_make(
            (fieldname, term), lambda: _score_postings(searcher, fieldname, term, self._lengths, lists)
        )

    def get(self, searcher: Searcher, fieldname: str, term: str, lists: Lists | None = None) -> Postings:
        """The term's (docnums, scores), scored on first use (``lists``: its ``term_lists``, if
        already looked up)."""
        docs, scores, _ = self._entry(searcher, fieldname, term, lists)
        return docs, scores

    def frequencies(self, searcher: Searcher, fieldname: str, term: str) -> Postings:
        """(docnums, term frequencies) of the term: every frequency 1 in a field that stores none."""
        docs, _, tf = self._entry(searcher, fieldname, term)
        return docs, tf if tf is not None else np.ones(len(docs), np.uint32)

    def lengths(self, searcher: Searcher, fieldname: str) -> np.ndarray:
        """Every section's length byte of ``fieldname``, kept for the snapshot's life."""
        return field_lengths(searcher, fieldname, self._lengths)

    def peek(self, fieldname: str, term: str) -> Postings | None:
        """The term's cached (docnums, scores), or None if it is not cached (nothing is read)."""
        found = self._items.peek((fieldname, term))
        return None if found is None else (found[0], found[1])

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


def term_lists(searcher: Searcher, fieldname: str, term: str) -> Lists:
    """(segment searcher, its first section number, the term's info there) of every segment
    that has ``term``, in section order: one term-table lookup per segment."""
    leaves = [(searcher, 0)] if searcher.is_atomic() else searcher.subsearchers
    found = []
    for sub, offset in leaves:
        info = term_info(sub.reader(), fieldname, term)
        if info is not None:
            found.append((sub, offset, info))
    return found


def _postings(
    searcher: Searcher, fieldname: str, term: str, lists: Lists | None = None
) -> tuple[np.ndarray, np.ndarray, Any, int] | None:
    """(section numbers, term frequencies) of ``term`` over every segment, deleted sections
    dropped, the first segment's searcher that has it, and how many postings were read
    (deleted sections counted: what the segments' term tables give as its document
    frequency); None: no segment has it. ``lists``: ``term_lists``, if already looked up.

    Reads Whoosh's W3 posting lists whole, their block headers with numpy
    (``sakuin.search.embedded.writing.w3blocks.block_table``), and decodes every segment's
    blocks at once (``decode_ids_and_weights``, which reads the ids and weights out of the
    block pickles without unpickling the positions): at 1M sections there are about fifty
    segments, and a rare term's one small block in each cost more in array calls than in
    reading.
    """
    if lists is None:
        lists = term_lists(searcher, fieldname, term)
    if not lists:
        return None
    counts: list[int] = []
    blocks: list[bytes] = []
    offsets: list[int] = []
    deleted: list[int] = []
    for sub, offset, info in lists:
        reader = sub.reader()
        n, datas = inflated_blocks(reader, info, name=f"{fieldname}:{term!r}")
        counts += n
        blocks += datas
        offsets += [offset] * len(n)
        gone = reader._perdoc.deleted_docs()
        if gone:
            deleted += [d + offset for d in gone]
    docs, tf = decode_ids_and_weights(counts, blocks, offsets)
    stored = len(docs)
    if deleted:
        keep = ~np.isin(docs, np.array(deleted, np.int64))
        docs, tf = docs[keep], tf[keep]
    return docs, tf, lists[0][0], stored


def term_docs(searcher: Searcher, fieldname: str, term: str) -> np.ndarray:
    """The live section numbers (ascending) that have ``term``, read a block at a time."""
    found = _postings(searcher, fieldname, term)
    return found[0] if found is not None else np.empty(0, np.int64)


def _lengths(searcher: Searcher, fieldname: str) -> np.ndarray:
    """Every section's length byte of ``fieldname``, segment after segment (0 past a column's end)."""
    leaves = [(searcher, 0)] if searcher.is_atomic() else searcher.subsearchers
    out = np.zeros(searcher.reader().doc_count_all(), np.uint8)
    for sub, offset in leaves:
        reader = sub.reader()
        column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if column is not None and column._count:
            out[offset : offset + column._count] = np.frombuffer(
                column._dbfile.get(column._basepos, column._count), np.uint8
            )
    return out


def _score_postings(
    searcher: Searcher,
    fieldname: str,
    term: str,
    lengths: dict[str, np.ndarray] | None = None,
    lists: Lists | None = None,
) -> _Entry:
    """Every live section's BM25 score for one term, computed in bulk.

    The same formula, statistics and float operations, in the same order, as
    Whoosh's ``BM25FScorer`` (``tests/embedded/test_snapshot.py`` checks the scores are
    identical); only the per-posting Python calls are gone. ``lengths``: the field's
    length bytes kept between calls (one byte per section and field, for the snapshot's life).
    Returns (docnums, scores, term frequencies or None when all are 1).
    """
    found = _postings(searcher, fieldname, term, lists)
    if found is None:
        return np.empty(0, np.int32), np.empty(0, np.float64), None
    docs, tf, sub, stored = found
    scorer = bm25_scorer(searcher, fieldname, term, sub, stored)
    if scorer is None:
        return (*_score_postings_slowly(searcher, fieldname, term), None)
    column = field_lengths(searcher, fieldname, lengths)
    scores = bm25(scorer, tf, column[docs])
    counts = tf.astype(np.uint32) if (tf != 1).any() else None  # a word field's occurrence counts
    return docs.astype(np.int32), scores, counts


def bm25_scorer(searcher: Searcher, fieldname: str, term: str, first: Searcher, stored: int) -> BM25FScorer | None:
    """The term's BM25F scorer, made from ``first``, the first segment that has it (every
    segment's scorer reads the same statistics, the whole index's, from its parent); None:
    the field is scored otherwise. The term's document frequency (BM25's idf) is taken from
    ``stored``, its postings over every segment (deleted ones included, as the term tables
    count them), not from another term-table lookup in each segment (a tenth of a two-word
    query at a million sections and fifty segments)."""
    learn = getattr(searcher, "learn_frequency", None)
    if learn is not None:
        learn(fieldname, term, stored)
    scorer = searcher.weighting.scorer(first, fieldname, term)
    return scorer if isinstance(scorer, BM25FScorer) else None


def bm25(scorer: BM25FScorer, tf: np.ndarray, length_bytes: np.ndarray) -> np.ndarray:
    """Whoosh's ``BM25FScorer`` score of term frequencies ``tf`` in fields of the given length
    bytes, in its float operations: the same bits for a posting whichever array it comes in."""
    fl = _BYTE_TO_LENGTH[length_bytes]
    idf, avgfl, b, k1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1
    return idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * fl / avgfl)))


def field_lengths(searcher: Searcher, fieldname: str, kept: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Every section's length byte of ``fieldname`` (``kept``: the snapshot's, filled on first use)."""
    column = kept.get(fieldname) if kept is not None else None
    if column is None:
        column = _lengths(searcher, fieldname)
        if kept is not None:
            kept[fieldname] = column
    return column


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


__all__ = [
    "CACHE_BYTES",
    "Lists",
    "TermScoreCache",
    "accumulate",
    "bm25",
    "bm25_scorer",
    "field_lengths",
    "rank",
    "term_docs",
    "term_lists",
    "top",
]
