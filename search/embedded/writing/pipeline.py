"""Sections in, Whoosh segments out: the analysis workers of an index build.

The main process reads the text input files and deals documents out in batches,
with the files to extract (PDF, Office, EPUB, mail) as ``FileTask``s among them;
each worker extracts those (``sakuin.search.indexing.extraction``), analyses its
batches (``sakuin.search.analysis.terms``), accumulates them in a ``SegmentBuilder``
and writes a segment whenever the builder passes its memory budget, and once more at
the end. The main process never holds postings, only the batches in flight, so
memory is bounded by workers × (budget + the analysis's vocabulary and word tables,
``sakuin.search.analysis.terms.MAX_VOCABULARY`` terms at most) + the queues,
whatever the corpus size.

Design decisions:

* Batches go to the workers in turn (round robin), not to whichever is free, so
  the same input and worker count always give the same segments and document
  numbers: a build is reproducible.
* Only what a worker needs crosses the pipe: ids, title, path, meta and each
  section's heading and body; the combined ``content`` text, the metadata
  terms and columns (``sakuin.search.documents.metadata.derive``) are built there.
* Workers are forked after the writer lock is taken; ``sakuin.search.embedded.store`` makes them
  drop their copy of the lock and die with the writer. A worker keeps what it
  inherited out of its garbage collections (``gc.freeze``) and loads the
  dictionary while its first batch is being read.
* Extraction runs in the workers, not the main process, so reading PDFs and
  Office files scales with the workers like analysis does. What the main process
  needs of an extracted file (its document ids, section count, skip reason,
  problems) comes back with the batch's counts as a ``FileOutcome``; the caller
  turns the outcomes into manifest entries once every worker is done.
* A worker's failure is reported with its traceback and ends the build; the
  caller discards the private build directory, so the live index is untouched.
  A file that cannot be extracted is not a failure: it is an outcome, skipped.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import queue
import time
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh.fields import Schema
from whoosh.filedb.filestore import FileStorage

from sakuin.search.analysis.sudachi import user_dictionaries
from sakuin.search.analysis.terms import Timer, analyse_text, prepare, section_terms
from sakuin.search.config import QUEUE_DEPTH, segment_budget_bytes
from sakuin.search.documents.metadata import Declaration
from sakuin.search.embedded.store import fsync_file
from sakuin.search.embedded.writing.segments import SegmentBuilder
from sakuin.search.indexing.extraction import run_file_task
from sakuin.search.indexing.sections import folded_parts, section_fields
from sakuin.search.indexing.tasks import DocTask, FileOutcome, FileTask, Task, batches

INDEX_NAME = "MAIN"


@dataclass
class BuildStats:
    """What the workers did, for the summary."""

    sections: int = 0
    input_bytes: int = 0
    sudachi_seconds: float = 0.0
    worker_seconds: float = 0.0
    workers: int = 1
    segments: list[Any] = field(default_factory=list)
    #: What the workers reported of each extracted file.
    outcomes: list[FileOutcome] = field(default_factory=list)


class _Analyser:
    """One process's builder: turns document tasks into segments in ``folder``."""

    def __init__(self, schema: Schema, folder: Path, budget: int, declaration: Declaration) -> None:
        self.schema = schema
        self.declaration = declaration
        self.storage = FileStorage(str(folder))
        self.budget = budget
        self.builder = SegmentBuilder(schema)
        self.segments: list[Any] = []
        self.timer = Timer()

    def add(self, task: DocTask) -> int:
        title = task.title
        title_terms = analyse_text(title, timer=self.timer)
        n = 0
        for fields in section_fields(task, self.declaration):
            terms = section_terms(
                title, fields["heading"], fields["body"], title_terms, self.timer, folded_parts(fields["folded"])
            )
            self.builder.add(fields, terms)
            n += 1
            if self.builder.nbytes >= self.budget:
                self.flush()
        return n

    def run(self, batch: list[Task]) -> tuple[int, int, list[FileOutcome]]:
        """A batch's (sections, documents, outcomes): file tasks extracted, then analysed."""
        sections = documents = 0
        outcomes: list[FileOutcome] = []
        for task in batch:
            if isinstance(task, FileTask):
                extracted, outcome = run_file_task(task)
                outcomes.append(outcome)
            else:
                extracted = [task]
            for doc in extracted:
                sections += self.add(doc)
                documents += 1
        return sections, documents, outcomes

    def flush(self) -> None:
        if self.builder.docs:
            segment = self.builder.write(self.storage, INDEX_NAME)
            # Synced now, while other workers still write theirs: the publish, which syncs
            # the whole build, then finds it done (a serial 0.07 s at the end of livedoor's).
            fsync_file(Path(self.storage.folder) / segment.make_filename(segment.COMPOUND_EXT))
            self.segments.append(segment)
        self.builder = SegmentBuilder(self.schema)


