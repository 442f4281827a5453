"""Memory: peak RSS of indexing the livedoor corpus, and of serving it.

    python bench/memory.py                 # full corpus (7,367 articles), temp dirs
    python bench/memory.py --limit 1000 --json

1. ``sakuin index`` runs as a subprocess on the corpus decompressed to a temporary
   .jsonl. Its process tree (the CLI and Whoosh's worker processes) is sampled from
   /proc every 50 ms: the peak of the tree's summed RSS, the peak of its summed PSS
   (shared pages split between the processes that share them, so forked workers are
   not double-counted) and the largest single process (the kernel's ru_maxrss of the
   children, which sampling cannot miss).
2. ``sakuin serve`` (gunicorn: its master and workers, sampled as one tree) then
   serves that index; 1,000 mixed queries (see bench/load.py) are sent by 4 client
   threads; the server's RSS is reported after start-up, at its peak, and after the
   queries.
Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import REPO, Server, decompress, log, mixed_queries, run_clients, urls_for

DEFAULT_DATA = REPO.parent / "shared" / "data" / "scale" / "livedoor_news.jsonl.gz"
MB = 1024 * 1024


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def tree_pids(root: int) -> list[int]:
    tree, pids, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(tree.get(pid, []))
    return pids


def rss_pss(pid: int) -> tuple[int, int, int]:
    """(RSS, PSS, USS) in bytes, or zeros if the process is gone.

    RSS counts every resident page mapped, once per mapping: each Sudachi tokenizer
    (one per server thread) maps the same dictionary file, so RSS overstates what the
    process costs. PSS splits shared pages between their users; USS is private only.
    """
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line)
    except OSError:
        return 0, 0, 0

    def kb(name: str) -> int:
        return int(fields.get(name, "0 kB").split()[0]) * 1024

    return kb("Rss"), kb("Pss"), kb("Private_Clean") + kb("Private_Dirty")


class Sampler(threading.Thread):
    """Peaks of a process tree's summed RSS and PSS and of its largest process."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_pss = self.peak_uss = self.peak_one = 0
        self.max_procs = 0
        self.done = threading.Event()

    def sample(self) -> tuple[int, int, int]:
        pids = tree_pids(self.pid)
        sizes = [rss_pss(p) for p in pids]
        rss, pss, uss = (sum(s[i] for s in sizes) for i in range(3))
        self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
        self.peak_uss = max(self.peak_uss, uss)
        self.peak_one = max(self.peak_one, *(s[0] for s in sizes), 0)
        self.max_procs = max(self.max_procs, sum(1 for s in sizes if s[0]))
        return rss, pss, uss

    def run(self) -> None:
        while not self.done.is_set():
            self.sample()
            time.sleep(self.interval)


def measure_indexing(corpus: Path, index_dir: Path) -> dict[str, Any]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sakuin", "index", str(corpus), "--index-dir", str(index_dir)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    sampler = Sampler(proc.pid)
    sampler.start()
    out, _ = proc.communicate()
    sampler.done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"sakuin index failed ({proc.returncode})")
    ru_maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # KiB on Linux
    return {
        "seconds": round(time.monotonic() - started, 1),
        "summary": out.strip().splitlines()[-1],
        "peak_tree_rss_mb": round(sampler.peak_rss / MB, 1),
        "peak_tree_pss_mb": round(sampler.peak_pss / MB, 1),
        "peak_tree_uss_mb": round(sampler.peak_uss / MB, 1),
        "peak_single_process_rss_mb": round(max(sampler.peak_one, ru_maxrss if ru_maxrss > before else 0) / MB, 1),
        "processes": sampler.max_procs,
    }


def measure_serving(corpus: Path, index_dir: Path, queries: int) -> dict[str, Any]:
    server = Server(index_dir, threads=8)
    try:
        sampler = Sampler(server.proc.pid)
        idle_rss, _, idle_uss = sampler.sample()
        sampler.start()
        urls = urls_for(mixed_queries(corpus))
        load = run_clients(server.port, urls, clients=4, seconds=600, max_requests=queries)
        sampler.done.set()
        sampler.join()
        after_rss, after_pss, after_uss = sampler.sample()
    finally:
        server.stop()
    return {
        "queries": load["requests"],
        "errors": load["errors"],
        "rss_after_start_mb": round(idle_rss / MB, 1),
        "uss_after_start_mb": round(idle_uss / MB, 1),
        "rss_peak_mb": round(sampler.peak_rss / MB, 1),
        "rss_after_queries_mb": round(after_rss / MB, 1),
        "pss_after_queries_mb": round(after_pss / MB, 1),
        "uss_after_queries_mb": round(after_uss / MB, 1),
        "latency_ms_p50": load["latency_ms"]["p50"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the livedoor corpus (.jsonl or .jsonl.gz)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N records")
    parser.add_argument("--queries", type=int, default=1000, help="queries sent to the server")
    parser.add_argument("--keep-index", type=Path, default=None, help="build the index here and keep it")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"corpus not found: {args.data} (pass --data)")
    with tempfile.TemporaryDirectory(prefix="sakuin-mem-") as tmp:
        corpus = decompress(args.data, Path(tmp), args.limit)
        index_dir = args.keep_index or Path(tmp) / "index"
        if (index_dir / "CURRENT").exists():
            raise SystemExit(f"{index_dir} already holds an index; measuring needs a fresh build")
        log(f"indexing {corpus.stat().st_size / MB:.1f} MB of JSONL …")
        indexing = measure_indexing(corpus, index_dir)
        log(f"serving: {args.queries} queries …")
        serving = measure_serving(corpus, index_dir, args.queries)
    result = {"indexing": indexing, "serving": serving, "cpus": os.cpu_count()}
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return
    i, s = indexing, serving
    print(f"indexing: {i['summary']}")
    print(
        f"  peak RSS: process tree {i['peak_tree_rss_mb']} MB (PSS {i['peak_tree_pss_mb']} MB, "
        f"USS {i['peak_tree_uss_mb']} MB), "
        f"largest single process {i['peak_single_process_rss_mb']} MB, {i['processes']} processes, {i['seconds']} s"
    )
    print(
        f"serving: RSS {s['rss_after_start_mb']} MB after start, {s['rss_peak_mb']} MB peak, "
        f"{s['rss_after_queries_mb']} MB after {s['queries']} queries (PSS {s['pss_after_queries_mb']} MB, "
        f"USS {s['uss_after_start_mb']} → {s['uss_after_queries_mb']} MB); "
        f"{s['errors']} errors, p50 {s['latency_ms_p50']} ms"
    )


if __name__ == "__main__":
    main()
