"""The benchmarks' harness: options and output, timing and percentiles, machine info, indexes.

Scripts run as ``python bench/<script>.py``; Python puts the script's folder first on
the module search path, so they ``import harness`` (and corpora, ceiling, processes,
servers, queries) directly, and sakuin as the installed package.

Output convention, every script: a human summary on stdout; ``--json`` prints one JSON
object instead; ``--out`` also writes that object to ``bench/out/<script>.json``
(``--out PATH``: to PATH). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import corpora

#: The repository: the parent of bench/.
REPO = Path(__file__).resolve().parent.parent
#: Where ``--out`` writes (git-ignored).
OUT = REPO / "bench" / "out"


# -- options and output --------------------------------------------------------------


def arguments(
    doc: str | None,
    *,
    data: Path | None = corpora.LIVEDOOR,
    limit: int | bool | None = None,
    procs: bool = False,
    tmp: bool = False,
) -> argparse.ArgumentParser:
    """A parser with the options the scripts share: --data, --limit (``limit=False``: none), --procs,
    --tmp, and always --json and --out."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if data is not None:
        parser.add_argument("--data", type=Path, default=data, help=f"the input data (default: {data})")
    if limit is not False:
        parser.add_argument(
            "--limit", type=int, default=limit, metavar="N", help=f"use only the first N records (default: {limit})"
        )
    if procs:
        parser.add_argument(
            "--procs",
            type=int,
            default=os.cpu_count() or 1,
            help="worker processes for tokenizing and indexing (default: os.cpu_count())",
        )
    if tmp:
        parser.add_argument("--tmp", type=Path, default=None, help="where temporary corpora and indexes go")
    name = Path(sys.argv[0]).stem
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument(
        "--out",
        type=Path,
        nargs="?",
        const=OUT / f"{name}.json",
        default=None,
        metavar="PATH",
        help=f"also write the JSON to PATH (default: bench/out/{name}.json)",
    )
    return parser


def add_facets_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    """``--facets F,F``: the keyword fields a scale corpus's queries count (default category,path; '' none)."""
    parser.add_argument(
        "--facets",
        type=lambda text: tuple(f for f in text.split(",") if f),
        default=("category", "path"),
        metavar="F,F",
        help=help_text,
    )


def add_kept_index_options(parser: argparse.ArgumentParser) -> None:
    """The options of a script that runs on an index ``scale.py --keep DIR`` left."""
    parser.add_argument("--keep", type=Path, required=True, metavar="DIR", help="the directory scale.py --keep wrote")
    parser.add_argument("--size", type=int, default=1_000_000, help="which kept size (sections-N)")
    parser.add_argument("--queries", type=int, default=100, help="queries per class")
    parser.add_argument("--warmup", type=int, default=10, help="untimed warm-up queries")
    parser.add_argument("--seed", type=int, default=20261202, help="the query sampler's seed (scale.py's)")


def kept_index(args: argparse.Namespace) -> tuple[Path, list[str]]:
    """(``DIR/sections-N``, its sampled titles) of ``add_kept_index_options``' arguments."""
    here = args.keep.resolve() / f"sections-{args.size}"
    titles_file = here / "titles.json"
    if not titles_file.exists():
        sys.exit(f"{titles_file} is missing: run scale.py --sizes {args.size} --keep {args.keep} first")
    return here, json.loads(titles_file.read_text(encoding="utf-8"))


def log(message: str) -> None:
    """Progress goes to stderr, so ``--json`` output stays clean."""
    print(message, file=sys.stderr, flush=True)


def _round(value: Any, digits: int = 4) -> Any:
    if isinstance(value, float):
        return round(value, digits) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _round(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_round(v, digits) for v in value]
    return value


def to_json(results: dict[str, Any]) -> str:
    """One JSON object, floats rounded to 4 digits, NaN and infinities as null."""
    return json.dumps(_round(results), ensure_ascii=False, indent=2) + "\n"


def finish(results: dict[str, Any], args: argparse.Namespace, print_human: Callable[[dict[str, Any]], None]) -> int:
    """``--out``: save the JSON; ``--json``: print it; otherwise the script's own summary."""
    text = to_json(results)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        log(f"saved {args.out}")
    if args.json:
        sys.stdout.write(text)
    else:
        print_human(results)
    return 0


def machine_info() -> dict[str, Any]:
    """Where and when the figures were taken; they are only comparable on the same machine."""

    def version(package: str) -> str | None:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return None

    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sudachipy": version("sudachipy"),
        "sudachidict_core": version("sudachidict-core"),
        "whoosh": version("whoosh"),
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


# -- statistics and timing ------------------------------------------------------------


def mb(n_bytes: float) -> float:
    """MB as 10^6 bytes (throughput, index sizes, the scale curve's memory)."""
    return n_bytes / 1e6


#: MiB, which memory.py and load.py report as "MB" (the kernel's kB are KiB).
MIB = 1024 * 1024


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) with linear interpolation between ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100.0
    lo = math.floor(rank)
    hi = math.ceil(rank)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


