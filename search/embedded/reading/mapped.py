"""Reading Whoosh's compound segment files without a private copy per searcher.

Whoosh maps a compound segment file (``.seg``) and opens each file inside it as
``BufferFile(memoryview_slice)``, whose ``BytesIO(buf)`` copies the slice into
private memory: every searcher copies the terms index and the columns it reads.
With one searcher per server thread that was most of the serving memory (the
livedoor index: ~150 MB private per extra thread, 8 threads 3.2 GB RSS).

``ViewFile`` reads the mapped slice in place (the pages stay shared, in the page
cache, among every thread and worker process) and copies only the bytes a read
asks for. ``install()`` makes Whoosh's compound storage use it; it changes no
file format and no result, only where the bytes come from. The price: Whoosh
reads many small values through ``read``, now Python instead of ``BytesIO``'s C
(measured on livedoor: 6.8 ms per warm query against 5.9 ms, for a server tree
of 341 MB PSS instead of 1,850 MB after 1,000 queries on 2 workers × 8 threads),
except for pickles, which ``peek`` lets ``pickle.load`` take in one read.

``advise_random`` tells the kernel that a searcher's segment mappings are read at
random: a query reads a few pages of each segment's term table and posting lists,
and the kernel's readahead after each page fault (megabytes at a time) filled memory
with pages no query asked for. With an index larger than memory (10M sections, 37.8
GB on a 24 GB machine) one- and two-word queries read 6–35 GB from disk each and took
5–36 s; advised, 15–40 MB and 0.35–1.4 s. An index that fits is better read with
readahead: from a cold page cache (after a restart) a 1M-section index (3.7 GB) answered
its first 200 queries in 9.6 and 8.6 s, reading the whole index in, against 26.3 and
22.9 s advised, a page at a time. So only a version larger than ``RANDOM_ACCESS_SHARE``
of the machine's memory is advised (``larger_than_memory``); once in the page cache,
either way reads nothing.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from typing import Any

from whoosh.filedb import compound, structfile

from sakuin.search.config import RANDOM_ACCESS_SHARE

#: Bytes ``peek`` offers (a posting block's header pickle is under a hundred).
_PEEK = 256


class _ViewReader:
    """The file protocol Whoosh's ``StructFile`` uses, over a read-only buffer, without copying it."""

    def __init__(self, view: Any) -> None:
        self._view = memoryview(view)
        self._pos = 0

    def read(self, n: int | None = -1) -> bytes:
        pos = self._pos
        data = self._view[pos:].tobytes() if n is None or n < 0 else self._view[pos : pos + n].tobytes()
        self._pos = pos + len(data)  # slices stop at the end, as a file's read does
        return data

    def peek(self, n: int = 0) -> bytes:
        """Bytes ahead, without moving (``io.BufferedReader.peek``). ``pickle.load`` reads
        through it: with ``peek`` it takes a pickle in one read, without it one read per
        opcode (19 for a posting block's header: the most frequent read of a query)."""
        return self._view[self._pos : self._pos + max(n, _PEEK)].tobytes()

    def readline(self, limit: int = -1) -> bytes:
        rest = self._view[self._pos :]
        newline = bytes(rest[: limit if limit >= 0 else len(rest)]).find(b"\n")
        return self.read(newline + 1 if newline >= 0 else limit)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, len(self._view))[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._view.release()  # the mapping can then be closed by its owner


class ViewFile(structfile.BufferFile):  # type: ignore[misc]
    """``BufferFile`` reading its buffer in place."""

    def __init__(self, buf: Any, name: str | None = None, onclose: Any = None) -> None:
        super().__init__(b"", name=name, onclose=onclose)
        self._buf = buf
        self.file = _ViewReader(buf)

    def subset(self, position: int, length: int, name: str | None = None) -> ViewFile:
        return ViewFile(self._buf[position : position + length], name=name or self._name)


def install() -> None:
    """Make Whoosh's compound storage open its files as ``ViewFile`` (idempotent)."""
    compound.BufferFile = ViewFile


def larger_than_memory(index_bytes: int) -> bool:
    """Whether an index version of ``index_bytes`` should be read at random: more than
    ``RANDOM_ACCESS_SHARE`` of the machine's physical memory (False where that is unknown)."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # Windows, or a platform without these names
        return False
    return memory > 0 and index_bytes > RANDOM_ACCESS_SHARE * memory


def advise_random(reader: Any) -> int:
    """Advise random access on the mapped compound file of every segment of ``reader`` (a
    Whoosh reader, one segment or several); returns how many mappings were advised. Where
    the platform has no ``madvise`` (Windows), nothing is done."""
    advice = getattr(mmap, "MADV_RANDOM", None)
    if advice is None:
        return 0
    done = 0
    for leaf, _ in reader.leaf_readers():
        storage = getattr(leaf, "_storage", None)
        source = getattr(getattr(storage, "a", None), "_source", None)  # OverlayStorage(compound, folder)
        if isinstance(source, mmap.mmap):
            source.madvise(advice)
            done += 1
    return done
