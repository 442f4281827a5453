"""Metadata as arrays: filters, facet counts, sort keys and duplicate groups per snapshot.

A snapshot (``sakuin.search.embedded.reading.snapshot``) owns one ``MetaTables``; each table is built
on first use from the index and kept for the version's life:

* a keyword field (and ``path``) → ``ValueTable``: its values in term order and,
  for every value, the sections that carry it (one array of section numbers and
  one of value ids, grouped by value), and the same pairs by section (the value ids
  of section d at ``doc_vids[by_doc[d]:by_doc[d + 1]]``). A filter is a slice of
  the first; the facet counts of a request are one ``bincount`` of the matching
  sections' value ids read from the second: exact counts over all matches at a
  cost that follows the number of matches, not the size of the index (a common
  word's 1 % of a million sections is read, not the million). Only when the
  matches carry most of the field's postings is one pass over them cheaper;
* a date or number field → a float64 array over section numbers (NaN: none);
* ``dup`` → the body hashes that collapse the same text in several documents;
* ``live`` → which section numbers are not deleted (for queries that are only filters).

Memory: 8 bytes per section per date/number field; per keyword field 20 bytes per
posting and 8 per section, built once per version and process (≈ 8 MB per date
field and ≈ 28 MB per single-valued keyword field at 1M sections).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sakuin.search.analysis.normalize import fold
from sakuin.search.documents.metadata import PATH, SEP, column_name
from sakuin.search.embedded.reading.bagofwords import term_docs
from sakuin.search.query.filters import FAll, FilterNode, FNot, Match, Range


@dataclass(frozen=True)
class ValueTable:
    """One keyword field's values and the sections of each."""

    name: str
    values: tuple[str, ...]
    docs: np.ndarray  # section numbers, grouped by value
    vids: np.ndarray  # the value id of each entry of ``docs``
    starts: np.ndarray  # value v's sections are docs[starts[v]:starts[v + 1]]
    by_value: dict[str, int]
    by_folded: dict[str, list[int]]
    by_doc: np.ndarray  # section d's value ids are doc_vids[by_doc[d]:by_doc[d + 1]]
    doc_vids: np.ndarray
    single: bool  # no section has two values (then by_doc[d] alone locates its value)

    def lookup(self, value: str) -> list[int]:
        """Value ids matching ``value``: exactly, else ignoring width and case."""
        vid = self.by_value.get(value)
        if vid is not None:
            return [vid]
        return self.by_folded.get(fold(value), [])

    def sections(self, vids: list[int]) -> np.ndarray:
        parts = [self.docs[self.starts[v] : self.starts[v + 1]] for v in vids]
        return np.concatenate(parts) if parts else np.empty(0, np.int64)

    def counts(self, matched: np.ndarray) -> np.ndarray:
        """Sections per value among ``matched`` (a boolean array over section numbers)."""
        if not len(self.docs):
            return np.zeros(len(self.values), np.int64)
        return np.bincount(self.vids[matched[self.docs]], minlength=len(self.values))

    def counts_of(self, docs: np.ndarray) -> np.ndarray:
        """Sections per value among ``docs`` (distinct section numbers), read section by
        section: the cost follows ``len(docs)``, not the number of sections in the index."""
        if not len(self.docs) or not len(docs):
            return np.zeros(len(self.values), np.int64)
        lo = self.by_doc[docs]
        size = self.by_doc[docs + 1] - lo
        if self.single:
            return np.bincount(self.doc_vids[lo[size > 0]], minlength=len(self.values))
        total = int(size.sum())
        if 2 * total > len(self.docs):  # most of the postings: one pass over them is cheaper
            matched = np.zeros(len(self.by_doc) - 1, np.bool_)
            matched[docs] = True
            return self.counts(matched)
        # The positions lo[i] .. lo[i] + size[i] - 1 of every section, in one array.
        where = np.repeat(lo - (np.cumsum(size) - size), size) + np.arange(total)
        return np.bincount(self.doc_vids[where], minlength=len(self.values))


