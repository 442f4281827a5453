"""The relevance baseline to beat: BM25 over character bigrams, computed in memory.

    python bench/baseline_bigram.py [--data DEV_DIR] [--queries Q.jsonl] [--json] [--out]

As described in ../shared/data/README.md: BM25 (k1=1.2, b=0.75) over NFKC-lowercased
character bigrams of ``title + " " + text`` of the dev set's corpus.jsonl, query bigrams
used once, top 100 per query, scored with ir-measures like ``sakuin eval`` (nDCG@10,
RR@10, R@10, R@100 against qrels.tsv). ``--queries``: another query set, e.g. a
perturb.py copy.
"""

from __future__ import annotations

import heapq
import math
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import corpora
import ir_measures
from harness import arguments, finish
from ir_measures import RR, R, ScoredDoc, nDCG

from sakuin.search.evaluation import read_qrels


def bigrams(text: str) -> list[str]:
    s = unicodedata.normalize("NFKC", text).lower()
    return [s[i : i + 2] for i in range(len(s) - 1)]


def print_human(r: dict[str, Any]) -> None:
    for m, v in r["metrics"].items():
        print(f"{m:<10} {v:.4f}")


def main() -> int:
    parser = arguments(__doc__, data=corpora.DEV, limit=False)
    parser.add_argument("--queries", type=Path, default=None, help="default: DATA/queries.jsonl")
    parser.add_argument("--k1", type=float, default=1.2)
    parser.add_argument("--b", type=float, default=0.75)
    args = parser.parse_args()
    dev = corpora.locate_dev(args.data)
    k1, b = args.k1, args.b
    postings: defaultdict[str, list[tuple[str, int]]] = defaultdict(list)
    lengths: dict[str, int] = {}
    for doc in corpora.iter_records(dev / "corpus.jsonl"):
        grams = bigrams(doc["title"] + " " + doc["text"])
        lengths[doc["id"]] = len(grams)
        for g, f in Counter(grams).items():
            postings[g].append((doc["id"], f))
    n = len(lengths)
    avg = sum(lengths.values()) / n
    run = []
    queries = args.queries or dev / "queries.jsonl"
    for q in corpora.iter_records(queries):
        scores: defaultdict[str, float] = defaultdict(float)
        for g in set(bigrams(q["text"])):
            plist = postings.get(g, [])
            idf = math.log(1 + (n - len(plist) + 0.5) / (len(plist) + 0.5))
            for doc_id, f in plist:
                scores[doc_id] += idf * f * (k1 + 1) / (f + k1 * (1 - b + b * lengths[doc_id] / avg))
        for doc_id, s in heapq.nlargest(100, scores.items(), key=lambda x: x[1]):
            run.append(ScoredDoc(q["id"], doc_id, s))
    qrels = list(read_qrels(dev / "qrels.tsv"))
    agg = ir_measures.calc_aggregate([nDCG @ 10, RR @ 10, R @ 10, R @ 100], qrels, run)
    results = {
        "corpus": str(dev / "corpus.jsonl"),
        "queries": str(queries),
        "k1": k1,
        "b": b,
        "documents": n,
        "metrics": {str(m): v for m, v in agg.items()},
    }
    return finish(results, args, print_human)


if __name__ == "__main__":
    sys.exit(main())
