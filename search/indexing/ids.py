"""Document ids as a build's main process holds them: a file's ids packed, and which file owns an id.

A build's main process keeps, until it publishes the manifest, every document id it has
read: each file's ``doc_ids`` (the manifest's list) and a table of the ids seen, which
finds a second document with an id already used. At ten million sections that is two
million JSONL records, and an id as a Python string (about 60 bytes with a 15-character
id) in a list and a dictionary entry (about 50 more) took the build past its memory bound.

Design decisions:

* **A file's ids are one byte string** (``IdList``: UTF-8, with an 8-byte end offset per
  id), a ``Sequence[str]`` that decodes an id when it is read; the manifest writes it as
  the JSON list it stands for (``jsonable``). About 25 bytes an id instead of 70.
* **The owner table keeps a 64-bit hash per id, not the id** (``IdOwners``): a sorted
  numpy array of hashes beside the owning file's number, 12 bytes an id, and a small
  dictionary of the latest ones, merged into the arrays every ``MERGE_AT`` ids (a merge
  is one ``np.insert``). A hash that is there is confirmed in its file's own ids, so a
  hash collision is never taken for a duplicate; that look-up is linear in the file, and
  is only made for a duplicate or a collision.
* **Ids given one at a time** (an extracted file's, whose ids come from its worker) stay
  in a plain dictionary: there is one or a few per file, and the file's ids are not at
  hand when the id is claimed.
* Python's ``hash`` of a string is keyed per process, which is all this table needs: it
  lives in one process and is never written out.
"""

from __future__ import annotations

import bisect
import json
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TextIO, overload

import numpy as np

#: Latest ids held in a dictionary before they are merged into the sorted arrays.
MERGE_AT = 1 << 16

#: Ids may hold lone surrogates (JSON allows ``"\\ud800"``); they round-trip through the bytes.
_ERRORS = "surrogatepass"


class IdList(Sequence[str]):
    """A file's document ids, in order, as one UTF-8 byte string and the end offset of each."""

    __slots__ = ("_data", "_ends")

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._data = bytearray()
        self._ends = array("Q")
        if isinstance(ids, list | tuple):
            self._extend(ids)
        else:
            for doc_id in ids:
                self.append(doc_id)

    def _extend(self, ids: Sequence[str]) -> None:
        """Append many ids at once: one join and one cumulative sum (a loaded manifest's lists)."""
        joined = "".join(ids)
        if joined.isascii():  # a character is a byte: the lengths are the strings'
            data = joined.encode("ascii")
            lengths = np.fromiter(map(len, ids), np.uint64, len(ids))
        else:
            encoded = [doc_id.encode("utf-8", _ERRORS) for doc_id in ids]
            data = b"".join(encoded)
            lengths = np.fromiter(map(len, encoded), np.uint64, len(encoded))
        ends = np.cumsum(lengths, dtype=np.uint64) + np.uint64(len(self._data))
        self._data += data
        self._ends.frombytes(ends.astype("=u8").tobytes())

    def append(self, doc_id: str) -> None:
        self._data += doc_id.encode("utf-8", _ERRORS)
        self._ends.append(len(self._data))

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        n = len(self._ends)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("id index out of range")
        start = self._ends[i - 1] if i else 0
        return self._data[start : self._ends[i]].decode("utf-8", _ERRORS)

    def __iter__(self) -> Iterator[str]:
        data, start = self._data, 0
        for end in self._ends:
            yield data[start:end].decode("utf-8", _ERRORS)
            start = end

    def __contains__(self, doc_id: object) -> bool:
        if not isinstance(doc_id, str):
            return False
        wanted = doc_id.encode("utf-8", _ERRORS)
        data, ends = self._data, self._ends
        at = data.find(wanted)
        while at != -1:
            # A match is an id only if it starts where an id starts and ends where it ends
            # (several ids end at one offset when some are empty).
            end = at + len(wanted)
            i = bisect.bisect_left(ends, end)
            while i < len(ends) and ends[i] == end:
                if (ends[i - 1] if i else 0) == at:
                    return True
                i += 1
            at = data.find(wanted, at + 1)
        return False

    def __eq__(self, other: object) -> bool:
        if isinstance(other, IdList):
            return self._ends == other._ends and self._data == other._data
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        return f"IdList({list(self)!r})"


