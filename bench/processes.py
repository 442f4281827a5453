"""``sakuin index`` as a subprocess, and the memory and CPU of process trees (Linux: /proc).

RSS counts every resident page mapped, once per mapping: each Sudachi tokenizer maps the
same dictionary file, and forked workers share pages, so RSS overstates what a tree
costs. PSS splits shared pages between the processes that map them; USS is private only.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import MIB, REPO

#: Exit statuses of ``sakuin index`` that mean the index was published (3: some files skipped).
INDEX_OK = (0, 3)


def sakuin(*args: str) -> list[str]:
    """The command line of ``sakuin ARGS`` with this interpreter (the installed package)."""
    return [sys.executable, "-m", "sakuin", *args]


class IndexFailed(RuntimeError):
    pass


def sakuin_index(paths: Sequence[Path], index_dir: Path, *options: str, sample: float | None = None) -> dict[str, Any]:
    """Run ``sakuin index PATHS --index-dir DIR OPTIONS --json`` and wait for it.

    Returns ``wall_seconds`` (the whole process), ``exit_code`` and ``report`` (its JSON
    summary). With ``sample`` (seconds), the process tree is sampled by a ``Sampler`` that
    often: peak summed RSS, PSS and USS, the largest process and the process count (bytes),
    plus ``children_maxrss_bytes``, the kernel's ru_maxrss of waited-for children if this
    run raised it (sampling cannot miss it). Raises IndexFailed with the tail of its stderr.
    """
    cmd = sakuin("index", *map(str, paths), "--index-dir", str(index_dir), *options, "--json")
    maxrss_before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=err)
        sampler = Sampler(proc.pid, sample) if sample else None
        if sampler:
            sampler.start()
        out, _ = proc.communicate()
        wall = time.perf_counter() - started
        if sampler:
            sampler.done.set()
            sampler.join()
        if proc.returncode not in INDEX_OK:
            err.seek(0)
            tail = err.read().decode("utf-8", "replace").replace("\r", "\n").strip().splitlines()[-15:]
            raise IndexFailed(f"`{' '.join(cmd)}` exited {proc.returncode}:\n" + "\n".join(tail))
    try:
        report = json.loads(out)
    except ValueError:
        report = {"stdout": out.decode("utf-8", "replace")[-2000:]}
    result: dict[str, Any] = {"wall_seconds": wall, "exit_code": proc.returncode, "report": report}
    if sampler:
        maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # KiB on Linux
        result |= {
            "peak_tree_rss_bytes": sampler.peak_rss,
            "peak_tree_pss_bytes": sampler.peak_pss,
            "peak_tree_uss_bytes": sampler.peak_uss,
            "peak_single_process_rss_bytes": sampler.peak_one,
            "children_maxrss_bytes": maxrss if maxrss > maxrss_before * 1024 else 0,
            "processes": sampler.max_procs,
        }
    return result


# -- process trees ------------------------------------------------------------------


def tree_pids(root: int) -> list[int]:
    """``root`` and its descendants, from every process's parent in /proc/PID/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue  # gone meanwhile
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def rss_pss_uss(pid: int) -> tuple[int, int, int]:
    """(RSS, PSS, USS) of one process in bytes, from /proc/PID/smaps_rollup; zeros if it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line)
    except OSError:
        return 0, 0, 0

    def kb(name: str) -> int:
        return int(fields.get(name, "0 kB").split()[0]) * 1024

    return kb("Rss"), kb("Pss"), kb("Private_Clean") + kb("Private_Dirty")


def tree_memory(root: int) -> dict[str, Any]:
    """Summed PSS, USS and RSS (MiB, one decimal) and the number of processes of a tree."""
    sizes = [s for s in map(rss_pss_uss, tree_pids(root)) if s[0]]
    rss, pss, uss = (sum(s[i] for s in sizes) for i in range(3))
    return {
        "pss_mb": round(pss / MIB, 1),
        "uss_mb": round(uss / MIB, 1),
        "rss_mb": round(rss / MIB, 1),
        "processes": len(sizes),
    }


class Sampler(threading.Thread):
    """Peaks of a process tree's summed RSS, PSS and USS and of its largest process (bytes)."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_pss = self.peak_uss = self.peak_one = 0
        self.max_procs = 0
        self.done = threading.Event()

    def sample(self) -> tuple[int, int, int]:
        sizes = [rss_pss_uss(p) for p in tree_pids(self.pid)]
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


def tree_cpu(root: int) -> dict[int, float]:
    """CPU seconds (user + system) of each process of a tree, from /proc/PID/stat."""
    out = {}
    tick = os.sysconf("SC_CLK_TCK")
    for pid in tree_pids(root):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def client_cpu() -> float:
    """CPU seconds of this process and its waited-for children (e.g. wrk runs)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def versions_open(root: int, index_dir: Path) -> dict[str, Any]:
    """The index versions (``index_dir``'s subdirectories) a process tree maps or holds open.

    Versions share unchanged segment files as hard links, so a file opened through an
    old version's name may be the live version's file too; a file is **stale** when its
    inode is in no version left on disk (pruned, but still mapped or open).
    """
    prefix = str(index_dir.resolve()) + os.sep
    on_disk = {f.stat().st_ino for f in index_dir.glob("*/*") if f.is_file()}
    per_pid: dict[int, set[tuple[str, int]]] = {}  # pid -> {(path relative to index_dir, inode)}
    for pid in tree_pids(root):
        opened = per_pid.setdefault(pid, set())
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
                fields = line.split(None, 5)  # address perms offset dev inode [path]
                if len(fields) == 6 and fields[5].startswith(prefix):
                    opened.add((fields[5][len(prefix) :].removesuffix(" (deleted)"), int(fields[4])))
        with contextlib.suppress(OSError):
            for fd in os.scandir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(fd.path)
                    if target.startswith(prefix):
                        opened.add((target[len(prefix) :].removesuffix(" (deleted)"), os.stat(fd.path).st_ino))

    def version(rel: str) -> str:
        return rel.split(os.sep, 1)[0]

    every = set().union(*per_pid.values())
    stale = sorted(rel for rel, ino in every if ino not in on_disk)
    return {
        "versions_open": sorted({version(rel) for rel, _ in every}),
        "worker_versions": [
            sorted({version(rel) for rel, _ in files}) for pid, files in per_pid.items() if pid != root
        ],
        "stale_files": len(stale),
        "stale_versions": sorted({version(rel) for rel in stale}),
        "stale_examples": stale[:3],
    }
