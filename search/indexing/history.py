"""The run history: what each index run did, and which files were skipped and why.

Every ``sakuin index``, ``sakuin optimize`` and update of ``sakuin watch`` leaves a
record (when, what started it, what changed, how long, the outcome, the version it
published), and the files the last run over each folder skipped are kept with
their reasons. ``sakuin status``, ``GET /api/status`` and the ``/status`` page read
them.

Design decisions:

* **Beside the index, never in it.** Records live in a ``StatusStore``: a few
  named JSON documents each backend keeps next to its versions (files in
  ``index/status/`` for the embedded index, documents of the state index on a
  cluster). Publishing a version never waits for them and a damaged or missing
  history never touches the index: writing one is best effort (a failure is a
  warning), and the index's crash safety is exactly what it was.
* **Recorded by the writer, under the writer lock** (``recorded``), so records are
  read, extended and replaced by one process at a time, and a failed run is
  recorded as failed with its error. A run that never got the lock (``--no-wait``
  refused it) did not run and leaves no record.
* **Bounded:** the last ``RUNS_KEPT`` runs, each naming at most ``RUN_PATHS_KEPT``
  paths per kind of change (its counts are exact). A watcher's run that found
  nothing to do is not kept (it would push every real run out of a day's
  history); the watcher's state says when it last checked. A run someone started
  by hand is kept whatever it found.
* **Skipped files per folder.** Every run walks all of its folders, so the skips
  it reports are the complete list for them: the list of each folder given is
  replaced by its latest complete run. Two watchers of different folders feeding
  one index each keep their own. Each skip keeps its sentence and a stable code
  (``sakuin.search.indexing.skips``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sakuin.search.config import RUN_PATHS_KEPT, RUNS_KEPT
from sakuin.search.indexing.changes import file_key
from sakuin.search.indexing.report import IndexReport
from sakuin.search.indexing.skips import skip_code

#: Names of the status documents.
RUNS = "runs"
SKIPPED = "skipped"

#: What started a run.
TRIGGERS = ("index", "watch", "optimize")
#: Triggers whose runs are kept even when they changed nothing.
KEEP_UNCHANGED = frozenset({"index", "optimize"})

log = logging.getLogger(__name__)


class StatusStore(Protocol):
    """A few named JSON documents kept beside an index (the run history, the skipped files,
    each watcher's state). A document is replaced whole: a reader sees the old one or the
    new one, never a mix."""

    def read(self, name: str) -> Any:
        """The document ``name``, or None if there is none."""
        ...

    def write(self, name: str, value: Any) -> None: ...

    def remove(self, name: str) -> None: ...

    def names(self, prefix: str = "") -> list[str]:
        """The names of the documents that start with ``prefix``."""
        ...


def now_iso(moment: float | None = None) -> str:
    """A moment (default: now) as ISO 8601 in UTC, to the second (as the manifest's ``published``)."""
    return datetime.fromtimestamp(time.time() if moment is None else moment, UTC).isoformat(timespec="seconds")


def run_record(
    report: IndexReport,
    trigger: str,
    started: float,
    seconds: float,
    paths: list[Path] | None,
    error: BaseException | None = None,
) -> dict[str, Any]:
    """One run as the history keeps it (``started``: epoch seconds)."""
    if isinstance(error, KeyboardInterrupt):
        outcome = "interrupted"
    elif error is not None:
        outcome = "failed"
    else:
        outcome = "unchanged" if report.up_to_date else "updated"
    finished = error is None
    records = {k: sum(c.get(k, 0) for c in report.records.values()) for k in ("added", "changed", "removed")}
    return {
        "started": now_iso(started),
        "seconds": round(seconds, 3),
        "trigger": trigger,
        "outcome": outcome,
        "error": (str(error) or type(error).__name__) if error is not None and outcome == "failed" else None,
        "paths": [file_key(p) for p in paths or []],
        "added": len(report.added),
        "changed": len(report.changed),
        "removed": len(report.removed),
        "unchanged": report.unchanged,
        "records": records,
        "skipped": len(report.skipped),
        "problems": len(report.problems),
        "examples": {
            "added": report.added[:RUN_PATHS_KEPT],
            "changed": report.changed[:RUN_PATHS_KEPT],
            "removed": report.removed[:RUN_PATHS_KEPT],
        },
        "rebuilt": report.rebuilt,
        "documents": report.documents if finished else None,
        "sections": report.sections if finished else None,
        "size_bytes": report.size_bytes if finished else None,
        "version": report.version if finished else None,
    }


def append_run(store: StatusStore, record: dict[str, Any]) -> None:
    """Add ``record`` to the history, keeping the last ``RUNS_KEPT``; the caller holds the writer lock."""
    runs = store.read(RUNS)
    runs = [*(runs if isinstance(runs, list) else []), record][-RUNS_KEPT:]
    store.write(RUNS, runs)


def save_skipped(store: StatusStore, paths: list[Path], skipped: list[tuple[str, str]], at: str) -> None:
    """Replace the skipped files of each folder (or file) in ``paths`` with this run's."""
    saved = store.read(SKIPPED)
    roots: dict[str, Any] = saved.get("roots", {}) if isinstance(saved, dict) else {}
    keys = [file_key(p) for p in paths]
    mine: dict[str, list[list[str]]] = {k: [] for k in keys}
    for path, reason in skipped:
        home = next((k for k in keys if _under(file_key(Path(path)), k)), keys[0] if keys else None)
        if home is not None:
            mine[home].append([path, reason])
    for key, files in mine.items():
        roots[key] = {"at": at, "files": files}
    store.write(SKIPPED, {"roots": roots})


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


@contextlib.contextmanager
def recorded(store: StatusStore | None, report: IndexReport, trigger: str, paths: list[Path] | None) -> Iterator[None]:
    """Record the run this block performs (``paths``: its inputs; None for ``optimize``).

    Enter it once the writer lock is held: the record is written when the block
    ends, with the block's outcome (its exception re-raised). Writing it is best
    effort: a history that cannot be written is a warning, never the run's failure.
    """
    started, clock = time.time(), time.perf_counter()
    try:
        yield
    except BaseException as exc:
        _save(store, run_record(report, trigger, started, time.perf_counter() - clock, paths, exc), None, report)
        raise
    record = run_record(report, trigger, started, time.perf_counter() - clock, paths)
    _save(store, record, paths, report)


def _save(store: StatusStore | None, record: dict[str, Any], paths: list[Path] | None, report: IndexReport) -> None:
    if store is None:
        return
    try:
        if paths is not None:
            save_skipped(store, paths, report.skipped, record["started"])
        if record["outcome"] != "unchanged" or record["trigger"] in KEEP_UNCHANGED:
            append_run(store, record)
    except Exception as exc:  # the history is a report, not part of the index
        log.warning("sakuin: the run history could not be written (%s); the index is not affected", exc)


def read_runs(store: StatusStore, limit: int = RUNS_KEPT) -> list[dict[str, Any]]:
    """The last ``limit`` runs, newest first."""
    runs = store.read(RUNS)
    return list(reversed(runs[-limit:])) if isinstance(runs, list) and limit > 0 else []


def read_skipped(store: StatusStore) -> list[dict[str, str]]:
    """Every skipped file of every folder's latest run, by path: ``{path, reason, code, at}``."""
    saved = store.read(SKIPPED)
    roots = saved.get("roots", {}) if isinstance(saved, dict) else {}
    found: dict[str, dict[str, str]] = {}
    for entry in roots.values():
        for path, reason in entry.get("files", []):
            found[path] = {"path": path, "reason": reason, "code": skip_code(reason), "at": entry.get("at", "")}
    return [found[p] for p in sorted(found)]


__all__ = [
    "KEEP_UNCHANGED",
    "RUNS",
    "SKIPPED",
    "TRIGGERS",
    "StatusStore",
    "append_run",
    "now_iso",
    "read_runs",
    "read_skipped",
    "recorded",
    "run_record",
    "save_skipped",
]
