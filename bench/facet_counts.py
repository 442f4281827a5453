"""What a facet's counts cost at scale: one pass over the field's postings against section by section.

    python bench/facet_counts.py --keep DIR [--size 1000000] [--queries 100] [--facets category,path]

Runs on an index ``scale.py --keep DIR`` left (``DIR/sections-N/index``, its titles in
``titles.json``), with scale.py's query classes made from the same titles and seed. Each
query runs through ``EmbeddedEngine.search`` with ``facets``; at the engine's counting step
(``sakuin.search.embedded.reading.ranking._facet``, wrapped here) the same matching sections
are counted both ways, in alternating order, and the two answers must be equal:

* ``pass``: a mask over every section, then ``ValueTable.counts`` (a gather over all of the
  field's postings and a ``bincount``): what a request did before counting by section;
* ``by_section``: ``ValueTable.counts_of`` on the matching section numbers (what a request
  does now).

Reports per class and field the matches per query and both timings (ms, p50 / p95).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import ceiling
import numpy as np
from harness import (
    add_facets_option,
    add_kept_index_options,
    arguments,
    finish,
    kept_index,
    log,
    machine_info,
    summarize,
)
from queries import SCALE_CLASSES as CLASSES
from queries import scale_set

from sakuin.search.embedded.reading import ranking
from sakuin.search.embedded.reading.engine import EmbeddedEngine


def run(args: argparse.Namespace) -> dict[str, Any]:
    here, titles = kept_index(args)
    qs = scale_set(titles, ceiling.sudachi_tokenizer(), args.seed, args.queries, args.warmup, 0.02)
    engine = EmbeddedEngine(here / "index")
    rows: list[tuple[str, str, int, float, float]] = []
    current = {"class": "warmup"}
    count = ranking._facet

    def both_ways(pinned: Any, docs: np.ndarray, name: str, where: Any) -> Any:
        table = pinned.snapshot.meta.keyword(pinned.searcher, name)
        size = pinned.searcher.reader().doc_count_all()

        def one_pass() -> np.ndarray:
            matched = np.zeros(size, np.bool_)
            matched[docs] = True
            return table.counts(matched)

        def by_section() -> np.ndarray:
            return table.counts_of(docs)

        timed: dict[str, tuple[float, np.ndarray]] = {}
        for way in (one_pass, by_section) if len(rows) % 2 else (by_section, one_pass):
            t0 = time.perf_counter()
            answer = way()
            timed[way.__name__] = ((time.perf_counter() - t0) * 1000, answer)
        if timed["one_pass"][1].tolist() != timed["by_section"][1].tolist():
            raise AssertionError(f"the two ways of counting {name} differ")
        rows.append((current["class"], name, len(docs), timed["one_pass"][0], timed["by_section"][0]))
        return count(pinned, docs, name, where)

    ranking._facet = both_ways  # type: ignore[assignment]
    try:
        for q in qs["warmup"]:
            engine.search(q, facets=args.facets)
        rows.clear()
        for c in CLASSES:
            current["class"] = c
            for q in qs[c]:
                engine.search(q, facets=args.facets)
    finally:
        ranking._facet = count  # type: ignore[assignment]
    tables = {}
    with engine.live.pin() as pinned:
        sections = pinned.searcher.reader().doc_count_all()
        for name in args.facets:
            t = pinned.snapshot.meta.keyword(pinned.searcher, name)
            tables[name] = {"values": len(t.values), "postings": len(t.docs), "one_value_per_section": t.single}
    engine.close()
    out: dict[str, Any] = {
        "machine": machine_info(),
        "index": str(here / "index"),
        "sections": sections,
        "fields": tables,
        "classes": {},
    }
    for c in CLASSES:
        out["classes"][c] = {
            name: {
                "matches": summarize([r[2] for r in rows if r[0] == c and r[1] == name]),
                "one_pass_ms": summarize([r[3] for r in rows if r[0] == c and r[1] == name]),
                "by_section_ms": summarize([r[4] for r in rows if r[0] == c and r[1] == name]),
            }
            for name in args.facets
        }
    log(f"{len(rows)} counts compared, all equal")
    return out


def print_human(r: dict[str, Any]) -> None:
    print(f"# facet counts  {r['machine']['date']}  {r['sections']:,} sections  {r['index']}")
    for name, t in r["fields"].items():
        print(
            f"{name}: {t['values']} values, {t['postings']:,} postings, one per section: {t['one_value_per_section']}"
        )
    print(f"\n{'class':>9} {'field':>9} {'matches p50/p95':>18} {'one pass ms p50/p95':>20} {'by section':>16}")
    for c, fields in r["classes"].items():
        for name, x in fields.items():
            m, a, b = x["matches"], x["one_pass_ms"], x["by_section_ms"]
            if not m.get("n"):
                continue
            print(
                f"{c:>9} {name:>9} {m['p50']:>8.0f} /{m['p95']:>8.0f} {a['p50']:>9.3f} /{a['p95']:>8.3f} "
                f"{b['p50']:>7.3f} /{b['p95']:>7.3f}"
            )


def main() -> int:
    parser = arguments(__doc__, data=None, limit=False)
    add_kept_index_options(parser)
    add_facets_option(parser, "the fields counted (default category,path)")
    args = parser.parse_args()
    return finish(run(args), args, print_human)


if __name__ == "__main__":
    sys.exit(main())
