"""PDF: sections from the outline (else one per page), text in reading order, page by page.

PDFium (pypdfium2) reads the file: it decodes every font's text, including CID
fonts without a Unicode map (Identity-H/V, not embedded, common in Japanese TeX
and older Acrobat output) through the predefined Adobe-Japan1 character
collections, as PDF viewers do, and gives each character's box.

Design decisions:

* **Lines are joined as a reader reads them.** PDFium reports line breaks; a
  break between two Japanese characters is no space (文字の間に空白は入らない),
  between two Latin words one space, and a line that ends well before the
  page's right margin (or, in a vertical column, well above its foot) ends its
  paragraph. Vertical writing (縦書き) comes as one character per line, each
  below the last: such runs are one column, read top to bottom, columns in the
  order the page draws them (right to left).
* **Glyphs are mapped to ordinary characters** (``glyphs``: ⽤ → 用, ﬁ → fi).
* **Sections follow the outline** (bookmarks) when there is one: a bookmark's
  section starts where its destination points on its page (or at the bookmark's
  title found on the page, or at the page's top) and its heading line is not
  repeated in the body. Without an outline, each page is a section. Every
  section's text is given page by page, so it knows its page range and on which
  page each match stands.
* **Every page's text is rebuilt the same way** for the thumbnail of a hit
  (``PageText.boxes``): the matched words found in the page's text give the
  character boxes to mark.
* **A PDF with no text at all is not indexed as empty**: it is reported as
  scanned, or read through ``tesseract`` when it is installed with Japanese
  data (``ocr``).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from sakuin.search.documents.formats.glyphs import GLYPHS
from sakuin.search.documents.limits import Deadline, Limits, TextBudget
from sakuin.search.errors import UnreadableFile

#: PDFium is not thread-safe: one call at a time per process (a server renders thumbnails).
PDFIUM_LOCK = threading.RLock()

Source = Path | bytes

#: Characters after which a line break never means a space (and before which neither).
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f\U00020000-\U0003ffff]")
_LATIN_END = re.compile(r"[0-9A-Za-z\u00c0-\u024f,.;:!?)\]'\"%]")


@dataclass(slots=True)
class Line:
    """One line of a page: its text, the PDFium character index of each of its characters
    (-1 for none) and its box (left, bottom, right, top) in PDF points."""

    text: list[str]
    index: list[int]
    box: tuple[float, float, float, float]
    vertical: bool = False

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]


@dataclass(slots=True)
class PageText:
    """A page's text as sakuin reads it, and the PDFium character behind each character."""

    text: str
    index: list[int]
    lines: list[tuple[int, float]] = field(default_factory=list)  # (offset of a line's start, its top)

    def offset_below(self, top: float) -> int:
        """The offset of the first line whose top is at or below ``top`` (a destination's y)."""
        for offset, line_top in self.lines:
            if line_top <= top + 2:
                return offset
        return len(self.text)


def open_pdf(source: Source) -> pdfium.PdfDocument:
    """Open a PDF (an empty password is tried, as viewers do); ``UnreadableFile`` says why not."""
    try:
        return pdfium.PdfDocument(source if isinstance(source, bytes) else str(source), password="")
    except pdfium.PdfiumError as exc:
        reason = str(exc).lower()
        if "password" in reason:
            raise UnreadableFile("encrypted PDF: it needs a password to open") from None
        if "format" in reason or "file" in reason:
            raise UnreadableFile("not a readable PDF (damaged or truncated)") from None
        raise UnreadableFile(f"not a readable PDF ({exc})") from None


def page_text(page: pdfium.PdfPage) -> PageText:
    """The page's text in reading order (module doc), with its characters' PDFium indices."""
    textpage = page.get_textpage()
    try:
        lines = _lines(textpage)
    finally:
        textpage.close()
    return _joined(lines)


