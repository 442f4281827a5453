"""DOCX: sections at heading paragraphs; paragraphs, tables, text boxes and footnotes as text.

The package's XML is read directly (lxml, through ``ooxml``), with an explicit
stack, so what is text is decided here, element by element:

* a paragraph is a heading when its style is ``Heading 1``–``9`` or ``Title``
  (Word stores the English names of built-in styles whatever the UI language),
  a style named ``見出し 1``…, or when it (or its style) has an outline level;
* ``w:t`` is text, ``w:tab`` a tab, ``w:br`` a line break; ruby readings
  (``w:rt``) are not text, so 智に働けば stays 智に働けば; deleted text and field
  codes are separate elements and never read;
* a table row is a line of tab-separated cells;
* a text box (``w:txbxContent``) is read once, after the paragraph that anchors
  it: Word also writes a VML copy of each box for old readers (``mc:Fallback``),
  which is skipped;
* footnotes and endnotes make a last section, 脚注.

The core properties (title, creator, dates) are ``ooxml.core_properties``.
"""

from __future__ import annotations

import re
from typing import Any

from sakuin.search.documents.formats.ooxml import Source, core_properties, open_zip, parse_xml, read_member
from sakuin.search.documents.limits import Deadline, Limits, TextBudget
from sakuin.search.errors import UnreadableFile

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
#: Subtrees that are never the paragraph's own text.
_SKIPPED = frozenset({f"{W}rt", f"{_MC}Fallback", f"{W}txbxContent", f"{W}del", f"{W}instrText", f"{W}delText"})
_HEADING_NAME = re.compile(r"(?:heading|見出し)\s*([1-9])\Z", re.I)
KIND = "DOCX"

RawSection = tuple[str, str]


def read_docx(
    source: Source, limits: Limits, deadline: Deadline, budget: TextBudget
) -> tuple[str, list[RawSection], dict[str, Any]]:
    """(title, sections, metadata) of a DOCX (module doc)."""
    with open_zip(source, limits, KIND) as archive:
        main = _main_part(archive)
        data = read_member(archive, main, KIND)
        if data is None:
            raise UnreadableFile("not a readable DOCX (no document part)")
        styles = _styles(read_member(archive, "word/styles.xml", KIND))
        root = parse_xml(data, KIND)
        title, meta = core_properties(archive, KIND)
        body = root.find(f"{W}body")
        if body is None:
            raise UnreadableFile("not a readable DOCX (no body)")
        reader = _Reader(styles, deadline, budget)
        reader.walk(body)
        notes = [
            text
            for name in ("word/footnotes.xml", "word/endnotes.xml")
            for text in _notes(read_member(archive, name, KIND), deadline, budget)
        ]
    sections = reader.sections
    if notes:
        sections.append(("脚注", "\n".join(notes)))
    return title or reader.title, sections, meta


def _main_part(archive: Any) -> str:
    rels = read_member(archive, "_rels/.rels", KIND)
    if rels:
        root = parse_xml(rels, KIND)
        for rel in root.iter(f"{_REL}Relationship"):
            if rel.get("Type", "").endswith("/officeDocument"):
                return str(rel.get("Target", "")).lstrip("/")
    return "word/document.xml"


def _styles(data: bytes | None) -> dict[str, tuple[int | None, bool]]:
    """styleId → (heading level or None, is the Title style), through ``basedOn``."""
    if not data:
        return {}
    root = parse_xml(data, KIND)
    raw: dict[str, tuple[str, int | None, str | None]] = {}
    for style in root.iter(f"{W}style"):
        sid = style.get(f"{W}styleId")
        if not sid:
            continue
        name_el = style.find(f"{W}name")
        name = name_el.get(f"{W}val", "") if name_el is not None else ""
        level_el = style.find(f"{W}pPr/{W}outlineLvl")
        level = _int(level_el.get(f"{W}val")) if level_el is not None else None
        based = style.find(f"{W}basedOn")
        raw[sid] = (name, level, based.get(f"{W}val") if based is not None else None)
    out: dict[str, tuple[int | None, bool]] = {}
    for sid in raw:
        seen: set[str] = set()
        current: str | None = sid
        level: int | None = None
        title = False
        while current in raw and current not in seen:
            seen.add(current)
            name, own, based = raw[current]
            named = _HEADING_NAME.search(name.strip())
            if named:
                level = int(named.group(1))
                break
            if name.strip().lower() == "title":
                title = True
                break
            if own is not None and own < 9:
                level = own + 1
                break
            current = based
        out[sid] = (level, title)
    return out


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