class MetaTables:
    """The lazily built metadata arrays of one snapshot; safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # a table may be made from others (examples: a keyword table)
        self._tables: dict[str, Any] = {}

    def get(self, key: str, make: Callable[[], Any]) -> Any:
        """The table ``key``, made by ``make()`` on first use (one thread makes it)."""
        table = self._tables.get(key)
        if table is None:
            with self._lock:
                table = self._tables.get(key)
                if table is None:
                    table = self._tables[key] = make()
        return table

    def keyword(self, searcher: Any, name: str) -> ValueTable:
        return self.get(f"k:{name}", lambda: _value_table(searcher, name))

    def numbers(self, searcher: Any, name: str) -> np.ndarray:
        return self.get(f"n:{name}", lambda: _column(searcher, column_name(name), np.float64, np.nan))

    def dups(self, searcher: Any) -> np.ndarray:
        return self.get("dup", lambda: _column(searcher, "dup", np.uint64, 0))

    def live(self, searcher: Any) -> np.ndarray:
        return self.get("live", lambda: _live(searcher))

    def key_ranks(self, searcher: Any) -> np.ndarray:
        """Each section's place in section-key order: equal scores rank by it
        (``sakuin.search.embedded.reading.scoring.best``). Read once per snapshot: opening the key column
        for a request read its whole offset table each time."""
        return self.get("keys", lambda: _key_ranks(searcher))

    def clear(self) -> None:
        with self._lock:
            self._tables.clear()


def evaluate(node: FilterNode, tables: MetaTables, searcher: Any) -> np.ndarray:
    """The sections (a boolean array over section numbers) that pass a plan's filter."""
    size = searcher.reader().doc_count_all()
    if isinstance(node, Match):
        out = np.zeros(size, np.bool_)
        for value in node.values:
            if node.field == PATH:
                if not value:  # the root folder: every document (an access rule's path = "")
                    out |= tables.live(searcher)
                    continue
                terms = [value] if value.endswith("/") else [value, f"{value}/"]
                for term in terms:
                    out[term_docs(searcher, "facets", f"{PATH}{SEP}{term}")] = True
            else:
                table = tables.keyword(searcher, node.field)
                out[table.sections(table.lookup(value))] = True
        return out
    if isinstance(node, Range):
        values = tables.numbers(searcher, node.field)
        out = np.ones(size, np.bool_)
        with np.errstate(invalid="ignore"):
            if node.low is not None:
                out &= values >= node.low if node.low_inclusive else values > node.low
            if node.high is not None:
                out &= values <= node.high if node.high_inclusive else values < node.high
            out &= ~np.isnan(values)
        return out
    if isinstance(node, FNot):
        return ~evaluate(node.child, tables, searcher) & tables.live(searcher)
    masks = [evaluate(c, tables, searcher) for c in node.children]
    if isinstance(node, FAll):
        return all_of(masks)  # type: ignore[return-value]
    combined = masks[0].copy()
    for m in masks[1:]:
        combined |= m
    return combined


def all_of(masks: list[np.ndarray]) -> np.ndarray | None:
    """The sections every mask passes (None: no masks, nothing filtered)."""
    if not masks:
        return None
    out = masks[0].copy()
    for m in masks[1:]:
        out &= m
    return out