def _lines(textpage: pdfium.PdfTextPage) -> list[Line]:
    count = textpage.count_chars()
    if count <= 0:
        return []
    raw = textpage.get_text_range(0, count)
    if len(raw) != count:  # characters outside the BMP: read one by one
        raw = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, i) or 0xFFFD) for i in range(count))
    pieces: list[tuple[int, int]] = []
    start = 0
    i = 0
    while i < count:
        if raw[i] == "\r" and i + 1 < count and raw[i + 1] == "\n":
            pieces.append((start, i))
            start = i = i + 2
            continue
        if raw[i] == "\n":
            pieces.append((start, i))
            start = i = i + 1
            continue
        i += 1
    pieces.append((start, count))
    lines: list[Line] = []
    for begin, end in pieces:
        text: list[str] = []
        index: list[int] = []
        for k in range(begin, end):
            char = raw[k]
            code = ord(char)
            if code < 0x20 or code in (0xFFFE, 0xFFFF, 0xFEFF, 0xAD):
                continue  # controls, PDFium's hyphen marks and soft hyphens: not text
            mapped = GLYPHS.get(code, char)
            for c in mapped:
                text.append(c)
                index.append(k)
        while text and text[-1].isspace():
            text.pop()
            index.pop()
        while text and text[0].isspace():
            text.pop(0)
            index.pop(0)
        if not text:
            continue
        box = _box(textpage, index[0], index[-1] - index[0] + 1)
        if box is None:
            continue
        lines.append(Line(text, index, box))
    return _columns(lines)


def _box(textpage: pdfium.PdfTextPage, start: int, count: int) -> tuple[float, float, float, float] | None:
    n = textpage.count_rects(start, count)
    if n <= 0:
        return None
    rects = [textpage.get_rect(i) for i in range(n)]
    return (
        min(r[0] for r in rects),
        min(r[1] for r in rects),
        max(r[2] for r in rects),
        max(r[3] for r in rects),
    )


def _stacked(above: Line, below: Line) -> bool:
    """``below`` continues ``above``'s vertical column: short, overlapping across, lower down."""
    if len(above.text) > 2 or len(below.text) > 2:
        return False
    left, right = max(above.box[0], below.box[0]), min(above.box[2], below.box[2])
    overlap = right - left
    narrow = min(above.width, below.width) or 1.0
    return overlap >= 0.4 * narrow and below.box[3] <= above.box[1] + 0.6 * max(above.height, below.height, 1.0)


def _columns(lines: list[Line]) -> list[Line]:
    """Runs of single characters stacked vertically become one vertical line each."""
    out: list[Line] = []
    for line in lines:
        last = out[-1] if out else None
        if last is not None and (last.vertical or len(last.text) <= 2) and _stacked(_tail(last), line):
            last.text += line.text
            last.index += line.index
            last.box = (
                min(last.box[0], line.box[0]),
                min(last.box[1], line.box[1]),
                max(last.box[2], line.box[2]),
                max(last.box[3], line.box[3]),
            )
            last.vertical = True
            continue
        out.append(line)
    return out


def _tail(line: Line) -> Line:
    """The last character's extent of a vertical line (its width, the column's foot)."""
    if not line.vertical:
        return line
    size = line.width
    return Line(line.text[-1:], line.index[-1:], (line.box[0], line.box[1], line.box[2], line.box[1] + size))


def _joined(lines: list[Line]) -> PageText:
    horizontal = [line for line in lines if not line.vertical and len(line.text) > 8]
    right = max((line.box[2] for line in horizontal), default=0.0)
    vertical = [line for line in lines if line.vertical and len(line.text) > 8]
    foot = min((line.box[1] for line in vertical), default=0.0)
    text: list[str] = []
    index: list[int] = []
    starts: list[tuple[int, float]] = []
    previous: Line | None = None
    for line in lines:
        if previous is not None:
            separator = _separator(previous, line, right, foot)
            if separator:
                text.append(separator)
                index.append(-1)
        starts.append((len(text), line.box[3]))
        text += line.text
        index += line.index
        previous = line
    return PageText("".join(text), index, starts)


def _separator(previous: Line, line: Line, right: float, foot: float) -> str:
    """What stands between two lines: a paragraph break, a space or nothing (module doc)."""
    size = previous.width if previous.vertical else previous.height
    if previous.vertical:
        ended = foot and previous.box[1] > foot + 1.5 * size
    else:
        ended = right and previous.box[2] < right - 2.5 * size
    if ended:
        return "\n"
    last, first = previous.text[-1], line.text[0]
    if _CJK.match(last) or _CJK.match(first):
        return ""
    if last == "-" and first.isalpha():
        return ""
    return " " if _LATIN_END.match(last) or last.isalnum() else ""


# -- the document ---------------------------------------------------------------------


@dataclass(slots=True)
class Bookmark:
    title: str
    page: int  # 0-based
    top: float | None


