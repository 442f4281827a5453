"""Query latency of ``EmbeddedEngine.search`` (page 1, 10 per page, with snippets) per query class.

    python bench/bench_query.py [--index-dir DIR] [--limit N] [--seed S] [--json] [--out]
    python bench/bench_query.py --limit 500                     # smoke run (builds a small index)

Queries are made deterministically (``--seed``) from the corpus titles (bench/queries.py):

* ``two_word``: 200 pairs of content nouns taken from the same title, joined with a space;
* ``single``: 50 single content nouns;
* ``question``: 50 unspaced title fragments of 8-20 characters (blanks and ``"()`` removed;
  question mode when they hold more than two content words).

A noun is a ``morphemes()`` unit with POS 名詞 that ``is_content`` accepts, is not a
number, and whose document frequency in the index's ``content`` field is within
``--df-min`` .. ``--df-max`` (5 .. 2,000). All queries are distinct and compile.

After ``--warmup`` extra two-word queries, each query is timed once with
``time.perf_counter`` around ``EmbeddedEngine.search`` and, right before or after it
(alternating per query), the reference: ``compile_query``, a bare Whoosh
``searcher.search(query, limit=10)`` (no stored fields, no snippets, no total) and
``len(results)`` (the exact total, which ``EmbeddedEngine.search`` also computes), each
timed apart. The snippet and stored-field cost is roughly engine - compile - bare - count.
Target: two-word p95 ≤ 30 ms. ``--profile N`` profiles one more pass of the two-word
queries and lists the top N cumulative entries in search/ and whoosh/.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import corpora
import queries
from harness import CUMULATIVE, arguments, ensure_index, finish, in_project, log, machine_info, profile_rows, summarize

from sakuin.search.embedded.reading.emit import compile_query
from sakuin.search.embedded.reading.engine import EmbeddedEngine

#: Target: 95th percentile of two-word queries, milliseconds.
TARGET_P95_MS = 30.0
CLASSES = ("two_word", "single", "question")


def _time_engine(engine: EmbeddedEngine, q: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    result = engine.search(q, page=1, per_page=10)
    return (time.perf_counter() - t0) * 1000, result.total


def _time_bare(searcher: Any, q: str) -> tuple[float, float, float]:
    """compile_query, bare searcher.search(limit=10), and len(results) (the exact total), in ms."""
    t0 = time.perf_counter()
    compiled = compile_query(q, searcher.doc_frequency, searcher.doc_count())
    t1 = time.perf_counter()
    if compiled.query is None:
        return (t1 - t0) * 1000, 0.0, 0.0
    hits = searcher.search(compiled.query, limit=10)
    t2 = time.perf_counter()
    len(hits)
    t3 = time.perf_counter()
    return (t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000


def time_queries(engine: EmbeddedEngine, searcher: Any, qs: list[str]) -> dict[str, list[float]]:
    """Each query through EmbeddedEngine.search and bare Whoosh, back to back, the side that
    goes first alternating, so neither profits from the other's warm caches."""
    out: dict[str, list[float]] = {"engine": [], "hits": [], "compile": [], "bare": [], "count": []}
    for i, q in enumerate(qs):
        if i % 2:
            compile_ms, bare_ms, count_ms = _time_bare(searcher, q)
            engine_ms, total = _time_engine(engine, q)
        else:
            engine_ms, total = _time_engine(engine, q)
            compile_ms, bare_ms, count_ms = _time_bare(searcher, q)
        for key, value in zip(out, (engine_ms, total, compile_ms, bare_ms, count_ms), strict=True):
            out[key].append(value)
    return out


