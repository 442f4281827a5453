"""Cold start: what the first query on a newly opened index version costs, against warm queries.

    python bench/coldstart.py --index-dir /tmp/ix [--repeats 5] [--json] [--out]
    python bench/coldstart.py --limit 300 --repeats 1   # smoke run (builds a small index first)

A server opens a version at start (each worker, before it accepts requests) and after
every update (the first request that sees the new CURRENT). Each repeat opens a fresh
``EmbeddedEngine`` on the index (files in the page cache, as they are right after
``sakuin index`` wrote them), times opening and warming the snapshot, then the first
query, then 200 distinct queries (their median is the warm p50, with the term-score
cache as cold as distinct traffic keeps it). The queries are the load test's mixed API
queries (bench/queries.py); repeat i starts at query 150 i. Medians over the repeats.
The aim: first query ≤ 3 × the warm p50.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import corpora
from harness import arguments, ensure_index, finish, log, machine_info
from queries import mixed_queries

from sakuin.search.embedded.reading.engine import EmbeddedEngine

WARM_QUERIES = 200


def one_repeat(index_dir: Path, qs: list[str], offset: int) -> dict[str, float]:
    engine = EmbeddedEngine(index_dir)
    started = time.perf_counter()
    engine.live.snapshot()
    opened = time.perf_counter()
    engine.search(qs[offset % len(qs)])
    first = time.perf_counter()
    warm = []
    for n in range(offset + 1, offset + 1 + WARM_QUERIES):
        q = qs[n % len(qs)]  # wraps round only on a small corpus (--limit)
        t = time.perf_counter()
        engine.search(q)
        warm.append((time.perf_counter() - t) * 1000)
    engine.close()
    return {
        "open_ms": (opened - started) * 1000,
        "first_query_ms": (first - opened) * 1000,
        "warm_p50_ms": statistics.median(warm),
    }


def print_human(r: dict[str, Any]) -> None:
    print(
        f"open+warm {r['open_ms']} ms; first query {r['first_query_ms']} ms; warm p50 {r['warm_p50_ms']} ms; "
        f"first / warm p50 = {r['first_over_warm_p50']} (medians of {len(r['repeats'])})"
    )


def main() -> int:
    parser = arguments(__doc__)
    parser.add_argument("--index-dir", type=Path, default=None, help="the index (default: build one in a temp dir)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sakuin-cold-") as tmp:
        index_dir, _ = ensure_index(args.index_dir, Path(tmp), args.data, args.limit)
        corpus = corpora.livedoor_jsonl(args.data, Path(tmp), args.limit)
        qs = [p["q"] for p in mixed_queries(corpus, 2000)]
        runs = []
        for i in range(args.repeats):
            runs.append(one_repeat(index_dir, qs, i * 150))
            log(f"repeat {i + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in runs[-1].items()))
    results: dict[str, Any] = {k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]}
    results["first_over_warm_p50"] = round(results["first_query_ms"] / results["warm_p50_ms"], 2)
    results["repeats"] = runs
    results["machine"] = machine_info()
    return finish(results, args, print_human)


if __name__ == "__main__":
    sys.exit(main())
