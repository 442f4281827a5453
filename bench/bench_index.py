"""Indexing throughput against its ceiling, raw SudachiPy tokenization, in one run.

    python bench/bench_index.py [--procs N] [--limit N] [--json] [--out] [--keep DIR]
    python bench/bench_index.py --limit 300 --shards 10 --touches 1 --noops 1   # smoke run

All steps in the same run, so the ratios are comparable on a noisy machine:

(a) ceiling: raw SudachiPy over exactly the strings the indexer analyses (title, heading
    and body of every section, as ``read_file`` produces them) in a pool of --procs
    workers (see bench/ceiling.py); measured before and again after (b), and (b) is
    compared with the mean of the two;
(a') the same strings through ``analyse_text`` (sakuin's Sudachi pass producing the word
    and reading terms): what analysis costs before any segment is written;
(b) ``build_index([corpus.jsonl], tmp, rebuild=True, procs=N)``, wall clock: reading,
    dictionary loading in the writer's workers, segment writing, fsync, publishing;
(c) an incremental no-op run over the corpus split into ``--shards`` files;
(d) incremental runs after rewriting one shard (1 % of the records by default), the
    touched shards spread over the corpus.

MB/s counts UTF-8 bytes of the analysed strings; ratio = index MB/s / ceiling MB/s
(target ≥ 0.50); size is the published version directory on disk.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ceiling
import corpora
from harness import arguments, finish, log, machine_info, mb, rate

from sakuin.search.embedded.writing.indexer import build_index

#: Target index/ceiling ratio.
TARGET_RATIO = 0.50


def incremental(
    records: list[dict[str, Any]], work: Path, shards: int, procs: int, touches: int, noops: int
) -> dict[str, Any]:
    """(c) and (d)."""
    folder = work / "shards"
    parts = corpora.split_files(records, folder, shards)
    index_dir = work / "index-incremental"
    log(f"(c/d) base build over {len(parts)} shard files …")
    t0 = time.perf_counter()
    base = build_index([folder], index_dir, rebuild=True, procs=procs)
    base_s = time.perf_counter() - t0

    noop_times = []
    for i in range(noops):
        t0 = time.perf_counter()
        r = build_index([folder], index_dir, procs=procs)
        noop_times.append(time.perf_counter() - t0)
        if not r.up_to_date:
            log(f"warning: no-op run {i} was not up to date: {r.to_dict()}")

    touched = []
    for i in range(touches):
        k = (len(parts) * (2 * i + 1)) // (2 * touches)  # spread over the corpus, deterministically
        path = corpora.part_path(folder, k)
        n = corpora.write_jsonl([corpora.edited(rec, f"（更新{i}）") for rec in corpora.iter_records(path)], path)
        t0 = time.perf_counter()
        r = build_index([folder], index_dir, procs=procs)
        touched.append(
            {
                "file": path.name,
                "records": n,
                "seconds": time.perf_counter() - t0,
                "changed_files": len(r.changed),
                "sections_written": r.sections_written,
                "sections": r.sections,
            }
        )
    return {
        "shards": len(parts),
        "base_build_seconds": base_s,
        "base_sections": base.sections,
        "noop_seconds": noop_times,
        "noop_median_seconds": statistics.median(noop_times) if noop_times else None,
        "touch": touched,
        "touch_median_seconds": statistics.median(t["seconds"] for t in touched) if touched else None,
        "touch_share": (touched[0]["records"] / len(records)) if touched else None,
    }


def run(args: Any) -> dict[str, Any]:
    data = corpora.locate(args.data)
    procs = max(1, args.procs)
    with tempfile.TemporaryDirectory(prefix="sakuin-bench-", dir=args.tmp) as tmp:
        work = Path(tmp)
        log(f"decompressing {data} …")
        records = list(corpora.iter_records(data, args.limit))
        jsonl = work / "corpus" / "livedoor.jsonl"
        corpora.write_jsonl(records, jsonl)
        texts, documents, sections = corpora.analysed_strings(jsonl)
        n_bytes = sum(map(corpora.utf8_len, texts))
        log(f"{documents} documents, {sections} sections, {mb(n_bytes):.1f} MB analysed text, {procs} procs")
        results: dict[str, Any] = {
            "machine": machine_info(),
            "procs": procs,
            "corpus": {
                "path": str(data),
                "records": len(records),
                "documents": documents,
                "sections": sections,
                "analysed_strings": len(texts),
                "analysed_bytes": n_bytes,
            },
        }

        log("(a) ceiling: raw SudachiPy in a pool …")
        before = ceiling.in_pool(texts, procs)
        results["ceiling_before"] = {**before, **rate(n_bytes, sections, before["seconds"])}
        if not args.skip_analysis:
            log("(a') analyse_text in a pool …")
            analysis = ceiling.in_pool(texts, procs, "engine")
            results["analysis"] = {**analysis, **rate(n_bytes, sections, analysis["seconds"])}
            results["analysis"]["ratio_to_ceiling"] = (
                results["analysis"]["mb_per_s"] / results["ceiling_before"]["mb_per_s"]
            )

        index_dir = args.keep.resolve() if args.keep else work / "index"
        log(f"(b) build_index rebuild into {index_dir} …")
        t0 = time.perf_counter()
        report = build_index([jsonl], index_dir, rebuild=True, procs=procs)
        wall = time.perf_counter() - t0
        results["index"] = {
            **rate(n_bytes, sections, wall),
            "report_seconds": report.seconds,
            "documents": report.documents,
            "sections": report.sections,
            "size_bytes": report.size_bytes,
            "version_dir_bytes": corpora.dir_size(index_dir / report.version) if report.version else None,
            "index_dir": str(index_dir) if args.keep else None,
            "problems": report.problems[:10],
        }

        log("(a) ceiling again, after the build …")
        after = ceiling.in_pool(texts, procs)
        results["ceiling_after"] = {**after, **rate(n_bytes, sections, after["seconds"])}
        results["ceiling"] = ceiling.mean_of(before, after, n_bytes, sections)
        results["ratio"] = results["index"]["mb_per_s"] / results["ceiling"]["mb_per_s"]
        results["target_ratio"] = TARGET_RATIO

        if not args.skip_incremental:
            results["incremental"] = incremental(records, work, args.shards, procs, args.touches, args.noops)
    return results


def print_human(r: dict[str, Any]) -> None:
    c, m = r["corpus"], r["machine"]
    print(f"# bench_index  {m['date']}  {m['cpus']} cpus  python {m['python']}  sudachipy {m['sudachipy']}")
    print(
        f"corpus: {c['records']} records -> {c['documents']} documents, {c['sections']} sections, "
        f"{mb(c['analysed_bytes']):.2f} MB analysed (title+heading+body), procs={r['procs']}"
    )

    def line(label: str, x: dict[str, Any], extra: str = "") -> None:
        print(
            f"{label:<44} {x['seconds']:8.2f} s  {x['mb_per_s']:6.3f} MB/s  "
            f"{x['sections_per_s']:8.1f} sections/s{extra}"
        )

    ce = r["ceiling"]
    line("(a)  ceiling: raw SudachiPy, pool, before", r["ceiling_before"])
    if "analysis" in r:
        a = r["analysis"]
        line("(a') analyse_text, pool", a, f"  ({a['ratio_to_ceiling']:.2f} of ceiling before)")
    ix = r["index"]
    line("(b)  build_index(rebuild=True)", ix, f"  size {mb(ix['size_bytes']):.1f} MB")
    line("(a)  ceiling: raw SudachiPy, pool, after", r["ceiling_after"])
    line(
        "(a)  ceiling: mean of before and after",
        ce,
        f"  (spread {100 * ce['spread']:.0f}%, warm-up {ce['warmup_seconds']:.2f} s excluded)",
    )
    verdict = "meets" if r["ratio"] >= r["target_ratio"] else "BELOW"
    print(f"ratio index/ceiling: {r['ratio']:.3f}  ({verdict} target {r['target_ratio']:.2f})")
    inc = r.get("incremental")
    if inc:
        print(f"incremental, corpus split into {inc['shards']} files (base build {inc['base_build_seconds']:.2f} s):")
        if inc["noop_seconds"]:
            noops = ", ".join(f"{s:.3f}" for s in inc["noop_seconds"])
            print(f"  (c) no-op re-run: median {inc['noop_median_seconds']:.3f} s  [{noops}]")
        for t in inc["touch"]:
            print(
                f"  (d) {t['file']} rewritten ({t['records']} records, {t['sections_written']} sections written): "
                f"{t['seconds']:.3f} s"
            )
        if inc["touch"]:
            print(
                f"  (d) median after touching {100 * inc['touch_share']:.1f}% of records: "
                f"{inc['touch_median_seconds']:.3f} s"
            )


def main() -> int:
    parser = arguments(__doc__, procs=True, tmp=True)
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR", help="build the index in DIR and keep it")
    parser.add_argument("--shards", type=int, default=100, help="files the corpus is split into for (c)/(d)")
    parser.add_argument("--touches", type=int, default=3, help="incremental updates timed in (d), one shard each")
    parser.add_argument("--noops", type=int, default=3, help="no-op re-runs timed in (c)")
    parser.add_argument("--skip-incremental", action="store_true", help="skip (c) and (d)")
    parser.add_argument("--skip-analysis", action="store_true", help="skip (a'), the analyse_text pool pass")
    args = parser.parse_args()
    return finish(run(args), args, print_human)


if __name__ == "__main__":
    sys.exit(main())
