"""Building and updating the index: files → documents → sections → Whoosh.

Incremental by content hash: a run hashes every input file, but only files whose
bytes changed are read again; files that disappeared from the given paths lose
their documents. All writes go to a private copy published atomically by
``IndexStore``, so whatever happens here the live index stays intact.

Design decisions:

* A JSONL file is tracked per record (id → hash of the document it makes): when
  the file changes, only the records whose document changed are re-analysed and
  replaced, the others keep their sections. Other formats are one document per
  file and are tracked per file.
* A deleted section's contribution to the term statistics is recorded
  (``sakuin.search.embedded.livestats``) so that searches on an updated index score exactly as on
  a fresh build of the same inputs.
* Before publishing, ``sakuin.search.embedded.writing.compaction`` picks segments to rewrite (many
  deletions, or a full size tier); ``optimize`` rewrites them all.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index

from sakuin.search.analysis.settings import AnalysisSettings
from sakuin.search.analysis.sudachi import user_dictionaries
from sakuin.search.config import PARALLEL_MIN_BYTES
from sakuin.search.documents.files import iter_input_files
from sakuin.search.documents.metadata import Declaration, FieldSurvey, Kind
from sakuin.search.embedded.livestats import DeletedStats
from sakuin.search.embedded.schema import build_schema, open_index
from sakuin.search.embedded.status import FileStatusStore
from sakuin.search.embedded.store import IndexStore, install_dictionaries
from sakuin.search.embedded.writing import compaction
from sakuin.search.embedded.writing.pipeline import BuildStats, build_segments
from sakuin.search.indexing.analysis import Settled, settle
from sakuin.search.indexing.changes import changes, file_key, pending_documents, previous
from sakuin.search.indexing.history import recorded
from sakuin.search.indexing.report import IndexReport, Progress
from sakuin.search.indexing.sections import SCHEMA_VERSION
from sakuin.search.indexing.tasks import DocTask


class EmbeddedIndexer:
    """The embedded index's ``IndexBackend``: ``build_index`` and ``optimize_index`` on one directory."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir

    def build(
        self,
        paths: list[Path],
        *,
        rebuild: bool = False,
        procs: int | None = None,
        progress: Progress | None = None,
        wait: bool = True,
        declare: Iterable[tuple[str, Kind]] = (),
        trigger: str = "index",
        synonyms: Sequence[str] | None = None,
        user_dicts: Sequence[str] | None = None,
    ) -> IndexReport:
        return build_index(
            paths,
            self.index_dir,
            rebuild=rebuild,
            procs=procs,
            progress=progress,
            wait=wait,
            declare=declare,
            trigger=trigger,
            synonyms=synonyms,
            user_dicts=user_dicts,
        )

    def optimize(self, *, procs: int | None = None, progress: Progress | None = None, wait: bool = True) -> IndexReport:
        return optimize_index(self.index_dir, procs=procs, progress=progress, wait=wait)


def build_index(
    paths: list[Path],
    index_dir: Path,
    *,
    rebuild: bool = False,
    procs: int | None = None,
    progress: Progress | None = None,
    wait: bool = True,
    declare: Iterable[tuple[str, Kind]] = (),
    trigger: str = "index",
    synonyms: Sequence[str] | None = None,
    user_dicts: Sequence[str] | None = None,
) -> IndexReport:
    """Bring the index at ``index_dir`` in line with ``paths`` and publish it.

    ``declare`` adds metadata fields (name, kind) to those the index already
    declares (``sakuin.search.documents.metadata``); raises MetadataError for a bad declaration.
    A new declaration re-derives every live section's metadata (a full rewrite
    from the stored sections; the inputs are not re-read). The run is recorded in the
    run history (``sakuin.search.indexing.history``) as started by ``trigger``. ``synonyms``
    and ``user_dicts`` (None: as the index remembers them) are settled by
    ``sakuin.search.indexing.analysis``; raises UserDictionaryError for a bad one. A
    different user dictionary re-derives every section the same way.
    """
    started = time.perf_counter()
    store = IndexStore(index_dir)
    report = IndexReport()
    inputs = list(iter_input_files(paths, skipped=report.skipped, exclude=[index_dir]))
    roots = [file_key(p) for p in paths]

    with store.writer_lock(wait=wait), recorded(FileStatusStore(index_dir), report, trigger, paths):
        live = store.manifest()
        declaration, old_files = previous(live, declare, rebuild, report)
        settled = settle(live, synonyms, user_dicts, report)
        survey = FieldSurvey()
        new_files, pending = changes(inputs, old_files, roots, report)
        if pending or report.removed or not report.up_to_date:
            by_record = {p.key for p in pending if p.by_record}
            stale = [k for k in old_files if k not in new_files and k not in by_record]
            total = sum(p.size for p in pending)
            if procs is None and total < PARALLEL_MIN_BYTES:
                procs = 1  # below this, starting workers costs more than it saves (unless asked for)
            _update(
                store,
                report,
                lambda deleter: pending_documents(pending, new_files, report, deleter, survey),
                stale=stale,
                total=total,
                procs=procs,
                progress=progress,
                manifest={
                    "schema_version": SCHEMA_VERSION,
                    "files": new_files,
                    "metadata": report.metadata,
                    "analysis": settled.settings.to_manifest(),
                },
                declaration=declaration,
                settled=settled,
            )
        report.suggestions = survey.suggestions(declaration)
        _summarise(report, store, new_files)
    report.seconds = time.perf_counter() - started
    return report


