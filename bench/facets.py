"""Facets must not make search slow: p95 with two facets against p95 without, same queries, same run.

Usage: python bench/facets.py [--index-dir DIR] [--rounds 5] [--queries 400] [--json]

Builds (or reuses) a livedoor index with ``--facet category --date date``, then
runs the load test's mixed query set (one word, two words, unspaced question,
phrase, page 2; ``load.mixed_queries``) in-process through ``EmbeddedEngine.search``,
each query once without facets and once with ``facets=category,path``, in
alternating order, for several rounds. Reports p50/p95 of each per round and
the median over rounds of the ratio p95(with) / p95(without); the aim is ≤ 1.5.
A third arm adds a filter and ``sort=-date`` (the results page's usual state).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import DEFAULT_DATA, interleaved_ms, locate_corpus, log, machine_info, percentile, print_results
from load import decompress, mixed_queries

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ARMS = {
    "plain": {},
    "two_facets": {"facets": ("category", "path")},
    "facets_filter_sort": {"facets": ("category", "path"), "filters": ("date:2011..",), "sort": "-date"},
}


def build(data: Path, workdir: Path, index_dir: Path | None) -> Path:
    from sakuin.search.embedded.writing.indexer import build_index

    index_dir = index_dir or workdir / "index"
    if not (index_dir / "CURRENT").exists():
        corpus = decompress(data, workdir)
        log(f"indexing {corpus} with --facet category --date date …")
        build_index([corpus], index_dir, declare=[("category", "keyword"), ("date", "date")])
    return index_dir


def run(index_dir: Path, queries: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    from sakuin.search.embedded.reading.engine import EmbeddedEngine

    engine = EmbeddedEngine(index_dir)
    for params in queries[:50]:  # warm the caches and tables every arm uses
        for arm in ARMS.values():
            engine.search(params["q"], page=params.get("page", 1), **arm)

    def arm(options: dict[str, Any]) -> Callable[[dict[str, Any]], Any]:
        return lambda params: engine.search(params["q"], page=params.get("page", 1), **options)

    arms = {name: arm(options) for name, options in ARMS.items()}
    per_round = []
    for r in range(rounds):
        times = interleaved_ms(arms, queries, r)
        row = {name: {"p50": percentile(t, 50), "p95": percentile(t, 95)} for name, t in times.items()}
        row["ratio_p95"] = row["two_facets"]["p95"] / row["plain"]["p95"]
        row["ratio_p95_filter_sort"] = row["facets_filter_sort"]["p95"] / row["plain"]["p95"]
        per_round.append(row)
        log(
            f"round {r + 1}: p95 plain {row['plain']['p95']:.1f} ms, two facets {row['two_facets']['p95']:.1f} ms "
            f"(×{row['ratio_p95']:.2f}), + filter and sort {row['facets_filter_sort']['p95']:.1f} ms"
        )
    engine.close()
    return {
        "rounds": per_round,
        "median": {
            "plain_p50_ms": statistics.median(r["plain"]["p50"] for r in per_round),
            "plain_p95_ms": statistics.median(r["plain"]["p95"] for r in per_round),
            "two_facets_p50_ms": statistics.median(r["two_facets"]["p50"] for r in per_round),
            "two_facets_p95_ms": statistics.median(r["two_facets"]["p95"] for r in per_round),
            "facets_filter_sort_p95_ms": statistics.median(r["facets_filter_sort"]["p95"] for r in per_round),
            "ratio_p95": statistics.median(r["ratio_p95"] for r in per_round),
            "ratio_p95_filter_sort": statistics.median(r["ratio_p95_filter_sort"] for r in per_round),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--index-dir", type=Path, default=None, help="reuse this index (built with the facets)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data = locate_corpus(args.data)
    with tempfile.TemporaryDirectory(prefix="sakuin-facets-") as tmp:
        index_dir = build(data, Path(tmp), args.index_dir)
        corpus = decompress(data, Path(tmp))
        queries = mixed_queries(corpus, args.queries)
        results = {"machine": machine_info(), "queries": len(queries), **run(index_dir, queries, args.rounds)}

    def human(res: dict[str, Any]) -> None:
        m = res["median"]
        print(f"{res['queries']} queries × {len(res['rounds'])} rounds (medians over rounds)")
        print(f"  no facets:            p50 {m['plain_p50_ms']:.1f} ms  p95 {m['plain_p95_ms']:.1f} ms")
        print(f"  category + path:      p50 {m['two_facets_p50_ms']:.1f} ms  p95 {m['two_facets_p95_ms']:.1f} ms")
        print(f"  + filter, sort -date: p95 {m['facets_filter_sort_p95_ms']:.1f} ms")
        print(f"  p95 ratio with/without facets: {m['ratio_p95']:.2f} (aim ≤ 1.5)")

    print_results(results, args.json, human)


if __name__ == "__main__":
    main()
