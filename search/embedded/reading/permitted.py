"""The embedded index's side of access control: an ``Access`` as a boolean array over sections.

``permitted(pinned, access)`` evaluates the reader's filter (``sakuin.search.access``)
with the same code as the metadata filters (``metatables.evaluate``), ANDed with the
live sections, and keeps the array per index version and access key (one byte per
section: 1 MB at a million sections; ``ACCESS_CACHE_MB`` in all). Everything a request
reads is then cut by it before it is ranked or counted (``ranking.rank``) or shown:

* ``frequency``: a word's document frequency among the permitted sections, for what
  must not suggest a word found only in sections the reader may not read ("did you
  mean", completions); verified per candidate, never precomputed per reader;
* ``readable``: whether a document (all of its sections) is permitted;
* ``distinct``: how many documents and files the permitted sections come from (stats);
  ``values``: which (the stats' documents by type and by folder).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from sakuin.search.access.model import Access
from sakuin.search.config import ACCESS_CACHE_MB, MB
from sakuin.search.embedded.reading.bagofwords import term_docs
from sakuin.search.embedded.reading.caches import ByteLRU
from sakuin.search.embedded.reading.metatables import evaluate
from sakuin.search.embedded.reading.snapshot import Pinned

Frequency = Callable[[str, str], int]


def permitted(pinned: Pinned, access: Access | None) -> np.ndarray | None:
    """The sections ``access`` lets its reader read, as a boolean array (None: every section)."""
    if access is None or access.allows_all:
        return None
    masks = pinned.snapshot.meta.get("access", lambda: ByteLRU(int(ACCESS_CACHE_MB * MB), lambda m: int(m.nbytes)))
    return masks.get_or_make(access.key, lambda: _mask(pinned, access))  # type: ignore[no-any-return]


def _mask(pinned: Pinned, access: Access) -> np.ndarray:
    searcher, tables = pinned.searcher, pinned.snapshot.meta
    live = tables.live(searcher)
    if access.node is None:
        return np.zeros(len(live), np.bool_)
    return evaluate(access.node, tables, searcher) & live


def frequency(pinned: Pinned, mask: np.ndarray | None) -> Frequency:
    """Document frequency among the permitted sections (the index's own without a mask)."""
    searcher = pinned.searcher
    if mask is None:
        return searcher.doc_frequency  # type: ignore[no-any-return]
    return lambda field, term: int(np.count_nonzero(mask[term_docs(searcher, field, term)]))


def readable(pinned: Pinned, doc_id: str, mask: np.ndarray | None) -> bool:
    """Whether ``doc_id`` exists and every one of its sections is permitted."""
    docnums = list(pinned.searcher.document_numbers(doc_id=doc_id))
    if mask is None:
        return bool(docnums)
    return bool(docnums) and bool(mask[docnums].all())


def distinct(pinned: Pinned, field: str, mask: np.ndarray) -> int:
    """How many values of the ID field ``field`` (``doc_id``, ``source``) the permitted sections have."""
    values = pinned.snapshot.meta.get(f"ids:{field}", lambda: _ids(pinned.searcher, field))
    docs, vids = values
    return len(np.unique(vids[mask[docs]])) if len(docs) else 0


def values(pinned: Pinned, field: str, mask: np.ndarray) -> set[str]:
    """The values of the ID field ``field`` the permitted sections have (what ``distinct`` counts)."""
    names = pinned.snapshot.meta.get(f"names:{field}", lambda: _names(pinned.searcher, field))
    docs, vids = pinned.snapshot.meta.get(f"ids:{field}", lambda: _ids(pinned.searcher, field))
    return {names[i] for i in np.unique(vids[mask[docs]])} if len(docs) else set()


def _names(searcher: Any, field: str) -> list[str]:
    """The terms of ``field`` in lexicon order: value number → value, as ``_ids`` numbers them."""
    return [t.decode("utf-8") if isinstance(t, bytes) else t for t in searcher.reader().lexicon(field)]


def _ids(searcher: Any, field: str) -> tuple[np.ndarray, np.ndarray]:
    """Every live section of every value of ``field``: (section numbers, value number of each)."""
    docs: list[np.ndarray] = []
    for term in searcher.reader().lexicon(field):
        text = term.decode("utf-8") if isinstance(term, bytes) else term
        docs.append(term_docs(searcher, field, text))
    sizes = np.array([len(d) for d in docs], np.int64)
    flat = np.concatenate(docs) if docs else np.empty(0, np.int64)
    return flat, np.repeat(np.arange(len(docs), dtype=np.int64), sizes)


__all__ = ["distinct", "frequency", "permitted", "readable"]
