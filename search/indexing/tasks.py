"""Documents as work for the analysis workers: one ``DocTask`` per document, dealt in batches.

Only what a worker needs crosses the pipe: ids, title, path, meta and each
section's heading and body; everything derived (the combined content, folded
text, metadata terms) is computed in the worker. Both backends' index runs feed
their workers these batches.

A file whose documents must be *extracted* (PDF, Office, EPUB, mail:
``sakuin.search.documents.kinds``) crosses as a ``FileTask`` instead: its path,
not its text. The worker extracts it (``sakuin.search.indexing.extraction``),
analyses the documents and reports back what the main process needs for the
manifest and the summary (a ``FileOutcome``). A batch's make-up depends only on
the main process's input (a file task weighs its size in bytes), so the same
input and worker count still give the same segments.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from sakuin.search.config import BATCH_CHARS
from sakuin.search.documents.model import Document


class DocTask(NamedTuple):
    """One document as work for an analysis worker: what crosses the pipe and no more."""

    doc_id: str
    #: The input file it came from (its manifest key): what deletions go by.
    source: str
    path: str
    title: str
    meta: dict[str, Any] | None
    #: (ordinal, heading, body) of each section, in order.
    sections: list[tuple[int, str, str]]
    #: The built-ins: ``type``, ``modified`` and, for a paged document, ``pages``: each
    #: section's page starts (``Section.pages``) by ordinal. None: none known.
    info: dict[str, Any] | None = None


def doc_task(doc: Document, source: str) -> DocTask:
    info: dict[str, Any] = {}
    if doc.file_type:
        info["type"] = doc.file_type
    if doc.modified:
        info["modified"] = doc.modified
    if any(s.pages for s in doc.sections):
        info["pages"] = [[list(p) for p in s.pages] for s in doc.sections]
    return DocTask(
        doc.doc_id,
        source,
        doc.path,
        doc.title,
        doc.meta or None,
        [(s.ordinal, s.heading, s.text) for s in doc.sections],
        info or None,
    )


class FileTask(NamedTuple):
    """A file to extract in a worker (module doc)."""

    #: The manifest key of the file (its absolute path).
    source: str
    path: str
    root: str
    #: Its document id (the path relative to ``root``); an mbox's messages and attachments add ``#…``.
    doc_id: str
    size: int
    #: Document ids containing ``#`` that other files own (``sakuin.search.documents.extract``).
    reserved: frozenset[str] = frozenset()


class FileOutcome(NamedTuple):
    """What a worker reports for a ``FileTask``: the manifest's entry and the summary's lines."""

    source: str
    doc_ids: list[str]
    sections: int
    #: Why the file was skipped (None: it was indexed).
    skipped: str | None
    problems: list[str]
    notes: list[str]
    #: Each document's metadata, for the summary's suggestions (``FieldSurvey``).
    metas: list[dict[str, Any]]
    #: CPU seconds the worker spent extracting the file (for the summary's share).
    seconds: float = 0.0


Task = DocTask | FileTask

#: A batch: the tasks and the input bytes they account for.
Batch = tuple[list[Task], int]


def _batch_chars(task: Task) -> int:
    if isinstance(task, FileTask):
        return max(task.size, 1)
    return len(task.title) + sum(len(h) + len(b) for _, h, b in task.sections)


def batches(tasks: Iterable[tuple[Task | None, int]]) -> Iterator[Batch]:
    """Group (task or None, input bytes) pairs; a None task only carries bytes (a skipped record)."""
    batch: list[Task] = []
    chars = nbytes = 0
    for task, size in tasks:
        nbytes += size
        if task is None:
            continue
        batch.append(task)
        chars += _batch_chars(task)
        if chars >= BATCH_CHARS:
            yield batch, nbytes
            batch, chars, nbytes = [], 0, 0
    if batch or nbytes:
        yield batch, nbytes


__all__ = ["BATCH_CHARS", "Batch", "DocTask", "FileOutcome", "FileTask", "Task", "batches", "doc_task"]
