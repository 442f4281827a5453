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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from whoosh import index as whoosh_index
from whoosh.multiproc import MpWriter

from search.documents import Document, UnreadableFile
from search.readers import iter_input_files, open_input, read_file
from search.schema import SCHEMA_VERSION, build_schema, content_text, section_key
from search.store import IndexStore

#: Below this many new sections the fork/merge overhead of parallel writing loses.
PARALLEL_MIN_SECTIONS = 400


class Progress(Protocol):
    """What the indexer reports as it goes; the CLI renders it as a progress bar."""

    def update(self, files: int, sections: int) -> None: ...


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
        }


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


def _section_fields(doc: Document, source: str) -> Iterable[dict[str, Any]]:
    for s in doc.sections:
        content = content_text(doc.title, s.heading, s.text)
        yield {
            "key": section_key(doc.doc_id, s.ordinal),
            "doc_id": doc.doc_id,
            "source": source,
            "path": doc.path,
            "ordinal": s.ordinal,
            "title": doc.title,
            "heading": s.heading,
            "body": s.text,
            "content": content,
            "grams": content,
            "reading": content,
            "meta": doc.meta or None,
        }


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
        # Documents owned by files we are not touching keep their ids.
        to_index: list[tuple[str, Document]] = []
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
                continue
            try:
                result = read_file(path, root)
            except UnreadableFile as exc:
                report.skipped.append((str(path), str(exc)))
                if prev:
                    report.removed.append(str(path))
                continue
            report.problems.extend(result.problems)
            (report.changed if prev else report.added).append(str(path))
            new_files[key] = {
                "hash": digest,
                "doc_ids": [d.doc_id for d in result.documents],
                "sections": sum(len(d.sections) for d in result.documents),
            }
            to_index.extend((key, d) for d in result.documents)

        for key in old_files:
            if key not in seen and _under(key, roots):
                report.removed.append(key)
            elif key not in seen:
                new_files[key] = old_files[key]  # outside this run's paths: keep

        _drop_duplicate_ids(to_index, new_files, report)

        if report.up_to_date:
            report.documents = sum(len(f["doc_ids"]) for f in new_files.values())
            report.sections = sum(f["sections"] for f in new_files.values())
            report.version = store.current_name()
            report.size_bytes = store.size_bytes()
            report.seconds = time.perf_counter() - started
            return report

        stale = [k for k in old_files if k not in new_files or new_files[k] is not old_files[k]]
        tmp = store.start_version(copy_current=not report.rebuilt)
        try:
            ix = whoosh_index.create_in(tmp, build_schema()) if report.rebuilt else whoosh_index.open_dir(tmp)
            expected = _write(ix, stale, to_index, procs, progress, report)
            actual = ix.doc_count()
            ix.close()
            if actual != expected:
                raise RuntimeError(
                    f"index check failed: {actual} sections written, {expected} expected; previous index kept"
                )
            final = store.publish(tmp, {"schema_version": SCHEMA_VERSION, "files": new_files})
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        report.version = final.name
        report.documents = sum(len(f["doc_ids"]) for f in new_files.values())
        report.sections = actual
        report.size_bytes = store.size_bytes()
    report.seconds = time.perf_counter() - started
    return report


def _drop_duplicate_ids(
    to_index: list[tuple[str, Document]],
    new_files: dict[str, dict[str, Any]],
    report: IndexReport,
) -> None:
    """Keep the first owner of each document id; later duplicates are reported, not merged."""
    fresh = {key for key, _ in to_index}
    owner = {i: key for key, entry in new_files.items() if key not in fresh for i in entry["doc_ids"]}
    kept: list[tuple[str, Document]] = []
    for key, doc in to_index:
        if doc.doc_id in owner:
            report.problems.append(
                f"{key}: duplicate document id {doc.doc_id!r} (already from {owner[doc.doc_id]}); skipped"
            )
            continue
        owner[doc.doc_id] = key
        kept.append((key, doc))
    for key in fresh:
        docs = [d for k, d in kept if k == key]
        new_files[key]["doc_ids"] = [d.doc_id for d in docs]
        new_files[key]["sections"] = sum(len(d.sections) for d in docs)
    to_index[:] = kept


def _write(
    ix: whoosh_index.Index,
    stale: list[str],
    to_index: list[tuple[str, Document]],
    procs: int | None,
    progress: Progress | None,
    report: IndexReport,
) -> int:
    """Delete what stale files produced, add the new sections; returns the expected count."""
    n_new = sum(len(d.sections) for _, d in to_index)
    procs = procs or os.cpu_count() or 1
    if procs > 1 and n_new >= PARALLEL_MIN_SECTIONS:
        # Workers analyse and write their own segments; no merge at commit.
        writer = MpWriter(ix, procs=procs, multisegment=True, batchsize=64)
    else:
        writer = ix.writer()
    try:
        deleted = 0
        for key in stale:
            deleted += writer.delete_by_term("source", key)
        before = ix.doc_count() - deleted
        last_key = None
        for key, doc in to_index:
            for fields in _section_fields(doc, key):
                writer.add_document(**fields)
            report.sections_written += len(doc.sections)
            if progress is not None:
                progress.update(files=1 if key != last_key else 0, sections=len(doc.sections))
            last_key = key
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    return before + n_new
