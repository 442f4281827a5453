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
  (``search.livestats``) so that searches on an updated index score exactly as on
  a fresh build of the same inputs.
* Before publishing, ``search.compaction`` picks segments to rewrite (many
  deletions, or a full size tier); ``optimize`` rewrites them all.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from whoosh import index as whoosh_index

from search import compaction
from search.documents import Document, UnreadableFile
from search.livestats import DeletedStats
from search.metadata import Declaration, FieldSurvey, Kind
from search.pipeline import BuildStats, DocTask, build_segments, doc_task
from search.readers import iter_documents, iter_input_files, open_input
from search.schema import SCHEMA_VERSION, build_schema
from search.store import IndexStore

#: Suffixes of the files tracked record by record.
RECORD_SUFFIXES = frozenset({".jsonl", ".ndjson"})

#: Below this much new input, analysing in worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 512 * 1024


class Progress(Protocol):
    """What the indexer reports as it goes; the CLI renders it as a progress bar.

    ``start`` gives the input bytes to read; ``update`` the bytes, sections and
    documents (files, or records of a JSONL file) whose analysis has finished (not
    merely been read), so the bar reaches its end only when the work is done. A
    run that compacts starts a second phase, ``label`` "compacting", counted in
    sections instead of bytes.
    """

    def start(self, total_bytes: int, label: str = "indexing") -> None: ...

    def update(self, nbytes: int, sections: int, documents: int) -> None: ...


@dataclass
class IndexReport:
    """The outcome of one ``sakuin index`` run, for the summary and for tests."""

    documents: int = 0
    sections: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: JSONL files updated record by record: path → {"added", "changed", "removed", "unchanged"}.
    records: dict[str, dict[str, int]] = field(default_factory=dict)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    sections_written: int = 0
    sections_deleted: int = 0
    #: Segments rewritten by compaction, and the live sections they held.
    segments_rewritten: int = 0
    sections_rewritten: int = 0
    segments: int = 0
    seconds: float = 0.0
    sudachi_seconds: float = 0.0
    worker_seconds: float = 0.0
    workers: int = 0
    size_bytes: int = 0
    version: str | None = None
    rebuilt: bool = False
    optimized: bool = False
    #: The index's metadata declaration after this run (name → kind), and whether it grew.
    metadata: dict[str, str] = field(default_factory=dict)
    redeclared: bool = False
    #: Options that would declare metadata fields seen but not declared (``--facet category``).
    suggestions: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        return not (self.added or self.changed or self.removed or self.rebuilt or self.optimized or self.redeclared)

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "sections": self.sections,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "records": self.records,
            "unchanged": self.unchanged,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "problems": self.problems,
            "seconds": round(self.seconds, 3),
            "sections_written": self.sections_written,
            "sections_deleted": self.sections_deleted,
            "segments_rewritten": self.segments_rewritten,
            "sections_rewritten": self.sections_rewritten,
            "segments": self.segments,
            "size_bytes": self.size_bytes,
            "version": self.version,
            "sudachi_share": round(self.sudachi_share, 3),
            "metadata": self.metadata,
            "suggestions": self.suggestions,
        }

    @property
    def sudachi_share(self) -> float:
        """The share of the analysis workers' CPU time spent inside Sudachi."""
        return self.sudachi_seconds / self.worker_seconds if self.worker_seconds else 0.0


def _file_key(path: Path) -> str:
    return str(path.absolute())


