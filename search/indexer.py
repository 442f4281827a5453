"""Building and updating the index: files → documents → sections → Whoosh.

Incremental by content hash: a run reads every input file, but only files whose
bytes changed are re-analysed; files that disappeared from the given paths lose
their documents. All writes go to a private copy published atomically by
``IndexStore``, so whatever happens here the live index stays intact.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from whoosh import index as whoosh_index

from search.documents import UnreadableFile
from search.pipeline import DocTask, build_segments, doc_task
from search.readers import iter_documents, iter_input_files, open_input
from search.schema import SCHEMA_VERSION, build_schema
from search.store import IndexStore

#: Below this much new input, analysing in worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 512 * 1024


class Progress(Protocol):
    """What the indexer reports as it goes; the CLI renders it as a progress bar.

    ``start`` gives the input bytes to read; ``update`` the bytes and sections
    whose analysis has finished (not merely been read), so the bar reaches its end
    only when the work is done.
    """

    def start(self, total_bytes: int) -> None: ...

    def update(self, nbytes: int, sections: int) -> None: ...


@dataclass
class IndexReport:
    """The outcome of one ``sakuin index`` run, for the summary and for tests."""

    documents: int = 0
    sections: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    sections_written: int = 0
    seconds: float = 0.0
    sudachi_seconds: float = 0.0
    worker_seconds: float = 0.0
    workers: int = 0
    size_bytes: int = 0
    version: str | None = None
    rebuilt: bool = False

    @property
    def up_to_date(self) -> bool:
        return not (self.added or self.changed or self.removed or self.rebuilt)

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "sections": self.sections,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "problems": self.problems,
            "seconds": round(self.seconds, 3),
            "size_bytes": self.size_bytes,
            "version": self.version,
            "sudachi_share": round(self.sudachi_share, 3),
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
) -> IndexReport:
    """Bring the index at ``index_dir`` in line with ``paths`` and publish it."""
    started = time.perf_counter()
    store = IndexStore(index_dir)
    report = IndexReport()
    inputs = list(iter_input_files(paths, skipped=report.skipped))
    roots = [_file_key(p) for p in paths]

    with store.writer_lock(wait=wait):
        old = {} if rebuild else store.manifest()
        if old.get("schema_version") != SCHEMA_VERSION:
            old = {}
        old_files: dict[str, dict[str, Any]] = old.get("files", {})
        report.rebuilt = not old_files
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
            if prev and prev["hash"] == digest:
                new_files[key] = prev
                report.unchanged += 1
            else:
                pending.append(_Pending(key, path, root, digest, prev is not None))

        for key in old_files:
            if key not in seen and _under(key, roots):
                report.removed.append(key)
            elif key not in seen:
                new_files[key] = old_files[key]  # outside this run's paths: keep

        if pending or report.removed or report.rebuilt:
            stale = [k for k in old_files if k not in new_files]
            tmp = store.start_version(copy_current=not report.rebuilt)
            try:
                ix = whoosh_index.create_in(tmp, build_schema()) if report.rebuilt else whoosh_index.open_dir(tmp)
                total = sum(_size(p.path) for p in pending)
                if progress is not None:
                    progress.start(total)
                if procs is None and total < PARALLEL_MIN_BYTES:
                    procs = 1  # below this, starting workers costs more than it saves (unless asked for)
                tasks = _documents(pending, new_files, report)
                expected = _write(ix, stale, tasks, procs, progress, report)
                actual = _section_count(ix)
                ix.close()
                if report.up_to_date:  # every new or changed file turned out unreadable
                    shutil.rmtree(tmp, ignore_errors=True)
                else:
                    if actual != expected:
                        raise RuntimeError(
                            f"index check failed: {actual} sections written, {expected} expected; previous index kept"
                        )
                    store.publish(tmp, {"schema_version": SCHEMA_VERSION, "files": new_files})
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        report.documents = sum(len(f["doc_ids"]) for f in new_files.values())
        report.sections = sum(f["sections"] for f in new_files.values())
        report.version = store.current_name()
        report.size_bytes = store.size_bytes()
    report.seconds = time.perf_counter() - started
    return report


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
    known: bool  # the live version has an older copy of it


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _documents(
    pending: list[_Pending], new_files: dict[str, dict[str, Any]], report: IndexReport
) -> Iterator[tuple[DocTask, int]]:
    """Stream the documents of the pending files as worker tasks, with the input bytes each covers.

    Files are read one at a time and JSONL record by record, so nothing here grows
    with the corpus but the id table. The first owner of a document id keeps it; a
    later document with the same id is reported, not merged. Each file's manifest
    entry is made once its documents have all been handed out.
    """
    owner = {doc_id: key for key, entry in new_files.items() for doc_id in entry["doc_ids"]}
    for p in pending:
        try:
            stream = iter_documents(p.path, p.root)
        except UnreadableFile as exc:
            report.skipped.append((str(p.path), str(exc)))
            if p.known:
                report.removed.append(str(p.path))
            continue
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
                doc_ids.append(doc.doc_id)
                sections += len(doc.sections)
                yield doc_task(doc, p.key), nbytes
        except (OSError, UnreadableFile) as exc:
            raise RuntimeError(f"{p.path} changed while it was being read ({exc}); previous index kept") from exc
        report.problems.extend(stream.problems)
        (report.changed if p.known else report.added).append(str(p.path))
        new_files[p.key] = {"hash": p.digest, "doc_ids": doc_ids, "sections": sections}


def _write(
    ix: whoosh_index.Index,
    stale: list[str],
    tasks: Iterator[tuple[DocTask | None, int]],
    procs: int | None,
    progress: Progress | None,
    report: IndexReport,
) -> int:
    """Delete what stale files produced, add the new sections; returns the expected count.

    New sections become new segments (``search.pipeline``); deletions are marked
    in the existing segments by Whoosh's writer, whose commit writes the TOC that
    lists both, so the index stays a standard Whoosh index.
    """
    procs = procs or os.cpu_count() or 1
    writer = ix.writer()
    try:
        deleted = 0
        for key in stale:
            deleted += writer.delete_by_term("source", key)
        before = _section_count(ix) - deleted

        def on_progress(sections: int, nbytes: int) -> None:
            report.sections_written += sections
            if progress is not None:
                progress.update(nbytes, sections)

        stats = build_segments(writer.schema, Path(ix.storage.folder), tasks, procs, on_progress)
        report.sudachi_seconds = stats.sudachi_seconds
        report.worker_seconds = stats.worker_seconds
        report.workers = stats.workers
        writer.commit(mergetype=lambda _writer, segments: [*segments, *stats.segments])
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
    return before + stats.sections
