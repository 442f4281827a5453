"""What kind of document a file is: its built-in ``type``, and which reader takes it.

A file's suffix decides, as it does for a person: ``type`` is the kind of
document (``pdf``, ``docx``, ``xlsx``, ``pptx``, ``epub``, ``eml``, ``md``,
``html``, ``txt``, ``jsonl``…), a built-in facet of every index
(``sakuin.search.documents.metadata.TYPE``). Text formats are read where files are
listed (``files``); the others are *extracted* (``extract``), which the index run
does in its analysis workers. The old binary Office formats are refused with
what to do instead.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

#: Suffix → the built-in ``type`` value.
TYPES: dict[str, str] = {
    "": "txt",
    ".txt": "txt",
    ".text": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".pdf": "pdf",
    ".docx": "docx",
    ".docm": "docx",
    ".pptx": "pptx",
    ".pptm": "pptx",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".ods": "ods",
    ".epub": "epub",
    ".eml": "eml",
    ".mbox": "eml",
    ".rtf": "rtf",
}

#: Suffixes whose files are extracted (in the analysis workers during an index run).
EXTRACTED = frozenset(
    {".pdf", ".docx", ".docm", ".pptx", ".pptm", ".xlsx", ".xlsm", ".xls", ".ods", ".epub", ".eml", ".mbox", ".rtf"}
)

#: Suffixes refused with a reason that says what to do.
REFUSED: dict[str, str] = {
    ".doc": "old binary Word document (.doc) is not read: save it as .docx to index it",
    ".ppt": "old binary PowerPoint file (.ppt) is not read: save it as .pptx to index it",
    ".msg": "Outlook .msg is not read: save the message as .eml to index it",
}

#: What a file's content type is when it is served (``/files/<doc_id>``).
MEDIA_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xls": "application/vnd.ms-excel",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "epub": "application/epub+zip",
    "eml": "message/rfc822",
    "rtf": "application/rtf",
    "md": "text/markdown; charset=utf-8",
    "html": "text/plain; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "jsonl": "application/x-ndjson",
}


def file_type(name: str | Path) -> str:
    """The built-in ``type`` of a file (or an attachment) named ``name``; "" when unknown."""
    return TYPES.get(Path(str(name)).suffix.lower(), "")


def is_extracted(name: str | Path) -> bool:
    return Path(str(name)).suffix.lower() in EXTRACTED


def modified_time(path: Path) -> str | None:
    """The file's modification time, ISO 8601 in the machine's zone (dates compare as written)."""
    try:
        seconds = os.stat(path).st_mtime
    except OSError:
        return None
    return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")


__all__ = ["EXTRACTED", "MEDIA_TYPES", "REFUSED", "TYPES", "file_type", "is_extracted", "modified_time"]
