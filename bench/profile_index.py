"""Where indexing time goes: cProfile of a single-process ``build_index``.

    python bench/profile_index.py [--limit 500] [--top 15] [--rounds 3] [--prof FILE.prof] [--json] [--out]
    python bench/profile_index.py --limit 100 --rounds 1   # smoke run

With ``procs=1`` the indexer writes in this process, so the profile sees the
analysis and Whoosh's writer alike (with more procs the work happens in
subprocesses that cProfile does not follow). Lists the top entries by cumulative
time among functions from ``search/`` and ``whoosh/``, then the top by own time,
plus the Sudachi share (calls into the native tokenizer). The dictionary is loaded
before profiling starts. Analyzer and ``field.index`` steps are generators, so their
call counts are token counts. Then, without the profiler, it times each layer alone on
the same sections, median of ``--rounds`` (the shares are not distorted by cProfile):

* raw Sudachi over title, heading and body (the ceiling's loop);
* ``section_terms`` for every section (every analysed field);
* the same plus ``SegmentBuilder.add`` and ``write`` (the segment files, no TOC or publish);
* the whole ``build_index(procs=1)``.
"""

from __future__ import annotations

import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import corpora
from ceiling import sudachi_tokenizer
from harness import CUMULATIVE, OWN, arguments, finish, in_project, log, machine_info, print_profile_rows, profile_rows

from sakuin.search.embedded.writing.indexer import build_index


def layer_times(jsonl: Path, work: Path, rounds: int) -> dict[str, Any]:
    """Un-profiled, single-process seconds of each layer over the same sections, median of rounds.

    raw: iterate ``tokenizer.tokenize`` over title, heading and body (the ceiling's loop);
    analysis: ``section_terms`` for every section (every field's terms);
    segment: the same plus ``SegmentBuilder.add`` and ``write`` (no TOC, no publish);
    build: ``build_index(procs=1)``.
    """
    from whoosh.filedb.filestore import FileStorage

    from sakuin.search.analysis.terms import analyse_text, section_terms
    from sakuin.search.documents.files import read_file
    from sakuin.search.embedded.schema import build_schema
    from sakuin.search.embedded.writing.segments import SegmentBuilder
    from sakuin.search.indexing.sections import section_fields
    from sakuin.search.indexing.tasks import doc_task

    tasks = [doc_task(d, str(jsonl)) for d in read_file(jsonl, jsonl.parent).documents]
    sections = [(task, fields) for task in tasks for fields in section_fields(task)]
    strings = [v for task, f in sections for v in (task.title, f["heading"], f["body"]) if v]
    n_bytes = sum(len(v.encode("utf-8")) for v in strings)
    tokenizer = sudachi_tokenizer()
    schema = build_schema()

    def raw() -> None:
        for text in strings:
            for _ in tokenizer.tokenize(text):
                pass

    def analysis() -> list[Any]:
        out = []
        titles: dict[str, Any] = {}
        for task, fields in sections:
            title = task.title
            if title not in titles:
                titles[title] = analyse_text(title)
            out.append((fields, section_terms(title, fields["heading"], fields["body"], titles[title])))
        return out

    def segment() -> None:
        builder = SegmentBuilder(schema)
        for fields, terms in analysis():
            builder.add(fields, terms)
        folder = work / "layers-segment"
        folder.mkdir(exist_ok=True)
        builder.write(FileStorage(str(folder)), "MAIN")

    def build() -> None:
        build_index([jsonl], work / "layers-index", rebuild=True, procs=1)

    layers = {"raw_sudachi": raw, "analysis": analysis, "segment": segment, "build_index": build}
    times: dict[str, list[float]] = {k: [] for k in layers}
    for _ in range(rounds):
        for name, fn in layers.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "bytes": n_bytes,
        "rounds": rounds,
        "seconds": med,
        "mb_per_s": {k: n_bytes / 1e6 / v for k, v in med.items()},
        "share_of_build": {
            "raw_sudachi": med["raw_sudachi"] / med["build_index"],
            "our_analysis": (med["analysis"] - med["raw_sudachi"]) / med["build_index"],
            "postings_and_segment_writing": (med["segment"] - med["analysis"]) / med["build_index"],
            "reading_toc_publish": (med["build_index"] - med["segment"]) / med["build_index"],
        },
    }


def print_human(result: dict[str, Any]) -> None:
    total, sudachi_own = result["profiled_seconds"], result["sudachi_native_own_seconds"]
    print(
        f"build_index of {result['sections']} sections, procs=1: {result['wall_seconds']:.2f} s wall "
        f"({total:.2f} s profiled; cProfile inflates Python-heavy code)"
    )
    print(
        f"native Sudachi tokenize (own time): {sudachi_own:.2f} s = {100 * sudachi_own / total:.0f}% of profiled time"
    )
    print_profile_rows("top cumulative (search/ and whoosh/)", result["top_cumulative"])
    print_profile_rows("top own time (all)", result["top_own"])
    print("(generators count one call per resumption, so calls of analyzer/index steps count tokens)")
    layers = result["layers"]
    if layers:
        print(f"\nlayers, single process, no profiler, median of {layers['rounds']} rounds:")
        for k, v in layers["seconds"].items():
            print(f"  {k:<12} {v:7.2f} s  {layers['mb_per_s'][k]:6.3f} MB/s")
        print("share of build_index time:")
        for k, v in layers["share_of_build"].items():
            print(f"  {k:<28} {100 * v:5.1f}%")


def main() -> int:
    parser = arguments(__doc__, limit=500)
    parser.add_argument("--top", type=int, default=15, help="entries listed")
    parser.add_argument("--prof", type=Path, default=None, metavar="FILE.prof", help="also save the raw profile")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the un-profiled layer timing (0: skip)")
    args = parser.parse_args()
    data = corpora.locate(args.data)
    with tempfile.TemporaryDirectory(prefix="sakuin-profile-") as tmp:
        jsonl = Path(tmp) / "corpus.jsonl"
        records = corpora.write_jsonl(corpora.iter_records(data, args.limit), jsonl)
        # Load the dictionary first so the profile shows steady-state indexing.
        from sakuin.search.analysis.terms import analyse_words

        analyse_words("辞書を読み込みます。")
        log(f"profiling build_index of {records} records, procs=1 …")
        profiler = cProfile.Profile()
        t0 = time.perf_counter()
        profiler.enable()
        report = build_index([jsonl], Path(tmp) / "index", rebuild=True, procs=1)
        profiler.disable()
        wall = time.perf_counter() - t0
        layers = layer_times(jsonl, Path(tmp), args.rounds) if args.rounds > 0 else None
    if args.prof:
        profiler.dump_stats(str(args.prof))
    stats = pstats.Stats(profiler)
    native = [
        (func, st)
        for func, st in stats.stats.items()  # type: ignore[attr-defined]
        if func[0] == "~" and ("tokenize" in func[2] or "sudachipy" in func[2])
    ]
    result = {
        "machine": machine_info(),
        "records": records,
        "sections": report.sections,
        "wall_seconds": wall,
        "profiled_seconds": stats.total_tt,  # type: ignore[attr-defined]
        "sudachi_native_own_seconds": sum(st[2] for _, st in native),
        "top_cumulative": profile_rows(stats, CUMULATIVE, args.top, in_project),
        "top_own": profile_rows(stats, OWN, args.top),
        "layers": layers,
    }
    return finish(result, args, print_human)


if __name__ == "__main__":
    sys.exit(main())
