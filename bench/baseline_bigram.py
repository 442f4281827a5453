"""The baseline to beat: BM25 over character bigrams, computed in memory.

As described in ../shared/data/README.md: BM25 (k1=1.2, b=0.75) over
NFKC-lowercased character bigrams of ``title + " " + text``, query bigrams used
once, top 100, scored with ir-measures like ``sakuin eval``.

Usage: python bench/baseline_bigram.py [--data DIR] [--queries Q.jsonl]
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import ir_measures
from ir_measures import RR, R, ScoredDoc, nDCG

from sakuin.search.evaluation import read_qrels

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "dev"


def bigrams(text: str) -> list[str]:
    s = unicodedata.normalize("NFKC", text).lower()
    return [s[i : i + 2] for i in range(len(s) - 1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--queries", type=Path, default=None, help="default: DATA/queries.jsonl")
    ap.add_argument("--k1", type=float, default=1.2)
    ap.add_argument("--b", type=float, default=0.75)
    args = ap.parse_args()
    if not (args.data / "corpus.jsonl").exists():
        raise SystemExit(f"dev data not found in {args.data}")
    k1, b = args.k1, args.b
    postings: defaultdict[str, list[tuple[str, int]]] = defaultdict(list)
    lengths: dict[str, int] = {}
    with open(args.data / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            doc = json.loads(line)
            grams = bigrams(doc["title"] + " " + doc["text"])
            lengths[doc["id"]] = len(grams)
            for g, f in Counter(grams).items():
                postings[g].append((doc["id"], f))
    n = len(lengths)
    avg = sum(lengths.values()) / n
    run = []
    with open(args.queries or args.data / "queries.jsonl", encoding="utf-8") as fh:
        for line in fh:
            q = json.loads(line)
            scores: defaultdict[str, float] = defaultdict(float)
            for g in set(bigrams(q["text"])):
                plist = postings.get(g, [])
                idf = math.log(1 + (n - len(plist) + 0.5) / (len(plist) + 0.5))
                for doc_id, f in plist:
                    scores[doc_id] += idf * f * (k1 + 1) / (f + k1 * (1 - b + b * lengths[doc_id] / avg))
            for doc_id, s in heapq.nlargest(100, scores.items(), key=lambda x: x[1]):
                run.append(ScoredDoc(q["id"], doc_id, s))
    qrels = list(read_qrels(args.data / "qrels.tsv"))
    agg = ir_measures.calc_aggregate([nDCG @ 10, RR @ 10, R @ 10, R @ 100], qrels, run)
    for m, v in agg.items():
        print(f"{m!s:<10} {v:.4f}")


if __name__ == "__main__":
    main()
