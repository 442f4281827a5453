"""Incremental updates: what one change costs against a full build, and whether it stays exact.

    python bench/bench_update.py [--limit N] [--procs N] [--repeat 3] [--updates 20] [--json] [--out]
    python bench/bench_update.py --limit 300 --files 10 --repeat 1 --updates 3   # smoke run

Every step runs ``sakuin index`` as a subprocess (the whole process, as a user waits
for it) on the livedoor corpus, in one run so the ratios are comparable:

(a) folder: the corpus split into ``--files`` JSONL files (60); a full build, then
    ``--repeat`` updates that each rewrite every record of one file. Per update: wall
    time, bytes the update wrote into the index (files of the new version that are not
    hard links of the previous version's) and segments rewritten; reported against the
    full build's time and the index size.
(b) one file: the whole corpus in one JSONL file; a full build, then ``--repeat``
    updates that each change one record's text. Time against the full build.
(c) many updates: ``--updates`` updates of the folder, each changing 1 % of the
    records in random files; then a fresh ``--rebuild`` of the same inputs: size and
    segment count of both, and whether every answer of a query set (totals, order,
    scores) is equal.
(d) drift: 2,000 articles in one file; append one line, update, restore the file,
    update: answers and size against a fresh build.

Medians of the repeats are reported.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import corpora
from corpora import edited, part_path, write_jsonl
from harness import arguments, finish, log, machine_info
from processes import IndexFailed, sakuin_index

from sakuin.search.embedded.reading.engine import EmbeddedEngine
from sakuin.search.embedded.store import IndexStore

QUERIES = [
    "結婚式",
    "スマートフォン",
    "映画 監督",
    '"女子アナ"',
    "独身女性が結婚式で友人代表のスピーチを頼まれたらどうするのか",
    "iPhoneのバッテリーを長持ちさせる方法",
    "サッカー日本代表の試合結果",
    "京都",
]


def index(path: Path, index_dir: Path, procs: int, rebuild: bool = False) -> tuple[float, dict[str, Any]]:
    """``sakuin index PATH --index-dir DIR --procs N [--rebuild]``: (wall seconds, its JSON summary)."""
    try:
        run = sakuin_index([path], index_dir, "--procs", str(procs), *(["--rebuild"] if rebuild else []))
    except IndexFailed as exc:
        sys.exit(str(exc))
    return run["wall_seconds"], run["report"]


def version_files(index_dir: Path) -> dict[int, int]:
    """inode → size of the live version's files."""
    version = IndexStore(index_dir).current()
    return {f.stat().st_ino: f.stat().st_size for f in version.iterdir() if f.is_file()}


def written_bytes(before: dict[int, int], index_dir: Path) -> int:
    """Bytes of the live version's files that the previous version did not share."""
    return sum(size for inode, size in version_files(index_dir).items() if inode not in before)


def answers(index_dir: Path) -> dict[str, Any]:
    engine = EmbeddedEngine(index_dir)
    out = {}
    for q in QUERIES:
        r = engine.search(q, per_page=20, snippets=False)
        out[q] = (r.total, [(h.doc_id, h.ordinal, h.score) for h in r.hits])
    return out


def folder_updates(records: list[dict[str, Any]], work: Path, args: Any) -> dict[str, Any]:
    folder, ix = work / "folder", work / "ix-folder"
    parts = corpora.split_files(records, folder, args.files)
    log(f"(a) full build of {len(parts)} files …")
    full_s, full = index(folder, ix, args.procs, rebuild=True)
    runs = []
    for i in range(args.repeat):
        k = (len(parts) * (2 * i + 1)) // (2 * args.repeat)
        parts[k] = [edited(r, f"（更新{i}）") for r in parts[k]]
        write_jsonl(parts[k], part_path(folder, k))
        before = version_files(ix)
        seconds, report = index(folder, ix, args.procs)
        written = written_bytes(before, ix)
        runs.append(
            {
                "file": part_path(folder, k).name,
                "records": len(parts[k]),
                "seconds": seconds,
                "bytes_written": written,
                "size_bytes": report["size_bytes"],
                "segments": report["segments"],
                "segments_rewritten": report["segments_rewritten"],
                "sections_rewritten": report["sections_rewritten"],
            }
        )
        log(f"    update {i + 1}: {seconds:.2f} s, wrote {written / 1e6:.1f} MB, {report['segments']} segments")
    med_s = statistics.median(r["seconds"] for r in runs)
    med_w = statistics.median(r["bytes_written"] for r in runs)
    return {
        "files": len(parts),
        "full_build_seconds": full_s,
        "index_bytes": full["size_bytes"],
        "updates": runs,
        "median_seconds": med_s,
        "median_bytes_written": med_w,
        "time_share": med_s / full_s,
        "bytes_share": med_w / full["size_bytes"],
    }


def record_updates(records: list[dict[str, Any]], work: Path, args: Any) -> dict[str, Any]:
    path, ix = work / "one" / "news.jsonl", work / "ix-one"
    records = list(records)
    write_jsonl(records, path)
    log(f"(b) full build of one file of {len(records)} records …")
    full_s, full = index(path, ix, args.procs, rebuild=True)
    runs = []
    for i in range(args.repeat):
        k = (len(records) * (2 * i + 1)) // (2 * args.repeat)
        records[k] = edited(records[k], f"（更新{i}）")
        write_jsonl(records, path)
        before = version_files(ix)
        seconds, report = index(path, ix, args.procs)
        runs.append(
            {
                "seconds": seconds,
                "bytes_written": written_bytes(before, ix),
                "records": report["records"],
                "sections_written": report["sections_written"],
                "segments_rewritten": report["segments_rewritten"],
            }
        )
        log(f"    update {i + 1}: {seconds:.2f} s, {report['sections_written']} sections analysed")
    med_s = statistics.median(r["seconds"] for r in runs)
    return {
        "records": len(records),
        "full_build_seconds": full_s,
        "index_bytes": full["size_bytes"],
        "updates": runs,
        "median_seconds": med_s,
        "time_share": med_s / full_s,
        "median_bytes_written": statistics.median(r["bytes_written"] for r in runs),
    }


