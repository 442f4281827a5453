"""Where a word occurs, decoded once per index version: positions and character offsets.

Phrase queries need a word's positions in the sections that have all the words,
and highlights need its character offsets in the ten hits of a page. Reading
them through Whoosh's matcher (``skip_to`` a section, then ``value_as``) walks
the posting list block by block, unpickling each block header and the values of
each block it lands in, for every request: on livedoor that was a third of a
server's CPU. ``TermOccurrences`` decodes a word's whole posting list once into
flat arrays and keeps it for the snapshot's life (bounded in bytes, as the term
scores are, ``sakuin.search.embedded.reading.bagofwords``); a request then finds a section's
occurrences with a binary search.

Design decisions:

* **Whole lists, cached.** The words of a query recur across queries (their
  common words most of all, whose lists are the long ones to walk), so decoding
  a list once costs less than skipping through it on every request. Except for
  the commonest words of a large index (``WHOLE_LIST_MAX``): a list of 300,000
  sections takes a third of a second to decode and megabytes to keep, so a
  request reads only the sections it needs from it. And a word much longer than
  what a request asks of it (``POSTINGS_PER_ASKED``) is decoded only once it is
  asked for a second time: a one-off query at 1M sections reads its ten hits
  instead of decoding thousands of sections it will never show.
* **Any Whoosh ``Characters`` value.** Each posting's value is decoded with
  ``pickle.loads`` (what ``Characters.decode_characters`` does), so a segment
  written by Whoosh's own writer reads the same as one of ``sakuin.search.embedded.writing.segments``.
* **Global section numbers, deleted ones included.** Callers ask about sections
  they already know are live hits, so nothing is filtered here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from pickle import loads
from typing import Any

import numpy as np
from whoosh.searching import Searcher

from sakuin.search.embedded.reading.caches import ByteLRU
from sakuin.search.embedded.writing.w3blocks import (
    block_table,
    characters_deltas,
    read_blocks,
    running_sums,
    term_info,
)

#: Bytes of decoded occurrences per index version and process.
CACHE_BYTES = 32 * 1024 * 1024
#: A word in more sections than this is read only where a request needs it: decoding a
#: list costs ~1.5 µs a section (a common word at 1M sections: a third of a second),
#: reading the blocks that hold the asked sections (``read_some``) tens of µs a block.
WHOLE_LIST_MAX = 20_000
#: Below that, a word with more than this many sections per section a request asks for
#: is decoded whole only when it is asked for again (``TermOccurrences.get``). On the
#: 1M-section scale corpus (about fifty segments) decoding took ~1 ms per thousand
#: sections plus ~2 ms, reading the asked sections ~0.12 ms each: a page's ten hits
#: were read in ~1.5 ms where decoding a word in 5,000 sections took 7 ms, which pays
#: back only if the word comes back while it is cached.
POSTINGS_PER_ASKED = 100
#: How many words asked for once ``TermOccurrences`` remembers (the oldest go first).
ASKED_WORDS = 10_000


@dataclass(frozen=True, slots=True)
class Occurrences:
    """A word's occurrences in one field: ``docs`` (ascending) has it at ``positions``,
    ``starts`` and ``ends`` rows ``bounds[i] : bounds[i + 1]``."""

    docs: np.ndarray
    bounds: np.ndarray
    positions: np.ndarray
    starts: np.ndarray
    ends: np.ndarray

    @property
    def nbytes(self) -> int:
        return sum(int(a.nbytes) for a in (self.docs, self.bounds, self.positions, self.starts, self.ends)) + 300

    def rows(self, docnums: list[int]) -> list[tuple[int, int] | None]:
        """For each of ``docnums``: its rows (start, end) in the flat arrays, or None if it lacks the word."""
        if not len(self.docs):
            return [None] * len(docnums)
        inside, found = lookup(self.docs, docnums)
        bounds = self.bounds
        return [
            (int(bounds[i]), int(bounds[i + 1])) if ok else None
            for i, ok in zip(inside.tolist(), found.tolist(), strict=True)
        ]


def lookup(docs: np.ndarray, wanted: Any) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``wanted`` is, or would be, in the ascending non-empty ``docs``, and
    whether it is there: a binary search each (``np.isin`` would sort a common word's
    whole list for the handful of sections a request asks about)."""
    inside = np.minimum(np.searchsorted(docs, wanted), len(docs) - 1)
    return inside, docs[inside] == wanted


def among(wanted: Any, docs: np.ndarray) -> np.ndarray:
    """Which of ``wanted`` are in the ascending ``docs``."""
    return lookup(docs, wanted)[1] if len(docs) else np.zeros(len(wanted), np.bool_)


_EMPTY = Occurrences(*(np.zeros(n, np.int32) for n in (0, 1, 0, 0, 0)))


