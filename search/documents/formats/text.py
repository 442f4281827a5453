"""Plain text: recover headings from layout alone.

Two layouts occur. Scraped articles (like the seed) start with a title and a table
of contents whose entries later reappear as the section headings; trusting the TOC
gives exact sections even for headings that end in "?" or a quote. Other text has
no TOC, so a short unpunctuated line standing alone is taken as a heading.
"""

from __future__ import annotations

from collections.abc import Sequence

RawSection = tuple[str, str]

#: Longest line accepted as a table-of-contents entry.
MAX_TOC_ENTRY = 80
#: Longest line accepted as a heading when there is no table of contents.
MAX_HEADING = 60
#: Endings that mark a line as prose (a sentence or a clause), not a heading.
_PROSE_ENDINGS = tuple("。．.！!？?」』、，,")


def parse_plaintext(text: str, fallback_title: str) -> tuple[str, list[RawSection]]:
    """Split text into a title and (heading, body) pairs."""
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return fallback_title, []
    parsed = _parse_with_toc(lines)
    if parsed is not None:
        return parsed
    return _parse_by_layout(lines, fallback_title)


# --- layout 1: title, table of contents, body -------------------------------


def _parse_with_toc(lines: list[str]) -> tuple[str, list[RawSection]] | None:
    """The TOC is believed only if every entry is found, in order, in the body."""
    found = _find_toc(lines)
    if found is None:
        return None
    entries, body_start = found
    positions = _locate_headings(lines, body_start, entries)
    if positions is None:
        return None
    sections: list[RawSection] = [("", _paragraphs(lines[body_start : positions[0]]))]
    ends = [*positions[1:], len(lines)]
    for entry, start, end in zip(entries, positions, ends, strict=True):
        sections.append((entry, _paragraphs(lines[start + 1 : end])))
    return lines[0].strip(), sections


def _find_toc(lines: list[str]) -> tuple[list[str], int] | None:
    """Collect the run of short lines after the title.

    The run ends at a blank line or where its first entry repeats: the seed starts
    the body right after the TOC, with no blank line in between.
    """
    index = _skip_blank(lines, 1)
    entries: list[str] = []
    while index < len(lines):
        line = lines[index].strip()
        if not line or (entries and line == entries[0]):
            break
        if len(line) > MAX_TOC_ENTRY:
            return None
        entries.append(line)
        index += 1
    if len(entries) < 2 or index >= len(lines):
        return None
    return entries, index


def _locate_headings(lines: list[str], start: int, entries: list[str]) -> list[int] | None:
    """Line numbers where the entries stand alone, in order; None if one is missing."""
    positions: list[int] = []
    cursor = start
    for entry in entries:
        position = next(
            (
                index
                for index in range(cursor, len(lines))
                if lines[index].strip() == entry and _stands_alone(lines, index, start)
            ),
            None,
        )
        if position is None:
            return None
        positions.append(position)
        cursor = position + 1
    return positions


def _stands_alone(lines: list[str], index: int, start: int) -> bool:
    before_ok = index == start or not lines[index - 1].strip()
    after_ok = index + 1 == len(lines) or not lines[index + 1].strip()
    return before_ok and after_ok


# --- layout 2: blank-line separated blocks ----------------------------------


def _parse_by_layout(lines: list[str], fallback_title: str) -> tuple[str, list[RawSection]]:
    """A lone short unpunctuated line is a heading; the first one may be the title."""
    blocks = _blocks(lines)
    title = fallback_title
    if len(blocks) > 1 and _is_heading(blocks[0]):
        title = blocks.pop(0)[0].strip()
    sections: list[tuple[str, list[str]]] = [("", [])]
    for block in blocks:
        if _is_heading(block):
            sections.append((block[0].strip(), []))
        else:
            sections[-1][1].append("\n".join(block))
    return title, [(heading, "\n\n".join(paras)) for heading, paras in sections]


def _is_heading(block: Sequence[str]) -> bool:
    if len(block) != 1:
        return False
    line = block[0].strip()
    return 0 < len(line) <= MAX_HEADING and not line.endswith(_PROSE_ENDINGS)


# --- shared helpers -----------------------------------------------------------


def _skip_blank(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def _blocks(lines: Sequence[str]) -> list[list[str]]:
    """Runs of non-blank lines, i.e. paragraphs (or lone heading lines)."""
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _paragraphs(lines: Sequence[str]) -> str:
    return "\n\n".join("\n".join(block) for block in _blocks(lines))
