"""The OpenSearch backend on a scale corpus, beside the embedded index of the same sections.

    python bench/scale.py --sizes 1000000 --keep DIR          # first: the corpus and its embedded index
    python bench/cluster_scale.py --keep DIR --size 1000000 [--nodes 1] [--queries 100] [--rounds 1]

Uses what ``bench/scale.py --keep DIR`` left for ``--size`` sections: the generated
corpus (``DIR/sections-N/corpus``), its embedded index (``…/index``) and the sampled
titles (``…/titles.json``). Starts a cluster with ``scripts/opensearch-cluster`` (full
JIT, ``--heap`` per node; needs Java and Maven, downloads OpenSearch on first use), then:

1. indexes the corpus into the cluster (``--shards``, no replica on one machine) with
   ``sakuin.search.backend.build``: wall time of the whole build (Sudachi analysis in
   sakuin's workers, bulk writes, refresh), MB/s of analysed text as scale.py counts
   it, and the index's store size as the cluster reports it;
2. times scale.py's query classes (bench/queries.py ``scale_set`` from the same titles
   and seed: one word, two words, a phrase, an unspaced question; page 1 of 10 with
   snippets) through both backends' engines in this process, the classes interleaved
   and the two backends alternating which goes first (bench/harness.py
   ``interleaved_rounds``), after ``--warmup`` untimed queries; p50/p95 per class and
   backend, medians over ``--rounds``.

Stops the cluster at the end. The cluster's JVM shares the machine's cores with the
indexer and with this process: the figures say what one box does, not a cluster of
machines.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import ceiling
import cluster as clusters
import corpora
from harness import arguments, finish, interleaved_rounds, log, machine_info, mb
from queries import SCALE_CLASSES, scale_set

#: The cluster index the corpus goes into.
INDEX = "sakuin-scale"


def store_bytes(url: str, index: str) -> int:
    """The index's primary store size, as ``_cat/indices`` reports it."""
    with urllib.request.urlopen(f"{url}/_cat/indices/{index}?bytes=b&h=pri.store.size&format=json") as answer:
        return sum(int(row["pri.store.size"]) for row in json.load(answer))


def main() -> int:
    parser = arguments(__doc__, data=None, limit=False)
    parser.add_argument("--keep", type=Path, required=True, metavar="DIR", help="what bench/scale.py --keep left")
    parser.add_argument("--size", type=int, default=1_000_000, help="the corpus size, in sections, to use")
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--shards", type=int, default=2)
    parser.add_argument("--heap", default="4g", help="heap per node")
    parser.add_argument("--queries", type=int, default=100, help="queries per class")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=20261202, help="the query sampler's seed (scale.py's default)")
    parser.add_argument("--max-title-share", type=float, default=0.02)
    args = parser.parse_args()
    here = args.keep.resolve() / f"sections-{args.size}"
    corpus, index_dir, titles_file = here / "corpus", here / "index", here / "titles.json"
    for needed in (corpus, index_dir / "CURRENT", titles_file):
        if not needed.exists():
            sys.exit(f"{needed} is missing: run bench/scale.py --sizes {args.size} --keep {args.keep} first")
    from sakuin.search.backend import build, open_engine

    clusters.ENV["SAKUIN_OPENSEARCH_HEAP"] = args.heap
    os.environ["SAKUIN_CLUSTER_INDEX"] = INDEX
    urls = ",".join(clusters.cluster("start", "--nodes", str(args.nodes)))
    results: dict[str, Any] = {"machine": machine_info(), "nodes": args.nodes, "shards": args.shards, "size": args.size}
    try:
        log(f"indexing {corpus} into {urls} …")
        started = time.perf_counter()
        report = build(urls, [corpus], rebuild=True, shards=args.shards, replicas=0)
        seconds = time.perf_counter() - started
        embedded_bytes = corpora.dir_size(index_dir / (index_dir / "CURRENT").read_text().strip())
        results["indexing"] = {
            "seconds": seconds,
            "sections": report.sections,
            "cluster_store_bytes": store_bytes(urls.split(",")[0], INDEX),
            "embedded_bytes": embedded_bytes,
        }
        log(f"cluster: {seconds:.1f} s, {report.sections} sections")
        titles = json.loads(titles_file.read_text(encoding="utf-8"))
        qs = scale_set(titles, ceiling.sudachi_tokenizer(), args.seed, args.queries, args.warmup, args.max_title_share)
        engines = {"embedded": open_engine(index_dir), "opensearch": open_engine(urls)}
        results["latency"] = {}
        for engine in engines.values():
            for q in qs["warmup"]:
                engine.search(q, page=1, per_page=10)
        for c in SCALE_CLASSES:
            arms = {name: (lambda q, e=engine: e.search(q, page=1, per_page=10)) for name, engine in engines.items()}
            per_round = interleaved_rounds(arms, qs[c], args.rounds, warmup=0)
            results["latency"][c] = {
                name: {
                    "p50_ms": statistics.median(r[name]["p50"] for r in per_round),
                    "p95_ms": statistics.median(r[name]["p95"] for r in per_round),
                }
                for name in engines
            }
            log(
                f"{c}: "
                + ", ".join(f"{k} {v['p50_ms']:.1f}/{v['p95_ms']:.1f} ms" for k, v in results["latency"][c].items())
            )
        results["queries_per_class"] = {c: len(qs[c]) for c in SCALE_CLASSES}
    finally:
        clusters.cluster("stop")
    return finish(results, args, print_human)


def print_human(r: dict[str, Any]) -> None:
    ix = r["indexing"]
    print(f"# OpenSearch at {r['size']:,} sections: {r['nodes']} node(s), {r['shards']} shards, same machine")
    print(
        f"indexing: {ix['seconds']:.0f} s for {ix['sections']:,} sections; "
        f"store {mb(ix['cluster_store_bytes']):.0f} MB (embedded index {mb(ix['embedded_bytes']):.0f} MB)"
    )
    print("queries, p50 / p95 ms (page 1 of 10, snippets; in process):")
    for c, arms in r["latency"].items():
        print(f"  {c:<9} " + "   ".join(f"{k} {v['p50_ms']:6.1f} / {v['p95_ms']:6.1f}" for k, v in arms.items()))


if __name__ == "__main__":
    sys.exit(main())