def _value_table(searcher: Any, name: str) -> ValueTable:
    sections = searcher.reader().doc_count_all()
    prefix = f"{name}{SEP}"
    values: list[str] = []
    docs: list[np.ndarray] = []
    for term in searcher.reader().expand_prefix("facets", prefix):
        text = term.decode("utf-8") if isinstance(term, bytes) else term
        value = text[len(prefix) :]
        if name == PATH and not value.endswith("/"):
            continue  # a file's own path: filterable, not a facet value
        found = term_docs(searcher, "facets", text)
        if len(found):
            values.append(value)
            docs.append(found)
    sizes = np.array([len(d) for d in docs], np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    by_folded: dict[str, list[int]] = {}
    for vid, value in enumerate(values):
        by_folded.setdefault(fold(value), []).append(vid)
    flat = np.concatenate(docs).astype(np.int64) if docs else np.empty(0, np.int64)
    vids = np.repeat(np.arange(len(values), dtype=np.int64), sizes)
    per_doc = np.bincount(flat, minlength=sections)
    order = np.argsort(flat, kind="stable")
    return ValueTable(
        name,
        tuple(values),
        flat,
        vids,
        starts,
        {v: i for i, v in enumerate(values)},
        by_folded,
        np.concatenate([[0], np.cumsum(per_doc)]).astype(np.int64),
        vids[order].astype(np.int32),
        bool(per_doc.max(initial=0) <= 1),
    )


def _column(searcher: Any, column: str, dtype: Any, default: Any) -> np.ndarray:
    """A fixed-width numeric column of every segment, read in bulk (big-endian, as Whoosh writes it)."""
    reader = searcher.reader()
    out = np.full(reader.doc_count_all(), default, dtype)
    for leaf, offset in reader.leaf_readers():
        if not leaf.has_column(column):
            continue
        col = leaf.column_reader(column, translate=False)
        if not hasattr(col, "_fixedlen"):  # an empty column: every section has the default
            continue
        count = getattr(col, "_count", 0)
        if count:
            raw = col._dbfile.get(col._basepos, count * col._fixedlen)
            out[offset : offset + count] = np.frombuffer(raw, np.dtype(dtype).newbyteorder(">"))
    return out


def _key_ranks(searcher: Any) -> np.ndarray:
    """Each section's place in section-key order (ties, which keys do not have, in section
    order). The keys are read from each segment's ``key`` column in one slice, as a matrix
    of their UTF-8 bytes (zero-padded; UTF-8 orders as the characters do), and sorted as
    fixed-width byte strings: a Python string per section and a sort of them took 0.7 s
    at 1M sections on the first query of every version, and memory in proportion."""
    reader = searcher.reader()
    leaves = reader.leaf_readers()
    columns = [leaf.column_reader("key", translate=False) for leaf, _ in leaves]
    if not all(hasattr(c, "_offsets") and hasattr(c, "_lengths") for c in columns):
        keys = list(reader.column_reader("key"))  # another column type: one string per section
        ranks = np.empty(len(keys), np.int64)
        ranks[np.argsort(np.array(keys), kind="stable")] = np.arange(len(keys))
        return ranks
    lengths = [np.asarray(c._lengths, np.int64) for c in columns]
    width = max((int(n.max()) for n in lengths if len(n)), default=0) or 1
    keys = np.zeros((reader.doc_count_all(), width), np.uint8)
    for (_, offset), column, n in zip(leaves, columns, lengths, strict=True):
        if not len(n):
            continue
        starts = np.asarray(column._offsets, np.int64)
        size = int((starts + n).max())
        data = np.frombuffer(column._dbfile.get(column._basepos, size), np.uint8) if size else np.zeros(1, np.uint8)
        for lo in range(0, len(n), 65536):  # bounded temporaries
            hi = min(lo + 65536, len(n))
            at = starts[lo:hi, None] + np.arange(width)
            inside = np.arange(width) < n[lo:hi, None]
            keys[offset + lo : offset + hi] = np.where(inside, data[np.minimum(at, len(data) - 1)], 0)
    ranks = np.empty(len(keys), np.int64)
    ranks[np.argsort(keys.view(f"S{width}").ravel(), kind="stable")] = np.arange(len(keys))
    return ranks


def _live(searcher: Any) -> np.ndarray:
    reader = searcher.reader()
    out = np.ones(reader.doc_count_all(), np.bool_)
    for leaf, offset in reader.leaf_readers():
        deleted = leaf._perdoc.deleted_docs() if hasattr(leaf, "_perdoc") else ()
        if deleted:
            out[np.fromiter(deleted, np.int64) + offset] = False
    return out


__all__ = ["MetaTables", "ValueTable", "all_of", "evaluate"]
