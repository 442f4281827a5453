"""Facets must not make search slow: p95 with two facets against p95 without, same queries, same run.

    python bench/facets.py [--index-dir DIR] [--rounds 5] [--queries 400] [--json] [--out]
    python bench/facets.py --limit 300 --queries 30 --rounds 1   # smoke run

Builds (or reuses) a livedoor index with ``--facet category --date date``, then runs the
load test's mixed API queries (one word, two words, unspaced question, phrase, page 2;
bench/queries.py) in-process through ``EmbeddedEngine.search``, each query once without
facets and once with ``facets=category,path`` (a third arm adds a filter and
``sort=-date``, the results page's usual state), in alternating order, for several
rounds, after 50 untimed queries through every arm. Reports p50/p95 of each arm per
round and the median over rounds of the ratio p95(with) / p95(without); the aim is ≤ 1.5.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import faceted_queries_main, interleaved_rounds, log

from sakuin.search.embedded.reading.engine import EmbeddedEngine

ARMS = {
    "plain": {},
    "two_facets": {"facets": ("category", "path")},
    "facets_filter_sort": {"facets": ("category", "path"), "filters": ("date:2011..",), "sort": "-date"},
}


def run(index_dir: Path, qs: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    engine = EmbeddedEngine(index_dir)

    def arm(options: dict[str, Any]) -> Callable[[dict[str, Any]], Any]:
        return lambda params: engine.search(params["q"], page=params.get("page", 1), **options)

    per_round = interleaved_rounds({name: arm(options) for name, options in ARMS.items()}, qs, rounds, warmup=50)
    for n, row in enumerate(per_round, 1):
        row["ratio_p95"] = row["two_facets"]["p95"] / row["plain"]["p95"]
        row["ratio_p95_filter_sort"] = row["facets_filter_sort"]["p95"] / row["plain"]["p95"]
        log(
            f"round {n}: p95 plain {row['plain']['p95']:.1f} ms, two facets {row['two_facets']['p95']:.1f} ms "
            f"(×{row['ratio_p95']:.2f}), + filter and sort {row['facets_filter_sort']['p95']:.1f} ms"
        )
    engine.close()

    def median(key: str, stat: str | None = None) -> float:
        return statistics.median(r[key][stat] if stat else r[key] for r in per_round)

    return {
        "rounds": per_round,
        "median": {
            "plain_p50_ms": median("plain", "p50"),
            "plain_p95_ms": median("plain", "p95"),
            "two_facets_p50_ms": median("two_facets", "p50"),
            "two_facets_p95_ms": median("two_facets", "p95"),
            "facets_filter_sort_p95_ms": median("facets_filter_sort", "p95"),
            "ratio_p95": median("ratio_p95"),
            "ratio_p95_filter_sort": median("ratio_p95_filter_sort"),
        },
    }


def print_human(res: dict[str, Any]) -> None:
    m = res["median"]
    print(f"{res['queries']} queries × {len(res['rounds'])} rounds (medians over rounds)")
    print(f"  no facets:            p50 {m['plain_p50_ms']:.1f} ms  p95 {m['plain_p95_ms']:.1f} ms")
    print(f"  category + path:      p50 {m['two_facets_p50_ms']:.1f} ms  p95 {m['two_facets_p95_ms']:.1f} ms")
    print(f"  + filter, sort -date: p95 {m['facets_filter_sort_p95_ms']:.1f} ms")
    print(f"  p95 ratio with/without facets: {m['ratio_p95']:.2f} (aim ≤ 1.5)")


def main() -> int:
    return faceted_queries_main(__doc__, "sakuin-facets-", run, print_human)


if __name__ == "__main__":
    sys.exit(main())
