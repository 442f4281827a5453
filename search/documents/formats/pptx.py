"""PPTX: one section per slide, its title as the heading, its text and speaker notes as the body.

Read with python-pptx once the zip has passed ``ooxml.open_zip``'s checks. A
slide's shapes are read in the order a person reads them (top to bottom, then
left to right), groups opened with an explicit stack, a table's rows as lines of
tab-separated cells; the speaker notes follow the slide's text. The slide number
is kept as the section's page (``Section.pages``), so a hit says which slide.
"""

from __future__ import annotations

import io
from typing import Any

from sakuin.search.documents.formats.ooxml import Source, core_properties, open_zip
from sakuin.search.documents.limits import Deadline, Limits, TextBudget
from sakuin.search.errors import UnreadableFile

KIND = "PPTX"


def read_pptx(
    source: Source, limits: Limits, deadline: Deadline, budget: TextBudget
) -> tuple[str, list[tuple[str, list[tuple[int, str]]]], dict[str, Any]]:
    """(title, sections as (heading, [(slide number, text)]), metadata) of a PPTX."""
    from pptx import Presentation

    with open_zip(source, limits, KIND) as archive:
        title, meta = core_properties(archive, KIND)
    try:
        deck = Presentation(io.BytesIO(source) if isinstance(source, bytes) else str(source))
    except Exception as exc:  # python-pptx raises whatever its parts raise
        raise UnreadableFile(f"not a readable PPTX ({type(exc).__name__}: {exc})") from None
    sections: list[tuple[str, list[tuple[int, str]]]] = []
    for number, slide in enumerate(deck.slides, start=1):
        deadline.check()
        heading_shape = slide.shapes.title
        heading = " ".join((heading_shape.text_frame.text if heading_shape is not None else "").split())
        heading_id = heading_shape.shape_id if heading_shape is not None else None
        shapes = [shape for shape in _reading_order(slide.shapes) if shape.shape_id != heading_id]
        lines = [text for shape in shapes for text in _texts(shape)]
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                lines.append(notes)
        body = budget.add("\n".join(line for line in lines if line.strip()))
        sections.append((heading, [(number, body)]))
        if not title and heading:
            title = heading
    return title, sections, meta


def _reading_order(shapes: Any) -> list[Any]:
    """Shapes top to bottom, then left to right; groups opened in place (explicit stack)."""
    out: list[Any] = []
    stack = [sorted(shapes, key=_position, reverse=True)]
    while stack:
        if not stack[-1]:
            stack.pop()
            continue
        shape = stack[-1].pop()
        if shape.shape_type is not None and getattr(shape, "shapes", None) is not None:
            stack.append(sorted(shape.shapes, key=_position, reverse=True))
            continue
        out.append(shape)
    return out


def _position(shape: Any) -> tuple[int, int]:
    return (shape.top or 0, shape.left or 0)


def _texts(shape: Any) -> list[str]:
    if getattr(shape, "has_table", False) and shape.has_table:
        rows = []
        for row in shape.table.rows:
            cells = [" ".join(cell.text.split()) for cell in row.cells]
            line = "\t".join(cells).strip()
            if line:
                rows.append(line)
        return rows
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        return [shape.text_frame.text]
    return []


__all__ = ["read_pptx"]