def optimize_index(
    index_dir: Path, *, procs: int | None = None, progress: Progress | None = None, wait: bool = True
) -> IndexReport:
    """Rewrite the whole index into fresh segments with no deletions, and publish it.

    The inputs are not read: the sections are re-analysed from their stored text.
    """
    started = time.perf_counter()
    store = IndexStore(index_dir)
    report = IndexReport(optimized=True)
    with store.writer_lock(wait=wait), recorded(FileStatusStore(index_dir), report, "optimize", None):
        store.current()  # raises IndexMissing with what to do
        manifest = store.manifest()
        files = manifest.get("files", {})
        declaration = Declaration.from_manifest(manifest.get("metadata"))
        report.metadata = declaration.to_manifest()
        settings = AnalysisSettings.from_manifest(manifest.get("analysis"))
        report.synonyms, report.user_dicts = list(settings.synonyms), settings.dictionary_names
        _update(
            store,
            report,
            None,
            stale=[],
            total=0,
            procs=procs,
            progress=progress,
            manifest=manifest,
            declaration=declaration,
            settled=Settled(settings),
        )
        _summarise(report, store, files)
    report.seconds = time.perf_counter() - started
    return report


def _summarise(report: IndexReport, store: IndexStore, files: dict[str, Any]) -> None:
    """The live index's totals, from the manifest of the files it holds."""
    report.documents = sum(len(f["doc_ids"]) for f in files.values())
    report.sections = sum(f["sections"] for f in files.values())
    report.version = store.current_name()
    report.size_bytes = store.size_bytes()


