"""Helpers shared by the benchmarks: corpus location, corpus I/O, percentiles, output.

The benchmarks are scripts (``python bench/bench_index.py``), so this module is
imported as ``common`` from the scripts' own directory.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import platform
import pstats
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

#: The repository: the parent of bench/.
REPO = Path(__file__).resolve().parent.parent
#: The livedoor news corpus, beside the repository (never copied into it).
DEFAULT_DATA = REPO.parent / "shared" / "data" / "scale" / "livedoor_news.jsonl.gz"


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """Options both benchmarks take."""
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help=f"the livedoor corpus, JSON lines, optionally gzipped (default: {DEFAULT_DATA})",
    )
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="use only the first N records")
    parser.add_argument(
        "--procs",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes for tokenizing and indexing (default: os.cpu_count())",
    )
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")


def locate_corpus(path: Path) -> Path:
    """The corpus file, or exit with a message that says where it was expected."""
    if not path.is_file():
        sys.exit(
            f"corpus not found: {path}\n"
            f"The benchmarks expect the livedoor news corpus at {DEFAULT_DATA} "
            "(the repository's ../shared/data/scale/); pass --data PATH to use another copy."
        )
    return path


def iter_records(path: Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The corpus records in file order, every field kept."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        n = 0
        for line in fh:
            if limit is not None and n >= limit:
                return
            if line.strip():
                yield json.loads(line)
                n += 1


def write_jsonl(records: Iterable[dict[str, Any]], path: Path) -> int:
    """Write records as JSON lines (UTF-8, not escaped); returns the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False))
            fh.write("\n")
            n += 1
    return n


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def dir_size(path: Path) -> int:
    """Bytes of all regular files under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100) with linear interpolation between ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100.0
    lo = math.floor(rank)
    hi = math.ceil(rank)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


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


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    """Where and when the figures were taken; they are only comparable on the same machine."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sudachipy": _version("sudachipy"),
        "sudachidict_core": _version("sudachidict-core"),
        "whoosh": _version("whoosh"),
    }


def _round(value: Any, digits: int = 4) -> Any:
    if isinstance(value, float):
        return round(value, digits) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _round(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_round(v, digits) for v in value]
    return value


def print_json(results: dict[str, Any]) -> None:
    """Machine-readable output: one JSON object on stdout, floats rounded."""
    json.dump(_round(results), sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def print_results(results: dict[str, Any], as_json: bool, print_human: Callable[[dict[str, Any]], None]) -> None:
    """``--json``: one JSON object on stdout; otherwise the benchmark's own summary."""
    if as_json:
        print_json(results)
    else:
        print_human(results)


def log(message: str) -> None:
    """Progress goes to stderr, so ``--json`` output stays clean."""
    print(message, file=sys.stderr, flush=True)


def mb(n_bytes: float) -> float:
    return n_bytes / 1e6


# -- profiles -------------------------------------------------------------------------

#: pstats stat-tuple indexes.
OWN, CUMULATIVE = 2, 3


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


def print_profile_rows(title: str, rows: list[dict[str, Any]], unit: float = 1.0, unit_name: str = "s") -> None:
    print(f"\n{title}:\n{'cumulative':>10} {'own':>8} {'calls':>9}  function ({unit_name})")
    for r in rows:
        print(f"{r['cumulative_s'] * unit:10.2f} {r['own_s'] * unit:8.2f} {r['calls']:9d}  {r['function']}")
