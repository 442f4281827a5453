"""Indexing memory is bounded by the segment budget, not by the corpus size.

``sakuin index`` runs as a user runs it (a subprocess with its analysis
workers) on a generated corpus and on one three times larger, with a small
segment budget (``SAKUIN_SEGMENT_MB``) so that both write several segments. The
peak RSS of the whole process tree, sampled from /proc, must not grow with the
corpus: the workers write a segment whenever they reach the budget, and the
main process streams the input.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from support.corpora import write_corpus
from support.paths import ROOT
from support.processes import sakuin_cmd

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")]


def _tree_rss(root: int) -> int:
    """Summed VmRSS (bytes) of ``root`` and its descendants."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [p for p, parent in parents.items() if parent == pid and p not in tree]
        tree.update(children)
        frontier.extend(children)
    total = 0
    for pid in tree:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def _index_peak_rss(docs: Path, index_dir: Path) -> tuple[int, int]:
    """(peak tree RSS in bytes, segments written) of one `sakuin index` run."""
    env = {**os.environ, "SAKUIN_SEGMENT_MB": "16"}
    proc = subprocess.Popen(
        [*sakuin_cmd("index", str(docs), "--index-dir", str(index_dir), "--procs", "2")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate(timeout=600)
    done.set()
    sampler.join()
    assert proc.returncode == 0, err.decode("utf-8", "replace")
    current = (index_dir / "CURRENT").read_text().strip()
    return peak, len(list((index_dir / current).glob("*.seg")))


def test_peak_rss_does_not_grow_with_the_corpus(tmp_path: Path) -> None:
    small, large = tmp_path / "small", tmp_path / "large"
    write_corpus(small, 0, range(40))
    write_corpus(large, 0, range(120))
    # Each corpus must be big enough to fill several budgets, or the test proves nothing.
    peak_small, segments_small = _index_peak_rss(small, tmp_path / "ix-small")
    peak_large, segments_large = _index_peak_rss(large, tmp_path / "ix-large")
    print(
        f"\npeak tree RSS: {peak_small / 2**20:.0f} MB ({segments_small} segments) for 1,600 records, "
        f"{peak_large / 2**20:.0f} MB ({segments_large} segments) for 4,800 records"
    )
    assert segments_small >= 2 and segments_large >= 2 * segments_small
    assert peak_large < peak_small * 1.15 + 40 * 2**20, (peak_small, peak_large)
