"""The OpenSearch backend beside the embedded index, same machine, same run.

Usage: python bench/cluster.py [--nodes 3] [--rounds 3] [--queries 400] [--skip-relevance] [--json]

Starts a cluster with ``scripts/opensearch-cluster`` (full JIT, so OpenSearch
runs at its speed), then:

1. **Indexing throughput**: ``sakuin index`` of livedoor (7,367 articles) into a
   fresh embedded index and into the cluster (3 shards, 1 replica), wall time,
   whole process (analysis, writes, publish) — MB/s of input;
2. **Query latency**: the load test's mixed queries (``load.mixed_queries``)
   through each backend's ``EmbeddedEngine.search`` in-process, alternating, for
   ``--rounds`` rounds; p50/p95 medians over rounds;
3. **Relevance**: the dev set (``../shared/data/dev``) indexed into both and
   evaluated with ``search.evaluate``: nDCG@10 of each, and the mean overlap of
   their top 10 per query.

Stops the cluster at the end. On 2 cores the cluster's three JVMs share the
CPU with the indexer: the figures say what one small box does, not what a
cluster of machines does.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from common import DEFAULT_DATA, REPO, interleaved_ms, locate_corpus, log, machine_info, percentile, print_results
from load import decompress, mixed_queries

sys.path.insert(0, str(REPO))

DEV = REPO.parent / "shared" / "data" / "dev"
ENV = {
    **os.environ,
    "SAKUIN_OPENSEARCH_HOME": "/var/tmp/sakuin-os-bench",
    "SAKUIN_OPENSEARCH_PORT": "9751",
    "SAKUIN_OPENSEARCH_JIT": "full",
}


def cluster(*args: str) -> list[str]:
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "opensearch-cluster"), *args], env=ENV, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(done.stderr)
    return [line for line in done.stdout.splitlines() if line.startswith("http")]


def timed_index(paths: list[Path], target: str | Path, **options: Any) -> tuple[float, Any]:
    from sakuin.search.backend import build

    started = time.perf_counter()
    report = build(target, paths, rebuild=True, **options)
    return time.perf_counter() - started, report


def _search(engine: Any, params: dict[str, Any]) -> Any:
    return engine.search(params["q"], page=params.get("page", 1))


def latency(engines: dict[str, Any], queries: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    for params in queries[:30]:
        for engine in engines.values():
            engine.search(params["q"], page=params.get("page", 1))
    arms = {name: partial(_search, engine) for name, engine in engines.items()}
    per_round = []
    for r in range(rounds):
        times = interleaved_ms(arms, queries, r)
        per_round.append({n: (percentile(t, 50), percentile(t, 95)) for n, t in times.items()})
        log(f"round {r + 1}: " + ", ".join(f"{n} p50 {v[0]:.1f} p95 {v[1]:.1f} ms" for n, v in per_round[-1].items()))
    return {
        name: {
            "p50_ms": statistics.median(r[name][0] for r in per_round),
            "p95_ms": statistics.median(r[name][1] for r in per_round),
        }
        for name in engines
    }


def relevance(embedded_dir: Path, urls: str) -> dict[str, Any]:
    from sakuin.search.backend import build, open_engine
    from sakuin.search.evaluation import evaluate, read_queries

    corpus, queries, qrels = DEV / "corpus.jsonl", DEV / "queries.jsonl", DEV / "qrels.tsv"
    build(embedded_dir, [corpus], rebuild=True)
    os.environ["SAKUIN_CLUSTER_INDEX"] = "sakuin-dev"
    build(urls, [corpus], rebuild=True, shards=3, replicas=1)
    asked = read_queries(queries)
    out: dict[str, Any] = {}
    runs: dict[str, dict[str, list[str]]] = {}
    for name, engine in (("embedded", open_engine(embedded_dir)), ("opensearch", open_engine(urls))):
        result, run = evaluate(engine, asked, qrels, k=100)
        out[name] = {"ndcg@10": result.metrics["nDCG@10"], "seconds": result.seconds}
        ranked: dict[str, list[tuple[float, str]]] = {}
        for doc in run:
            ranked.setdefault(doc.query_id, []).append((-doc.score, doc.doc_id))
        runs[name] = {q: [d for _, d in sorted(v)[:10]] for q, v in ranked.items()}
    overlaps = [
        len(set(runs["embedded"].get(q, [])) & set(runs["opensearch"].get(q, []))) / max(1, len(runs["embedded"][q]))
        for q in runs["embedded"]
    ]
    out["top10_overlap"] = statistics.mean(overlaps)
    out["ndcg_difference"] = out["opensearch"]["ndcg@10"] - out["embedded"]["ndcg@10"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--skip-relevance", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data = locate_corpus(args.data)
    urls = ",".join(cluster("start", "--nodes", str(args.nodes)))
    results: dict[str, Any] = {"machine": machine_info(), "nodes": args.nodes}
    try:
        with tempfile.TemporaryDirectory(prefix="sakuin-cluster-bench-") as tmp:
            work = Path(tmp)
            corpus = decompress(data, work)
            size = corpus.stat().st_size
            os.environ["SAKUIN_CLUSTER_INDEX"] = "sakuin-bench"
            embedded_s, report = timed_index([corpus], work / "index")
            log(f"embedded: {embedded_s:.1f} s ({report.sections} sections)")
            cluster_s, creport = timed_index([corpus], urls, shards=3, replicas=1)
            log(f"cluster: {cluster_s:.1f} s ({creport.sections} sections)")
            results["indexing"] = {
                "input_mb": size / 2**20,
                "embedded_s": embedded_s,
                "opensearch_s": cluster_s,
                "embedded_mb_s": size / 2**20 / embedded_s,
                "opensearch_mb_s": size / 2**20 / cluster_s,
                "ratio": embedded_s / cluster_s,
            }
            from sakuin.search.backend import open_engine

            queries = mixed_queries(corpus, args.queries)
            results["queries"] = len(queries)
            results["latency"] = latency(
                {"embedded": open_engine(work / "index"), "opensearch": open_engine(urls)}, queries, args.rounds
            )
            if not args.skip_relevance and (DEV / "corpus.jsonl").exists():
                results["relevance"] = relevance(work / "dev-index", urls)
    finally:
        cluster("stop")

    def human(res: dict[str, Any]) -> None:
        ix = res["indexing"]
        print(f"{res['nodes']}-node OpenSearch beside the embedded index (same machine, same run)")
        print(
            f"  indexing livedoor ({ix['input_mb']:.1f} MB): embedded {ix['embedded_s']:.1f} s "
            f"({ix['embedded_mb_s']:.2f} MB/s), OpenSearch {ix['opensearch_s']:.1f} s "
            f"({ix['opensearch_mb_s']:.2f} MB/s)"
        )
        for name, lat in res["latency"].items():
            print(f"  {name:<10} p50 {lat['p50_ms']:.1f} ms  p95 {lat['p95_ms']:.1f} ms  ({res['queries']} queries)")
        if "relevance" in res:
            rel = res["relevance"]
            print(
                f"  dev nDCG@10: embedded {rel['embedded']['ndcg@10']:.4f}, "
                f"OpenSearch {rel['opensearch']['ndcg@10']:.4f}"
                f" (difference {rel['ndcg_difference']:+.4f}); mean top-10 overlap {rel['top10_overlap']:.3f}"
            )

    print_results(results, args.json, human)


if __name__ == "__main__":
    main()