def _under(key: str, roots: Iterable[str]) -> bool:
    return any(key == r or key.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def _hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open_input(path) as fh:  # not open(): a named pipe would block the run forever
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_index(
    paths: list[Path],
    index_dir: Path,
    *,
    rebuild: bool = False,
    procs: int | None = None,
    progress: Progress | None = None,
    wait: bool = True,
    declare: Iterable[tuple[str, Kind]] = (),
) -> IndexReport:
    """Bring the index at ``index_dir`` in line with ``paths`` and publish it.

    ``declare`` adds metadata fields (name, kind) to those the index already
    declares (``search.metadata``); raises MetadataError for a bad declaration.
    A new declaration re-derives every live section's metadata (a full rewrite
    from the stored sections; the inputs are not re-read).
    """
    started = time.perf_counter()
    store = IndexStore(index_dir)
    report = IndexReport()
    inputs = list(iter_input_files(paths, skipped=report.skipped))
    roots = [_file_key(p) for p in paths]

    with store.writer_lock(wait=wait):
        declaration, old_files = previous(store.manifest(), declare, rebuild, report)
        survey = FieldSurvey()
        new_files, pending = changes(inputs, old_files, roots, report)
        if pending or report.removed or report.rebuilt or report.redeclared:
            by_record = {p.key for p in pending if p.by_record}
            stale = [k for k in old_files if k not in new_files and k not in by_record]
            total = sum(_size(p.path) for p in pending)
            if procs is None and total < PARALLEL_MIN_BYTES:
                procs = 1  # below this, starting workers costs more than it saves (unless asked for)
            _update(
                store,
                report,
                lambda deleter: _documents(pending, new_files, report, deleter, survey),
                stale=stale,
                total=total,
                procs=procs,
                progress=progress,
                manifest={"schema_version": SCHEMA_VERSION, "files": new_files, "metadata": report.metadata},
                declaration=declaration,
            )
        report.suggestions = survey.suggestions(declaration)
        _summarise(report, store, new_files)
    report.seconds = time.perf_counter() - started
    return report


def previous(
    live: dict[str, Any], declare: Iterable[tuple[str, Kind]], rebuild: bool, report: IndexReport
) -> tuple[Declaration, dict[str, dict[str, Any]]]:
    """From the live manifest: this run's declaration (the remembered one plus ``declare``)
    and the files it starts from (none for a rebuild or an older schema). Sets the
    report's ``metadata``, ``rebuilt`` and ``redeclared``. Shared by both backends."""
    known = Declaration.from_manifest(live.get("metadata"))
    declaration = known.with_fields(declare)
    report.metadata = declaration.to_manifest()
    old = {} if rebuild or live.get("schema_version") != SCHEMA_VERSION else live
    old_files: dict[str, dict[str, Any]] = old.get("files", {})
    report.rebuilt = not old_files
    report.redeclared = bool(old_files) and declaration != known
    return declaration, old_files


def changes(
    inputs: Iterable[tuple[Path, Path]],
    old_files: dict[str, dict[str, Any]],
    roots: list[str],
    report: IndexReport,
    everything: bool = False,
) -> tuple[dict[str, dict[str, Any]], list[_Pending]]:
    """What a run must do: (the manifest entries kept as they are, the files to read).

    A file whose content hash is unchanged keeps its entry (unless ``everything``);
    others are pending; files under this run's roots that vanished are reported
    removed; files outside them are kept. Shared by both backends.
    """
    new_files: dict[str, dict[str, Any]] = {}
    pending: list[_Pending] = []
    seen: set[str] = set()
    for path, root in inputs:
        key = _file_key(path)
        seen.add(key)
        try:
            digest = _hash(path)
        except OSError as exc:
            report.skipped.append((str(path), exc.strerror or str(exc)))
            continue
        prev = old_files.get(key)
        if prev and prev["hash"] == digest and not everything:
            new_files[key] = prev
            report.unchanged += 1
        else:
            pending.append(_Pending(key, path, root, digest, prev))
    for key in old_files:
        if key not in seen and _under(key, roots):
            report.removed.append(key)
        elif key not in seen:
            new_files[key] = old_files[key]  # outside this run's paths: keep
    return new_files, pending


def optimize_index(
    index_dir: Path, *, procs: int | None = None, progress: Progress | None = None, wait: bool = True
) -> IndexReport:
    """Rewrite the whole index into fresh segments with no deletions, and publish it.

    The inputs are not read: the sections are re-analysed from their stored text.
    """
    started = time.perf_counter()
    store = IndexStore(index_dir)
    report = IndexReport(optimized=True)
    with store.writer_lock(wait=wait):
        store.current()  # raises IndexMissing with what to do
        manifest = store.manifest()
        files = manifest.get("files", {})
        declaration = Declaration.from_manifest(manifest.get("metadata"))
        report.metadata = declaration.to_manifest()
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
) -> None:
    """One build in a private version: delete, add, compact, check, publish.

    ``make_tasks(deleter)`` yields the new input as worker tasks (and may delete
    the sections of changed records as it goes); ``None`` means no new input and
    a full rewrite (``optimize``).
    """
    tmp = store.start_version(copy_current=not report.rebuilt)
    try:
        schema = build_schema(declaration)
        ix = whoosh_index.create_in(tmp, schema) if report.rebuilt else whoosh_index.open_dir(tmp)
        _add_fields(ix, schema)
        deleted = DeletedStats() if report.rebuilt else DeletedStats.load(tmp)
        job = _Job(make_tasks, total, procs or os.cpu_count() or 1, declaration, everything=report.redeclared)
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


def _section_count(ix: whoosh_index.Index) -> int:
    """Live sections according to the TOC (segment sizes less deletions).

    ``Index.doc_count()`` opens a reader over every segment, which maps every
    segment file: at a million sections that alone took gigabytes of RSS at the
    end of a build, for a number the TOC already holds.
    """
    return sum(segment.doc_count() for segment in ix._segments())


