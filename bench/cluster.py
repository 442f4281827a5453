"""The OpenSearch backend beside the embedded index, same machine, same run.

    python bench/cluster.py [--nodes 3] [--rounds 3] [--queries 400] [--skip-relevance] [--json] [--out]

Starts a cluster with ``scripts/opensearch-cluster`` (full JIT, so OpenSearch runs at
its speed; needs Java and Maven, and downloads OpenSearch on first use), then:

1. indexing throughput: the livedoor corpus (``--limit``: its first N records) into a
   fresh embedded index and into the cluster (3 shards, 1 replica) with
   ``sakuin.search.backend.build``, wall time (analysis, writes, publish); MB/s of input;
2. query latency: the load test's mixed API queries (bench/queries.py) through each
   backend's engine in-process, alternating, for ``--rounds`` rounds after 30 untimed
   queries; p50/p95 medians over rounds;
3. relevance: the dev set (``../shared/data/dev``) indexed into both and evaluated with
   ``sakuin.search.evaluation.evaluate``: nDCG@10 of each, and the mean overlap of their
   top 10 per query.

Stops the cluster at the end. On a small machine the cluster's JVMs share the CPU with
the indexer: the figures say what one box does, not what a cluster of machines does.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import corpora
from harness import REPO, arguments, finish, interleaved_rounds, log, machine_info
from queries import mixed_queries

ENV = {
    **os.environ,
    "SAKUIN_OPENSEARCH_HOME": "/var/tmp/sakuin-os-bench",
    "SAKUIN_OPENSEARCH_PORT": "9751",
    "SAKUIN_OPENSEARCH_JIT": "full",
}


def cluster(*args: str) -> list[str]:
    """``scripts/opensearch-cluster ARGS``; returns the node URLs it prints."""
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "opensearch-cluster"), *args], env=ENV, capture_output=True, text=True
    )
    if done.returncode:
        raise SystemExit(done.stderr)
    return [line for line in done.stdout.splitlines() if line.startswith("http")]


def timed_build(paths: list[Path], target: str | Path, **options: Any) -> tuple[float, Any]:
    from sakuin.search.backend import build

    started = time.perf_counter()
    report = build(target, paths, rebuild=True, **options)
    return time.perf_counter() - started, report


def latency(engines: dict[str, Any], qs: list[dict[str, Any]], rounds: int) -> dict[str, Any]:
    arms = {name: (lambda p, e=engine: e.search(p["q"], page=p.get("page", 1))) for name, engine in engines.items()}
    per_round = interleaved_rounds(arms, qs, rounds, warmup=30)
    for n, row in enumerate(per_round, 1):
        log(f"round {n}: " + ", ".join(f"{k} p50 {v['p50']:.1f} p95 {v['p95']:.1f} ms" for k, v in row.items()))
    return {
        name: {
            "p50_ms": statistics.median(r[name]["p50"] for r in per_round),
            "p95_ms": statistics.median(r[name]["p95"] for r in per_round),
        }
        for name in engines
    }


def relevance(dev: Path, embedded_dir: Path, urls: str) -> dict[str, Any]:
    from sakuin.search.backend import build, open_engine
    from sakuin.search.evaluation import evaluate, read_queries

    corpus, queries, qrels = dev / "corpus.jsonl", dev / "queries.jsonl", dev / "qrels.tsv"
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


def print_human(res: dict[str, Any]) -> None:
    ix = res["indexing"]
    print(f"{res['nodes']}-node OpenSearch beside the embedded index (same machine, same run)")
    print(
        f"  indexing livedoor ({ix['input_mb']:.1f} MB): embedded {ix['embedded_s']:.1f} s "
        f"({ix['embedded_mb_s']:.2f} MB/s), OpenSearch {ix['opensearch_s']:.1f} s ({ix['opensearch_mb_s']:.2f} MB/s)"
    )
    for name, lat in res["latency"].items():
        print(f"  {name:<10} p50 {lat['p50_ms']:.1f} ms  p95 {lat['p95_ms']:.1f} ms  ({res['queries']} queries)")
    if "relevance" in res:
        rel = res["relevance"]
        print(
            f"  dev nDCG@10: embedded {rel['embedded']['ndcg@10']:.4f}, OpenSearch {rel['opensearch']['ndcg@10']:.4f}"
            f" (difference {rel['ndcg_difference']:+.4f}); mean top-10 overlap {rel['top10_overlap']:.3f}"
        )


def main() -> int:
    parser = arguments(__doc__)
    parser.add_argument("--dev", type=Path, default=corpora.DEV, help=f"the dev set (default: {corpora.DEV})")
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--skip-relevance", action="store_true")
    args = parser.parse_args()
    corpora.locate(args.data)
    from sakuin.search.backend import open_engine

    urls = ",".join(cluster("start", "--nodes", str(args.nodes)))
    results: dict[str, Any] = {"machine": machine_info(), "nodes": args.nodes}
    try:
        with tempfile.TemporaryDirectory(prefix="sakuin-cluster-bench-") as tmp:
            work = Path(tmp)
            corpus = corpora.livedoor_jsonl(args.data, work, args.limit)
            size_mb = corpus.stat().st_size / 2**20
            os.environ["SAKUIN_CLUSTER_INDEX"] = "sakuin-bench"
            embedded_s, report = timed_build([corpus], work / "index")
            log(f"embedded: {embedded_s:.1f} s ({report.sections} sections)")
            cluster_s, creport = timed_build([corpus], urls, shards=3, replicas=1)
            log(f"cluster: {cluster_s:.1f} s ({creport.sections} sections)")
            results["indexing"] = {
                "input_mb": size_mb,
                "embedded_s": embedded_s,
                "opensearch_s": cluster_s,
                "embedded_mb_s": size_mb / embedded_s,
                "opensearch_mb_s": size_mb / cluster_s,
                "ratio": embedded_s / cluster_s,
            }
            qs = mixed_queries(corpus, args.queries)
            results["queries"] = len(qs)
            engines = {"embedded": open_engine(work / "index"), "opensearch": open_engine(urls)}
            results["latency"] = latency(engines, qs, args.rounds)
            if args.skip_relevance:
                pass
            elif (args.dev / "corpus.jsonl").exists():
                results["relevance"] = relevance(args.dev, work / "dev-index", urls)
            else:
                log(f"no dev set at {args.dev}: relevance skipped")
    finally:
        cluster("stop")
    return finish(results, args, print_human)


if __name__ == "__main__":
    sys.exit(main())