def _outline(pdf: pdfium.PdfDocument, pages: int, deadline: Deadline) -> list[Bookmark]:
    marks: list[Bookmark] = []
    try:
        for item in pdf.get_toc(max_depth=8):
            deadline.check()
            if len(marks) > 10 * pages + 100:
                break
            dest = item.get_dest()
            index = dest.get_index() if dest is not None else None
            if index is None or not 0 <= index < pages:
                continue
            top = None
            if dest is not None:
                mode, view = dest.get_view()
                if mode == pdfium_c.PDFDEST_VIEW_XYZ and len(view) >= 2 and view[1]:
                    top = float(view[1])
            title = " ".join(unicodedata.normalize("NFC", item.get_title() or "").split())
            if title:
                marks.append(Bookmark(title, index, top))
    except pdfium.PdfiumError:
        return []
    marks.sort(key=lambda m: (m.page, -(m.top if m.top is not None else 1e9)))
    return marks


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _cut(page: PageText, mark: Bookmark) -> tuple[int, int]:
    """Where the bookmark's section starts on its page, and where its body starts (past the
    heading line when the page repeats the title there)."""
    start = page.offset_below(mark.top) if mark.top is not None else -1
    title = _squeeze(mark.title)
    if start < 0:
        start = 0
        found = _find_squeezed(page.text, title, 0)
        if found is not None:
            start = found[0]
    found = _find_squeezed(page.text, title, start)
    body = start
    if found is not None and found[0] - start <= 2:
        body = found[1]
    return start, body


def _find_squeezed(text: str, target: str, start: int) -> tuple[int, int] | None:
    """``target`` (without spaces) in ``text`` from ``start``, spaces and line breaks ignored."""
    if not target:
        return None
    positions = [i for i in range(start, len(text)) if not text[i].isspace()]
    squeezed = "".join(text[i] for i in positions)
    at = squeezed.find(target)
    if at < 0:
        return None
    return positions[at], positions[at + len(target) - 1] + 1


@dataclass
class PdfText:
    """What ``read_pdf`` found: the title, the sections (heading, page pieces), properties, notes."""

    title: str
    sections: list[tuple[str, list[tuple[int, str]]]]
    meta: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def read_pdf(source: Source, limits: Limits, deadline: Deadline, budget: TextBudget) -> PdfText:
    """A PDF's sections (module doc); ``UnreadableFile`` for an encrypted, damaged, scanned
    (without OCR) or too large one."""
    with PDFIUM_LOCK:
        pdf = open_pdf(source)
        try:
            return _read(pdf, source, limits, deadline, budget)
        finally:
            pdf.close()


def _read(pdf: pdfium.PdfDocument, source: Source, limits: Limits, deadline: Deadline, budget: TextBudget) -> PdfText:
    pages = len(pdf)
    if pages > limits.pages:
        raise UnreadableFile(f"{pages:,} pages (limit {limits.pages:,.0f}, SAKUIN_MAX_PAGES)")
    if pages == 0:
        raise UnreadableFile("a PDF with no pages")
    meta, title = _properties(pdf)
    marks = _outline(pdf, pages, deadline)
    texts: list[PageText] = []
    blank: list[int] = []
    for number in range(pages):
        deadline.check()
        page = pdf[number]
        try:
            text = page_text(page)
            if not text.text.strip() and _has_images(page):
                blank.append(number)
        finally:
            page.close()
        budget.add(text.text)
        texts.append(text)
    notes: list[str] = []
    if blank:
        from sakuin.search.documents.formats.ocr import ocr_available, ocr_page

        if ocr_available():
            for number in blank:
                deadline.check()
                text = ocr_page(pdf, number)
                budget.add(text)
                texts[number] = PageText(text, [-1] * len(text))
            notes.append(f"{len(blank)} scanned page{'s' if len(blank) > 1 else ''} read through OCR")
    if not any(t.text.strip() for t in texts):
        if blank:
            raise UnreadableFile(
                f"no text: scanned? ({len(blank)} page{'s' if len(blank) > 1 else ''} of images;"
                " install tesseract-ocr-jpn to read them)"
            )
        raise UnreadableFile("no text content")
    sections = _sections(texts, marks) if marks else [("", [(n + 1, t.text)]) for n, t in enumerate(texts)]
    return PdfText(title, sections, meta, notes)


