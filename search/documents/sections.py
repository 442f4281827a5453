"""The rules every format's sections obey, whatever the reader: clean text, no empty
sections, ordinals 0..n-1, and no section longer than ``MAX_SECTION_CHARS``.

Readers only parse a file into a title and (heading, text) pairs; ``make_document``
turns those into a ``Document``, so ids, paths and empty sections follow one rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sakuin.search.config import MAX_SECTION_CHARS
from sakuin.search.documents.model import Document, Section

#: Where a long section may be cut, best first: paragraph, line, sentence, space.
_CUTS = (re.compile(r"\n\n+"), re.compile(r"\n"), re.compile(r"[。．！？!?]+"), re.compile(r"[ \u3000\t]+"))


def has_content(raw_sections: Iterable[tuple[str, str]]) -> bool:
    """Whether ``make_document`` keeps a section of these: whether a heading or text has a
    character other than whitespace, which is all its clean-up removes (the first pass
    asks this of every record; cleaning them all was a third of its time)."""
    return any((heading and not heading.isspace()) or (text and not text.isspace()) for heading, text in raw_sections)


def make_document(
    doc_id: str,
    title: str,
    rel: str,
    raw_sections: Iterable[tuple[str, str]],
    meta: dict[str, Any] | None = None,
) -> Document:
    """Apply the rules shared by all formats: clean text, no empty sections, 0..n-1.

    A heading with no text of its own is not a section: it is the document's title
    said again (``# タイトル`` over ``## 見出し``), or the heading of what follows
    (``## 第1章`` over ``### 1.1``), which then carries it (``第1章 › 1.1``). Only a
    document with nothing but headings keeps them as they are, so that it stays
    findable; a heading at the very end stays a section of its own.
    """
    title = clean_heading(title) or Path(rel).stem
    cleaned = [(clean_heading(heading), clean_text(text)) for heading, text in raw_sections]
    cleaned = [(heading, text) for heading, text in cleaned if heading or text]
    merged = _headings_carried(cleaned, title) if any(text for _, text in cleaned) else cleaned
    kept = [(heading, piece) for heading, text in merged for piece in split_long(text)]
    sections = tuple(Section(ordinal, heading, text) for ordinal, (heading, text) in enumerate(kept))
    return Document(doc_id=doc_id, title=title, path=rel, sections=sections, meta=meta or {})


#: Between a heading with no text and the heading of the section that carries it.
HEADING_JOIN = " › "


def _headings_carried(sections: list[tuple[str, str]], title: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    carried: list[str] = []
    for heading, text in sections:
        if not text:
            if heading != title:
                carried.append(heading)
            continue
        out.append((HEADING_JOIN.join([*carried, heading] if heading else carried), text))
        carried = []
    out += [(heading, "") for heading in carried]  # headings after the last text: still findable
    return out


def split_long(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at the best boundary available."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
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
        pieces.append(text[start:cut].rstrip())
        start = cut
        while start < len(text) and text[start] == "\n":
            start += 1
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def clean_heading(text: str) -> str:
    return " ".join(text.split())


def clean_text(text: str) -> str:
    """Trailing whitespace goes (per line too); leading blank lines go."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip("\n").rstrip()


__all__ = ["HEADING_JOIN", "clean_heading", "clean_text", "has_content", "make_document", "split_long"]