class TermOccurrences:
    """(field, word) → its ``Occurrences`` for one index version (its snapshot owns it), shared by threads."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self._items: ByteLRU[Occurrences] = ByteLRU(max_bytes, lambda o: o.nbytes)
        self._asked: dict[tuple[str, str], None] = {}  # words read in part once, oldest first
        self._lock = threading.Lock()

    def get(self, searcher: Searcher, fieldname: str, word: str, docnums: list[int] | None = None) -> Occurrences:
        """The word's occurrences, every section's (decoded once, kept), or only those of
        ``docnums`` (read from the blocks that hold them, not kept) when the caller names them and the
        word is in more than ``WHOLE_LIST_MAX`` sections, or in more than
        ``POSTINGS_PER_ASKED`` per asked section the first time it is asked for: a word
        is decoded whole when it comes back (admitted on its second request), so the
        words a server sees again and again are cached and a one-off costs only its hits."""
        key = (fieldname, word)
        if docnums is not None and self._items.peek(key) is None:
            df = searcher.doc_frequency(fieldname, word)
            if df > WHOLE_LIST_MAX or (df > POSTINGS_PER_ASKED * len(docnums) and self._first_time(key)):
                return read_some(searcher, fieldname, word, docnums)
        return self._items.get_or_make(key, lambda: decode(searcher, fieldname, word))

    def _first_time(self, key: tuple[str, str]) -> bool:
        """Whether ``key`` has not been asked for (among the last ``ASKED_WORDS``); remembers it."""
        with self._lock:
            if key in self._asked:
                return False
            self._asked[key] = None
            if len(self._asked) > ASKED_WORDS:
                del self._asked[next(iter(self._asked))]
            return True

    @property
    def bytes(self) -> int:
        return self._items.bytes

    def clear(self) -> None:
        self._items.clear()
        with self._lock:
            self._asked.clear()


def decode(searcher: Searcher, fieldname: str, word: str) -> Occurrences:
    """Every occurrence of ``word`` in ``fieldname`` (a ``Characters`` field), in section order."""
    leaves = [(searcher, 0)] if searcher.is_atomic() else searcher.subsearchers
    found = _Found()
    for sub, offset in leaves:
        found.add(_postings(sub.reader(), fieldname, word), offset)
    return found.occurrences()


def read_some(searcher: Searcher, fieldname: str, word: str, docnums: list[int]) -> Occurrences:
    """``decode`` of only the sections ``docnums`` (those that have the word): each segment's
    block headers are read (``w3blocks.block_table``, with numpy), and only the blocks whose
    section range holds one of them are inflated and unpickled. Skipping to each section
    through Whoosh's matcher cost ~20 µs a section, unpickling every header on the way; a
    phrase of common words asks for thousands of sections."""
    leaves = [(searcher, 0)] if searcher.is_atomic() else searcher.subsearchers
    bounds = [offset for _, offset in leaves] + [searcher.reader().doc_count_all()]
    wanted = sorted(set(docnums))
    found = _Found()
    at = 0
    for n, (sub, offset) in enumerate(leaves):
        mine = []
        while at < len(wanted) and wanted[at] < bounds[n + 1]:
            mine.append(wanted[at] - offset)
            at += 1
        if mine:
            found.add(_picked(sub.reader(), fieldname, word, mine), offset)
    return found.occurrences()


class _Found:
    """Postings' values gathered segment by segment, then made ``Occurrences``."""

    def __init__(self) -> None:
        self.docs: list[int] = []
        self.values: list[bytes] = []  # Characters: a uint count, then the pickled deltas

    def add(self, postings: Iterable[tuple[int, bytes]], offset: int) -> None:
        for doc, value in postings:
            self.docs.append(doc + offset)
            self.values.append(value)

    def occurrences(self) -> Occurrences:
        if not self.docs:
            return _EMPTY
        counts, deltas = characters_deltas(self.values)  # (position delta, start delta, length) each
        bounds = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(counts, out=bounds[1:])
        # Deltas restart at each posting: position and end are running sums within a posting.
        positions = running_sums(deltas[:, 0], counts)
        ends = running_sums(deltas[:, 1] + deltas[:, 2], counts)
        return Occurrences(
            np.array(self.docs, np.int64),
            bounds,
            positions.astype(np.int32),
            (ends - deltas[:, 2]).astype(np.int32),
            ends.astype(np.int32),
        )


def _picked(reader: Any, fieldname: str, word: str, mine: list[int]) -> Iterator[tuple[int, bytes]]:
    """(section, value) of the ascending segment-local ``mine`` that have the word, from the
    blocks that can hold them."""
    info = term_info(reader, fieldname, word)
    if info is None:
        return
    table = block_table(reader, info, f"{fieldname}:{word!r}")
    wanted = np.asarray(mine, np.int64)
    where = np.searchsorted(np.asarray(table.lasts, np.int64), wanted)
    inside = where < len(table.lasts)
    for block in np.unique(where[inside]).tolist():
        deltas, _, values = loads(table.pickle(block))
        ids = np.cumsum(np.asarray(deltas, np.int64))
        asked = wanted[where == block]
        at = np.minimum(np.searchsorted(ids, asked), len(ids) - 1)
        for local, i, ok in zip(asked.tolist(), at.tolist(), (ids[at] == asked).tolist(), strict=True):
            if ok:
                yield local, values[i]


def _postings(reader: Any, fieldname: str, word: str) -> list[tuple[int, bytes]]:
    """(segment-local section, value) of every posting, read a block at a time."""
    blocks = read_blocks(reader, fieldname, word)
    if blocks is None:
        return []
    ids = running_sums(
        np.fromiter(chain.from_iterable(b[0] for b in blocks), np.int64), np.array([len(b[0]) for b in blocks])
    )
    return list(zip(ids.tolist(), chain.from_iterable(b[2] for b in blocks), strict=True))


__all__ = [
    "ASKED_WORDS",
    "CACHE_BYTES",
    "POSTINGS_PER_ASKED",
    "WHOLE_LIST_MAX",
    "Occurrences",
    "TermOccurrences",
    "among",
    "decode",
    "lookup",
    "read_some",
]