def jsonable(value: Any) -> Any:
    """``json.dumps``'s ``default``: an ``IdList`` is written as the list of ids it holds."""
    if isinstance(value, IdList):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def load(text: str) -> Any:
    """A manifest read from its JSON: each file's ``doc_ids`` as an ``IdList``. Converted file
    by file as the parser finishes each entry, so at most one file's ids are ever strings: a
    server process holds the live version's manifest for the version's life, and at ten
    million sections its two million ids as strings are 200 MB."""
    return json.loads(text, object_hook=_packed)


def _packed(value: dict[str, Any]) -> dict[str, Any]:
    ids = value.get("doc_ids")
    if isinstance(ids, list) and all(isinstance(doc_id, str) for doc_id in ids):
        value["doc_ids"] = IdList(ids)
    return value


def dump(value: Any, fh: TextIO, depth: int = 2) -> None:
    """Write ``value`` as JSON to ``fh`` piece by piece (``IdList`` as lists): an object's
    members are encoded one at a time down to ``depth`` levels, so a manifest of two million
    ids (96 MB of JSON at ten million sections) is never one string, and its bytes never
    one more copy, in the process that writes it; each piece goes through the C encoder."""
    if depth > 0 and isinstance(value, dict):
        fh.write("{")
        for i, (key, member) in enumerate(value.items()):
            fh.write(("," if i else "") + json.dumps(str(key), ensure_ascii=False) + ":")
            dump(member, fh, depth - 1)
        fh.write("}")
    else:
        fh.write(json.dumps(value, ensure_ascii=False, default=jsonable))


class IdOwners:
    """Which file owns each document id (the first that had it), in about 12 bytes an id."""

    def __init__(self, files: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        #: By file number: the file's key and its ids (the manifest entry's own sequence).
        self._keys: list[str] = []
        self._ids: list[Sequence[str]] = []
        #: Ids claimed one at a time: id → file key.
        self._named: dict[str, str] = {}
        #: Sorted hashes and, aligned, the number of the file each belongs to.
        self._hashes = np.empty(0, np.int64)
        self._files = np.empty(0, np.int32)
        #: Latest hashes → file number, not yet merged.
        self._recent: dict[int, int] = {}
        hashes: list[np.ndarray] = []
        numbers: list[np.ndarray] = []
        for key, entry in (files or {}).items():
            ids: Sequence[str] = entry["doc_ids"]
            n = self.file(key, ids)
            hashes.append(np.fromiter(map(hash, ids), np.int64, len(ids)))
            numbers.append(np.full(len(ids), n, np.int32))
        if hashes:
            order = np.argsort(all_hashes := np.concatenate(hashes), kind="stable")
            self._hashes, self._files = all_hashes[order], np.concatenate(numbers)[order]

    def file(self, key: str, ids: Sequence[str]) -> int:
        """A file whose ids are ``ids`` (read again to confirm an id), kept as it grows: its number."""
        self._keys.append(key)
        self._ids.append(ids)
        return len(self._keys) - 1

    def add(self, doc_id: str, file: int) -> None:
        """Record that ``doc_id`` belongs to file number ``file`` (which holds it or is about to)."""
        h = hash(doc_id)
        if h in self._recent:  # a hash seen twice before a merge: the arrays keep both
            self._merge()
        self._recent[h] = file
        if len(self._recent) >= MERGE_AT:
            self._merge()

    def name(self, doc_id: str, key: str) -> None:
        """Record that ``doc_id`` belongs to the file ``key`` (whose ids are not at hand)."""
        self._named[doc_id] = key

    def owner(self, doc_id: str) -> str | None:
        """The key of the file that owns ``doc_id``, or None."""
        key = self._named.get(doc_id)
        if key is not None:
            return key
        h = hash(doc_id)
        n = self._recent.get(h)
        if n is not None and doc_id in self._ids[n]:
            return self._keys[n]
        hashes = self._hashes
        i = int(np.searchsorted(hashes, h))
        while i < len(hashes) and hashes[i] == h:
            n = int(self._files[i])
            if doc_id in self._ids[n]:
                return self._keys[n]
            i += 1
        return None

    def _merge(self) -> None:
        if not self._recent:
            return
        h = np.fromiter(self._recent.keys(), np.int64, len(self._recent))
        f = np.fromiter(self._recent.values(), np.int32, len(self._recent))
        order = np.argsort(h)
        h, f = h[order], f[order]
        at = np.searchsorted(self._hashes, h)
        self._hashes = np.insert(self._hashes, at, h)
        self._files = np.insert(self._files, at, f)
        self._recent = {}


__all__ = ["MERGE_AT", "IdList", "IdOwners", "dump", "jsonable", "load"]
