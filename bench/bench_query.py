"""Query latency of ``EmbeddedEngine.search`` (page 1, 10 per page, with snippets) on livedoor.

    python bench/bench_query.py [--index-dir DIR] [--limit N] [--seed S] [--json]

Queries are made deterministically (``--seed``) from the corpus titles:

* ``two_word``: 200 pairs of content nouns taken from the same title, joined with a
  space (all required, phrase boosted);
* ``single``: 50 single content nouns;
* ``question``: 50 unspaced title fragments of 8-20 characters (question mode when
  they hold more than two content words).

Nouns are ``search.analysis.morphemes`` units with POS 名詞 that ``is_content``
accepts and whose body document frequency in the index is within ``--df-min`` ..
``--df-max`` (5 .. 2,000), so they are neither typos nor stop-word-like.

After ``--warmup`` extra queries, each query is timed once with
``time.perf_counter`` around ``EmbeddedEngine.search`` and, right before or after it
(alternating), as a reference: compiled (``compile_query``, timed apart), run as a
bare Whoosh ``searcher.search(query, limit=10)`` without snippets or stored fields,
and its exact total (``len(results)``, which ``EmbeddedEngine.search`` also computes) timed
apart, so the cost of each layer is visible. All figures are from the same run.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import (
    CUMULATIVE,
    add_common_args,
    in_project,
    iter_records,
    locate_corpus,
    log,
    machine_info,
    print_results,
    profile_rows,
    summarize,
    write_jsonl,
)

from sakuin.search.analysis.normalize import normalize_term
from sakuin.search.analysis.sudachi import is_content, morphemes
from sakuin.search.embedded.reading.emit import compile_query
from sakuin.search.embedded.reading.engine import EmbeddedEngine
from sakuin.search.embedded.store import IndexStore
from sakuin.search.embedded.writing.indexer import build_index
from sakuin.search.errors import QuerySyntaxError

#: Target: 95th percentile of two-word queries, milliseconds.
TARGET_P95_MS = 30.0
#: Characters removed from title fragments: blanks split the run, the rest is query syntax.
_SYNTAX = re.compile(r"[\s\"“”()（）]")


# -- index ------------------------------------------------------------------------


def ensure_index(args: argparse.Namespace, data: Path, work: Path) -> tuple[Path, dict[str, Any]]:
    """Reuse ``--index-dir`` if it holds an index, else build one (there or in ``work``)."""
    index_dir = args.index_dir.resolve() if args.index_dir else work / "index"
    if IndexStore(index_dir).current_name():
        log(f"reusing the index in {index_dir}")
        return index_dir, {"built": False, "index_dir": str(index_dir)}
    jsonl = work / "corpus" / "livedoor.jsonl"
    write_jsonl(iter_records(data, args.limit), jsonl)
    log(f"building the index in {index_dir} …")
    t0 = time.perf_counter()
    report = build_index([jsonl], index_dir, rebuild=True, procs=args.procs)
    return index_dir, {
        "built": True,
        "index_dir": str(index_dir) if args.index_dir else None,
        "seconds": time.perf_counter() - t0,
        "sections": report.sections,
        "size_bytes": report.size_bytes,
    }


# -- queries ----------------------------------------------------------------------


def title_nouns(titles: list[str], doc_frequency: Any, df_min: int, df_max: int) -> list[list[str]]:
    """Per title, its distinct content nouns (as typed, i.e. surfaces) within the df band."""
    out = []
    df_cache: dict[str, int] = {}
    for title in titles:
        words: list[str] = []
        for m in morphemes(title):
            if m.tag != "名詞" or not is_content(m):
                continue
            term = normalize_term(m.normalized)
            if term.isdigit():
                continue
            if term not in df_cache:
                df_cache[term] = doc_frequency(term)
            if df_min <= df_cache[term] <= df_max and m.surface not in words:
                words.append(m.surface)
        out.append(words)
    return out


def compiles(q: str) -> bool:
    try:
        return compile_query(q).query is not None
    except QuerySyntaxError:
        return False


def make_queries(
    titles: list[str], nouns: list[list[str]], seed: int, n_pairs: int, n_single: int, n_question: int, n_warm: int
) -> dict[str, list[str]]:
    rng = random.Random(seed)
    rich = [ws for ws in nouns if len(ws) >= 2]
    vocab = list(dict.fromkeys(w for ws in nouns for w in ws))
    if not rich or not vocab:
        sys.exit("no usable title words: is the corpus (or --limit) too small?")

    def draw(n: int, make: Any, seen: set[str]) -> list[str]:
        out: list[str] = []
        for _ in range(n * 50):
            if len(out) == n:
                break
            q = make()
            if q and q not in seen and compiles(q):
                seen.add(q)
                out.append(q)
        return out

    seen: set[str] = set()

    def pair() -> str:
        a, b = rng.sample(rng.choice(rich), 2)
        return f"{a} {b}"

    def single() -> str:
        return rng.choice(vocab)

    def fragment() -> str | None:
        s = _SYNTAX.sub("", rng.choice(titles)).lstrip("-－")
        if len(s) < 8:
            return None
        length = rng.randint(8, min(20, len(s)))
        start = rng.randint(0, len(s) - length)
        return s[start : start + length]

    warm = draw(n_warm, pair, seen)
    return {
        "warmup": warm,
        "two_word": draw(n_pairs, pair, seen),
        "single": draw(n_single, single, seen),
        "question": draw(n_question, fragment, seen),
    }


# -- timing ---------------------------------------------------------------------


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


def time_queries(engine: EmbeddedEngine, searcher: Any, queries: list[str]) -> dict[str, list[float]]:
    """Each query through EmbeddedEngine.search and bare Whoosh, back to back.

    Interleaving keeps a slow spell of the machine from landing on one side only; the
    side that goes first alternates so neither profits from the other's warm caches.
    """
    out: dict[str, list[float]] = {"engine": [], "hits": [], "compile": [], "bare": [], "count": []}
    for i, q in enumerate(queries):
        if i % 2:
            compile_ms, bare_ms, count_ms = _time_bare(searcher, q)
            engine_ms, total = _time_engine(engine, q)
        else:
            engine_ms, total = _time_engine(engine, q)
            compile_ms, bare_ms, count_ms = _time_bare(searcher, q)
        for key, value in (
            ("engine", engine_ms),
            ("hits", total),
            ("compile", compile_ms),
            ("bare", bare_ms),
            ("count", count_ms),
        ):
            out[key].append(value)
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    data = locate_corpus(args.data)
    with tempfile.TemporaryDirectory(prefix="sakuin-bench-", dir=args.tmp) as tmp:
        index_dir, index_info = ensure_index(args, data, Path(tmp))
        engine = EmbeddedEngine(index_dir)
        pinned = engine.live.snapshot().borrow()
        searcher = pinned
        reader = searcher.reader()
        titles = [str(r.get("title") or "") for r in iter_records(data, args.limit)]
        log(f"picking queries from {len(titles)} titles (seed {args.seed}) …")
        nouns = title_nouns(titles, lambda term: reader.doc_frequency("content", term), args.df_min, args.df_max)
        queries = make_queries(titles, nouns, args.seed, args.pairs, args.singles, args.questions, args.warmup)
        classes = ["two_word", "single", "question"]
        measured = [q for c in classes for q in queries[c]]

        log(f"warm-up ({len(queries['warmup'])} queries), then {len(measured)} timed queries …")
        time_queries(engine, searcher, queries["warmup"])
        bare = time_queries(engine, searcher, measured)
        engine_ms, totals = bare["engine"], [int(h) for h in bare["hits"]]

        results: dict[str, Any] = {
            "machine": machine_info(),
            "index": {**index_info, "sections": reader.doc_count(), "segments": len(reader.leaf_readers())},
            "seed": args.seed,
            "df_band": [args.df_min, args.df_max],
            "target_p95_ms_two_word": TARGET_P95_MS,
            "classes": {},
        }
        start = 0
        for c in classes:
            n = len(queries[c])
            sl = slice(start, start + n)
            start += n
            hits = totals[sl]
            results["classes"][c] = {
                "queries": n,
                "engine_ms": summarize(engine_ms[sl]),
                "compile_ms": summarize(bare["compile"][sl]),
                "bare_whoosh_ms": summarize(bare["bare"][sl]),
                "count_ms": summarize(bare["count"][sl]),
                "hits_per_query": sum(hits) / n if n else 0.0,
                "median_hits": sorted(hits)[n // 2] if n else 0,
                "zero_hit_queries": sum(1 for h in hits if h == 0),
            }
        p95 = results["classes"]["two_word"]["engine_ms"].get("p95", float("nan"))
        results["two_word_p95_ok"] = p95 <= TARGET_P95_MS
        if args.show_queries or args.json:
            results["queries"] = queries
            results["slowest"] = sorted(
                ({"query": q, "ms": t, "hits": h} for q, t, h in zip(measured, engine_ms, totals, strict=True)),
                key=lambda x: -x["ms"],
            )[:10]
        if args.profile:
            results["profile_two_word"] = profile_engine(engine, queries["two_word"], args.profile)
        searcher.close()
    return results


def profile_engine(engine: EmbeddedEngine, queries: list[str], top: int) -> dict[str, Any]:
    """cProfile of one more EmbeddedEngine.search pass over ``queries`` (times per query, in ms)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for q in queries:
        engine.search(q, page=1, per_page=10)
    profiler.disable()
    stats = pstats.Stats(profiler)
    per_query = 1000 / len(queries)
    rows = profile_rows(stats, CUMULATIVE, top, in_project)
    for r in rows:
        r["cumulative_ms_per_query"] = r.pop("cumulative_s") * per_query
        r["own_ms_per_query"] = r.pop("own_s") * per_query
    return {"queries": len(queries), "top_cumulative": rows}


