"""The unit of indexing: documents made of ordered sections.

Every reader turns a file (or a JSONL record) into these objects, and everything
downstream (analysis, index, snippets, the web document page) only knows them, so a
new input format never touches the index or the search code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Section:
    """One heading and its body: the unit a search hit points at.

    ``ordinal`` is the 0-based position in the document; it is what the ``#s-N``
    anchor of the document page and the ``section.ordinal`` of a hit refer to.
    """

    ordinal: int
    heading: str
    text: str


@dataclass(frozen=True, slots=True)
class Document:
    """A titled, ordered list of sections with a stable id.

    ``doc_id`` is the JSONL ``id`` verbatim, or the path relative to the indexed
    root for files, so re-indexing the same folder replaces rather than duplicates.
    ``meta`` keeps extra JSONL fields so callers get back what they put in.
    """

    doc_id: str
    title: str
    path: str
    sections: tuple[Section, ...]
    meta: dict[str, Any] = field(default_factory=dict)
