"""The indexing ceiling: raw SudachiPy tokenization of the analysed strings in a process pool.

Raw SudachiPy is ``Dictionary(dict="core").tokenizer("C", fields={surface, pos,
normalized_form})``, iterating ``tokenize(text)`` (the engine's own field set, which adds
reading_form and split_a, measured the same speed). Each of ``procs`` workers builds its
tokenizer in its initializer; a barrier makes sure every worker is ready before the clock
starts, so dictionary loading is excluded (``warmup_seconds``). The clock runs from the
first dispatch to the last result, 48 strings per task. The scripts measure it before and
after the build they compare with it, and use the mean of the two (``spread`` shows how
much the machine's speed moved in between).
"""

from __future__ import annotations

import multiprocessing as mp
import time
from typing import Any

from harness import rate

SUDACHI_MODE = "C"
SUDACHI_FIELDS = frozenset({"surface", "pos", "normalized_form"})
#: Texts per pool task: enough to amortise dispatch, small enough to balance the workers.
TEXTS_PER_TASK = 48


def sudachi_tokenizer() -> Any:
    from sudachipy import Dictionary

    return Dictionary(dict="core").tokenizer(SUDACHI_MODE, fields=set(SUDACHI_FIELDS))


# -- pool workers (module level so they pickle) -----------------------------------

_texts: list[str] = []
_barrier: Any = None
_analyse: Any = None


def _init_worker(texts: list[str], barrier: Any, kind: str) -> None:
    """Build this worker's tokenizer once (dictionary loading is not timed)."""
    global _texts, _barrier, _analyse
    _texts, _barrier = texts, barrier
    if kind == "sudachi":
        tokenizer = sudachi_tokenizer()

        def analyse(text: str) -> int:
            n = 0
            for _ in tokenizer.tokenize(text):
                n += 1
            return n

    else:
        from sakuin.search.analysis.terms import analyse_text

        def analyse(text: str) -> int:
            return len(analyse_text(text).terms)

    analyse("辞書を読み込んで準備します。")
    _analyse = analyse


def _ready(_: int) -> bool:
    """Returns once every worker has finished its initializer (one task per worker)."""
    _barrier.wait(timeout=300)
    return True


def _tokenize_range(bounds: tuple[int, int]) -> int:
    lo, hi = bounds
    analyse = _analyse
    return sum(analyse(t) for t in _texts[lo:hi])


def in_pool(texts: list[str], procs: int, kind: str = "sudachi") -> dict[str, Any]:
    """Wall time from first dispatch to last result, workers warmed beforehand.

    ``kind``: "sudachi" (raw SudachiPy, the ceiling) or "engine" (sakuin's ``analyse_text``).
    """
    ctx = mp.get_context()
    barrier = ctx.Barrier(procs)
    ranges = [(i, min(i + TEXTS_PER_TASK, len(texts))) for i in range(0, len(texts), TEXTS_PER_TASK)]
    started = time.perf_counter()
    with ctx.Pool(procs, initializer=_init_worker, initargs=(texts, barrier, kind)) as pool:
        pool.map(_ready, range(procs), chunksize=1)
        warm = time.perf_counter() - started
        t0 = time.perf_counter()
        morphs = sum(pool.imap_unordered(_tokenize_range, ranges, chunksize=1))
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "warmup_seconds": warm, "morphemes": morphs, "tasks": len(ranges)}


def mean_of(before: dict[str, Any], after: dict[str, Any], n_bytes: int, sections: int) -> dict[str, Any]:
    """The ceiling a build is compared with: the mean of the runs before and after it."""
    mean_s = (before["seconds"] + after["seconds"]) / 2
    return {
        **rate(n_bytes, sections, mean_s),
        "warmup_seconds": max(before["warmup_seconds"], after["warmup_seconds"]),
        "spread": abs(before["seconds"] - after["seconds"]) / mean_s if mean_s else 0.0,
    }
