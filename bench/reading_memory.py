"""What a build's main process holds for the documents it reads: its memory over a whole corpus.

    python bench/reading_memory.py --corpus DIR [--json] [--out]
    python bench/reading_memory.py --corpus /var/tmp/scale/sections-10000000/corpus   # a kept scale corpus

An index build's main process reads the input files, hands each document to a worker
and keeps, until it publishes the manifest, every document's id, its file and (for a
JSONL record) its digest and section count: the one part of a build's memory that
grows with the collection (the workers' is bounded by ``SAKUIN_SEGMENT_MB``). This
runs exactly that part in one process, without workers: ``changes`` and
``pending_documents`` over every file under ``--corpus`` (``bench/scale.py --keep``
leaves one), each task made and dropped, ``finish``, then the manifest published by
``IndexStore.publish`` into a temporary index directory, as ``sakuin index --rebuild``
does. Reported: the process's RSS after start-up, after reading and after publishing
(``processes.rss_pss_uss``), its peak (``ru_maxrss``), and the growth per record.

Run it with another checkout's ``sakuin`` on ``PYTHONPATH`` (or a venv of it) to
compare two versions on the same corpus. MB means 10^6 bytes. Linux only.
"""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import arguments, finish, log, machine_info
from processes import rss_pss_uss


def rss_bytes() -> int:
    return rss_pss_uss(os.getpid())[0]


class _NoDeletions:
    """A rebuild deletes nothing."""

    def delete(self, **terms: str) -> int:
        return 0


def measure(corpus: Path) -> dict[str, Any]:
    from sakuin.search.documents.files import iter_input_files
    from sakuin.search.documents.metadata import FieldSurvey
    from sakuin.search.embedded.store import IndexStore
    from sakuin.search.indexing.changes import changes, file_key, pending_documents
    from sakuin.search.indexing.report import IndexReport

    started = rss_bytes()
    t0 = time.perf_counter()
    report = IndexReport()
    inputs = list(iter_input_files([corpus], skipped=report.skipped))
    new_files, pending = changes(inputs, {}, [file_key(corpus)], report)
    reading = pending_documents(pending, new_files, report, _NoDeletions(), FieldSurvey())
    tasks = 0
    for task, _nbytes in reading.tasks():
        tasks += task is not None
    reading.finish([])
    read = rss_bytes()
    t1 = time.perf_counter()
    records = sum(len(entry["doc_ids"]) for entry in new_files.values())
    with tempfile.TemporaryDirectory(prefix="reading-memory-") as tmp:
        store = IndexStore(Path(tmp))
        version = store.start_version(copy_current=False)
        store.publish(version, {"files": new_files})
        manifest_bytes = (store.current() / "manifest.json").stat().st_size
    published = rss_bytes()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "files": len(new_files),
        "records": records,
        "tasks": tasks,
        "problems": len(report.problems),
        "rss_start_mb": started / 1e6,
        "rss_read_mb": read / 1e6,
        "rss_published_mb": published / 1e6,
        "peak_mb": peak / 1e6,
        "bytes_per_record": (read - started) / max(records, 1),
        "manifest_mb": manifest_bytes / 1e6,
        "read_s": t1 - t0,
        "publish_s": time.perf_counter() - t1,
    }


def print_human(r: dict[str, Any]) -> None:
    m = r["result"]
    print(
        f"{m['records']:,} records in {m['files']} files: RSS {m['rss_start_mb']:.1f} MB at start, "
        f"{m['rss_read_mb']:.1f} after reading ({m['bytes_per_record']:.0f} bytes a record), "
        f"{m['rss_published_mb']:.1f} after publishing; peak {m['peak_mb']:.1f} MB; "
        f"manifest {m['manifest_mb']:.1f} MB; read {m['read_s']:.1f} s, publish {m['publish_s']:.1f} s"
    )


def main() -> int:
    parser = arguments(__doc__, data=None, limit=False)
    parser.add_argument("--corpus", type=Path, required=True, help="a folder of input files (e.g. a kept scale corpus)")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        parser.error(f"{args.corpus} is not a folder")
    log(f"reading {args.corpus} …")
    return finish({"machine": machine_info(), "result": measure(args.corpus)}, args, print_human)


if __name__ == "__main__":
    raise SystemExit(main())