def profile_engine(engine: EmbeddedEngine, qs: list[str], top: int) -> dict[str, Any]:
    """cProfile of one more EmbeddedEngine.search pass over ``qs`` (times per query, in ms)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for q in qs:
        engine.search(q, page=1, per_page=10)
    profiler.disable()
    per_query = 1000 / len(qs)
    rows = profile_rows(pstats.Stats(profiler), CUMULATIVE, top, in_project)
    for r in rows:
        r["cumulative_ms_per_query"] = r.pop("cumulative_s") * per_query
        r["own_ms_per_query"] = r.pop("own_s") * per_query
    return {"queries": len(qs), "top_cumulative": rows}


def run(args: Any) -> dict[str, Any]:
    data = corpora.locate(args.data)
    with tempfile.TemporaryDirectory(prefix="sakuin-bench-", dir=args.tmp) as tmp:
        index_dir, index_info = ensure_index(args.index_dir, Path(tmp), data, args.limit, procs=args.procs)
        engine = EmbeddedEngine(index_dir)
        searcher = engine.live.snapshot().borrow()
        reader = searcher.reader()
        titles = [str(r.get("title") or "") for r in corpora.iter_records(data, args.limit)]
        log(f"picking queries from {len(titles)} titles (seed {args.seed}) …")
        nouns = queries.title_nouns(
            titles, lambda term: reader.doc_frequency("content", term), args.df_min, args.df_max
        )
        qs = queries.latency_set(titles, nouns, args.seed, args.pairs, args.singles, args.questions, args.warmup)
        measured = [q for c in CLASSES for q in qs[c]]

        log(f"warm-up ({len(qs['warmup'])} queries), then {len(measured)} timed queries …")
        time_queries(engine, searcher, qs["warmup"])
        times = time_queries(engine, searcher, measured)
        engine_ms, totals = times["engine"], [int(h) for h in times["hits"]]

        results: dict[str, Any] = {
            "machine": machine_info(),
            "index": {**index_info, "sections": reader.doc_count(), "segments": len(reader.leaf_readers())},
            "seed": args.seed,
            "df_band": [args.df_min, args.df_max],
            "target_p95_ms_two_word": TARGET_P95_MS,
            "classes": {},
        }
        start = 0
        for c in CLASSES:
            n = len(qs[c])
            sl = slice(start, start + n)
            start += n
            hits = totals[sl]
            results["classes"][c] = {
                "queries": n,
                "engine_ms": summarize(engine_ms[sl]),
                "compile_ms": summarize(times["compile"][sl]),
                "bare_whoosh_ms": summarize(times["bare"][sl]),
                "count_ms": summarize(times["count"][sl]),
                "hits_per_query": sum(hits) / n if n else 0.0,
                "median_hits": sorted(hits)[n // 2] if n else 0,
                "zero_hit_queries": sum(1 for h in hits if h == 0),
            }
        p95 = results["classes"]["two_word"]["engine_ms"].get("p95", float("nan"))
        results["two_word_p95_ok"] = p95 <= TARGET_P95_MS
        if args.show_queries or args.json or args.out:
            results["queries"] = qs
            results["slowest"] = sorted(
                ({"query": q, "ms": t, "hits": h} for q, t, h in zip(measured, engine_ms, totals, strict=True)),
                key=lambda x: -x["ms"],
            )[:10]
        if args.profile:
            results["profile_two_word"] = profile_engine(engine, qs["two_word"], args.profile)
        searcher.close()
    return results


def print_human(r: dict[str, Any]) -> None:
    m, ix = r["machine"], r["index"]
    print(f"# bench_query  {m['date']}  {m['cpus']} cpus  python {m['python']}  whoosh {m['whoosh']}")
    built = f"built in {ix['seconds']:.1f} s" if ix.get("built") else "reused"
    print(f"index: {ix['sections']} sections, {ix['segments']} segments ({built}); seed {r['seed']}")
    print(f"{'class':<10} {'layer':<26} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  (ms)")
    for c, x in r["classes"].items():
        for key, label in (
            ("engine_ms", "EmbeddedEngine.search (snippets)"),
            ("bare_whoosh_ms", "bare searcher.search"),
            ("count_ms", "  + len(results)"),
            ("compile_ms", "  compile_query"),
        ):
            s = x[key]
            if s["n"]:
                print(f"{c:<10} {label:<26} {s['p50']:7.2f} {s['p95']:7.2f} {s['p99']:7.2f} {s['max']:7.2f}")
        print(
            f"{c:<10} {x['queries']} queries, {x['hits_per_query']:.1f} hits/query "
            f"(median {x['median_hits']}), {x['zero_hit_queries']} with no hit"
        )
    p95 = r["classes"]["two_word"]["engine_ms"].get("p95", float("nan"))
    verdict = "meets" if r["two_word_p95_ok"] else "MISSES"
    print(f"two-word p95 {p95:.2f} ms: {verdict} the {r['target_p95_ms_two_word']:.0f} ms target")
    if "profile_two_word" in r:
        prof = r["profile_two_word"]
        print(
            f"\nprofile of EmbeddedEngine.search over the {prof['queries']} two-word queries (ms per query, profiled):"
        )
        print(f"{'cumulative':>10} {'own':>8} {'calls':>9}  function")
        for x in prof["top_cumulative"]:
            print(f"{x['cumulative_ms_per_query']:10.2f} {x['own_ms_per_query']:8.2f} {x['calls']:9d}  {x['function']}")
    if "slowest" in r:
        print("slowest queries:")
        for s in r["slowest"]:
            print(f"  {s['ms']:8.2f} ms  {s['hits']:5d} hits  {s['query']}")


def main() -> int:
    parser = arguments(__doc__, procs=True, tmp=True)
    parser.add_argument("--index-dir", type=Path, default=None, help="reuse this index (built here if absent)")
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the query sampler")
    parser.add_argument("--pairs", type=int, default=200, help="two-word queries")
    parser.add_argument("--singles", type=int, default=50, help="single-word queries")
    parser.add_argument("--questions", type=int, default=50, help="unspaced title fragments")
    parser.add_argument("--warmup", type=int, default=20, help="untimed warm-up queries")
    parser.add_argument("--df-min", type=int, default=5, help="lowest document frequency (content) of a query word")
    parser.add_argument("--df-max", type=int, default=2000, help="highest document frequency (content) of a query word")
    parser.add_argument("--show-queries", action="store_true", help="list the slowest queries")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="profile an extra pass of the two-word queries, top N"
    )
    args = parser.parse_args()
    return finish(run(args), args, print_human)


if __name__ == "__main__":
    sys.exit(main())
