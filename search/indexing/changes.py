"""What an index run must do: which input files and records changed since the live version.

Incremental by content hash: a run hashes every input file, but only files whose
bytes changed are read again; files that disappeared from the given paths lose
their documents. A JSONL file is tracked per record (id → hash of the document it
makes): when the file changes, only the records whose document changed are
re-analysed and replaced, the others keep their sections. Other formats are
tracked per file. Both backends decide with these functions and differ only in
how they delete and write.

Files that are extracted (PDF, Office, EPUB, mail) are not read here: ``Reading``
hands each to the workers as a ``FileTask`` and, once the workers are done, makes
its manifest entry from the worker's ``FileOutcome`` (``Reading.finish``). The
summary's lists are filled then, for every file in the order the files were
listed, so they do not depend on which worker finished first.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sakuin.search.documents.files import doc_id_for, iter_documents, open_input
from sakuin.search.documents.kinds import REFUSED, is_extracted
from sakuin.search.documents.metadata import Declaration, FieldSurvey, Kind
from sakuin.search.documents.model import Document
from sakuin.search.errors import UnreadableFile
from sakuin.search.indexing.ids import IdList, IdOwners
from sakuin.search.indexing.records import DIGEST_BYTES, RecordTable
from sakuin.search.indexing.report import IndexReport
from sakuin.search.indexing.sections import SCHEMA_VERSION
from sakuin.search.indexing.tasks import FileOutcome, FileTask, Task, doc_task

#: Suffixes of the files tracked record by record.
RECORD_SUFFIXES = frozenset({".jsonl", ".ndjson"})


class Deleter(Protocol):
    """Deletes the live sections that carry all the given field values (``doc_id``, ``source``);
    returns how many. Each backend deletes its own way."""

    def delete(self, **terms: str) -> int: ...


def file_key(path: Path) -> str:
    return str(path.absolute())


def _under(key: str, roots: Iterable[str]) -> bool:
    return any(key == r or key.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open_input(path) as fh:  # not open(): a named pipe would block the run forever
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
) -> tuple[dict[str, dict[str, Any]], list[Pending]]:
    """What a run must do: (the manifest entries kept as they are, the files to read).

    A file whose content hash is unchanged keeps its entry (unless ``everything``);
    others are pending; files under this run's roots that vanished are reported
    removed; files outside them are kept. Shared by both backends.
    """
    new_files: dict[str, dict[str, Any]] = {}
    pending: list[Pending] = []
    seen: set[str] = set()
    for path, root in inputs:
        key = file_key(path)
        seen.add(key)
        try:
            digest = file_hash(path)
        except OSError as exc:
            report.skipped.append((str(path), exc.strerror or str(exc)))
            continue
        prev = old_files.get(key)
        if prev and prev["hash"] == digest and not everything:
            new_files[key] = prev
            report.unchanged += 1
        else:
            pending.append(Pending(key, path, root, digest, prev))
    for key in old_files:
        if key not in seen and _under(key, roots):
            report.removed.append(key)
        elif key not in seen:
            new_files[key] = old_files[key]  # outside this run's paths: keep
    return new_files, pending


@dataclass(frozen=True)
class Pending:
    """An input file that is new or changed since the live version."""

    key: str
    path: Path
    root: Path
    digest: str
    prev: dict[str, Any] | None  # the live version's entry for an older copy of it

    @property
    def size(self) -> int:
        """The file's size now (0 if it is gone): what its reading will count as progress."""
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

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


def record_digest(doc: Document) -> bytes:
    """What a JSONL record's document holds, hashed (``DIGEST_BYTES``): equal digests, equal sections.

    Each text is hashed with its length before it, so no two documents give the same
    stream; only the (small) metadata goes through JSON (a JSON dump of the body was
    a fifth of the main process's work in a build)."""
    h = hashlib.blake2b(digest_size=DIGEST_BYTES)
    meta = json.dumps(doc.meta, ensure_ascii=False, sort_keys=True, default=str)
    texts = [doc.title, doc.path, meta, str(len(doc.sections))]
    for s in doc.sections:
        texts += (str(s.ordinal), s.heading, s.text)
    stream: list[bytes] = []
    for text in texts:
        data = text.encode("utf-8", "surrogatepass")
        stream += (len(data).to_bytes(8, "little"), data)
    h.update(b"".join(stream))  # one call: the same digest as an update per piece
    return h.digest()