class _Reader:
    """Walks the body: paragraphs into sections, tables into lines, text boxes after their anchor."""

    def __init__(self, styles: dict[str, tuple[int | None, bool]], deadline: Deadline, budget: TextBudget) -> None:
        self.styles = styles
        self.deadline = deadline
        self.budget = budget
        self.sections: list[RawSection] = []
        self.heading = ""
        self.lines: list[str] = []
        self.title = ""
        self.count = 0

    def walk(self, body: Any) -> None:
        stack = [iter(body)]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                continue
            tag = child.tag
            if tag == f"{W}p":
                self.paragraph(child)
            elif tag == f"{W}tbl":
                self.table(child)
            elif tag in (f"{W}sdt", f"{W}sdtContent", f"{W}customXml", f"{W}ins", f"{W}smartTag"):
                stack.append(iter(child))
        self.finish()

    def tick(self) -> None:
        self.count += 1
        if self.count % 200 == 0:
            self.deadline.check()

    def paragraph(self, p: Any) -> None:
        self.tick()
        text, boxes = paragraph_text(p)
        self.budget.add(text)
        level, title = self.level(p)
        if (level is not None or title) and text.strip():
            self.finish()
            self.heading = " ".join(text.split())
            if title and not self.title:
                self.title = self.heading
        else:
            self.lines.append(text)
        for box in boxes:
            for inner in box.iter(f"{W}p"):
                inner_text, _ = paragraph_text(inner)
                self.lines.append(self.budget.add(inner_text))

    def level(self, p: Any) -> tuple[int | None, bool]:
        ppr = p.find(f"{W}pPr")
        if ppr is None:
            return None, False
        own = ppr.find(f"{W}outlineLvl")
        if own is not None:
            value = _int(own.get(f"{W}val"))
            if value is not None and value < 9:
                return value + 1, False
        style = ppr.find(f"{W}pStyle")
        if style is None:
            return None, False
        return self.styles.get(style.get(f"{W}val", ""), (None, False))

    def table(self, tbl: Any) -> None:
        for row in tbl.iter(f"{W}tr"):
            self.tick()
            cells = []
            for cell in row.iterchildren(f"{W}tc"):
                parts = [paragraph_text(p)[0] for p in cell.iterchildren(f"{W}p")]
                cells.append(" ".join(" ".join(parts).split()))
            line = "\t".join(cells).strip()
            if line:
                self.lines.append(self.budget.add(line))
        self.lines.append("")

    def finish(self) -> None:
        text = "\n".join(self.lines)
        if self.heading or text.strip():
            self.sections.append((self.heading, text))
        self.heading = ""
        self.lines = []


def paragraph_text(p: Any) -> tuple[str, list[Any]]:
    """A paragraph's own text (module doc) and the text boxes anchored in it."""
    out: list[str] = []
    boxes: list[Any] = []
    stack = [iter(p)]
    while stack:
        node = next(stack[-1], None)
        if node is None:
            stack.pop()
            continue
        tag = node.tag
        if not isinstance(tag, str):
            continue
        if tag == f"{W}t":
            out.append(node.text or "")
        elif tag == f"{W}tab":
            out.append("\t")
        elif tag in (f"{W}br", f"{W}cr"):
            out.append("\n")
        elif tag == f"{W}noBreakHyphen":
            out.append("-")
        elif tag == f"{W}txbxContent":
            boxes.append(node)
        elif tag not in _SKIPPED:
            stack.append(iter(node))
    return "".join(out), boxes


def _notes(data: bytes | None, deadline: Deadline, budget: TextBudget) -> list[str]:
    if not data:
        return []
    root = parse_xml(data, KIND)
    out = []
    for note in root:
        if note.get(f"{W}type") in ("separator", "continuationSeparator", "continuationNotice"):
            continue
        deadline.check()
        text = " ".join(paragraph_text(p)[0] for p in note.iter(f"{W}p")).strip()
        if text:
            out.append(budget.add(text))
    return out


__all__ = ["paragraph_text", "read_docx"]
