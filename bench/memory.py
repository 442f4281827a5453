"""Memory: peak RSS of indexing the livedoor corpus, and of serving it.

    python bench/memory.py                 # full corpus (7,367 articles), temp dirs
    python bench/memory.py --limit 300 --queries 50   # smoke run
    python bench/memory.py --keep-index /tmp/lv-ix    # and keep the index (for load.py)

1. ``sakuin index`` runs as a subprocess on the corpus decompressed to a temporary
   .jsonl. Its process tree (the CLI and its worker processes) is sampled from /proc
   every 50 ms: the peak of the tree's summed RSS, PSS (shared pages split between the
   processes that share them, so forked workers are not double-counted) and USS
   (private pages), and the largest single process (also the kernel's ru_maxrss of the
   children, which sampling cannot miss).
2. ``sakuin serve`` (gunicorn: its master and workers, sampled as one tree, 8 threads
   per worker) then serves that index; 1,000 of the load test's mixed API queries
   (bench/queries.py) are sent by 4 client threads; the server's RSS/PSS/USS are
   reported after start-up, at the peak, and after the queries. RSS overstates the
   server: every process maps the same dictionary file.

Memory is in MiB (reported as MB). Linux only (/proc).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import corpora
from harness import MIB, arguments, finish, log, machine_info
from processes import IndexFailed, Sampler, sakuin_index
from queries import mixed_queries, urls_for
from servers import SakuinServer, run_clients


def mib(n_bytes: int) -> float:
    return round(n_bytes / MIB, 1)


def measure_indexing(corpus: Path, index_dir: Path) -> dict[str, Any]:
    try:
        run = sakuin_index([corpus], index_dir, sample=0.05)
    except IndexFailed as exc:
        sys.exit(str(exc))
    report = run["report"]
    return {
        "seconds": round(run["wall_seconds"], 1),
        "summary": {k: report.get(k) for k in ("documents", "sections", "size_bytes", "seconds")},
        "peak_tree_rss_mb": mib(run["peak_tree_rss_bytes"]),
        "peak_tree_pss_mb": mib(run["peak_tree_pss_bytes"]),
        "peak_tree_uss_mb": mib(run["peak_tree_uss_bytes"]),
        "peak_single_process_rss_mb": mib(max(run["peak_single_process_rss_bytes"], run["children_maxrss_bytes"])),
        "processes": run["processes"],
    }


def measure_serving(corpus: Path, index_dir: Path, queries: int) -> dict[str, Any]:
    with SakuinServer(index_dir, threads=8) as server:
        sampler = Sampler(server.proc.pid)
        idle_rss, _, idle_uss = sampler.sample()
        sampler.start()
        urls = urls_for(mixed_queries(corpus))
        load = run_clients(server.port, urls, clients=4, seconds=600, max_requests=queries)
        sampler.done.set()
        sampler.join()
        after_rss, after_pss, after_uss = sampler.sample()
    return {
        "queries": load["requests"],
        "errors": load["errors"],
        "rss_after_start_mb": mib(idle_rss),
        "uss_after_start_mb": mib(idle_uss),
        "rss_peak_mb": mib(sampler.peak_rss),
        "rss_after_queries_mb": mib(after_rss),
        "pss_after_queries_mb": mib(after_pss),
        "uss_after_queries_mb": mib(after_uss),
        "latency_ms_p50": load["latency_ms"]["p50"],
    }


def print_human(r: dict[str, Any]) -> None:
    i, s = r["indexing"], r["serving"]
    print(f"indexing: {i['summary']['sections']} sections in {i['seconds']} s")
    print(
        f"  peak RSS: process tree {i['peak_tree_rss_mb']} MB (PSS {i['peak_tree_pss_mb']} MB, "
        f"USS {i['peak_tree_uss_mb']} MB), "
        f"largest single process {i['peak_single_process_rss_mb']} MB, {i['processes']} processes"
    )
    print(
        f"serving: RSS {s['rss_after_start_mb']} MB after start, {s['rss_peak_mb']} MB peak, "
        f"{s['rss_after_queries_mb']} MB after {s['queries']} queries (PSS {s['pss_after_queries_mb']} MB, "
        f"USS {s['uss_after_start_mb']} → {s['uss_after_queries_mb']} MB); "
        f"{s['errors']} errors, p50 {s['latency_ms_p50']} ms"
    )


def main() -> int:
    parser = arguments(__doc__)
    parser.add_argument("--queries", type=int, default=1000, help="queries sent to the server")
    parser.add_argument("--keep-index", type=Path, default=None, help="build the index here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sakuin-mem-") as tmp:
        corpus = corpora.livedoor_jsonl(args.data, Path(tmp), args.limit)
        index_dir = args.keep_index or Path(tmp) / "index"
        if (index_dir / "CURRENT").exists():
            sys.exit(f"{index_dir} already holds an index; measuring needs a fresh build")
        log(f"indexing {corpus.stat().st_size / MIB:.1f} MB of JSONL …")
        indexing = measure_indexing(corpus, index_dir)
        log(f"serving: {args.queries} queries …")
        serving = measure_serving(corpus, index_dir, args.queries)
    results = {"indexing": indexing, "serving": serving, "cpus": os.cpu_count(), "machine": machine_info()}
    return finish(results, args, print_human)


if __name__ == "__main__":
    sys.exit(main())