def record_hash(doc: Document) -> str:
    """``record_digest`` in hexadecimal."""
    return record_digest(doc).hex()


def pending_documents(
    pending: list[Pending],
    new_files: dict[str, dict[str, Any]],
    report: IndexReport,
    deleter: Deleter,
    survey: FieldSurvey,
) -> Reading:
    """The pending files' work (``Reading``): ``tasks()`` for the workers, ``finish(outcomes)`` after."""
    return Reading(pending, new_files, report, deleter, survey)


class Reading:
    """Stream the documents of the pending files as worker tasks, with the input bytes each covers.

    Files are read one at a time and JSONL record by record, so nothing here grows
    with the corpus but the ids (``sakuin.search.indexing.ids``: a file's ids packed
    in one byte string, the table of ids seen as 64-bit hashes). The first owner of a
    document id keeps it; a later document with the same id is reported, not merged.
    A JSONL file known record by record yields only its new and changed records and
    deletes the sections of changed and vanished ones. An extracted file becomes one
    ``FileTask``. Each file's manifest entry is made once its documents have all been
    handed out, or, for an extracted file, in ``finish``.
    """

    def __init__(
        self,
        pending: list[Pending],
        new_files: dict[str, dict[str, Any]],
        report: IndexReport,
        deleter: Deleter,
        survey: FieldSurvey,
    ) -> None:
        self.pending = pending
        self.new_files = new_files
        self.report = report
        self.deleter = deleter
        self.survey = survey
        self.owner = IdOwners(new_files)
        #: Per pending file, in order: what happened to it ("added"/"changed", "skipped", or a FileTask).
        self.done: list[tuple[Pending, Any]] = []
        self.finished = False

    def _reserved(self) -> list[str]:
        """Sorted ids containing ``#`` owned by kept files or named by pending ones (``extract``)."""
        ids = {doc_id for entry in self.new_files.values() for doc_id in entry["doc_ids"] if "#" in doc_id}
        ids.update(rel for p in self.pending if "#" in (rel := doc_id_for(p.path, p.root)))
        return sorted(ids)

    def tasks(self) -> Iterator[tuple[Task | None, int]]:
        reserved = self._reserved()
        for p in self.pending:
            suffix = p.path.suffix.lower()
            if is_extracted(p.path) and suffix not in REFUSED:
                yield self._file_task(p, reserved)
                continue
            yield from self._read(p)

    def _file_task(self, p: Pending, reserved: list[str]) -> tuple[Task | None, int]:
        rel = doc_id_for(p.path, p.root)
        size = p.size
        if (first := self.owner.owner(rel)) is not None:
            self.report.problems.append(f"{p.key}: duplicate document id {rel!r} (already from {first}); skipped")
            self._entry(p, [], 0)
            self.done.append((p, "indexed"))
            return None, size
        self.owner.name(rel, p.key)
        prefix = rel + "#"
        lo = bisect.bisect_left(reserved, prefix)
        hi = bisect.bisect_left(reserved, rel + "$")  # "$" follows "#": every id starting with the prefix
        task = FileTask(p.key, str(p.path), str(p.root), rel, size, frozenset(reserved[lo:hi]))
        self.done.append((p, task))
        return task, size

    def _read(self, p: Pending) -> Iterator[tuple[Task | None, int]]:
        report, deleter, owner = self.report, self.deleter, self.owner
        try:
            stream = iter_documents(p.path, p.root)
        except UnreadableFile as exc:
            self._skip(p, str(exc))
            return
        old_records = RecordTable.from_entry(p.prev) if p.by_record and p.prev else None
        new_records = RecordTable() if p.is_records else None
        counts = {"added": 0, "changed": 0, "removed": 0, "unchanged": 0}
        doc_ids = new_records.doc_ids if new_records is not None else IdList()
        file = owner.file(p.key, doc_ids)
        sections = 0
        try:
            for doc, nbytes in stream.documents:
                if (first := owner.owner(doc.doc_id)) is not None:
                    report.problems.append(
                        f"{p.key}: duplicate document id {doc.doc_id!r} (already from {first}); skipped"
                    )
                    yield None, nbytes
                    continue
                owner.add(doc.doc_id, file)
                self.survey.add(doc.meta)
                sections += len(doc.sections)
                if new_records is None:
                    doc_ids.append(doc.doc_id)
                else:
                    digest = record_digest(doc)
                    new_records.add(doc.doc_id, digest, len(doc.sections))
                    old = old_records.digest_of(doc.doc_id) if old_records is not None else None
                    if old == digest:
                        counts["unchanged"] += 1
                        yield None, nbytes
                        continue
                    if old is not None:
                        deleter.delete(doc_id=doc.doc_id, source=p.key)
                    counts["changed" if old is not None else "added"] += 1
                yield doc_task(doc, p.key), nbytes
        except (OSError, UnreadableFile) as exc:
            raise RuntimeError(f"{p.path} changed while it was being read ({exc}); previous index kept") from exc
        if old_records is not None and new_records is not None:
            for doc_id in old_records.doc_ids:
                if doc_id not in new_records:
                    deleter.delete(doc_id=doc_id, source=p.key)
                    counts["removed"] += 1
        report.problems.extend(stream.problems)
        if p.by_record:
            report.records[str(p.path)] = counts
        entry = self._entry(p, doc_ids, sections)
        if new_records is not None:
            entry["records"] = new_records.to_manifest()  # aligned with doc_ids: the same ids in the same order
        self.done.append((p, "indexed"))

    def _skip(self, p: Pending, reason: str) -> None:
        self.report.skipped.append((str(p.path), reason))
        self.done.append((p, "skipped"))
        if p.known and p.by_record:  # not deleted up front with the other stale files
            self.deleter.delete(source=p.key)

    def _entry(self, p: Pending, doc_ids: Sequence[str], sections: int) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "hash": p.digest,
            "doc_ids": doc_ids,
            "sections": sections,
            "root": str(p.root.absolute()),
        }
        self.new_files[p.key] = entry
        return entry

    def finish(self, outcomes: Iterable[FileOutcome]) -> None:
        """The extracted files' manifest entries from their workers' outcomes, and the summary's
        lists for every pending file, in the order the files were listed."""
        if self.finished:
            return
        self.finished = True
        by_source = {o.source: o for o in outcomes}
        report = self.report
        for p, what in self.done:
            if isinstance(what, FileTask):
                outcome = by_source.get(p.key)
                if outcome is None:
                    raise RuntimeError(f"{p.path}: no word from its analysis worker; previous index kept")
                report.extract_seconds += outcome.seconds
                if outcome.skipped is not None:
                    report.skipped.append((str(p.path), outcome.skipped))
                    what = "skipped"
                else:
                    for doc_id in outcome.doc_ids[1:]:
                        first = self.owner.owner(doc_id)
                        if first is None:
                            self.owner.name(doc_id, p.key)
                        elif first != p.key:
                            report.problems.append(f"{p.key}: document id {doc_id!r} is also used by {first}")
                    for meta in outcome.metas:
                        self.survey.add(meta)
                    report.problems.extend(outcome.problems)
                    report.notes.extend(outcome.notes)
                    self._entry(p, outcome.doc_ids, outcome.sections)
                    what = "indexed"
            if what == "skipped":
                if p.known:
                    report.removed.append(str(p.path))
                continue
            (report.changed if p.known else report.added).append(str(p.path))


__all__ = [
    "RECORD_SUFFIXES",
    "Deleter",
    "Pending",
    "Reading",
    "changes",
    "file_hash",
    "file_key",
    "pending_documents",
    "previous",
    "record_digest",
    "record_hash",
]