@dataclass(frozen=True)
class _Pending:
    """An input file that is new or changed since the live version."""

    key: str
    path: Path
    root: Path
    digest: str
    prev: dict[str, Any] | None  # the live version's entry for an older copy of it

    @property
    def known(self) -> bool:
        return self.prev is not None

    @property
    def is_records(self) -> bool:
        """A JSONL file: its manifest entry keeps a hash per record."""
        return self.path.suffix.lower() in RECORD_SUFFIXES

    @property
    def by_record(self) -> bool:
        """Update record by record: a JSONL file whose previous copy has record hashes."""
        return self.is_records and self.prev is not None and "records" in self.prev


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def record_hash(doc: Document) -> str:
    """What a JSONL record's document holds, hashed: equal hashes, equal sections.

    Each text is hashed with its length before it, so no two documents give the same
    stream; only the (small) metadata goes through JSON (a JSON dump of the body was
    a fifth of the main process's work in a build)."""
    h = hashlib.blake2b(digest_size=16)
    meta = json.dumps(doc.meta, ensure_ascii=False, sort_keys=True, default=str)
    texts = [doc.title, doc.path, meta, str(len(doc.sections))]
    for s in doc.sections:
        texts += (str(s.ordinal), s.heading, s.text)
    stream: list[bytes] = []
    for text in texts:
        data = text.encode("utf-8", "surrogatepass")
        stream += (len(data).to_bytes(8, "little"), data)
    h.update(b"".join(stream))  # one call: the same digest as an update per piece
    return h.hexdigest()


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


def _documents(
    pending: list[_Pending],
    new_files: dict[str, dict[str, Any]],
    report: IndexReport,
    deleter: _Deleter,
    survey: FieldSurvey,
) -> Iterator[tuple[DocTask | None, int]]:
    """Stream the documents of the pending files as worker tasks, with the input bytes each covers.

    Files are read one at a time and JSONL record by record, so nothing here grows
    with the corpus but the id table. The first owner of a document id keeps it; a
    later document with the same id is reported, not merged. A JSONL file known
    record by record yields only its new and changed records and deletes the
    sections of changed and vanished ones. Each file's manifest entry is made once
    its documents have all been handed out.
    """
    owner = {doc_id: key for key, entry in new_files.items() for doc_id in entry["doc_ids"]}
    for p in pending:
        try:
            stream = iter_documents(p.path, p.root)
        except UnreadableFile as exc:
            report.skipped.append((str(p.path), str(exc)))
            if p.known:
                report.removed.append(str(p.path))
                if p.by_record:  # not deleted up front with the other stale files
                    deleter.delete(source=p.key)
            continue
        records = p.is_records
        old_records: dict[str, list[Any]] = p.prev["records"] if p.by_record and p.prev else {}
        new_records: dict[str, list[Any]] = {}
        counts = {"added": 0, "changed": 0, "removed": 0, "unchanged": 0}
        doc_ids: list[str] = []
        sections = 0
        try:
            for doc, nbytes in stream.documents:
                if doc.doc_id in owner:
                    report.problems.append(
                        f"{p.key}: duplicate document id {doc.doc_id!r} (already from {owner[doc.doc_id]}); skipped"
                    )
                    yield None, nbytes
                    continue
                owner[doc.doc_id] = p.key
                survey.add(doc.meta)
                doc_ids.append(doc.doc_id)
                sections += len(doc.sections)
                if records:
                    digest = record_hash(doc)
                    new_records[doc.doc_id] = [digest, len(doc.sections)]
                    old = old_records.get(doc.doc_id)
                    if old is not None and old[0] == digest:
                        counts["unchanged"] += 1
                        yield None, nbytes
                        continue
                    if old is not None:
                        deleter.delete(doc_id=doc.doc_id, source=p.key)
                    counts["changed" if old is not None else "added"] += 1
                yield doc_task(doc, p.key), nbytes
        except (OSError, UnreadableFile) as exc:
            raise RuntimeError(f"{p.path} changed while it was being read ({exc}); previous index kept") from exc
        for doc_id in old_records.keys() - new_records.keys():
            deleter.delete(doc_id=doc_id, source=p.key)
            counts["removed"] += 1
        report.problems.extend(stream.problems)
        (report.changed if p.known else report.added).append(str(p.path))
        if p.by_record:
            report.records[str(p.path)] = counts
        entry: dict[str, Any] = {"hash": p.digest, "doc_ids": doc_ids, "sections": sections}
        if records:
            entry["records"] = new_records
        new_files[p.key] = entry


def _write(
    ix: whoosh_index.Index,
    deleted: DeletedStats,
    stale: list[str],
    job: _Job,
    progress: Progress | None,
    report: IndexReport,
) -> int:
    """Delete what stale files produced, add the new sections, compact; returns the expected count.

    New sections become new segments (``search.pipeline``); deletions are marked
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
            tasks = job.make_tasks(deleter)
            added = build_segments(writer.schema, folder, tasks, procs, on_progress, declaration=declaration)
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
                writer.schema, folder, rewrite_tasks(), procs, on_rewrite, declaration=declaration
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