def _update(
    store: IndexStore,
    report: IndexReport,
    make_tasks: Any,
    *,
    stale: list[str],
    total: int,
    procs: int | None,
    progress: Progress | None,
    manifest: dict[str, Any],
    declaration: Declaration,
    settled: Settled,
) -> None:
    """One build in a private version: delete, add, compact, check, publish.

    ``make_tasks(deleter)`` gives the new input's ``Reading``: its ``tasks()`` for the
    workers (which may delete the sections of changed records as they are read) and
    its ``finish(outcomes)`` once they are done; ``None`` means no new input and a
    full rewrite (``optimize``). The version gets its user dictionaries first, and
    everything is analysed with them.
    """
    live = store.current() if store.current_name() else None
    tmp = store.start_version(copy_current=not report.rebuilt)
    try:
        dictionaries = install_dictionaries(tmp, settled.settings, settled.csv, live)
        schema = build_schema(declaration)
        ix = whoosh_index.create_in(tmp, schema) if report.rebuilt else open_index(tmp, declaration)
        _add_fields(ix, schema)
        deleted = DeletedStats() if report.rebuilt else DeletedStats.load(tmp)
        job = _Job(make_tasks, total, procs or os.cpu_count() or 1, declaration, report.everything, dictionaries)
        with user_dictionaries(dictionaries):
            expected = _write(ix, deleted, stale, job, progress, report)
        actual = _section_count(ix)
        report.segments = len(ix._segments())
        ix.close()
        if report.up_to_date:  # every new or changed file turned out unreadable
            shutil.rmtree(tmp, ignore_errors=True)
            return
        if actual != expected:
            raise RuntimeError(
                f"index check failed: {actual} sections written, {expected} expected; previous index kept"
            )
        deleted.save(tmp)
        store.publish(tmp, manifest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _add_fields(ix: whoosh_index.Index, schema: Any) -> None:
    """Give an existing index the columns of newly declared fields (its schema is in its TOC)."""
    missing = [name for name in schema.names() if name not in ix.schema]
    if missing:
        writer = ix.writer()
        for name in missing:
            writer.add_field(name, schema[name])
        writer.commit(merge=False)


@dataclass(frozen=True)
class _Job:
    """What one build writes: ``make_tasks(deleter)`` (None: no new input), and whether
    every existing section is rewritten too (``optimize``, or a new metadata declaration)."""

    make_tasks: Any
    total: int
    procs: int
    declaration: Declaration
    everything: bool = False
    #: The compiled user dictionaries the sections are analysed with.
    dictionaries: tuple[str, ...] = field(default=())


def _section_count(ix: whoosh_index.Index) -> int:
    """Live sections according to the TOC (segment sizes less deletions).

    ``Index.doc_count()`` opens a reader over every segment, which maps every
    segment file: at a million sections that alone took gigabytes of RSS at the
    end of a build, for a number the TOC already holds.
    """
    return sum(segment.doc_count() for segment in ix._segments())


class _Deleter:
    """Marks sections deleted in the build's segments and records their statistics.

    One searcher over the writer's segments serves the whole run (Whoosh's
    ``delete_by_term`` opens one per call). A section is counted once even if
    two deletions name it.
    """

    def __init__(self, writer: Any, stats: DeletedStats) -> None:
        self.writer = writer
        self.stats = stats
        self.count = 0
        self._searcher: Any = None

    def delete(self, **terms: str) -> int:
        """Delete the live sections that carry all these field values; returns how many."""
        if not self.writer.segments:
            return 0
        if self._searcher is None:
            self._searcher = self.writer.searcher()
        searcher = self._searcher
        by_segment: dict[str, list[dict[str, Any]]] = {}
        n = 0
        for docnum in searcher.document_numbers(**terms):
            segment, segdoc = self.writer._segment_and_docnum(docnum)
            if segment.is_deleted(segdoc):
                continue
            by_segment.setdefault(segment.segment_id(), []).append(searcher.stored_fields(docnum))
            segment.delete_document(segdoc)
            n += 1
        for segid, stored in by_segment.items():
            self.stats.add_sections(segid, stored)
        self.count += n
        return n

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None


def _write(
    ix: whoosh_index.Index,
    deleted: DeletedStats,
    stale: list[str],
    job: _Job,
    progress: Progress | None,
    report: IndexReport,
) -> int:
    """Delete what stale files produced, add the new sections, compact; returns the expected count.

    New sections become new segments (``sakuin.search.embedded.writing.pipeline``); deletions are marked
    in the existing segments, whose objects Whoosh's writer then commits in a new
    TOC that lists both, so the index stays a standard Whoosh index.
    """
    writer = ix.writer()
    deleter = _Deleter(writer, deleted)
    folder = Path(ix.storage.folder)
    try:
        for key in stale:
            deleter.delete(source=key)

        def on_progress(sections: int, nbytes: int, documents: int) -> None:
            report.sections_written += sections
            if progress is not None:
                progress.update(nbytes, sections, documents)

        added = BuildStats()
        procs, declaration = job.procs, job.declaration
        if job.make_tasks is not None:
            if progress is not None:
                progress.start(job.total)
            reading = job.make_tasks(deleter)
            added = build_segments(
                writer.schema,
                folder,
                reading.tasks(),
                procs,
                on_progress,
                declaration=declaration,
                dictionaries=job.dictionaries,
            )
            reading.finish(added.outcomes)
        deleter.close()
        report.sections_deleted = deleter.count

        # Compaction: rewrite the chosen segments, old (after this run's deletions) or new.
        storage = ix.storage
        segments = [*writer.segments, *added.segments]
        rewrite = compaction.plan(
            segments,
            lambda s: compaction.segment_bytes(storage, s),
            everything=job.make_tasks is None or job.everything,
            update=bool(writer.segments),
        )
        rewritten = BuildStats()
        if rewrite:

            def rewrite_tasks() -> Iterator[tuple[DocTask, int]]:
                for segment in rewrite:
                    yield from compaction.live_tasks(storage, writer.schema, segment)

            def on_rewrite(sections: int, nbytes: int, documents: int) -> None:
                report.sections_rewritten += sections
                if progress is not None:
                    progress.update(nbytes, sections, documents)

            if progress is not None:
                progress.start(sum(s.doc_count() for s in rewrite), label="compacting")  # counted in sections
            rewritten = build_segments(
                writer.schema,
                folder,
                rewrite_tasks(),
                procs,
                on_rewrite,
                declaration=declaration,
                dictionaries=job.dictionaries,
            )
            report.segments_rewritten = len(rewrite)
        dropped = {s.segment_id() for s in rewrite}
        kept = [s for s in segments if s.segment_id() not in dropped]
        expected = sum(s.doc_count() for s in kept) + rewritten.sections

        for stats in (added, rewritten):
            report.sudachi_seconds += stats.sudachi_seconds
            report.worker_seconds += stats.worker_seconds
            report.workers = max(report.workers, stats.workers)
        writer.commit(mergetype=lambda _writer, _segments: [*kept, *rewritten.segments])
        deleted.keep_only(s.segment_id() for s in kept)
    except BaseException:
        deleter.close()
        if not writer.is_closed:
            writer.cancel()
        raise
    return expected
