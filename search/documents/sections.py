"""The rules every format's sections obey, whatever the reader: clean text, no empty
sections, ordinals 0..n-1, and no section longer than ``MAX_SECTION_CHARS``.

Readers only parse a file into a title and (heading, text) pairs; ``make_document``
turns those into a ``Document``, so ids, paths and empty sections follow one rule.
A paged format (PDF) gives its text as (page number, text) pieces instead; the
section's text is the pieces joined by a line break, and the section records
where each page starts in it (``Section.pages``), through every rule here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sakuin.search.config import MAX_SECTION_CHARS
from sakuin.search.documents.model import Document, PageStarts, Section

#: A section's text as one string, or as (page number, text) pieces of a paged document.
Body = str | list[tuple[int, str]]

#: Where a long section may be cut, best first: paragraph, line, sentence, space.
_CUTS = (re.compile(r"\n\n+"), re.compile(r"\n"), re.compile(r"[。．！？!?]+"), re.compile(r"[ \u3000\t]+"))


def has_content(raw_sections: Iterable[tuple[str, Body]]) -> bool:
    """Whether ``make_document`` keeps a section of these: whether a heading or text has a
    character other than whitespace, which is all its clean-up removes (the first pass
    asks this of every record; cleaning them all was a third of its time)."""
    return any((heading and not heading.isspace()) or _has_text(text) for heading, text in raw_sections)


def _has_text(text: Body) -> bool:
    if isinstance(text, str):
        return bool(text) and not text.isspace()
    return any(piece and not piece.isspace() for _, piece in text)


def make_document(
    doc_id: str,
    title: str,
    rel: str,
    raw_sections: Iterable[tuple[str, Body]],
    meta: dict[str, Any] | None = None,
    *,
    file_type: str = "",
    modified: str | None = None,
) -> Document:
    """Apply the rules shared by all formats: clean text, no empty sections, 0..n-1.

    A heading with no text of its own is not a section: it is the document's title
    said again (``# タイトル`` over ``## 見出し``), or the heading of what follows
    (``## 第1章`` over ``### 1.1``), which then carries it (``第1章 › 1.1``). Only a
    document with nothing but headings keeps them as they are, so that it stays
    findable; a heading at the very end stays a section of its own.
    """
    title = clean_heading(title) or Path(rel).stem
    cleaned = [(clean_heading(heading), *_clean_body(text)) for heading, text in raw_sections]
    cleaned = [(heading, text, pages) for heading, text, pages in cleaned if heading or text]
    merged = _headings_carried(cleaned, title) if any(text for _, text, _ in cleaned) else cleaned
    kept = [(heading, *piece) for heading, text, pages in merged for piece in split_paged(text, pages)]
    sections = tuple(Section(ordinal, heading, text, pages) for ordinal, (heading, text, pages) in enumerate(kept))
    return Document(
        doc_id=doc_id,
        title=title,
        path=rel,
        sections=sections,
        meta=meta or {},
        file_type=file_type,
        modified=modified,
    )


def _clean_body(text: Body) -> tuple[str, PageStarts]:
    """A section's clean text, and where its pages start (nothing for an unpaged body)."""
    if isinstance(text, str):
        return clean_text(text), ()
    parts: list[str] = []
    pages: list[tuple[int, int]] = []
    offset = 0
    for page, piece in text:
        piece = clean_text(piece)
        if not piece:
            continue
        if parts:
            offset += 1  # the line break between pages
        pages.append((offset, page))
        parts.append(piece)
        offset += len(piece)
    return "\n".join(parts), tuple(pages)


#: Between a heading with no text and the heading of the section that carries it.
HEADING_JOIN = " › "


def _headings_carried(sections: list[tuple[str, str, PageStarts]], title: str) -> list[tuple[str, str, PageStarts]]:
    out: list[tuple[str, str, PageStarts]] = []
    carried: list[str] = []
    for heading, text, pages in sections:
        if not text:
            if heading != title:
                carried.append(heading)
            continue
        out.append((HEADING_JOIN.join([*carried, heading] if heading else carried), text, pages))
        carried = []
    out += [(heading, "", ()) for heading in carried]  # headings after the last text: still findable
    return out


def split_paged(text: str, pages: PageStarts) -> list[tuple[str, PageStarts]]:
    """``split_long`` for a section that records its pages: each piece with its own page starts."""
    spans = split_spans(text)
    if not pages:
        return [(text[start:end], ()) for start, end in spans]
    out = []
    for start, end in spans:
        current = max((i for i, (offset, _) in enumerate(pages) if offset <= start), default=0)
        own = [(0, pages[current][1])]
        own += [(offset - start, page) for offset, page in pages[current + 1 :] if start < offset < end]
        out.append((text[start:end], tuple(own)))
    return out


def split_long(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at the best boundary available."""
    return [text[start:end] for start, end in split_spans(text, limit)]


def split_spans(text: str, limit: int = MAX_SECTION_CHARS) -> list[tuple[int, int]]:
    """Where ``split_long`` cuts: each piece as [start, end) of ``text``."""
    if len(text) <= limit:
        return [(0, len(text))]
    pieces: list[tuple[int, int]] = []
    start = 0
    while len(text) - start > limit:
        end = start + limit
        cut = 0
        for boundary in _CUTS:
            ends = [m.end() for m in boundary.finditer(text, start + limit // 2, end)]
            if ends:
                cut = ends[-1]
                break
        cut = cut or end
        pieces.append((start, start + len(text[start:cut].rstrip())))
        start = cut
        while start < len(text) and text[start] == "\n":
            start += 1
    if start < len(text):
        pieces.append((start, len(text)))
    return pieces


def clean_heading(text: str) -> str:
    return " ".join(text.split())


def clean_text(text: str) -> str:
    """Trailing whitespace goes (per line too); leading blank lines go."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip("\n").rstrip()


__all__ = [
    "HEADING_JOIN",
    "Body",
    "clean_heading",
    "clean_text",
    "has_content",
    "make_document",
    "split_long",
    "split_paged",
    "split_spans",
]
