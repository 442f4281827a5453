"""Documents as work for the analysis workers: one ``DocTask`` per document, dealt in batches.

Only what a worker needs crosses the pipe: ids, title, path, meta and each
section's heading and body; everything derived (the combined content, folded
text, metadata terms) is computed in the worker. Both backends' index runs feed
their workers these batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from sakuin.search.config import BATCH_CHARS
from sakuin.search.documents.model import Document


#: (doc_id, source, path, title, meta, [(ordinal, heading, body), …])
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


def doc_task(doc: Document, source: str) -> DocTask:
    return DocTask(
        doc.doc_id,
        source,
        doc.path,
        doc.title,
        doc.meta or None,
        [(s.ordinal, s.heading, s.text) for s in doc.sections],
    )


#: A batch: the document tasks and the input bytes they account for.
Batch = tuple[list[DocTask], int]


def _batch_chars(task: DocTask) -> int:
    return len(task.title) + sum(len(h) + len(b) for _, h, b in task.sections)


def batches(tasks: Iterable[tuple[DocTask | None, int]]) -> Iterator[Batch]:
    """Group (task or None, input bytes) pairs; a None task only carries bytes (a skipped record)."""
    batch: list[DocTask] = []
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


__all__ = ["BATCH_CHARS", "Batch", "DocTask", "batches", "doc_task"]
