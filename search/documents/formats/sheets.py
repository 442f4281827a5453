"""Spreadsheets (XLSX, XLSM, the old binary XLS, ODS): one section per sheet, rows as lines.

python-calamine reads all four formats (Rust, no macros run). Each non-empty row is
a line of tab-separated cells (numbers as written: 12, not 12.0; dates in ISO
8601); a large sheet becomes one long section, which ``make_document`` splits as it
splits any long section. Phonetic runs (furigana, ``rPh``) of a cell are not part
of its value, so 東京 never reads トウキョウ東京. A zipped workbook passes
``ooxml.open_zip``'s checks first; its core properties give the title and metadata.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from typing import Any

from sakuin.search.documents.formats.ooxml import Source, core_properties, open_zip
from sakuin.search.documents.limits import Deadline, Limits, TextBudget
from sakuin.search.errors import UnreadableFile

_KINDS = {".xlsx": "XLSX", ".xlsm": "XLSM", ".xls": "XLS", ".ods": "ODS"}


def read_sheets(
    source: Source, suffix: str, limits: Limits, deadline: Deadline, budget: TextBudget
) -> tuple[str, list[tuple[str, str]], dict[str, Any]]:
    """(title, a section per sheet, metadata) of a workbook."""
    from python_calamine import CalamineWorkbook

    kind = _KINDS.get(suffix, "spreadsheet")
    title, meta = "", {}
    if suffix != ".xls":
        with open_zip(source, limits, kind) as archive:
            if suffix != ".ods":
                title, meta = core_properties(archive, kind)
    try:
        book = (
            CalamineWorkbook.from_filelike(io.BytesIO(source))
            if isinstance(source, bytes)
            else CalamineWorkbook.from_path(str(source))
        )
    except (zipfile.BadZipFile, ValueError, OSError, Exception) as exc:  # calamine's errors are its own types
        raise UnreadableFile(f"not a readable {kind} ({type(exc).__name__}: {exc})") from None
    sections: list[tuple[str, str]] = []
    try:
        for name in book.sheet_names:
            deadline.check()
            try:
                sheet = book.get_sheet_by_name(name)
                rows = sheet.iter_rows()
            except Exception as exc:
                raise UnreadableFile(f"not a readable {kind} (sheet {name}: {exc})") from None
            lines: list[str] = []
            for n, row in enumerate(rows):
                if n % 1000 == 999:
                    deadline.check()
                cells = [_cell(value) for value in row]
                while cells and not cells[-1]:
                    cells.pop()
                if cells:
                    lines.append(budget.add("\t".join(cells)))
            sections.append((" ".join(name.split()), "\n".join(lines)))
    finally:
        book.close()
    return title, sections, meta


def _cell(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime.datetime):
        return (
            value.isoformat(sep=" ", timespec="seconds")
            if value.time() != datetime.time()
            else value.date().isoformat()
        )
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return str(value)
    return " ".join(str(value).replace("\t", " ").split())


__all__ = ["read_sheets"]