def print_human(r: dict[str, Any]) -> None:
    m = r["machine"]
    ix = r["index"]
    print(f"# bench_query  {m['date']}  {m['cpus']} cpus  python {m['python']}  whoosh {m['whoosh']}")
    built = f"built in {ix['seconds']:.1f} s" if ix.get("built") else "reused"
    print(f"index: {ix['sections']} sections, {ix['segments']} segments ({built}); seed {r['seed']}")
    head = f"{'class':<10} {'layer':<26} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  (ms)"
    print(head)
    for c, x in r["classes"].items():
        for key, label in (
            ("engine_ms", "EmbeddedEngine.search (snippets)"),
            ("bare_whoosh_ms", "bare searcher.search"),
            ("count_ms", "  + len(results)"),
            ("compile_ms", "  compile_query"),
        ):
            s = x[key]
            print(f"{c:<10} {label:<26} {s['p50']:7.2f} {s['p95']:7.2f} {s['p99']:7.2f} {s['max']:7.2f}")
        print(
            f"{c:<10} {x['queries']} queries, {x['hits_per_query']:.1f} hits/query "
            f"(median {x['median_hits']}), {x['zero_hit_queries']} with no hit"
        )
    p95 = r["classes"]["two_word"]["engine_ms"]["p95"]
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(parser)
    parser.add_argument("--index-dir", type=Path, default=None, help="reuse this index (built here if absent)")
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the query sampler")
    parser.add_argument("--pairs", type=int, default=200, help="two-word queries")
    parser.add_argument("--singles", type=int, default=50, help="single-word queries")
    parser.add_argument("--questions", type=int, default=50, help="unspaced title fragments")
    parser.add_argument("--warmup", type=int, default=20, help="untimed warm-up queries")
    parser.add_argument(
        "--df-min", type=int, default=5, help="lowest document frequency (content field) of a query word"
    )
    parser.add_argument(
        "--df-max", type=int, default=2000, help="highest document frequency (content field) of a query word"
    )
    parser.add_argument("--show-queries", action="store_true", help="list the slowest queries")
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N", help="profile an extra pass of the two-word queries, top N"
    )
    parser.add_argument("--tmp", type=Path, default=None, help="where a temporary index goes")
    args = parser.parse_args(argv)
    results = run(args)
    print_results(results, args.json, print_human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
