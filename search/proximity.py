"""Proximity: a question's words found side by side in a section, in the question's order.

BM25 scores each word on its own, so a section that says 電話会談 and one that has
電話 in one sentence and 会談 three lines later score alike. The plan lists a
sentence's adjacent words (``search.query.plan.Pair``: consecutive positions,
particles not counted); a section that has a pair side by side, in order, earns
the pair's weight once, however often it has it.

Design decisions:

* **Ordered adjacency, a constant per pair.** On the dev set (README
  "Relevance") that did better than unordered windows, distance-decayed or
  idf-weighted pair scores and the longest run of consecutive words: the
  question's phrasing found again is the signal, and a constant is what both
  backends add the same way (the cluster: a ``constant_score`` ``match_phrase``).
* **Only the best ``PAIR_WINDOW`` sections are checked.** Sections below the
  window keep their score and stay below it (a bonus only raises), so the order
  is a fixed rule of the scores, whatever page is asked for. On the dev set a
  window of 20 ranked as well as one of 100.
* **Positions cached per word, per index version** (``TermPositions``), as the
  term scores are: a word's positions are decoded once, all of them, into flat
  numpy arrays. Reading them per query from Whoosh's postings (a compressed,
  pickled block per 128 postings, unpickled again for each posting) cost half
  the question's time; the common words recur across questions.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.formats import Characters
from whoosh.searching import Searcher

from search.bagofwords import TermScoreCache
from search.caches import ByteLRU
from search.query.plan import Pair

#: Sections, by score, in which a question's pairs are looked for.
PAIR_WINDOW = 20
#: Bytes of cached word positions per index version and process.
POSITION_BYTES = 16 * 1024 * 1024

#: (section numbers ascending, where each one's positions start in ``flat`` (one more
#: entry than sections), every position)
Positions = tuple[np.ndarray, np.ndarray, np.ndarray]


def _cost(value: Positions) -> int:
    return sum(int(a.nbytes) for a in value) + 300


class TermPositions:
    """(field, term) → its positions in every section, for one index version (its snapshot owns it)."""

    def __init__(self, max_bytes: int = POSITION_BYTES) -> None:
        self._items: ByteLRU[Positions] = ByteLRU(max_bytes, _cost)

    def get(self, searcher: Searcher, fieldname: str, term: str) -> Positions:
        return self._items.get_or_make((fieldname, term), lambda: _read(searcher, fieldname, term))

    def clear(self) -> None:
        self._items.clear()

    @property
    def bytes(self) -> int:
        return self._items.bytes


def _read(searcher: Searcher, fieldname: str, term: str) -> Positions:
    leaves = [(searcher, 0)] if searcher.is_atomic() else searcher.subsearchers
    docs: list[np.ndarray] = []
    counts: list[int] = []
    flat: list[int] = []
    for sub, offset in leaves:
        reader = sub.reader()
        if (fieldname, term) in reader:
            local = _leaf(reader, fieldname, term, counts, flat)
            docs.append(local + offset)
    starts = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=starts[1:])
    found = np.concatenate(docs).astype(np.int64) if docs else np.empty(0, np.int64)
    return found, starts, np.array(flat, np.int32)


def _leaf(reader: Any, fieldname: str, term: str, counts: list[int], flat: list[int]) -> np.ndarray:
    """One segment's section numbers of ``term``; appends each one's positions to ``counts``/``flat``.

    Whoosh's W3 blocks are read whole (as ``search.bagofwords`` reads them) and
    each posting's value is decoded here as ``Characters.decode_positions`` does: a
    count, then a pickled list of (position delta, start delta, length)."""
    fmt = reader.schema[fieldname].format
    matcher = reader._terms.matcher(fieldname, reader._text_to_bytes(fieldname, term), fmt)
    if not isinstance(matcher, W3LeafMatcher) or matcher._byteids or not isinstance(fmt, Characters):
        ids = []
        while matcher.is_active():  # inlined in the terms file, or another format: Whoosh decodes
            ids.append(matcher.id())
            found = matcher.value_as("positions")
            counts.append(len(found))
            flat.extend(found)
            matcher.next()
        return np.array(ids, np.int64)
    blocks = []
    while not matcher._atend:
        if matcher._data is None:
            matcher._read_data()
        blocks.append(np.cumsum(np.asarray(matcher._data[0], np.int64)))
        for value in matcher._data[2]:
            position = 0
            codes = pickle.loads(value[4:] if value.endswith(b".") else value[4:] + b".")
            for code in codes:
                position += code[0]
                flat.append(position)
            counts.append(len(codes))
        matcher._next_block()
    return np.concatenate(blocks) if blocks else np.empty(0, np.int64)


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
    positions: TermPositions,
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
                has[key] = _among(candidates, cache.get(searcher, pair.field, term)[0])
            masks.append(has[key])
        both = np.flatnonzero(masks[0] & masks[1])
        if not len(both):
            continue
        first = _at(positions.get(searcher, pair.field, pair.first), candidates[both])
        second = _at(positions.get(searcher, pair.field, pair.second), candidates[both])
        for i, a, b in zip(both.tolist(), first, second, strict=True):
            if not set((a + 1).tolist()).isdisjoint(b.tolist()):
                bonus[i] += pair.weight
    out = scores.copy()
    out[chosen] += bonus
    return out


def _among(wanted: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """Which of ``wanted`` are in the ascending ``docs`` (a binary search each: ``np.isin``
    would sort a common word's whole list for a score or two of candidates)."""
    if not len(docs):
        return np.zeros(len(wanted), np.bool_)
    idx = np.minimum(np.searchsorted(docs, wanted), len(docs) - 1)
    return docs[idx] == wanted


def _at(found: Positions, wanted: np.ndarray) -> list[np.ndarray]:
    """The positions of each section of ``wanted`` (all of which have the term)."""
    docs, starts, flat = found
    idx = np.searchsorted(docs, wanted)
    return [flat[starts[i] : starts[i + 1]] for i in idx.tolist()]


__all__ = ["PAIR_WINDOW", "POSITION_BYTES", "TermPositions", "window", "with_pairs"]
