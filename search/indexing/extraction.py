"""A ``FileTask`` run in an analysis worker: extract the file, make its document tasks, report.

Both backends' workers call ``run_file_task`` for each file task of a batch, then
analyse the document tasks it returns like any other; the ``FileOutcome`` goes
back to the main process with the batch's counts (``sakuin.search.indexing.changes.Reading``
turns it into the file's manifest entry and the summary's lines). Whatever a file
does, the worker goes on: a skip is an outcome, never an exception.
"""

from __future__ import annotations

import time
from pathlib import Path

from sakuin.search.documents.extract import extract_file
from sakuin.search.errors import UnreadableFile
from sakuin.search.indexing.tasks import DocTask, FileOutcome, FileTask, doc_task


def run_file_task(task: FileTask) -> tuple[list[DocTask], FileOutcome]:
    """The document tasks of one extracted file, and what to report about it."""
    started = time.process_time()
    try:
        extraction = extract_file(Path(task.path), Path(task.root), task.reserved)
    except UnreadableFile as exc:
        seconds = time.process_time() - started
        return [], FileOutcome(task.source, [], 0, str(exc) or "unreadable", [], [], [], seconds)
    seconds = time.process_time() - started
    docs = extraction.documents
    tasks = [doc_task(doc, task.source) for doc in docs]
    return tasks, FileOutcome(
        task.source,
        [doc.doc_id for doc in docs],
        sum(len(doc.sections) for doc in docs),
        None,
        extraction.problems,
        extraction.notes,
        [doc.meta for doc in docs if doc.meta],
        seconds,
    )


__all__ = ["run_file_task"]