def many_updates(records: list[dict[str, Any]], work: Path, args: Any) -> dict[str, Any]:
    folder, ix, fresh = work / "many", work / "ix-many", work / "ix-many-fresh"
    parts = corpora.split_files(records, folder, args.files)
    rng = random.Random(args.seed)
    log(f"(c) {args.updates} updates of 1 % of the records each …")
    index(folder, ix, args.procs, rebuild=True)
    sizes, segments, seconds = [], [], []
    for u in range(args.updates):
        touched = set()
        for _ in range(max(1, len(records) // 100)):
            k = rng.randrange(len(parts))
            j = rng.randrange(len(parts[k]))
            parts[k][j] = edited(parts[k][j], f"（更新{u}）")
            touched.add(k)
        for k in touched:
            write_jsonl(parts[k], part_path(folder, k))
        s, report = index(folder, ix, args.procs)
        sizes.append(report["size_bytes"])
        segments.append(report["segments"])
        seconds.append(s)
    _, rebuilt = index(folder, fresh, args.procs, rebuild=True)
    return {
        "updates": args.updates,
        "sizes": sizes,
        "segments": segments,
        "median_update_seconds": statistics.median(seconds),
        "max_size_ratio": max(sizes) / rebuilt["size_bytes"],
        "final_size_ratio": sizes[-1] / rebuilt["size_bytes"],
        "fresh_bytes": rebuilt["size_bytes"],
        "fresh_segments": rebuilt["segments"],
        "answers_equal": answers(ix) == answers(fresh),
    }


def drift(records: list[dict[str, Any]], work: Path, args: Any) -> dict[str, Any]:
    path, ix, fresh = work / "drift" / "news.jsonl", work / "ix-drift", work / "ix-drift-fresh"
    sample = records[:2000]
    write_jsonl(sample, path)
    log(f"(d) drift: {len(sample)} articles, append one line, update, restore, update …")
    index(path, fresh, args.procs, rebuild=True)
    index(path, ix, args.procs, rebuild=True)
    sizes = [IndexStore(ix).size_bytes()]
    write_jsonl([*sample, {**sample[0], "id": "appended"}], path)
    index(path, ix, args.procs)
    sizes.append(IndexStore(ix).size_bytes())
    write_jsonl(sample, path)
    index(path, ix, args.procs)
    sizes.append(IndexStore(ix).size_bytes())
    got, want = answers(ix), answers(fresh)
    q = QUERIES[4]
    return {
        "sizes": sizes,
        "answers_equal": got == want,
        "question_total": [got[q][0], want[q][0]],
        "differences": [q for q in QUERIES if got[q] != want[q]],
    }


def print_human(r: dict[str, Any]) -> None:
    a, b = r["folder"], r["one_file"]
    print(f"(a) {a['files']} files, one file changed ({a['updates'][0]['records']} records):")
    print(
        f"    full build {a['full_build_seconds']:.1f} s, index {a['index_bytes'] / 1e6:.1f} MB; "
        f"update median {a['median_seconds']:.2f} s ({100 * a['time_share']:.1f} % of the build), "
        f"wrote {a['median_bytes_written'] / 1e6:.1f} MB ({100 * a['bytes_share']:.1f} % of the index)"
    )
    print(f"(b) one file of {b['records']} records, one record changed:")
    print(
        f"    full build {b['full_build_seconds']:.1f} s; update median {b['median_seconds']:.2f} s "
        f"({100 * b['time_share']:.1f} % of the build), wrote {b['median_bytes_written'] / 1e6:.2f} MB"
    )
    if "many" in r:
        c = r["many"]
        print(
            f"(c) {c['updates']} updates: size up to {c['max_size_ratio']:.2f}× a fresh build "
            f"(final {c['final_size_ratio']:.2f}×), segments {min(c['segments'])}–{max(c['segments'])} "
            f"(fresh {c['fresh_segments']}), answers equal to the fresh build: {c['answers_equal']}"
        )
    if "drift" in r:
        d = r["drift"]
        print(
            f"(d) drift scenario: answers equal {d['answers_equal']}, question totals {d['question_total']}, "
            f"sizes {[round(s / 1e6, 1) for s in d['sizes']]} MB"
        )


def main() -> int:
    parser = arguments(__doc__, procs=True, tmp=True)
    parser.add_argument("--files", type=int, default=60, help="files the corpus is split into for (a) and (c)")
    parser.add_argument("--repeat", type=int, default=3, help="updates measured in (a) and (b)")
    parser.add_argument("--updates", type=int, default=20, help="updates in (c); 0 skips (c)")
    parser.add_argument("--no-drift", action="store_true", help="skip (d)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    records = list(corpora.iter_records(corpora.locate(args.data), args.limit))
    results: dict[str, Any] = {"machine": machine_info(), "procs": args.procs, "records": len(records)}
    with tempfile.TemporaryDirectory(prefix="sakuin-update-", dir=args.tmp) as tmp:
        work = Path(tmp)
        results["folder"] = folder_updates(records, work, args)
        results["one_file"] = record_updates(records, work, args)
        if args.updates:
            results["many"] = many_updates(records, work, args)
        if not args.no_drift:
            results["drift"] = drift(records, work, args)
    return finish(results, args, print_human)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")  # the sakuin index subprocesses
    sys.exit(main())