def _sections(texts: list[PageText], marks: list[Bookmark]) -> list[tuple[str, list[tuple[int, str]]]]:
    """Page pieces cut at the bookmarks (module doc); text before the first is a lead section."""
    by_page: dict[int, list[Bookmark]] = {}
    for mark in marks:
        by_page.setdefault(mark.page, []).append(mark)
    sections: list[tuple[str, list[tuple[int, str]]]] = [("", [])]
    for number, page in enumerate(texts):
        position = 0
        for mark in by_page.get(number, []):
            start, body = _cut(page, mark)
            start = max(start, position)
            body = max(body, start)
            if start > position:
                sections[-1][1].append((number + 1, page.text[position:start]))
            sections.append((mark.title, []))
            position = body
        if position < len(page.text):
            sections[-1][1].append((number + 1, page.text[position:]))
    if not sections[0][1]:
        sections.pop(0)
    return sections


def _has_images(page: pdfium.PdfPage) -> bool:
    try:
        return any(True for _ in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2))
    except pdfium.PdfiumError:
        return False


_DATE = re.compile(r"D?:?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz+\-])?(\d{2})?'?(\d{2})?")


def pdf_date(value: str) -> str | None:
    """A PDF date (``D:20261207010252+09'00'``) as ISO 8601, or None."""
    m = _DATE.match(value.strip())
    if not m:
        return None
    year, month, day, hour, minute, second, sign, tzh, tzm = m.groups()
    try:
        moment = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    if sign in ("+", "-") and tzh:
        offset = timedelta(hours=int(tzh), minutes=int(tzm or 0))
        moment = moment.replace(tzinfo=timezone(offset if sign == "+" else -offset))
    elif sign in ("Z", "z"):
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def _properties(pdf: pdfium.PdfDocument) -> tuple[dict[str, Any], str]:
    try:
        info = pdf.get_metadata_dict(skip_empty=True)
    except pdfium.PdfiumError:
        return {}, ""
    meta: dict[str, Any] = {}
    for key, name in (("Author", "author"), ("Subject", "subject"), ("Keywords", "keywords")):
        value = " ".join(str(info.get(key, "")).split())
        if value:
            meta[name] = value
    for key, name in (("CreationDate", "created"), ("ModDate", "updated")):
        date = pdf_date(str(info.get(key, "")))
        if date:
            meta[name] = date
    return meta, " ".join(str(info.get("Title", "")).split())


# -- thumbnails -----------------------------------------------------------------------


def render_page(source: Source, number: int, width: int, words: list[str]) -> bytes:
    """Page ``number`` (1-based) as a PNG ``width`` pixels wide, each occurrence of ``words``
    (as they stand in the page's text) boxed. Raises ``UnreadableFile`` or ``IndexError``."""
    import io

    from PIL import ImageDraw

    with PDFIUM_LOCK:
        pdf = open_pdf(source)
        try:
            if not 1 <= number <= len(pdf):
                raise IndexError(number)
            page = pdf[number - 1]
            try:
                scale = width / max(page.get_width(), 1.0)
                image = page.render(scale=scale, may_draw_forms=True).to_pil().convert("RGB")
                boxes = list(_match_boxes(page, words))
                height = page.get_height()
            finally:
                page.close()
        finally:
            pdf.close()
    draw = ImageDraw.Draw(image, "RGBA")
    for left, bottom, right, top in boxes:
        x0, x1 = left * scale - 2, right * scale + 2
        y0, y1 = (height - top) * scale - 2, (height - bottom) * scale + 2
        draw.rectangle((x0, y0, x1, y1), fill=(255, 214, 0, 70), outline=(214, 40, 40, 255), width=2)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _match_boxes(page: pdfium.PdfPage, words: list[str]) -> Iterator[tuple[float, float, float, float]]:
    """The boxes of every occurrence of ``words`` in the page's text (one per line it spans)."""
    wanted = [w for w in dict.fromkeys(words) if w.strip()]
    if not wanted:
        return
    text = page_text(page)
    textpage = page.get_textpage()
    try:
        for word in wanted:
            at = text.text.find(word)
            while at >= 0:
                chars = [i for i in text.index[at : at + len(word)] if i >= 0]
                for run in _runs(chars):
                    box = _box(textpage, run[0], run[-1] - run[0] + 1)
                    if box is not None:
                        yield box
                at = text.text.find(word, at + len(word))
    finally:
        textpage.close()


def _runs(indices: list[int]) -> Iterator[list[int]]:
    """Consecutive character indices, so a match broken over two lines gets two boxes."""
    run: list[int] = []
    for i in indices:
        if run and i > run[-1] + 3:
            yield run
            run = []
        run.append(i)
    if run:
        yield run


__all__ = [
    "PDFIUM_LOCK",
    "PageText",
    "PdfText",
    "open_pdf",
    "page_text",
    "pdf_date",
    "read_pdf",
    "render_page",
]
