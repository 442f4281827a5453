"""The unit of indexing: documents made of ordered sections.

Every reader turns a file (or a JSONL record) into these objects, and everything
downstream (analysis, index, snippets, the web document page) only knows them, so a
new input format never touches the index or the search code.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

#: Where each page of a paged document starts in a section's text: (offset, page number), in order.
PageStarts = tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True)
class Section:
    """One heading and its body: the unit a search hit points at.

    ``ordinal`` is the 0-based position in the document; it is what the ``#s-N``
    anchor of the document page and the ``section.ordinal`` of a hit refer to.
    ``pages`` says, for a paged document (PDF), on which page each part of the
    text stands, so a hit can open the page of its match.
    """

    ordinal: int
    heading: str
    text: str
    pages: PageStarts = ()

    @property
    def page_range(self) -> tuple[int, int] | None:
        """(first page, last page) of a paged document's section, else None."""
        return page_range(self.pages)

    def page_at(self, offset: int) -> int | None:
        """The page on which ``text[offset]`` stands (None: not a paged document)."""
        return page_at(self.pages, offset)


def page_range(pages: PageStarts) -> tuple[int, int] | None:
    if not pages:
        return None
    return pages[0][1], max(page for _, page in pages)


def page_at(pages: PageStarts, offset: int) -> int | None:
    if not pages:
        return None
    index = bisect_right([start for start, _ in pages], offset) - 1
    return pages[max(index, 0)][1]


@dataclass(frozen=True, slots=True)
class Document:
    """A titled, ordered list of sections with a stable id.

    ``doc_id`` is the JSONL ``id`` verbatim, or the path relative to the indexed
    root for files, so re-indexing the same folder replaces rather than duplicates.
    ``meta`` keeps extra JSONL fields (or a format's document properties) so callers
    get back what they put in. ``file_type`` (``pdf``, ``md``…) and ``modified``
    (the file's time, ISO 8601) are the built-in ``type`` and ``modified`` fields.
    """

    doc_id: str
    title: str
    path: str
    sections: tuple[Section, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    file_type: str = ""
    modified: str | None = None


__all__ = ["Document", "PageStarts", "Section", "page_at", "page_range"]
