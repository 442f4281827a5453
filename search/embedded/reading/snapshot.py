"""One open index version: its searchers, statistics and caches, with one owner.

A server thread asks ``LiveIndex.pin()`` for the live version and gets a
``Snapshot`` and a searcher of it for the length of one request. Everything a
request reads (the section count, the manifest, term statistics, cached term
scores) comes from that one snapshot, so a request never mixes two versions.

Design decisions:

* **One snapshot per version per process.** The manifest and ``deleted.json``
  are parsed once, the term-score cache is the snapshot's, and all of it goes
  when the version is retired: nothing grows with the number of versions a
  long-running server has seen.
* **A pool of searchers, not one per thread.** Whoosh searchers keep a read
  position in their files, so two threads must not use one at the same time; a
  request borrows one exclusively and returns it. The pool keeps at most
  ``pool_size`` idle searchers (the server's threads), so the memory of searchers
  is bounded by concurrency, not by threads × versions. Segment files are read in
  place (``sakuin.search.embedded.reading.mapped``): a searcher's own memory is small.
* **Caches bounded in bytes, owned by the snapshot**: one budget (``CACHE_BYTES``,
  ``SAKUIN_CACHE_MB``, 136 MB) shared by term scores (64 MB), words' decoded
  positions and offsets for phrases and highlights (32 MB), the stored fields of
  sections shown (32 MB) and document frequencies (8 MB); all go with the version.
  A worker's memory is therefore about the page cache it shares plus a fixed
  ~200 MB per live version (the budget, the did-you-mean vocabulary and what the
  allocator keeps around them), whatever the traffic. (The substring check reads
  the index's ``folded`` column, which needs no cache.)
* **Retire, then close when the last borrower returns.** When CURRENT moves, the
  next request opens the new snapshot, warms it (the first query on it must not
  pay for cold readers) and swaps it in; requests already running finish on the
  old one, which closes its files when its last searcher comes back.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh.searching import Searcher

from sakuin.search import config
from sakuin.search.analysis.settings import AnalysisSettings
from sakuin.search.analysis.thesaurus import Sources
from sakuin.search.config import CACHE_SHARES, DEFAULT_POOL
from sakuin.search.documents.metadata import Declaration
from sakuin.search.embedded.livestats import DeletedStats, LiveSearcher
from sakuin.search.embedded.reading.bagofwords import TermScoreCache
from sakuin.search.embedded.reading.caches import ByteLRU
from sakuin.search.embedded.reading.mapped import advise_random, larger_than_memory
from sakuin.search.embedded.reading.mapped import install as read_segments_in_place
from sakuin.search.embedded.reading.metatables import MetaTables
from sakuin.search.embedded.reading.occurrences import TermOccurrences
from sakuin.search.embedded.reading.scoring import SakuinBM25
from sakuin.search.embedded.schema import open_index
from sakuin.search.embedded.store import CURRENT, MANIFEST, IndexStore, version_dictionaries
from sakuin.search.indexing.ids import load as load_manifest

read_segments_in_place()  # a pool of searchers must not mean a copy of the index per searcher

#: Cached document frequencies cost about 120 bytes each (key tuple, strings, entry).
_FREQUENCY_COST = 120


def _stored_cost(fields: dict[str, Any]) -> int:
    return sum(len(v) * 4 + 80 if isinstance(v, str) else 200 for v in fields.values()) + 300


class SnapshotClosed(RuntimeError):
    """The snapshot was retired and closed before this borrower reached it."""


class Snapshot:
    """One index version opened for reading; ``close()`` releases its files."""

    def __init__(self, folder: Path, pool_size: int = DEFAULT_POOL, cache_bytes: int | None = None) -> None:
        self.folder = folder
        self.name = folder.name
        self.pool_size = pool_size
        self.manifest: dict[str, Any] = load_manifest((folder / MANIFEST).read_text(encoding="utf-8"))
        self.declaration = Declaration.from_manifest(self.manifest.get("metadata"))
        #: How the version analyses text: its synonyms (files followed as they change) and the
        #: compiled user dictionaries every analysis of a request on it uses.
        self.analysis = AnalysisSettings.from_manifest(self.manifest.get("analysis"))
        self.synonyms = Sources(self.analysis.synonyms)
        self.dictionaries = version_dictionaries(folder, self.analysis)
        self.index = open_index(folder, self.declaration)
        #: Whether its searchers' mappings are advised random access (``mapped.larger_than_memory``).
        self.random_access = larger_than_memory(sum(f.stat().st_size for f in folder.glob("*.seg")))
        self.deleted = DeletedStats.load(folder)
        self.deleted.totals()  # summed once here, not per searcher
        budget = config.cache_bytes() if cache_bytes is None else cache_bytes
        share = {name: int(budget * part) for name, part in CACHE_SHARES.items()}
        self.scores = TermScoreCache(share["scores"])
        #: (field, word) → positions and offsets, for phrases and highlights (``occurrences``).
        self.occurrences = TermOccurrences(share["occurrences"])
        #: Filters, facet counts, sort keys, duplicate groups (``sakuin.search.embedded.reading.metatables``).
        self.meta = MetaTables()
        #: (field, word) → live document frequency, for query plans and scorers.
        self.frequencies: ByteLRU[int] = ByteLRU(share["frequencies"], lambda _: _FREQUENCY_COST)
        #: docnum → stored fields of the sections hits show (unpickled and unzipped once).
        self.stored: ByteLRU[dict[str, Any]] = ByteLRU(share["stored"], _stored_cost)
        self._lock = threading.Lock()
        self._idle: list[LiveSearcher] = []
        self._borrowed = 0
        self._retired = False
        self.closed = False

    def _open_searcher(self) -> LiveSearcher:
        reader = self.index.reader()
        if self.random_access:  # no readahead: an index larger than memory is read a page at a time
            advise_random(reader)
        return LiveSearcher(reader, self.deleted, self.frequencies, fromindex=self.index, weighting=SakuinBM25())

    def stored_fields(self, searcher: Searcher, docnum: int) -> dict[str, Any]:
        """A section's stored fields (shared: read, never change them)."""
        return self.stored.get_or_make(docnum, lambda: searcher.stored_fields(docnum))

    def borrow(self) -> LiveSearcher:
        """A searcher for this thread alone until ``give_back``."""
        with self._lock:
            if self.closed:
                raise SnapshotClosed(f"snapshot {self.name} is closed")
            self._borrowed += 1
            searcher = self._idle.pop() if self._idle else None
        if searcher is None:
            try:
                searcher = self._open_searcher()
            except BaseException:
                self.give_back(None)
                raise
        return searcher

    def give_back(self, searcher: Searcher | None) -> None:
        with self._lock:
            self._borrowed -= 1
            keep = searcher is not None and not self._retired and len(self._idle) < self.pool_size
            if keep:
                self._idle.append(searcher)  # type: ignore[arg-type]
            last = self._retired and self._borrowed == 0
        if searcher is not None and not keep:
            searcher.close()
        if last:
            self.close()

    @contextlib.contextmanager
    def searcher(self) -> Iterator[LiveSearcher]:
        searcher = self.borrow()
        try:
            yield searcher
        finally:
            self.give_back(searcher)

    def warm(self) -> None:
        """Open one searcher and the readers every query touches, so no request pays for it."""
        with self.searcher() as searcher:
            reader = searcher.reader()
            self.meta.key_ranks(searcher)
            for fieldname in ("content", "grams"):
                next(iter(reader.lexicon(fieldname)), None)
            searcher.doc_count()

    def retire(self) -> None:
        """No new borrowers; close once the ones still reading are done."""
        with self._lock:
            self._retired = True
            idle, self._idle = self._idle, []
            last = self._borrowed == 0
        for searcher in idle:
            searcher.close()
        if last:
            self.close()

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
            idle, self._idle = self._idle, []
        for searcher in idle:
            searcher.close()
        self.scores.clear()
        self.occurrences.clear()
        self.frequencies.clear()
        self.stored.clear()
        self.meta.clear()

    def open_searchers(self) -> int:
        """Searchers open now (borrowed and idle): what this snapshot holds."""
        with self._lock:
            return self._borrowed + len(self._idle)


