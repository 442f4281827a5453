"""Relevance evaluation: run a query set through the real search path and score it.

The queries go through ``SearchBackend.search`` exactly as the CLI and the API run them
(only snippet building is skipped: it cannot change the ranking), so a figure
measured here is the figure a user gets. Metrics come from ``ir-measures``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import ir_measures
from ir_measures import RR, R, ScoredDoc, nDCG

from sakuin.search.backend import SearchBackend

MEASURES = {"nDCG@10": nDCG @ 10, "MRR@10": RR @ 10, "Recall@10": R @ 10, "Recall@100": R @ 100}


@dataclass
class EvalResult:
    metrics: dict[str, float]
    queries: int
    seconds: float
    per_query: dict[str, dict[str, float]]


def read_queries(path: Path) -> list[tuple[str, str]]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                out.append((str(row["id"]), row["text"]))
    return out


def read_qrels(path: Path) -> Iterator[ir_measures.Qrel]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 3:
                yield ir_measures.Qrel(parts[0], parts[1], int(parts[2]))


def run_queries(
    engine: SearchBackend, queries: list[tuple[str, str]], k: int, synonyms: bool = True
) -> list[ScoredDoc]:
    """Top-``k`` documents per query; a document's rank is its best section's."""
    run: list[ScoredDoc] = []
    for qid, text in queries:
        result = engine.search(text, per_page=k, snippets=False, literal=True, synonyms=synonyms)
        seen: set[str] = set()
        for hit in result.hits:
            if hit.doc_id not in seen:
                seen.add(hit.doc_id)
                run.append(ScoredDoc(qid, hit.doc_id, hit.score))
    return run


def write_trec(run: list[ScoredDoc], path: Path, tag: str = "sakuin") -> None:
    ranks: dict[str, int] = {}
    with open(path, "w", encoding="utf-8") as fh:
        for d in run:
            ranks[d.query_id] = ranks.get(d.query_id, 0) + 1
            fh.write(f"{d.query_id} Q0 {d.doc_id} {ranks[d.query_id]} {d.score:.6f} {tag}\n")


def evaluate(
    engine: SearchBackend, queries: list[tuple[str, str]], qrels_path: Path, k: int = 100, synonyms: bool = True
) -> tuple[EvalResult, list[ScoredDoc]]:
    """``synonyms``: widen the queries with the index's synonyms, as a search does by default."""
    started = time.perf_counter()
    run = run_queries(engine, queries, k, synonyms)
    seconds = time.perf_counter() - started
    # Score only the queries asked; ir-measures counts a judged query with no
    # result as 0, as the metric definitions require.
    asked = {qid for qid, _ in queries}
    qrels = [q for q in read_qrels(qrels_path) if q.query_id in asked]
    measures = list(MEASURES.values())
    agg = ir_measures.calc_aggregate(measures, qrels, run)
    per_query: dict[str, dict[str, float]] = {}
    for m in ir_measures.iter_calc(measures, qrels, run):
        per_query.setdefault(m.query_id, {})[str(m.measure)] = m.value
    metrics = {name: float(agg.get(measure, 0.0)) for name, measure in MEASURES.items()}
    return EvalResult(metrics, len(queries), seconds, per_query), run
