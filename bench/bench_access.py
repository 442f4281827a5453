"""What access control costs a search: p95 with half the categories allowed against p95 unfiltered.

    python bench/bench_access.py [--index-dir DIR] [--rounds 5] [--queries 400] [--json] [--out]
    python bench/bench_access.py --limit 300 --queries 30 --rounds 1   # smoke run

Builds (or reuses) a livedoor index with ``--facet category --date date`` (the corpus's nine
categories stand for nine folders), then makes the access of a reader allowed the first half of
the categories by name (``category = [...]`` rules of ``sakuin.search.access``, evaluated as the
same cached mask a ``path`` rule is) and runs the load test's mixed API queries (bench/queries.py)
in-process through ``EmbeddedEngine.search``: each query without access control and with the
reader's access, and both again with ``facets=category,path``, in alternating order, for several
rounds, after 50 untimed queries through every arm. Reports p50/p95 of each arm per round and the
median over rounds of the ratio p95(filtered) / p95(unfiltered); the aim is ≤ 1.2.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import faceted_queries_main, interleaved_rounds, log

from sakuin.search.access import Rule, Rules
from sakuin.search.access.model import Access
from sakuin.search.embedded.reading.engine import EmbeddedEngine


def half_the_categories(engine: EmbeddedEngine) -> tuple[Access, list[str], float]:
    """The access of a reader allowed the first half of the categories, and the share of sections."""
    everything = engine.search("", filters=["type:jsonl"], per_page=1, facets=["category"])
    counts = {v.value: v.count for v in everything.facets["category"]}
    names = sorted(counts)
    allowed = names[: max(1, len(names) // 2)]
    rules = Rules((Rule((("category", tuple(allowed)),), frozenset({"reader"})),), "deny")
    share = sum(counts[c] for c in allowed) / max(1, sum(counts.values()))
    return rules.access_for({"reader"}), allowed, share


def run(index_dir: Path, qs: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    engine = EmbeddedEngine(index_dir)
    access, allowed, share = half_the_categories(engine)
    log(f"allowed categories: {', '.join(allowed)} ({share:.0%} of the sections)")

    def arm(**options: Any) -> Callable[[dict[str, Any]], Any]:
        return lambda params: engine.search(params["q"], page=params.get("page", 1), **options)

    arms = {
        "open": arm(),
        "filtered": arm(access=access),
        "open_facets": arm(facets=("category", "path")),
        "filtered_facets": arm(facets=("category", "path"), access=access),
    }
    per_round = interleaved_rounds(arms, qs, rounds, warmup=50)
    for n, row in enumerate(per_round, 1):
        row["ratio_p95"] = row["filtered"]["p95"] / row["open"]["p95"]
        row["ratio_p95_facets"] = row["filtered_facets"]["p95"] / row["open_facets"]["p95"]
        log(
            f"round {n}: p95 open {row['open']['p95']:.1f} ms, filtered {row['filtered']['p95']:.1f} ms "
            f"(×{row['ratio_p95']:.2f}); with facets ×{row['ratio_p95_facets']:.2f}"
        )
    engine.close()

    def median(key: str, stat: str | None = None) -> float:
        return statistics.median(r[key][stat] if stat else r[key] for r in per_round)

    return {
        "allowed_categories": allowed,
        "allowed_share": share,
        "rounds": per_round,
        "median": {
            **{f"{name}_{stat}_ms": median(name, stat) for name in arms for stat in ("p50", "p95")},
            "ratio_p95": median("ratio_p95"),
            "ratio_p95_facets": median("ratio_p95_facets"),
        },
    }


def print_human(res: dict[str, Any]) -> None:
    m = res["median"]
    print(f"{res['queries']} queries × {len(res['rounds'])} rounds (medians over rounds)")
    print(f"  allowed: {', '.join(res['allowed_categories'])} ({res['allowed_share']:.0%} of the sections)")
    for name, label in (
        ("open", "unfiltered"),
        ("filtered", "half allowed"),
        ("open_facets", "unfiltered + facets"),
        ("filtered_facets", "half allowed + facets"),
    ):
        print(f"  {label:<22} p50 {m[f'{name}_p50_ms']:.1f} ms  p95 {m[f'{name}_p95_ms']:.1f} ms")
    print(f"  p95 ratio filtered/unfiltered: {m['ratio_p95']:.2f} (aim ≤ 1.2); with facets {m['ratio_p95_facets']:.2f}")


def main() -> int:
    return faceted_queries_main(__doc__, "sakuin-access-", run, print_human)


if __name__ == "__main__":
    sys.exit(main())
