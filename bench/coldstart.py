"""Cold start: what the first query on a newly opened index version costs, against warm queries.

    python bench/coldstart.py --index-dir /tmp/ix [--data livedoor.jsonl.gz] [--repeats 5] [--json]

A server opens a version at start (each worker, before it accepts requests) and
after every update (the first request that sees the new CURRENT). Each repeat
opens a fresh ``EmbeddedEngine`` on the index (files in the page cache, as they are right
after ``sakuin index`` wrote them), times opening and warming the snapshot, then
the first query, then 200 distinct queries (their median is the warm p50, with the
term-score cache as cold as distinct traffic keeps it). Medians over the repeats.
The aim (serving issue): first query ≤ 3 × the warm p50.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from common import DEFAULT_DATA, locate_corpus, log, machine_info, print_results
from load import decompress, mixed_queries

from sakuin.search.embedded.reading.engine import EmbeddedEngine


def one_repeat(index_dir: Path, queries: list[str], offset: int) -> dict[str, float]:
    engine = EmbeddedEngine(index_dir)
    started = time.perf_counter()
    engine.live.snapshot()
    opened = time.perf_counter()
    engine.search(queries[offset % len(queries)])
    first = time.perf_counter()
    warm = []
    for q in queries[offset + 1 : offset + 201]:
        t = time.perf_counter()
        engine.search(q)
        warm.append((time.perf_counter() - t) * 1000)
    engine.close()
    return {
        "open_ms": (opened - started) * 1000,
        "first_query_ms": (first - opened) * 1000,
        "warm_p50_ms": statistics.median(warm),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import tempfile

    with tempfile.TemporaryDirectory(prefix="sakuin-cold-") as tmp:
        corpus = decompress(locate_corpus(args.data), Path(tmp))
        queries = [p["q"] for p in mixed_queries(corpus, 2000)]
    runs = []
    for i in range(args.repeats):
        runs.append(one_repeat(args.index_dir, queries, i * 150))
        log(f"repeat {i + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in runs[-1].items()))
    results: dict[str, Any] = {k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]}
    results["first_over_warm_p50"] = round(results["first_query_ms"] / results["warm_p50_ms"], 2)
    results["repeats"] = runs
    results["machine"] = machine_info()
    print_results(results, args.json, print_human)


def print_human(r: dict[str, Any]) -> None:
    print(
        f"open+warm {r['open_ms']} ms; first query {r['first_query_ms']} ms; warm p50 {r['warm_p50_ms']} ms; "
        f"first / warm p50 = {r['first_over_warm_p50']} (medians of {len(r['repeats'])})"
    )


if __name__ == "__main__":
    main()