@dataclass(frozen=True)
class Pinned:
    """What one request reads: a snapshot and a searcher borrowed from it."""

    snapshot: Snapshot
    searcher: LiveSearcher


class LiveIndex:
    """Follows the store's CURRENT pointer and owns the snapshot of the live version."""

    def __init__(self, store: IndexStore, pool_size: int = DEFAULT_POOL) -> None:
        self.store = store
        self.pool_size = pool_size
        self._lock = threading.Lock()
        self._opening = threading.Lock()
        self._live: Snapshot | None = None
        self._stamp: tuple[int, int, int] | None = None  # CURRENT's (inode, mtime, size) when _live was read

    def snapshot(self) -> Snapshot:
        """The live version's snapshot, opened (and warmed) if CURRENT has moved."""
        # CURRENT is only ever replaced (os.replace of a new file), so an unchanged
        # (inode, mtime, size) means an unchanged pointer: one stat per request
        # instead of opening and reading the file and checking the folder.
        try:
            seen = os.stat(self.store.root / CURRENT)
            stamp: tuple[int, int, int] | None = (seen.st_ino, seen.st_mtime_ns, seen.st_size)
        except OSError:
            stamp = None
        live = self._live
        if live is not None and stamp is not None and stamp == self._stamp and not live.closed:
            return live
        folder = self.store.current()  # raises IndexMissing
        if live is not None and live.name == folder.name:
            self._stamp = stamp
            return live
        with self._opening:  # one thread opens a version; the others wait for it
            live = self._live
            if live is not None and live.name == folder.name:
                return live
            fresh = Snapshot(folder, self.pool_size)
            fresh.warm()
            with self._lock:
                old, self._live = self._live, fresh
                self._stamp = stamp
        if old is not None:
            old.retire()
        return fresh

    @contextlib.contextmanager
    def pin(self) -> Iterator[Pinned]:
        """The live snapshot and a searcher of it, held for one request."""
        while True:
            snap = self.snapshot()
            try:
                searcher = snap.borrow()
            except SnapshotClosed:  # retired and closed between the two lines: take the newer one
                continue
            break
        try:
            yield Pinned(snap, searcher)
        finally:
            snap.give_back(searcher)

    def close(self) -> None:
        with self._lock:
            live, self._live = self._live, None
        if live is not None:
            live.retire()


__all__ = ["DEFAULT_POOL", "LiveIndex", "Pinned", "Snapshot", "SnapshotClosed"]
