"""Extraction: a PDF, Office, EPUB, mail or RTF file → documents, within the per-file limits.

``extract_file`` is what an analysis worker runs for each such file of an index run
(``sakuin.search.indexing.extraction``), and what ``files.iter_documents`` runs
in-process for anyone reading one file. Each format's module only turns bytes into
a title, sections and properties; this module owns what they share: the size
check, the limits (``limits``: pages, decompressed bytes, time, text), the
built-in ``type`` and ``modified``, document ids, and attachments.

Design decisions:

* **A file is one document**, except a mail file: an ``.mbox`` is one document per
  message (``box.mbox#3``), and every attachment in a known format (and every
  attached message) becomes a document of its own, ``mail.eml#report.pdf``. An
  attachment's name never holds ``#`` (``mail.safe_name``), so two containers never
  make the same id; an id another file of the run owns (``reserved``: the files
  whose own id holds ``#``) is left out with a problem instead of taking it.
* **An attachment that cannot be read is a problem, not a skip**: the message is
  indexed, the summary names the attachment and why.
* **Every failure of a reader is a reason.** ``UnreadableFile`` carries one; any
  other exception of a reader (a malformed file finds every parser's corner) is
  reported as a damaged file with the exception's type, never a crash of the run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sakuin.search.config import MB
from sakuin.search.documents.files import doc_id_for, is_text, open_input, text_document
from sakuin.search.documents.formats.mail import Mail, iter_mbox, read_eml, safe_name
from sakuin.search.documents.kinds import REFUSED, file_type, is_extracted, modified_time
from sakuin.search.documents.limits import Deadline, Limits, TextBudget, time_limit
from sakuin.search.documents.model import Document
from sakuin.search.documents.sections import make_document
from sakuin.search.errors import UnreadableFile

Source = Path | bytes
#: Attachments inside attachments are read this deep (a message forwarded in a message…).
MAX_NESTING = 3


@dataclass
class Extraction:
    """What one file gave: its documents, problems worth reporting, notes (OCR), its size."""

    documents: list[Document]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    size: int = 0


def extract_file(
    path: Path, root: Path, reserved: frozenset[str] = frozenset(), limits: Limits | None = None
) -> Extraction:
    """The documents of one extracted file; raises ``UnreadableFile`` with the reason to skip it."""
    limits = limits or Limits.current()
    suffix = path.suffix.lower()
    if suffix in REFUSED:
        raise UnreadableFile(REFUSED[suffix])
    rel = doc_id_for(path, root)
    try:
        with open_input(path) as stream:
            size = os.fstat(stream.fileno()).st_size
    except OSError as exc:
        raise UnreadableFile(exc.strerror or str(exc)) from exc
    if size == 0:
        raise UnreadableFile("empty file")
    if size > limits.file_bytes:
        raise UnreadableFile(
            f"file too large ({size / MB:.1f} MB; the limit is {limits.file_bytes / MB:.0f} MB, SAKUIN_MAX_DOCUMENT_MB)"
        )
    out = Extraction([], size=size)
    context = _Context(rel, modified_time(path), limits, reserved, out)
    budget = TextBudget(limits.text_bytes)
    if suffix == ".mbox":
        _mbox(path, context, budget)
    else:
        context.read(path, path.name, rel, budget, depth=0)
    if not out.documents:
        raise UnreadableFile("no text content")
    return out


@dataclass
class _Context:
    rel: str
    modified: str | None
    limits: Limits
    reserved: frozenset[str]
    out: Extraction

    def taken(self, doc_id: str) -> bool:
        """Whether another file of the run owns ``doc_id`` or could make it (module doc)."""
        if doc_id in self.reserved:
            return True
        head = self.rel
        for part in doc_id[len(self.rel) + 1 :].split("#")[:-1]:
            head = f"{head}#{part}"
            if head in self.reserved:
                return True
        return False

    def read(self, source: Source, name: str, doc_id: str, budget: TextBudget, depth: int) -> Document | None:
        """One document from ``source`` (its attachments added after it); raises for the file itself."""
        deadline = Deadline(self.limits.seconds)
        with time_limit(self.limits.seconds):
            try:
                document, attachments = _document(source, name, doc_id, self, deadline, budget)
            except UnreadableFile:
                raise
            except RecursionError:
                raise UnreadableFile("nested too deeply to read") from None
            except MemoryError:
                raise UnreadableFile("too large to read in memory") from None
            except Exception as exc:  # a reader's own failure on a malformed file (module doc)
                raise UnreadableFile(f"damaged file ({type(exc).__name__}: {exc})"[:300]) from None
        if document is not None:
            self.out.documents.append(document)
        self.attachments(doc_id, attachments, budget, depth)
        return document

    def attachments(self, parent: str, attachments: list[tuple[str, bytes]], budget: TextBudget, depth: int) -> None:
        seen: dict[str, int] = {}
        for name, data in attachments:
            if depth >= MAX_NESTING or not (is_extracted(name) or is_text(name)) or name.lower().endswith(".mbox"):
                continue
            count = seen.get(name, 0) + 1
            seen[name] = count
            if count > 1:
                stem, dot, ext = name.rpartition(".")
                name = f"{stem}-{count}.{ext}" if dot else f"{name}-{count}"
            doc_id = f"{parent}#{name}"
            if self.taken(doc_id):
                self.out.problems.append(f"{doc_id}: another file has this document id; attachment skipped")
                continue
            try:
                if not self.read(data, name, doc_id, budget, depth + 1):
                    self.out.problems.append(f"{doc_id}: no text content; attachment skipped")
            except UnreadableFile as exc:
                self.out.problems.append(f"{doc_id}: {exc}; attachment skipped")


def _mbox(path: Path, context: _Context, budget: TextBudget) -> None:
    messages = iter_mbox(path, lambda: Deadline(context.limits.seconds), budget)
    number = 0
    while True:
        with time_limit(context.limits.seconds):
            try:
                mail = next(messages, None)
            except UnreadableFile:
                raise
            except Exception as exc:
                raise UnreadableFile(f"damaged mbox ({type(exc).__name__}: {exc})"[:300]) from None
        if mail is None:
            return
        number += 1
        doc_id = f"{context.rel}#{number}"
        if context.taken(doc_id):
            context.out.problems.append(f"{doc_id}: another file has this document id; message skipped")
            continue
        document = _mail_document(mail, doc_id, context)
        if document is not None:
            context.out.documents.append(document)
        context.attachments(doc_id, [(a.name, a.data) for a in mail.attachments], budget, 1)


def _document(
    source: Source, name: str, doc_id: str, context: _Context, deadline: Deadline, budget: TextBudget
) -> tuple[Document | None, list[tuple[str, bytes]]]:
    """One file's (or attachment's) document and its attachments, by its name's suffix."""
    suffix = Path(name).suffix.lower()
    limits = context.limits
    if suffix in REFUSED:
        raise UnreadableFile(REFUSED[suffix])
    if is_text(name):
        data = source if isinstance(source, bytes) else _read_bytes(source)
        return text_document(doc_id, doc_id, name, data, context.modified), []
    stem = Path(name).stem
    kind = file_type(name)
    title: str = ""
    meta: dict[str, Any] = {}
    sections: list[Any]
    if suffix == ".pdf":
        from sakuin.search.documents.formats.pdf import read_pdf

        found = read_pdf(source, limits, deadline, budget)
        title, sections, meta = found.title, list(found.sections), found.meta
        context.out.notes.extend(f"{doc_id}: {note}" for note in found.notes)
    elif suffix in (".docx", ".docm"):
        from sakuin.search.documents.formats.docx import read_docx

        title, sections, meta = read_docx(source, limits, deadline, budget)
    elif suffix in (".pptx", ".pptm"):
        from sakuin.search.documents.formats.pptx import read_pptx

        title, sections, meta = read_pptx(source, limits, deadline, budget)
    elif suffix in (".xlsx", ".xlsm", ".xls", ".ods"):
        from sakuin.search.documents.formats.sheets import read_sheets

        title, sections, meta = read_sheets(source, suffix, limits, deadline, budget)
    elif suffix == ".epub":
        from sakuin.search.documents.formats.epub import read_epub

        title, sections, meta = read_epub(source, limits, deadline, budget)
    elif suffix == ".rtf":
        from sakuin.search.documents.formats.rtf import read_rtf
        from sakuin.search.documents.formats.text import parse_plaintext

        data = source if isinstance(source, bytes) else _read_bytes(source)
        title, text = read_rtf(data)
        fallback, sections = parse_plaintext(budget.add(text), stem)
        title = title or fallback
    elif suffix == ".eml":
        data = source if isinstance(source, bytes) else _read_bytes(source)
        mail = read_eml(data, deadline, budget)
        return _mail_document(mail, doc_id, context), [(a.name, a.data) for a in mail.attachments]
    else:
        raise UnreadableFile(f"unsupported file type {suffix}")
    document = make_document(doc_id, title or stem, doc_id, sections, meta, file_type=kind, modified=context.modified)
    return (document if document.sections else None), []


def _mail_document(mail: Mail, doc_id: str, context: _Context) -> Document | None:
    names = [a.name for a in mail.attachments]
    meta = dict(mail.meta)
    if names:
        meta["attachments"] = names
    document = make_document(
        doc_id,
        mail.subject or "(件名なし)",
        doc_id,
        [("", mail.body)],
        meta,
        file_type="eml",
        modified=context.modified,
    )
    return document if document.sections else None


def _read_bytes(path: Path) -> bytes:
    with open_input(path) as stream:
        return stream.read()


__all__ = ["MAX_NESTING", "Extraction", "extract_file", "safe_name"]
