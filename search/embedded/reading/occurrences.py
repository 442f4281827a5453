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
  request reads only the sections it needs from it.
* **Any Whoosh ``Characters`` value.** Each posting's value is decoded with
  ``pickle.loads`` (what ``Characters.decode_characters`` does), so a segment
  written by Whoosh's own writer reads the same as one of ``sakuin.search.embedded.writing.segments``.
* **Global section numbers, deleted ones included.** Callers ask about sections
  they already know are live hits, so nothing is filtered here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pickle import loads
from typing import Any

import numpy as np
from whoosh.searching import Searcher

from sakuin.search.embedded.reading.caches import ByteLRU
from sakuin.search.embedded.writing.w3blocks import read_blocks

#: Bytes of decoded occurrences per index version and process.
CACHE_BYTES = 32 * 1024 * 1024
#: A word in more sections than this is read only where a request needs it: decoding a
#: list costs ~1.5 µs a section (a common word at 1M sections: a third of a second),
#: skipping to a section ~50 µs.
WHOLE_LIST_MAX = 20_000


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

    def get(self, searcher: Searcher, fieldname: str, word: str, docnums: list[int] | None = None) -> Occurrences:
        """The word's occurrences, every section's (decoded once, kept), or, for a word in
        more than ``WHOLE_LIST_MAX`` sections when the caller names the ``docnums`` it
        needs, only those sections' (read by skipping to them, not kept)."""
        key = (fieldname, word)
        if (
            docnums is not None
            and self._items.peek(key) is None
            and searcher.doc_frequency(fieldname, word) > WHOLE_LIST_MAX
        ):
            return read_some(searcher, fieldname, word, docnums)
        return self._items.get_or_make(key, lambda: decode(searcher, fieldname, word))

    @property
    def bytes(self) -> int:
        return self._items.bytes

    def clear(self) -> None:
        self._items.clear()


def decode(searcher: Searcher, fieldname: str, word: str) -> Occurrences:
    """Every occurrence of ``word`` in ``fieldname`` (a ``Characters`` field), in section order."""
    leaves = [(searcher, 0)] if searcher.is_atomic() else searcher.subsearchers
    docs: list[int] = []
    counts: list[int] = []
    flat: list[int] = []  # (position delta, start delta, length) per occurrence
    for sub, offset in leaves:
        reader = sub.reader()
        if (fieldname, word) not in reader:
            continue
        for doc, value in _postings(reader, fieldname, word):
            codes = loads(value[4:])  # Characters: a uint count, then the pickled deltas
            docs.append(doc + offset)
            counts.append(len(codes))
            for code in codes:
                flat.extend(code)
    if not docs:
        return _EMPTY
    found, bounds, deltas = _arrays(docs, counts, flat)
    # Deltas restart at each posting: position and end are running sums within a posting.
    positions = _running(deltas[:, 0], bounds)
    ends = _running(deltas[:, 1] + deltas[:, 2], bounds)
    return Occurrences(
        found, bounds, positions.astype(np.int32), (ends - deltas[:, 2]).astype(np.int32), ends.astype(np.int32)
    )


def _arrays(docs: list[int], counts: list[int], flat: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sections, where each one's rows start and end, the rows as an n × 3 array)."""
    bounds = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=bounds[1:])
    return np.array(docs, np.int64), bounds, np.array(flat, np.int64).reshape(-1, 3)


def read_some(searcher: Searcher, fieldname: str, word: str, docnums: list[int]) -> Occurrences:
    """``decode`` of only the sections ``docnums`` (those that have the word), skipping to each."""
    leaves = [(searcher, 0)] if searcher.is_atomic() else searcher.subsearchers
    bounds = [offset for _, offset in leaves] + [searcher.reader().doc_count_all()]
    wanted = sorted(set(docnums))
    docs: list[int] = []
    counts: list[int] = []
    rows: list[int] = []
    at = 0
    for n, (sub, offset) in enumerate(leaves):
        mine = []
        while at < len(wanted) and wanted[at] < bounds[n + 1]:
            mine.append(wanted[at] - offset)
            at += 1
        reader = sub.reader()
        if not mine or (fieldname, word) not in reader:
            continue
        matcher = reader.postings(fieldname, word)
        for local in mine:
            if not matcher.is_active():
                break
            if matcher.id() < local:
                matcher.skip_to(local)
            if matcher.is_active() and matcher.id() == local:
                found = matcher.value_as("characters")
                docs.append(local + offset)
                counts.append(len(found))
                for row in found:
                    rows.extend(row)
    if not docs:
        return _EMPTY
    found, bounds_out, flat = _arrays(docs, counts, rows)
    return Occurrences(found, bounds_out, *(flat[:, k].astype(np.int32) for k in range(3)))


def _running(values: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Cumulative sums of ``values`` restarting at each posting (rows ``bounds[i]:bounds[i + 1]``)."""
    total = np.cumsum(values)
    starts = bounds[:-1]
    before = np.where(starts > 0, total[np.maximum(starts - 1, 0)], 0)
    return total - np.repeat(before, np.diff(bounds))


def _postings(reader: Any, fieldname: str, word: str) -> list[tuple[int, bytes]]:
    """(segment-local section, value) of every posting, a block at a time where Whoosh allows."""
    out: list[tuple[int, bytes]] = []
    blocks = read_blocks(reader, fieldname, word)
    if blocks is not None:
        for deltas, _weights, values in blocks:
            out.extend(zip(np.cumsum(deltas).tolist(), values, strict=True))
        return out
    matcher = reader._terms.matcher(fieldname, reader._text_to_bytes(fieldname, word), reader.schema[fieldname].format)
    while matcher.is_active():
        out.append((matcher.id(), matcher.value()))
        matcher.next()
    return out


__all__ = ["CACHE_BYTES", "WHOLE_LIST_MAX", "Occurrences", "TermOccurrences", "among", "decode", "lookup", "read_some"]
