"""Scale curve: indexing throughput, memory and query latency from 10k to 1M sections.

    python bench/scale.py [--sizes 10000,100000,1000000] [--seed S] [--json] [--out] [--plot FILE.png]
    python bench/scale.py --sizes 1000 --limit 300 --queries 10   # smoke run
    python bench/scale.py --sizes 1000000 --keep DIR [--queries-only]   # keep, then re-time queries

The 1M corpus and its index need several GB of disk (``--tmp``).

Corpus (bench/corpora.py). A deterministic corpus of exactly N sections is made for every
size from the livedoor articles (``--data``), streamed record by record to JSONL files of
at most ``--file-sections`` sections each (never held in memory):

* first the real paragraphs: each article's text is split on newlines, paragraphs
  under 40 characters are dropped, and every 5 paragraphs of an article make one
  record ``{"id", "title", "sections": [{"heading": "第N段", "text": ...}], url, date,
  category}``; the articles come in an order shuffled with ``random.Random(--seed)``;
* when those run out (about 66k sections), synthetic articles of 5 sections: each
  paragraph is a run of sentences (the articles' text split on 。) drawn from all
  articles, as long as a real paragraph drawn at random; the title is one or two
  clauses of a random sentence; date and category are copied from a random article.

The stream is the same for every size, so a smaller corpus is a prefix of a larger one.

For each size:

(a) ceiling: raw SudachiPy over the analysed strings (title, heading and body of every
    section) in a pool of ``--procs`` workers (bench/ceiling.py), before and after (b),
    averaged. Above ``--ceiling-sample`` sections it runs on a deterministic sample
    (every k-th section) and the full corpus' ceiling is extrapolated by bytes; the
    sample size is in the output.
(b) ``sakuin index DIR --rebuild --index-dir IX --procs N`` as a subprocess: wall time
    of the whole process (start-up, reading, analysis, writing, publishing) and the
    peak RSS and PSS of its process tree (the CLI and its workers), sampled every 0.2 s
    from /proc (bench/processes.py). Linux only.
(c) the index directory's size on disk.
(d) query latency in this process, on a fresh ``EmbeddedEngine``: ``--queries``
    deterministic queries per class from the sampled titles (bench/queries.py: content
    nouns found by raw SudachiPy, POS 名詞 but not 数詞, two characters or more, no
    number, in at most ``--max-title-share`` of the titles, which stands in for
    bench_query.py's document-frequency band): ``one_word``; ``two_word`` (two nouns of
    one title); ``phrase`` (two adjacent nouns of a title, quoted); ``question`` (an
    unspaced title fragment of 8-20 characters). After ``--warmup`` untimed queries,
    each query is timed once around ``EmbeddedEngine.search(q, page=1, per_page=10)``
    (snippets included), the classes interleaved so that a slow spell of the machine
    does not land on one class.
(e) facet counts: after (d), every query runs once more untimed with ``facets``
    (``--facets``, default the corpus's ``category`` and ``path``; the index declares
    ``--facet category --date date``), then is timed with and without them in alternating
    order; both timed runs are repeats of a query whose caches are filled, so their paired
    difference is the cost of counting every match's values.

MB means 10^6 bytes. MB/s is UTF-8 MB of analysed strings per second of wall time;
ratio = index MB/s / ceiling MB/s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import ceiling
import corpora
from harness import add_facets_option, arguments, finish, log, machine_info, mb, rate, summarize
from processes import IndexFailed, sakuin_index
from queries import SCALE_CLASSES as CLASSES
from queries import scale_set

#: How often the index process tree's memory is sampled, seconds.
RSS_INTERVAL = 0.2
#: The sampled titles the queries are made from, kept beside a ``--keep`` run's index.
TITLES = "titles.json"
#: The corpus's metadata as a user would declare it: ``category`` filters and facets,
#: ``date`` sorts.
DECLARE = ("--facet", "category", "--date", "date")


def time_queries(index_dir: Path, qs: dict[str, list[str]], facets: tuple[str, ...] = ()) -> dict[str, Any]:
    from sakuin.search.embedded.reading.engine import EmbeddedEngine

    engine = EmbeddedEngine(index_dir)
    errors: list[str] = []

    def one(q: str, counted: tuple[str, ...] = ()) -> tuple[float, int] | None:
        t0 = time.perf_counter()
        try:
            result = engine.search(q, page=1, per_page=10, facets=counted)
        except Exception as exc:  # a query the engine rejects is counted, not fatal
            errors.append(f"{q}: {type(exc).__name__}: {exc}")
            return None
        return (time.perf_counter() - t0) * 1000, result.total

    for q in qs["warmup"]:
        one(q)
        if facets:
            one(q, facets)
    errors.clear()
    ms: dict[str, list[float]] = {c: [] for c in CLASSES}
    with_facets: dict[str, list[float]] = {c: [] for c in CLASSES}
    extra: dict[str, list[float]] = {c: [] for c in CLASSES}
    hits: dict[str, list[int]] = {c: [] for c in CLASSES}
    failed: dict[str, int] = dict.fromkeys(CLASSES, 0)
    # Round-robin over the classes, so a slow spell of the machine is shared between them.
    for i in range(max(len(qs[c]) for c in CLASSES)):
        for c in CLASSES:
            if i < len(qs[c]):
                r = one(qs[c][i])
                if r is None:
                    failed[c] += 1
                else:
                    ms[c].append(r[0])
                    hits[c].append(r[1])
    # (e) The same queries again, each with and without facets in alternating order: both
    # runs are repeats, so the difference is the counting, not a colder cache.
    for i in range(max(len(qs[c]) for c in CLASSES) if facets else 0):
        for c in CLASSES:
            if i >= len(qs[c]):
                continue
            q = qs[c][i]
            one(q, facets)  # once more untimed: a cache a repeated query fills is filled before either
            if i % 2:
                f, r = one(q, facets), one(q)
            else:
                r, f = one(q), one(q, facets)
            if r is not None and f is not None:
                with_facets[c].append(f[0])
                extra[c].append(f[0] - r[0])
    classes = {}
    for c in CLASSES:
        h = hits[c]
        classes[c] = {
            "queries": len(qs[c]),
            "ms": summarize(ms[c]),
            **(
                {"facets": list(facets), "ms_facets": summarize(with_facets[c]), "facet_extra_ms": summarize(extra[c])}
                if facets
                else {}
            ),
            "hits_per_query": sum(h) / len(h) if h else 0.0,
            "median_hits": sorted(h)[len(h) // 2] if h else 0,
            "zero_hit_queries": sum(1 for x in h if x == 0),
            "errors": failed[c],
            "examples": qs[c][:3],
        }
    engine.close()
    return {"warmup": len(qs["warmup"]), "classes": classes, "errors": errors[:10]}


def ceiling_summary(corpus: corpora.Generated, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    sample_bytes = sum(map(corpora.utf8_len, corpus.sample_texts))
    n = corpus.sample_sections
    mean = ceiling.mean_of(before, after, sample_bytes, n)
    return {
        "sample_sections": n,
        "sample_bytes": sample_bytes,
        "extrapolated": n < corpus.stats["sections"],
        "before": {**before, **rate(sample_bytes, n, before["seconds"])},
        "after": {**after, **rate(sample_bytes, n, after["seconds"])},
        **mean,
        # The whole corpus at the sample's speed (bytes, not sections, carry the cost).
        "full_corpus_seconds": mb(corpus.stats["analysed_bytes"]) / mean["mb_per_s"] if mean["mb_per_s"] else None,
    }


def run_size(args: argparse.Namespace, src: corpora.Source, n_sections: int, work: Path, state: dict) -> dict:
    here = work / f"sections-{n_sections}"
    here.mkdir(parents=True, exist_ok=True)
    procs = max(1, args.procs)
    log(f"[{n_sections} sections] writing the corpus into {here / 'corpus'} …")
    t0 = time.perf_counter()
    corpus = corpora.write_generated(
        src, args.seed, n_sections, here / "corpus", args.file_sections, args.ceiling_sample
    )
    st = corpus.stats
    out: dict[str, Any] = {"target_sections": n_sections, "corpus": {**st, "seconds": time.perf_counter() - t0}}
    log(
        f"[{n_sections}] {st['records']} records, {st['sections']} sections ({st['real_sections']} real, "
        f"{st['synthetic_sections']} synthetic), {mb(st['analysed_bytes']):.1f} MB analysed, {st['files']} files"
    )
    log(f"[{n_sections}] (a) ceiling: raw SudachiPy on {corpus.sample_sections} sections, {procs} procs …")
    before = ceiling.in_pool(corpus.sample_texts, procs)
    index_dir = here / "index"
    log(f"[{n_sections}] (b) sakuin index --rebuild into {index_dir} …")
    try:
        ix = sakuin_index([corpus.folder], index_dir, "--rebuild", "--procs", str(procs), *DECLARE, sample=RSS_INTERVAL)
    except IndexFailed as exc:
        log(f"[{n_sections}] FAILED: {exc}")
        out["error"] = str(exc)
        return out
    log(f"[{n_sections}] (a) ceiling again, after the build …")
    after = ceiling.in_pool(corpus.sample_texts, procs)
    ceil = ceiling_summary(corpus, before, after)
    report = ix["report"]
    index = {
        **rate(st["analysed_bytes"], st["sections"], ix["wall_seconds"]),
        "exit_code": ix["exit_code"],
        "peak_tree_rss_mb": mb(ix["peak_tree_rss_bytes"]),
        "peak_tree_pss_mb": mb(ix["peak_tree_pss_bytes"]),
        "peak_single_process_rss_mb": mb(ix["peak_single_process_rss_bytes"]),
        "processes": ix["processes"],
        "documents": report.get("documents"),
        "sections": report.get("sections"),
        "report_seconds": report.get("seconds"),
        "report_size_bytes": report.get("size_bytes"),
        "size_bytes": corpora.dir_size(index_dir),
        "problems": (report.get("problems") or [])[:10],
        "skipped": (report.get("skipped") or [])[:10],
    }
    out.update(ceiling=ceil, index=index, ratio=index["mb_per_s"] / ceil["mb_per_s"])
    log(
        f"[{n_sections}] indexed in {index['seconds']:.1f} s ({index['mb_per_s']:.3f} MB/s, ratio "
        f"{out['ratio']:.3f}), {mb(index['size_bytes']):.1f} MB, peak RSS {index['peak_tree_rss_mb']:.0f} MB"
    )
    (here / TITLES).write_text(json.dumps(corpus.titles, ensure_ascii=False), encoding="utf-8")
    out["queries"] = run_queries(args, n_sections, index_dir, corpus.titles, state)
    return out


def run_queries(
    args: argparse.Namespace, n_sections: int, index_dir: Path, titles: list[str], state: dict
) -> dict[str, Any]:
    """(d): the query classes made from ``titles``, timed on the index in ``index_dir``."""
    if "tokenizer" not in state:
        state["tokenizer"] = ceiling.sudachi_tokenizer()
    qs = scale_set(titles, state["tokenizer"], args.seed, args.queries, args.warmup, args.max_title_share)
    counts = ", ".join(f"{len(qs[c])} {c}" for c in CLASSES)
    log(f"[{n_sections}] (d) queries from {len(titles)} titles: {len(qs['warmup'])} warm-up, {counts} …")
    return {"titles": len(titles), **time_queries(index_dir, qs, args.facets)}


def queries_only(args: argparse.Namespace) -> dict[str, Any]:
    """``--queries-only``: step (d) again on the corpora and indexes a ``--keep`` run left."""
    results: dict[str, Any] = {"machine": machine_info(), "seed": args.seed, "sizes": args.sizes, "runs": []}
    state: dict[str, Any] = {}
    for n in args.sizes:
        here = args.keep.resolve() / f"sections-{n}"
        if not (here / TITLES).exists():
            sys.exit(f"{here / TITLES} is missing: run with --keep {args.keep} first")
        titles = json.loads((here / TITLES).read_text(encoding="utf-8"))
        index_dir = here / "index"
        run = {"target_sections": n, "index": {"size_bytes": corpora.dir_size(index_dir)}}
        run["queries"] = run_queries(args, n, index_dir, titles, state)
        results["runs"].append(run)
    return results


def run(args: argparse.Namespace) -> dict[str, Any]:
    data = corpora.locate(args.data)
    log(f"reading {data} …")
    src = corpora.load_source(data, args.limit)
    results: dict[str, Any] = {
        "machine": machine_info(),
        "procs": max(1, args.procs),
        "seed": args.seed,
        "sizes": args.sizes,
        "sudachi": {"mode": ceiling.SUDACHI_MODE, "fields": sorted(ceiling.SUDACHI_FIELDS)},
        "source": {
            "path": str(data),
            "articles": len(src.articles),
            "paragraphs": src.paragraphs,
            "sentences": len(src.sentences),
        },
        "settings": {
            "sections_per_record": corpora.SECTIONS_PER_RECORD,
            "min_paragraph_chars": corpora.MIN_PARAGRAPH,
            "file_sections": args.file_sections,
            "ceiling_sample": args.ceiling_sample,
            "queries_per_class": args.queries,
            "warmup": args.warmup,
            "max_title_share": args.max_title_share,
            "rss_interval_s": RSS_INTERVAL,
            "declared": list(DECLARE),
            "facets": list(args.facets),
        },
        "runs": [],
    }
    log(f"{len(src.articles)} articles, {src.paragraphs} paragraphs, {len(src.sentences)} sentences")
    state: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="sakuin-scale-", dir=args.tmp) as tmp:
        work = args.keep.resolve() if args.keep else Path(tmp)
        for n in args.sizes:
            results["runs"].append(run_size(args, src, n, work, state))
            if not args.keep:
                shutil.rmtree(work / f"sections-{n}", ignore_errors=True)
    if args.keep:
        results["kept"] = str(args.keep.resolve())
    return results


def print_human(r: dict[str, Any]) -> None:
    m = r["machine"]
    print(
        f"# scale  {m['date']}  {m['cpus']} cpus  python {m['python']}  "
        f"sudachipy {m['sudachipy']}  whoosh {m['whoosh']}"
    )
    runs = r["runs"]
    if "source" in r:  # not a --queries-only run
        print_indexing(r)
    print("\nqueries (EmbeddedEngine.search page 1, 10 per page, snippets; ms p50 / p95; hits/query)")
    print(f"{'sections':>9} " + " ".join(f"{c:>22}" for c in CLASSES))
    for x in runs:
        if "queries" not in x:
            continue
        cells = []
        for c in CLASSES:
            q = x["queries"]["classes"][c]
            if q["ms"].get("n"):
                cells.append(f"{q['ms']['p50']:6.1f} /{q['ms']['p95']:6.1f} {q['hits_per_query']:7.0f}")
            else:
                cells.append(f"{'no queries':>22}")
        print(f"{x['target_sections']:>9} " + " ".join(f"{cell:>22}" for cell in cells))
    print_facets(runs)
    for x in runs:
        if "queries" in x and "ceiling" in x:
            n = {c: x["queries"]["classes"][c]["queries"] for c in CLASSES}
            bad = sum(x["queries"]["classes"][c]["errors"] for c in CLASSES)
            zero = {c: x["queries"]["classes"][c]["zero_hit_queries"] for c in CLASSES}
            print(
                f"  {x['corpus']['sections']} sections: queries per class {n}, zero-hit {zero}, errors {bad}; "
                f"ceiling {'extrapolated from' if x['ceiling']['extrapolated'] else 'on all'} "
                f"{x['ceiling']['sample_sections']} sections"
            )


def print_facets(runs: list[dict[str, Any]]) -> None:
    """The searches again with facet counts, and the paired extra time (ms p50 / p95)."""
    timed = [x for x in runs if "queries" in x and "ms_facets" in x["queries"]["classes"][CLASSES[0]]]
    if not timed:
        return
    names = ",".join(timed[0]["queries"]["classes"][CLASSES[0]]["facets"])
    print(f"\nwith facets={names} (ms p50 / p95; extra over the same query without, p50 / p95)")
    print(f"{'sections':>9} " + " ".join(f"{c:>26}" for c in CLASSES))
    for x in timed:
        cells = []
        for c in CLASSES:
            q = x["queries"]["classes"][c]
            f, e = q["ms_facets"], q["facet_extra_ms"]
            cells.append(
                f"{f['p50']:6.1f} /{f['p95']:6.1f} +{e['p50']:5.1f} /{e['p95']:5.1f}" if f.get("n") else "no queries"
            )
        print(f"{x['target_sections']:>9} " + " ".join(f"{cell:>26}" for cell in cells))


def print_indexing(r: dict[str, Any]) -> None:
    s, runs = r["source"], r["runs"]
    print(
        f"source: {s['articles']} articles, {s['paragraphs']} paragraphs of {corpora.MIN_PARAGRAPH}+ chars, "
        f"{s['sentences']} sentences; seed {r['seed']}, procs {r['procs']}"
    )
    print("\nindexing (sakuin index --rebuild, whole process; ceiling = raw SudachiPy, mean of before/after)")
    head = (
        f"{'sections':>9} {'docs':>7} {'anal. MB':>8} {'index s':>8} {'MB/s':>6} {'sect/s':>7} "
        f"{'ceil MB/s':>9} {'sample':>6} {'spread':>6} {'ratio':>6} {'index MB':>8} {'RSS MB':>7} {'PSS MB':>7}"
    )
    print(head)
    for x in runs:
        st = x["corpus"]
        if "error" in x:
            print(f"{st['sections']:>9} {st['records']:>7} {mb(st['analysed_bytes']):8.1f}  index FAILED (see JSON)")
            continue
        ix, ce = x["index"], x["ceiling"]
        print(
            f"{st['sections']:>9} {ix['documents'] or 0:>7} {mb(st['analysed_bytes']):8.1f} {ix['seconds']:8.1f} "
            f"{ix['mb_per_s']:6.3f} {ix['sections_per_s']:7.1f} {ce['mb_per_s']:9.3f} {ce['sample_sections']:>6} "
            f"{100 * ce['spread']:5.0f}% {x['ratio']:6.3f} {mb(ix['size_bytes']):8.1f} "
            f"{ix['peak_tree_rss_mb']:7.0f} {ix['peak_tree_pss_mb']:7.0f}"
        )


def plot(r: dict[str, Any], path: Path) -> None:
    """Log-x curves: index and ceiling MB/s with the ratio; query p95 per class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    runs = [x for x in r["runs"] if "index" in x]
    if not runs:
        log("nothing to plot: no size was indexed")
        return
    xs = [x["corpus"]["sections"] for x in runs]
    fig, (ax, aq) = plt.subplots(1, 2, figsize=(12, 4.8))
    ax.plot(xs, [x["index"]["mb_per_s"] for x in runs], "o-", label="sakuin index MB/s")
    ax.plot(xs, [x["ceiling"]["mb_per_s"] for x in runs], "s--", label="raw SudachiPy ceiling MB/s")
    ax.set_xscale("log")
    ax.set_xlabel("sections")
    ax.set_ylabel("MB/s of analysed text")
    ax.set_ylim(bottom=0)
    ax.grid(True, which="both", alpha=0.3)
    ar = ax.twinx()
    ar.plot(xs, [x["ratio"] for x in runs], "^:", color="C2", label="ratio index / ceiling")
    ar.set_ylabel("ratio")
    ar.set_ylim(0, max(0.6, 1.1 * max(x["ratio"] for x in runs)))
    lines = ax.get_legend_handles_labels()
    more = ar.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="best", fontsize="small")
    ax.set_title("indexing throughput")
    for c in CLASSES:
        pts = [(x["corpus"]["sections"], x["queries"]["classes"][c]["ms"].get("p95")) for x in runs if "queries" in x]
        pts = [(a, b) for a, b in pts if b is not None]
        if pts:
            aq.plot([a for a, _ in pts], [b for _, b in pts], "o-", label=c)
    aq.set_xscale("log")
    aq.set_yscale("log")
    aq.set_xlabel("sections")
    aq.set_ylabel("EmbeddedEngine.search p95 ms")
    aq.grid(True, which="both", alpha=0.3)
    aq.legend(loc="best", fontsize="small")
    aq.set_title("query latency (page 1, 10 per page, snippets)")
    for a in (ax, aq):
        # Plain numbers at the measured sizes read better than 2x10^3 on a log axis.
        a.set_xticks(xs, [f"{x:,}" for x in xs])
        a.xaxis.set_minor_formatter(NullFormatter())
    aq.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    aq.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    aq.yaxis.set_minor_formatter(NullFormatter())
    fig.suptitle(f"sakuin scale curve ({r['machine']['date']}, {r['procs']} procs)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    log(f"wrote {path}")


def parse_sizes(text: str) -> list[int]:
    """``10000,100k,1M`` -> [10000, 100000, 1000000]."""
    sizes = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        if not part:
            continue
        scale = {"k": 1_000, "m": 1_000_000}.get(part[-1], 1)
        try:
            n = int(float(part[:-1] if scale > 1 else part) * scale)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a size: {part!r}") from None
        if n < 1:
            raise argparse.ArgumentTypeError(f"sizes must be positive: {part!r}")
        sizes.append(n)
    if not sizes:
        raise argparse.ArgumentTypeError("no sizes given")
    return sizes


def main() -> int:
    parser = arguments(__doc__, procs=True, tmp=True)
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=parse_sizes("10000,100000,1000000"),
        help="comma-separated corpus sizes in sections; k and M suffixes allowed (default: 10000,100000,1000000)",
    )
    parser.add_argument("--seed", type=int, default=20261202, help="seed of the corpus generator and query sampler")
    parser.add_argument("--queries", type=int, default=200, help="timed queries per class")
    parser.add_argument("--warmup", type=int, default=10, help="untimed warm-up queries")
    parser.add_argument(
        "--ceiling-sample",
        type=int,
        default=20000,
        metavar="N",
        help="sections the raw-Sudachi ceiling runs on; larger corpora are sampled and extrapolated by bytes",
    )
    parser.add_argument(
        "--file-sections", type=int, default=50000, metavar="N", help="at most N sections per corpus JSONL file"
    )
    parser.add_argument(
        "--max-title-share",
        type=float,
        default=0.02,
        help="query words found in more of the sampled titles than this share are not used (default 0.02)",
    )
    add_facets_option(
        parser, "fields each query is timed again with, counting their values (default category,path; '' for none)"
    )
    parser.add_argument("--plot", type=Path, default=None, metavar="FILE.png", help="write a figure (needs matplotlib)")
    parser.add_argument(
        "--keep", type=Path, default=None, metavar="DIR", help="write corpora and indexes under DIR and keep them"
    )
    parser.add_argument(
        "--queries-only",
        action="store_true",
        help="time the queries again on the corpora and indexes an earlier --keep DIR run left (no build)",
    )
    args = parser.parse_args()
    if args.queries_only and not args.keep:
        parser.error("--queries-only needs --keep DIR")
    if args.queries_only and args.plot:
        parser.error("--plot needs the indexing figures of a full run, not --queries-only")
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib (the bench extra): pip install -e '.[bench]'")
    started = time.perf_counter()
    results = queries_only(args) if args.queries_only else run(args)
    results["total_seconds"] = time.perf_counter() - started
    if args.plot:
        plot(results, args.plot)
    return finish(results, args, print_human)


if __name__ == "__main__":
    sys.exit(main())
