"""A JSONL file's record table: each record's content hash and section count, kept compact.

A JSONL file is tracked record by record (``sakuin.search.indexing.changes``): when it
changes, only the records whose document changed are analysed again. Its manifest entry
lists its documents' ids (``doc_ids``, which every file has) and, in the same order,
each record's hash and section count:

    "records": {"digests": "<base64: 16 bytes per record>", "sections": "<base64: uint32 LE per record>"}

Design decisions:

* **Two byte strings, not an object per record.** An index build's main process holds
  the table of every file it has read until it publishes the manifest, and an update
  loads the live one. As a JSON object per record (id → [hex digest, sections]) the
  tables took about 300 bytes a record in that process (a dict slot, a list and a
  32-character hex string each): 600 MB at two million records, which is what took a
  10-million-section build past its memory bound, and 166 MB of manifest. Here a
  record costs its 16-byte digest and a 4-byte count, besides its id, which
  ``doc_ids`` holds anyway.
* **Aligned with ``doc_ids``**, so the ids are not written twice; an id's digest is
  found through a dictionary made only for the file being read again, and dropped
  with it.
* **The earlier form is still read** (an id → [hex digest, sections] object): an index
  written before updates record by record as before, and is written in this form
  at its next update.
"""

from __future__ import annotations

import base64
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from sakuin.search.indexing.ids import IdList

#: Bytes of a record's digest (``sakuin.search.indexing.changes.record_digest``).
DIGEST_BYTES = 16
#: A section count in the manifest: uint32, little-endian whatever the machine.
_COUNT = np.dtype("<u4")


class RecordTable:
    """Per record, in ``doc_ids`` order: its digest (``DIGEST_BYTES``) and section count."""

    def __init__(self, doc_ids: Sequence[str] = (), digests: bytes = b"", sections: Iterable[int] = ()) -> None:
        #: The ids, in order; a list or ``IdList`` given is kept, not copied (a manifest entry's
        #: ``doc_ids``); a new table packs its ids in an ``IdList``.
        self.doc_ids: list[str] | IdList = doc_ids if isinstance(doc_ids, list | IdList) else IdList(doc_ids)
        self.digests = bytearray(digests)
        self.sections = array("I", sections)
        if len(self.digests) != DIGEST_BYTES * len(self.doc_ids) or len(self.sections) != len(self.doc_ids):
            raise ValueError("a record table's digests and counts must match its ids")
        self._where: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.doc_ids)

    def __contains__(self, doc_id: str) -> bool:
        return self._index().get(doc_id) is not None

    def add(self, doc_id: str, digest: bytes, sections: int) -> None:
        if len(digest) != DIGEST_BYTES:
            raise ValueError(f"a record digest has {DIGEST_BYTES} bytes, not {len(digest)}")
        self.doc_ids.append(doc_id)
        self.digests += digest
        self.sections.append(sections)
        self._where = None

    def digest_of(self, doc_id: str) -> bytes | None:
        """The record's digest, or None if the table has no such record."""
        i = self._index().get(doc_id)
        return None if i is None else bytes(self.digests[i * DIGEST_BYTES : (i + 1) * DIGEST_BYTES])

    def _index(self) -> dict[str, int]:
        """id → position, made on the first lookup after a change (only a file read again looks up)."""
        if self._where is None:
            self._where = {d: i for i, d in enumerate(self.doc_ids)}
        return self._where

    def to_manifest(self) -> dict[str, str]:
        """The manifest's form, aligned with the entry's ``doc_ids`` (which must be these ids)."""
        return {
            "digests": base64.b64encode(bytes(self.digests)).decode("ascii"),
            "sections": base64.b64encode(np.asarray(self.sections, _COUNT).tobytes()).decode("ascii"),
        }

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> RecordTable | None:
        """A manifest entry's table (either form), or None if the entry has none."""
        records = entry.get("records")
        if records is None:
            return None
        if set(records) == {"digests", "sections"} and all(isinstance(v, str) for v in records.values()):
            counts = np.frombuffer(base64.b64decode(records["sections"]), _COUNT).tolist()
            return cls(entry.get("doc_ids", ()), base64.b64decode(records["digests"]), counts)
        # The earlier form: {doc id: [hex digest, sections]}.
        return cls(
            list(records),
            b"".join(bytes.fromhex(digest) for digest, _ in records.values()),
            (int(n) for _, n in records.values()),
        )


__all__ = ["DIGEST_BYTES", "RecordTable"]