def _worker(
    index: int,
    schema: Schema,
    folder: str,
    budget: int,
    declaration: Declaration,
    dictionaries: tuple[str, ...],
    tasks: Any,
    results: Any,
) -> None:
    started = time.process_time()
    # What the worker inherited from the main process stays out of its garbage collections:
    # collecting would walk (and so copy, page by page) memory it never frees.
    gc.freeze()
    try:
        with user_dictionaries(dictionaries):
            _work(index, schema, folder, budget, declaration, tasks, results, started)
    except BaseException:
        results.put(("error", index, traceback.format_exc()))


def _work(
    index: int,
    schema: Schema,
    folder: str,
    budget: int,
    declaration: Declaration,
    tasks: Any,
    results: Any,
    started: float,
) -> None:
    analyser = _Analyser(schema, Path(folder), budget, declaration)
    prepare()  # while the main process reads the first batch, not after it arrives
    while (batch := tasks.get()) is not None:
        docs, nbytes = batch
        sections, documents, outcomes = analyser.run(docs)
        results.put(("done", sections, nbytes, documents, outcomes))
    analyser.flush()
    results.put(("segments", index, analyser.segments, analyser.timer.seconds, time.process_time() - started))


def build_segments(
    schema: Schema,
    folder: Path,
    tasks: Iterable[tuple[Task | None, int]],
    procs: int,
    on_progress: Any = None,
    budget: int | None = None,
    declaration: Declaration | None = None,
    dictionaries: tuple[str, ...] = (),
) -> BuildStats:
    """Analyse ``tasks`` into new segments written in ``folder`` (not yet in any TOC).

    ``tasks`` yields (document task or None, input bytes it accounts for);
    ``on_progress(sections, input_bytes, documents)`` is called as batches finish;
    ``dictionaries``: the compiled user dictionaries to analyse with.
    """
    stats = BuildStats()
    budget = segment_budget_bytes() if budget is None else budget
    declaration = declaration or Declaration()
    if procs <= 1:
        started = time.process_time()
        analyser = _Analyser(schema, folder, budget, declaration)
        with user_dictionaries(dictionaries):
            for docs, nbytes in batches(tasks):
                sections, documents, outcomes = analyser.run(docs)
                stats.outcomes.extend(outcomes)
                _count(stats, on_progress, sections, nbytes, documents)
        analyser.flush()
        stats.segments = analyser.segments
        stats.sudachi_seconds = analyser.timer.seconds
        stats.worker_seconds = time.process_time() - started
        return stats

    stats.workers = procs
    ctx = mp.get_context("fork")
    results = ctx.Queue()
    inboxes = [ctx.Queue(QUEUE_DEPTH) for _ in range(procs)]
    workers = [
        ctx.Process(
            target=_worker,
            args=(i, schema, str(folder), budget, declaration, dictionaries, inbox, results),
            daemon=True,
        )
        for i, inbox in enumerate(inboxes)
    ]
    for w in workers:
        w.start()
    finished: dict[int, list[Any]] = {}
    try:
        for i, batch in enumerate(batches(tasks)):
            inbox = inboxes[i % procs]
            while True:
                try:
                    inbox.put(batch, timeout=0.2)
                    break
                except queue.Full:
                    _drain(results, stats, on_progress, finished, workers, block=False)
            _drain(results, stats, on_progress, finished, workers, block=False)
        for inbox in inboxes:
            inbox.put(None)
        while len(finished) < procs:
            _drain(results, stats, on_progress, finished, workers, block=True)
    except BaseException:
        for w in workers:
            if w.is_alive():
                w.kill()
        # Batches still buffered for the killed workers would block the exit of
        # this process (each queue's feeder thread waits to flush them) forever.
        for q in (*inboxes, results):
            q.cancel_join_thread()
        raise
    finally:
        for w in workers:
            w.join(timeout=30)
    # Segments in worker order, each worker's in the order written: deterministic.
    for i in sorted(finished):
        stats.segments.extend(finished[i])
    return stats


def _count(stats: BuildStats, on_progress: Any, sections: int, nbytes: int, documents: int) -> None:
    stats.sections += sections
    stats.input_bytes += nbytes
    if on_progress is not None:
        on_progress(sections, nbytes, documents)


def _drain(
    results: Any,
    stats: BuildStats,
    on_progress: Any,
    finished: dict[int, list[Any]],
    workers: list[Any],
    block: bool,
) -> None:
    while True:
        try:
            message = results.get(timeout=0.5) if block else results.get_nowait()
        except queue.Empty:
            dead = [w for w in workers if w.exitcode not in (None, 0)]
            if dead:
                raise RuntimeError(
                    f"an indexing worker died (exit code {dead[0].exitcode}); previous index kept"
                ) from None
            if block:
                continue
            return
        kind = message[0]
        if kind == "done":
            stats.outcomes.extend(message[4])
            _count(stats, on_progress, message[1], message[2], message[3])
        elif kind == "segments":
            finished[message[1]] = message[2]
            stats.sudachi_seconds += message[3]
            stats.worker_seconds += message[4]
            if block:
                return
        else:
            raise RuntimeError(f"indexing worker {message[1]} failed:\n{message[2]}")
        if block:
            return