def summarize(values: Sequence[float]) -> dict[str, float]:
    """n, mean, p50, p95, p99 and max of a sample (e.g. latencies in ms)."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "mean": sum(values) / len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values),
    }


def rate(n_bytes: int, sections: int, seconds: float) -> dict[str, float]:
    """seconds, MB/s and sections/s of a pass over ``n_bytes`` of analysed text."""
    return {
        "seconds": seconds,
        "mb_per_s": mb(n_bytes) / seconds if seconds else 0.0,
        "sections_per_s": sections / seconds if seconds else 0.0,
    }


def interleaved_ms(
    arms: dict[str, Callable[[Any], Any]], items: Sequence[Any], round_no: int
) -> dict[str, list[float]]:
    """One round: each item run by every arm in turn, milliseconds per arm.

    The arms' order alternates from item to item (and from round to round), so
    neither always runs first, when caches are cold, or second, when they are warm.
    """
    times: dict[str, list[float]] = {name: [] for name in arms}
    for i, item in enumerate(items):
        for name in list(arms) if (i + round_no) % 2 == 0 else list(reversed(arms)):
            started = time.perf_counter()
            arms[name](item)
            times[name].append((time.perf_counter() - started) * 1000)
    return times


def interleaved_rounds(
    arms: dict[str, Callable[[Any], Any]], items: Sequence[Any], rounds: int, warmup: int
) -> list[dict[str, dict[str, float]]]:
    """The first ``warmup`` items through every arm untimed, then ``rounds`` rounds of
    ``interleaved_ms``: per round and arm, p50 and p95 in ms (the caller takes medians)."""
    for item in items[:warmup]:
        for arm in arms.values():
            arm(item)
    per_round = []
    for r in range(rounds):
        times = interleaved_ms(arms, items, r)
        per_round.append({name: {"p50": percentile(t, 50), "p95": percentile(t, 95)} for name, t in times.items()})
    return per_round


# -- indexes ------------------------------------------------------------------------


def ensure_index(
    index_dir: Path | None, work: Path, data: Path, limit: int | None = None, **options: Any
) -> tuple[Path, dict[str, Any]]:
    """Reuse the index in ``index_dir``, or build one there (default: ``work/index``) from
    the corpus with ``build_index(rebuild=True, **options)``; returns it and what was done."""
    from sakuin.search.embedded.writing.indexer import build_index

    target = index_dir.resolve() if index_dir else work / "index"
    if (target / "CURRENT").exists():
        log(f"reusing the index in {target}")
        return target, {"built": False, "index_dir": str(target)}
    corpus = corpora.livedoor_jsonl(data, work, limit)
    log(f"building the index in {target} …")
    started = time.perf_counter()
    report = build_index([corpus], target, rebuild=True, **options)
    return target, {
        "built": True,
        "index_dir": str(target) if index_dir else None,
        "seconds": time.perf_counter() - started,
        "sections": report.sections,
        "size_bytes": report.size_bytes,
    }


# -- profiles -----------------------------------------------------------------------

#: pstats stat-tuple indexes.
OWN, CUMULATIVE = 2, 3


def faceted_queries_main(
    doc: str | None,
    prefix: str,
    run: Callable[[Path, list[dict[str, Any]], int], dict[str, Any]],
    print_human: Callable[[dict[str, Any]], None],
) -> int:
    """The ``main`` of a benchmark that times the mixed API queries on livedoor indexed with its
    ``category`` and ``date`` (``--index-dir`` reuses such an index): ``run(index_dir, queries,
    rounds)`` gives the results."""
    from queries import mixed_queries

    parser = arguments(doc)
    parser.add_argument("--index-dir", type=Path, default=None, help="reuse this index (built with the facets)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        declare = [("category", "keyword"), ("date", "date")]
        index_dir, _ = ensure_index(args.index_dir, Path(tmp), args.data, args.limit, declare=declare)
        qs = mixed_queries(corpora.livedoor_jsonl(args.data, Path(tmp), args.limit), args.queries)
        results = {"machine": machine_info(), "queries": len(qs), **run(index_dir, qs, args.rounds)}
    return finish(results, args, print_human)


def _profile_label(func: tuple[str, int, str]) -> str:
    filename, line, name = func
    for marker in ("/search/", "/whoosh/"):
        if marker in filename:
            return f"{marker.strip('/')}/{filename.split(marker, 1)[1]}:{line}({name})"
    return f"{filename}:{line}({name})" if line else name


def in_project(func: tuple[str, int, str]) -> bool:
    """Whether a profiled function is ours (search/) or Whoosh's."""
    return "/search/" in func[0] or "/whoosh/" in func[0]


def profile_rows(
    stats: pstats.Stats, key: int, top: int, keep: Callable[[tuple[str, int, str]], bool] | None = None
) -> list[dict[str, Any]]:
    """The ``top`` entries of a profile by ``key`` (OWN or CUMULATIVE), optionally filtered."""
    table = stats.stats  # type: ignore[attr-defined]
    entries = [(func, st) for func, st in table.items() if keep is None or keep(func)]
    entries.sort(key=lambda e: -e[1][key])
    return [
        {"function": _profile_label(func), "calls": st[1], "own_s": st[2], "cumulative_s": st[3]}
        for func, st in entries[:top]
    ]


def print_profile_rows(title: str, rows: list[dict[str, Any]], unit: str = "s") -> None:
    own, cumulative = f"own_{unit}", f"cumulative_{unit}"
    print(f"\n{title}:\n{'cumulative':>10} {'own':>8} {'calls':>9}  function ({unit})")
    for r in rows:
        print(f"{r[cumulative]:10.2f} {r[own]:8.2f} {r['calls']:9d}  {r['function']}")
