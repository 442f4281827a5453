"""Load test: the production server (``sakuin serve``, gunicorn workers) under concurrent clients.

    python bench/load.py --index-dir /tmp/ix   # reuse (or build there) an index; wrk, 32 connections x 30 s
    python bench/load.py                       # build a livedoor index in a temp dir first (~90 s)
    python bench/load.py --driver python --clients 8 --seconds 10 --json
    python bench/load.py --memory-curve        # also: server PSS over 50k requests and 5 index updates
    python bench/load.py --memory-curve --no-throughput --limit 1500 --curve 200,1000 --update-requests 200

The server runs as a subprocess on 127.0.0.1 and a free port. The requests are a
deterministic mix of distinct URLs derived from the corpus records (one title each):
the JSON API with one word, two words, an unspaced title read as a question, a quoted
phrase and page 2 of a one-word query; the HTML results page; a document page
(``/doc/<id>``). With the full corpus that is 6,148 distinct requests.

* Drivers: ``wrk`` (the default when it is installed: ``--wrk-threads`` threads,
  ``--clients`` keep-alive connections, ``--seconds`` long, after ``--warmup``
  seconds of unmeasured load; a Lua script written to a temp file cycles through
  the URL list, each wrk thread from its own offset) or ``python`` (``--clients``
  threads of this process, each with a keep-alive connection, bounded by
  ``--seconds`` and ``--max-requests``). An error is a failed connection, read,
  write or timeout, or any status but 2xx (the python driver: anything but a 200,
  and for JSON responses a JSON body).
* Reference: in the same run, a minimal Flask app that returns a fixed ~2 KB JSON
  body, under gunicorn with the same worker class (gthread), workers, threads,
  keep-alive and access log as ``sakuin serve``, is driven the same way, before and
  after sakuin. **ratio** = sakuin req/s ÷ the median of the reference runs
  (a run in which one worker took every connection and the other idled is
  measured again, up to twice, and left out of the median). Client
  and servers share the machine's cores, so both figures are lower bounds; the
  ratio is the one to compare between machines.
* ``--memory-curve``: the corpus is split into ``--parts`` JSONL files in a temp
  dir and indexed fresh; a new server's PSS (summed over the gunicorn master and
  its workers, from /proc/PID/smaps_rollup) is taken at start, after each
  ``--curve`` count of mixed requests (python driver, exact counts), then after each
  of ``--updates`` index updates (one part file rewritten, ``sakuin index`` run
  incrementally, ``--update-requests`` requests sent so every worker moves to the
  new version).

Results are printed (``--json``: one JSON object) and saved to bench/out/load.json
(``--out``). Linux only (/proc).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_DATA, REPO, log, machine_info, percentile, print_results

sys.path.insert(0, str(REPO))

__all__ = [
    "DEFAULT_DATA",
    "REPO",
    "Server",
    "decompress",
    "log",
    "mixed_queries",
    "mixed_urls",
    "percentile",
    "run_clients",
    "urls_for",
]

WRK = shutil.which("wrk") or "/usr/bin/wrk"
DEFAULT_OUT = REPO / "bench" / "out" / "load.json"
MB = 1024 * 1024
#: The same URL-quoting of doc ids as web/common.py DocIdConverter (livedoor ids have no "." segments).
DOC_ID_SAFE = "!$&'()*+,:;=@/"
KINDS = ("word", "two words", "question", "phrase", "page 2", "html results", "document")


def default_workers() -> int:
    """What ``sakuin serve`` starts without --workers (web/server.py): one per usable core."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# -- corpus, index, queries --------------------------------------------------------------


def decompress(data: Path, workdir: Path, limit: int | None = None) -> Path:
    """The corpus as a plain .jsonl (sakuin reads .jsonl, not .gz)."""
    target = workdir / "livedoor_news.jsonl"
    opener = gzip.open if data.suffix == ".gz" else open
    with opener(data, "rb") as src, open(target, "wb") as dst:
        for n, line in enumerate(src):
            if limit is not None and n >= limit:
                break
            dst.write(line)
    return target


def records(corpus: Path, every: int = 1) -> list[tuple[str, str]]:
    """(doc id, title) of every ``every``-th record; the JSONL reader's doc id is the record's ``id``."""
    out = []
    with open(corpus, encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if n % every == 0 and line.strip():
                rec = json.loads(line)
                out.append((str(rec["id"]), rec["title"]))
    return out


def titles(corpus: Path, every: int = 7) -> list[str]:
    return [title for _, title in records(corpus, every)]


_SYNTAX = str.maketrans({c: " " for c in '"“”„＂«»()（）-－:：'})


def _content_words(title: str) -> list[Any]:
    from sakuin.search.analysis.sudachi import is_content, morphemes

    return [m for m in morphemes(title) if is_content(m) and len(m.surface) > 1]


def mixed_queries(corpus: Path, count: int = 400) -> list[dict[str, Any]]:
    """Deterministic API query parameters from titles: one word, two words, question, phrase, page 2.

    The small mix bench/memory.py sends; the load test itself uses ``mixed_urls``.
    """
    out: list[dict[str, Any]] = []
    for n, raw in enumerate(titles(corpus)):
        # Query syntax characters in a title (quotes, parentheses) would make a 400, not a search.
        title = raw.translate(_SYNTAX)
        words = _content_words(title)
        if len(words) < 2:
            continue
        out.append(_api_params(n % 5, title, words))
        if len(out) >= count:
            break
    return out


def _api_params(kind: int, title: str, words: list[Any]) -> dict[str, Any]:
    if kind == 0:
        return {"q": words[0].surface}
    if kind == 1:
        return {"q": f"{words[0].surface} {words[-1].surface}"}
    if kind == 2:
        return {"q": "".join(title.split())}  # an unspaced sentence, read as a question
    if kind == 3:
        a, b = words[0], words[1]
        return {"q": f'"{title[a.start : b.end]}"'}
    return {"q": words[-1].surface, "page": 2}


def mixed_urls(corpus: Path, every: int = 1, count: int | None = None) -> list[tuple[str, str]]:
    """Distinct (kind, URL) pairs, the kinds of ``KINDS`` in turn, one record (title, id) each.

    Records whose title has fewer than two content words are skipped; a URL already
    in the list (a common one-word query) is skipped too, so every URL is distinct.
    """
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    n = 0
    for doc_id, raw in records(corpus, every):
        title = raw.translate(_SYNTAX)
        words = _content_words(title)
        if len(words) < 2:
            continue
        kind = n % len(KINDS)
        n += 1
        if kind < 5:
            url = "/api/search?" + urllib.parse.urlencode(_api_params(kind, title, words))
        elif kind == 5:
            url = "/search?" + urllib.parse.urlencode({"q": f"{words[0].surface} {words[1].surface}"})
        else:
            url = "/doc/" + urllib.parse.quote(doc_id, safe=DOC_ID_SAFE)
        if url in seen:
            continue
        seen.add(url)
        out.append((KINDS[kind], url))
        if count is not None and len(out) >= count:
            break
    return out


def run_index(corpus: Path, index_dir: Path) -> tuple[float, str]:
    """``sakuin index``; returns its wall time and the last line it printed (its summary)."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "sakuin", "index", str(corpus), "--index-dir", str(index_dir)],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    )
    lines = done.stdout.strip().splitlines()
    return time.monotonic() - started, lines[-1] if lines else ""


def ensure_index(data: Path, index_dir: Path | None, workdir: Path, limit: int | None) -> tuple[Path, Path]:
    """(corpus .jsonl, index dir); builds the index with ``sakuin index`` unless it exists."""
    corpus = decompress(data, workdir, limit)
    index_dir = index_dir or workdir / "index"
    if not (index_dir / "CURRENT").exists():
        log(f"indexing {corpus} into {index_dir} …")
        log(f"indexed in {run_index(corpus, index_dir)[0]:.1f} s")
    return corpus, index_dir


# -- servers -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """A gunicorn master started by ``command`` on 127.0.0.1:``port``, ready when ``probe`` answers 200."""

    def __init__(self, command: list[str], port: int, probe: str, cwd: Path = REPO) -> None:
        self.port = port
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 — kept open for the server's lifetime
        self.proc = subprocess.Popen(
            command, cwd=cwd, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited: {self.output()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", probe)
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("server did not become ready")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def log_summary(self) -> dict[str, Any]:
        """Tracebacks and the status codes of the access log (``... "GET /x HTTP/1.1" 200 123 4ms``)."""
        text = self.output()
        statuses = Counter(m.group(1) for m in re.finditer(r'" (\d{3}) \S+ \d+ms$', text, re.MULTILINE))
        return {"tracebacks": text.count("Traceback"), "statuses": dict(sorted(statuses.items()))}

    def stop(self) -> None:
        """SIGINT: gunicorn stops at once."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class Server(Gunicorn):
    """``sakuin serve`` on 127.0.0.1:<free port>, stopped with SIGINT."""

    def __init__(self, index_dir: Path, threads: int, workers: int | None = None) -> None:
        port = free_port()
        super().__init__(
            [
                sys.executable, "-m", "sakuin", "serve", "--index-dir", str(index_dir),
                "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads),
                *(["--workers", str(workers)] if workers else []),
            ],
            port,
            "/healthz",
        )  # fmt: skip


REFERENCE_APP = '''\
"""The load test's reference: Flask returning a fixed JSON body (written by bench/load.py)."""
from pathlib import Path

from flask import Flask, Response

BODY = (Path(__file__).parent / "body.json").read_bytes()
app = Flask(__name__)


@app.get("/")
def index():
    return Response(BODY, mimetype="application/json")
'''


def reference_body(size: int = 2048) -> bytes:
    """A JSON body shaped like a page of search hits, about ``size`` bytes."""
    hits = []
    body = b""
    n = 0
    while True:
        hits.append(
            {"doc_id": f"ref-{n:07d}", "title": f"参照文書 {n}", "score": 1.0 / (n + 1), "snippet": "本文の抜粋。" * 8}
        )
        candidate = json.dumps({"query": "参照", "total": 1000, "page": 1, "hits": hits}, ensure_ascii=False)
        if len(candidate.encode()) > size:
            return body
        body = candidate.encode()
        n += 1


class Reference(Gunicorn):
    """The reference app under gunicorn: gthread, the same workers, threads, keep-alive and access log as sakuin."""

    def __init__(self, workdir: Path, threads: int, workers: int) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "app.py").write_text(REFERENCE_APP, encoding="utf-8")
        self.body = reference_body()
        (workdir / "body.json").write_bytes(self.body)
        port = free_port()
        super().__init__(
            [
                sys.executable, "-m", "gunicorn", "--chdir", str(workdir), "app:app",
                "-k", "gthread", "-w", str(workers), "--threads", str(threads),
                "-b", f"127.0.0.1:{port}", "--preload", "--keep-alive", "5", "--timeout", "120",
                "--access-logfile", "-", "--access-logformat", '%(h)s %(t)s "%(r)s" %(s)s %(B)s %(M)sms',
                "--log-level", "warning",
            ],
            port,
            "/",
            cwd=workdir,
        )  # fmt: skip


# -- memory ------------------------------------------------------------------------------


def tree_pids(root: int) -> list[int]:
    """``root`` and its descendants, from /proc/PID/task/*/children."""
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):  # gone meanwhile
                todo.extend(int(c) for c in task.read_text().split())
    return pids


def tree_memory(root: int) -> dict[str, Any]:
    """Summed RSS, PSS and USS (MB) of a process tree, from /proc/PID/smaps_rollup."""
    totals = Counter[str]()
    processes = 0
    for pid in tree_pids(root):
        try:
            with open(f"/proc/{pid}/smaps_rollup") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue  # gone
        processes += 1

        def kb(name: str, fields: dict[str, str] = fields) -> int:
            return int(fields.get(name, "0 kB").split()[0])

        totals["rss"] += kb("Rss")
        totals["pss"] += kb("Pss")
        totals["uss"] += kb("Private_Clean") + kb("Private_Dirty")
    return {f"{k}_mb": round(totals[k] * 1024 / MB, 1) for k in ("pss", "uss", "rss")} | {"processes": processes}


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


def wait_for_workers(server: Gunicorn, workers: int, timeout: float = 60.0) -> None:
    """Until the master has ``workers`` children and the tree's PSS is steady (workers warm in post_fork)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        mem = tree_memory(server.proc.pid)
        if mem["processes"] >= workers + 1 and last is not None and abs(mem["pss_mb"] - last) < 1.0:
            return
        last = mem["pss_mb"] if mem["processes"] >= workers + 1 else None
        time.sleep(0.5)
    log(f"warning: {workers} workers not up and steady after {timeout:.0f} s")


# -- drivers -----------------------------------------------------------------------------


def run_clients(
    port: int, urls: list[str], clients: int, seconds: float, max_requests: int, warmup: float = 0.0
) -> dict[str, Any]:
    """``clients`` threads with keep-alive connections until ``seconds`` pass or ``max_requests`` are sent."""
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    sent = [0]
    start_at = time.monotonic() + 0.2
    measure_from = start_at + warmup
    stop_at = measure_from + seconds

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = n * 997
        mine: list[float] = []
        while time.monotonic() < start_at:
            time.sleep(0.001)
        while True:
            with lock:
                if sent[0] >= max_requests:
                    break
                sent[0] += 1
            url = urls[i % len(urls)]
            i += 1
            began = time.monotonic()
            if began >= stop_at:
                break
            try:
                conn.request("GET", url)
                response = conn.getresponse()
                body = response.read()
                elapsed = time.monotonic() - began
                if response.status != 200:
                    raise ValueError(f"HTTP {response.status}")
                if (response.getheader("Content-Type") or "").startswith("application/json"):
                    json.loads(body)
                elif not body:
                    raise ValueError("empty body")
                if began >= measure_from:
                    mine.append(elapsed)
            except Exception as exc:  # counted, never fatal: the run must finish
                with lock:
                    errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + warmup + 60)
    measured = min(time.monotonic(), stop_at) - measure_from
    ms = [x * 1000 for x in latencies]
    return {
        "clients": clients,
        "seconds": round(measured, 2),
        "requests": len(ms),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "throughput_rps": round(len(ms) / measured, 1) if measured > 0 else 0.0,
        "latency_ms": {p: round(percentile(ms, q), 1) for p, q in (("p50", 50), ("p95", 95), ("p99", 99))}
        | {"max": round(max(ms), 1) if ms else float("nan")},
    }


def urls_for(queries: list[dict[str, Any]]) -> list[str]:
    return ["/api/search?" + urllib.parse.urlencode(params) for params in queries]


#: wrk's Lua script: each thread reads the URL list (first script argument) and cycles
#: through it from offset id × n / threads; response() counts statuses by class (wrk
#: itself counts only ≥ 400); done() prints one JSON line after the ``WRKJSON`` marker.
WRK_SCRIPT = r"""
threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  reqs = {}
  for line in io.lines(args[1]) do
    if #line > 0 then reqs[#reqs + 1] = wrk.format("GET", line) end
  end
  local nthreads = tonumber(args[2]) or 1
  at = math.floor((id or 0) * #reqs / nthreads)
  s2, s3, s4, s5, sx = 0, 0, 0, 0, 0
end

function request()
  at = at % #reqs + 1
  return reqs[at]
end

function response(status, headers, body)
  if status >= 200 and status < 300 then s2 = s2 + 1
  elseif status >= 300 and status < 400 then s3 = s3 + 1
  elseif status >= 400 and status < 500 then s4 = s4 + 1
  elseif status >= 500 and status < 600 then s5 = s5 + 1
  else sx = sx + 1 end
end

function done(summary, latency, requests)
  local c = {s2 = 0, s3 = 0, s4 = 0, s5 = 0, sx = 0}
  for _, t in ipairs(threads) do
    for k, _ in pairs(c) do c[k] = c[k] + (t:get(k) or 0) end
  end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_s": %.6f, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"statuses": {"2xx": %d, "3xx": %d, "4xx": %d, "5xx": %d, "other": %d}, ' ..
    '"latency_ms": {"p50": %.3f, "p95": %.3f, "p99": %.3f, "max": %.3f, "mean": %.3f}}\n',
    summary.requests, summary.duration / 1e6, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    c.s2, c.s3, c.s4, c.s5, c.sx,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, latency.mean / 1000))
end
"""


class Wrk:
    """wrk runs with one Lua script and the settings of the command line."""

    def __init__(self, workdir: Path, threads: int, connections: int, timeout: float) -> None:
        self.workdir, self.threads, self.connections, self.timeout = (
            workdir,
            threads,
            max(connections, threads),
            timeout,
        )
        self.script = workdir / "load.lua"
        self.script.write_text(WRK_SCRIPT, encoding="utf-8")
        self.lists = 0

    def url_file(self, urls: list[str]) -> Path:
        self.lists += 1
        path = self.workdir / f"urls-{self.lists}.txt"
        path.write_text("".join(u + "\n" for u in urls), encoding="utf-8")
        return path

    def run(self, port: int, url_file: Path, seconds: float) -> dict[str, Any]:
        seconds = max(1, round(seconds))  # wrk takes whole seconds
        command = [
            WRK, f"-t{self.threads}", f"-c{self.connections}", f"-d{seconds}s", "--latency",
            "--timeout", f"{max(1, round(self.timeout))}s", "-s", str(self.script),
            f"http://127.0.0.1:{port}/", "--", str(url_file), str(self.threads),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
        for line in done.stdout.splitlines():
            if line.startswith("WRKJSON "):
                raw = json.loads(line[len("WRKJSON ") :])
                break
        else:
            raise SystemExit(f"wrk printed no result (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
        e = raw["errors"]
        non_2xx = sum(n for k, n in raw["statuses"].items() if k != "2xx")
        errors = e["connect"] + e["read"] + e["write"] + e["timeout"] + non_2xx
        return {
            "connections": self.connections,
            "wrk_threads": self.threads,
            "seconds": round(raw["duration_s"], 2),
            "requests": raw["requests"],
            "errors": errors,
            "error_kinds": {k: n for k, n in e.items() if n and k != "status"}
            | {f"HTTP {k}": n for k, n in raw["statuses"].items() if n and k != "2xx"},
            "throughput_rps": round(raw["requests"] / raw["duration_s"], 1) if raw["duration_s"] else 0.0,
            "bytes_per_response": round(raw["bytes"] / raw["requests"]) if raw["requests"] else 0,
            "latency_ms": {k: round(v, 1) for k, v in raw["latency_ms"].items()},
            "wrk_errors": e,  # wrk's own counts: "status" is its count of responses >= 400
        }


class Driver:
    """One way of loading a server: ``measure(server, urls)`` → requests, errors, req/s, latency, CPU."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.wrk = Wrk(workdir, args.wrk_threads, args.clients, args.timeout) if args.driver == "wrk" else None
        self.files: dict[tuple[str, ...], Path] = {}

    def measure(self, server: Gunicorn, urls: list[str]) -> dict[str, Any]:
        """The run, plus the CPU seconds each worker and the client used in it and the load average before.

        The python driver's CPU figures include its warm-up; wrk's cover the measured run only.
        """
        a = self.args
        if self.wrk is not None:
            key = tuple(urls)
            if key not in self.files:
                self.files[key] = self.wrk.url_file(urls)
            if a.warmup >= 1:
                self.wrk.run(server.port, self.files[key], a.warmup)
        loadavg = os.getloadavg()[0]
        workers_before, client_before = tree_cpu(server.proc.pid), client_cpu()
        if self.wrk is None:
            result = run_clients(server.port, urls, a.clients, a.seconds, a.max_requests, a.warmup)
        else:
            result = self.wrk.run(server.port, self.files[key], a.seconds)
        workers_after = tree_cpu(server.proc.pid)
        result["worker_cpu_s"] = sorted(
            (
                round(cpu - workers_before.get(pid, 0.0), 2)
                for pid, cpu in workers_after.items()
                if pid != server.proc.pid
            ),
            reverse=True,
        )
        result["client_cpu_s"] = round(client_cpu() - client_before, 2)
        result["loadavg_1m_before"] = round(loadavg, 2)
        return result


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
    """CPU seconds of this process and its waited-for children (wrk runs)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def preflight(port: int, mix: list[tuple[str, str]]) -> dict[str, Any]:
    """One request of each kind before the load: its status, content type and size."""
    out: dict[str, Any] = {}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for kind, url in mix:
        if kind in out:
            continue
        conn.request("GET", url)
        response = conn.getresponse()
        body = response.read()
        out[kind] = {
            "url": url,
            "status": response.status,
            "type": (response.getheader("Content-Type") or "").split(";")[0],
            "bytes": len(body),
        }
    conn.close()
    return out


# -- the two measurements ----------------------------------------------------------------


#: Extra attempts at a reference run whose connections all landed on one worker.
REFERENCE_RETRIES = 2


def balanced(run: dict[str, Any]) -> bool:
    """Whether every worker served: gunicorn hands each keep-alive connection to the
    worker that accepts it first, and now and then one worker takes all 32 and the
    other idles, which halves the reference (and doubles the ratio) by chance."""
    cpu = run.get("worker_cpu_s") or []
    return len(cpu) < 2 or min(cpu) >= 0.25 * max(cpu)


def throughput(args: argparse.Namespace, mix: list[tuple[str, str]], index_dir: Path, tmp: Path) -> dict[str, Any]:
    """Reference, sakuin, reference again, each driven the same way."""
    driver = Driver(args, tmp)
    urls = [url for _, url in mix]
    reference_runs = []
    reference = Reference(tmp / "reference", args.server_threads, args.workers)
    try:
        for n in range(args.reference_runs):
            if n == 1:  # the second reference run goes after sakuin's
                sakuin, preflights, server_log = _measure_sakuin(args, driver, urls, mix, index_dir)
            log(f"reference run {n + 1} (127.0.0.1:{reference.port}) …")
            for _ in range(1 + REFERENCE_RETRIES):
                run = driver.measure(reference, ["/"])
                run["balanced"] = balanced(run)
                reference_runs.append(run)
                if run["balanced"]:
                    break
                log(f"  every keep-alive connection went to one worker {run['worker_cpu_s']}: measuring again")
        if args.reference_runs < 2:
            sakuin, preflights, server_log = _measure_sakuin(args, driver, urls, mix, index_dir)
    finally:
        reference.stop()
    counted = [r for r in reference_runs if r["balanced"]] or reference_runs
    reference_rps = statistics.median(r["throughput_rps"] for r in counted) if counted else None
    return {
        "sakuin": sakuin,
        "reference": {
            "runs": reference_runs,
            "median_rps": reference_rps,
            "body_bytes": len(reference.body),
            "server_log": reference.log_summary(),
        },
        "ratio": round(sakuin["throughput_rps"] / reference_rps, 4) if reference_rps else None,
        "preflight": preflights,
        "server_log": server_log,
    }


def _measure_sakuin(
    args: argparse.Namespace, driver: Driver, urls: list[str], mix: list[tuple[str, str]], index_dir: Path
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    server = Server(index_dir, args.server_threads, args.workers)
    try:
        preflights = preflight(server.port, mix)
        bad = {k: v["status"] for k, v in preflights.items() if v["status"] != 200}
        if bad:
            log(f"warning: not 200 before the load: {bad}")
        log(f"sakuin: {args.driver}, {args.clients} connections, {args.warmup:.0f}+{args.seconds:.0f} s …")
        result = driver.measure(server, urls)
    finally:
        server.stop()
    return result, preflights, server.log_summary()


def split_corpus(corpus: Path, target: Path, parts: int) -> list[Path]:
    """The corpus as ``parts`` JSONL files of consecutive records (an update rewrites one)."""
    lines = [line for line in corpus.read_text(encoding="utf-8").splitlines(keepends=True) if line.strip()]
    target.mkdir(parents=True)
    paths = []
    size = -(-len(lines) // parts)
    for n in range(parts):
        path = target / f"part-{n:02d}.jsonl"
        path.write_text("".join(lines[n * size : (n + 1) * size]), encoding="utf-8")
        paths.append(path)
    return paths


def rewrite_part(path: Path, update: int) -> int:
    """Change every record of one part file (a sentence appended to its text); returns the record count."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            rec["text"] = f"{rec['text']}\n（更新 {update}）この記事は負荷試験のために書き換えられました。"
            out.append(json.dumps(rec, ensure_ascii=False) + "\n")
    path.write_text("".join(out), encoding="utf-8")
    return len(out)


def memory_curve(args: argparse.Namespace, corpus: Path, mix: list[tuple[str, str]], tmp: Path) -> dict[str, Any]:
    """Server PSS at start, after each --curve count of requests, and after each index update."""
    parts = split_corpus(corpus, tmp / "curve-corpus", args.parts)
    index_dir = tmp / "curve-index"
    log(f"memory curve: indexing {len(parts)} part files into {index_dir} …")
    build_s, _ = run_index(parts[0].parent, index_dir)
    urls = [url for _, url in mix]
    rows: list[dict[str, Any]] = []
    server = Server(index_dir, args.server_threads, args.workers)
    sent = 0

    def send(count: int) -> dict[str, Any]:
        nonlocal sent
        load = run_clients(server.port, urls, args.clients, 24 * 3600, count)
        sent += load["requests"]
        return load

    cpu = tree_cpu(server.proc.pid)

    def row(stage: str, load: dict[str, Any] | None = None, **extra: Any) -> None:
        nonlocal cpu
        mem = tree_memory(server.proc.pid)
        now = tree_cpu(server.proc.pid)
        worker_cpu = [round(t - cpu.get(pid, 0.0), 2) for pid, t in now.items() if pid != server.proc.pid]
        cpu = now
        rows.append(
            {"stage": stage, "requests": sent, **mem, **versions_open(server.proc.pid, index_dir)}
            | ({"errors": load["errors"], "rps": load["throughput_rps"]} if load else {"errors": 0, "rps": None})
            | {"worker_cpu_s": worker_cpu}  # since the previous row: shows whether every worker served
            | extra
        )
        log(f"  {stage}: {sent} requests, PSS {mem['pss_mb']} MB")

    try:
        wait_for_workers(server, args.workers)
        cpu = tree_cpu(server.proc.pid)
        row("start")
        for target in args.curve:
            if target > sent:
                row(f"{target:,} requests", send(target - sent))
        for update in range(1, args.updates + 1):
            part = parts[(update - 1) * len(parts) // max(args.updates, 1)]
            changed = rewrite_part(part, update)
            index_s, summary = run_index(parts[0].parent, index_dir)
            version = (index_dir / "CURRENT").read_text().strip()
            load = send(args.update_requests)
            row(
                f"update {update}",
                load,
                part=part.name,
                records_changed=changed,
                index_s=round(index_s, 2),
                index_summary=summary,
                version=version,
            )
    finally:
        server.stop()
    return {
        "parts": len(parts),
        "build_s": round(build_s, 1),
        "clients": args.clients,
        "rows": rows,
        "server_log": server.log_summary(),
    }


# -- report ------------------------------------------------------------------------------


def _run_line(name: str, r: dict[str, Any]) -> str:
    lat = r["latency_ms"]
    line = (
        f"{name}: {r['requests']} requests in {r['seconds']:.0f} s, {r['throughput_rps']} req/s, "
        f"{r['errors']} errors; latency ms p50 {lat['p50']} p95 {lat['p95']} p99 {lat['p99']} max {lat['max']}"
    )
    line += f"; CPU s: workers {' + '.join(map(str, r['worker_cpu_s']))}, client {r['client_cpu_s']}"
    return line + (f"; errors: {r['error_kinds']}" if r["error_kinds"] else "")


def print_human(result: dict[str, Any]) -> None:
    s = result["setup"]
    print(
        f"{s['distinct_requests']} distinct requests ({', '.join(f'{k} {n}' for k, n in s['kinds'].items())}); "
        f"server {s['workers']} workers × {s['threads']} threads (gthread)"
        + (f"; driver {s['driver']}, {s['clients']} connections" if "sakuin" in result else "")
        + (f", {s['wrk_threads']} wrk threads" if "sakuin" in result and s["driver"] == "wrk" else "")
    )
    if "sakuin" in result:
        print(_run_line("sakuin", result["sakuin"]))
        ref = result["reference"]
        for n, r in enumerate(ref["runs"], 1):
            note = "" if r.get("balanced", True) else ", one worker served: not counted"
            print(_run_line(f"reference {n} ({ref['body_bytes']} B JSON{note})", r))
        print(f"ratio sakuin ÷ reference (median {ref['median_rps']} req/s): {result['ratio']}")
        log_ = result["server_log"]
        print(f"sakuin log: {log_['tracebacks']} tracebacks, statuses {log_['statuses']}")
        bad = {k: v["status"] for k, v in result["preflight"].items() if v["status"] != 200}
        if bad:
            print(f"not 200 before the load: {bad}")
    curve = result.get("memory_curve")
    if curve:
        print(
            f"\nmemory curve ({curve['parts']} part files, built in {curve['build_s']} s; "
            f"python driver, {curve['clients']} clients):"
        )
        print(
            f"{'stage':<16} {'requests':>8} {'PSS MB':>7} {'USS MB':>7} {'RSS MB':>7} {'procs':>5} {'errors':>6}"
            "  versions open"
        )
        for r in curve["rows"]:
            print(
                f"{r['stage']:<16} {r['requests']:>8} {r['pss_mb']:>7} {r['uss_mb']:>7} {r['rss_mb']:>7} "
                f"{r['processes']:>5} {r['errors']:>6}  {','.join(r['versions_open']) or '-'}"
                + (f" (stale: {r['stale_files']} files of {','.join(r['stale_versions'])})" if r["stale_files"] else "")
                + (f"  ({r['part']}, {r['records_changed']} records, index {r['index_s']} s)" if "part" in r else "")
            )
        log_ = curve["server_log"]
        print(f"curve server log: {log_['tracebacks']} tracebacks, statuses {log_['statuses']}")


def counts(text: str) -> list[int]:
    return sorted(int(x.replace("_", "")) for x in text.split(",") if x.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the livedoor corpus (.jsonl or .jsonl.gz)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N records")
    parser.add_argument("--index-dir", type=Path, default=None, help="reuse/build the index here (default: temp)")
    parser.add_argument(
        "--driver",
        choices=("wrk", "python"),
        default="wrk" if Path(WRK).is_file() else "python",
        help="load generator (default: wrk if installed)",
    )
    parser.add_argument("--clients", type=int, default=32, help="connections (wrk -c) or client threads")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--timeout", type=float, default=10.0, help="wrk --timeout, seconds")
    parser.add_argument("--seconds", type=float, default=None, help="measured seconds (default: 30; 60 with python)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring")
    parser.add_argument("--max-requests", type=int, default=500_000, help="python driver: hard bound on requests")
    parser.add_argument("--every", type=int, default=1, help="derive requests from every N-th record")
    parser.add_argument("--reference-runs", type=int, default=2, help="0, 1 (before sakuin) or 2 (before and after)")
    parser.add_argument("--no-throughput", action="store_true", help="skip the throughput runs")
    parser.add_argument("--memory-curve", action="store_true", help="measure server PSS over requests and updates")
    parser.add_argument(
        "--curve", type=counts, default=[1000, 10_000, 50_000], help="cumulative request counts (1000,10000,50000)"
    )
    parser.add_argument("--parts", type=int, default=20, help="memory curve: corpus split into N JSONL files")
    parser.add_argument("--updates", type=int, default=5, help="memory curve: index updates")
    parser.add_argument("--update-requests", type=int, default=1000, help="memory curve: requests after each update")
    parser.add_argument("--server-threads", type=int, default=2, help="threads per worker (sakuin serve --threads)")
    parser.add_argument("--server-workers", type=int, default=None, help="sakuin serve --workers (default: per core)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="also save the JSON here ('' for nowhere)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"corpus not found: {args.data} (pass --data)")
    if args.driver == "wrk" and not Path(WRK).is_file():
        raise SystemExit(f"wrk not found at {WRK} (apt-get install wrk, or --driver python)")
    if args.no_throughput and not args.memory_curve:
        raise SystemExit("--no-throughput leaves nothing to measure without --memory-curve")
    if args.seconds is None:
        args.seconds = 30.0 if args.driver == "wrk" else 60.0
    args.workers = args.server_workers or default_workers()

    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="sakuin-load-") as tmp_name:
        tmp = Path(tmp_name)
        if args.no_throughput:
            corpus, index_dir = decompress(args.data, tmp, args.limit), None
        else:
            corpus, index_dir = ensure_index(args.data, args.index_dir, tmp, args.limit)
        mix = mixed_urls(corpus, args.every)
        kinds = Counter(kind for kind, _ in mix)
        result["setup"] = {
            "driver": args.driver,
            "clients": args.clients,
            **({"wrk_threads": args.wrk_threads, "timeout_s": args.timeout} if args.driver == "wrk" else {}),
            "seconds": args.seconds,
            "warmup_s": args.warmup,
            "workers": args.workers,
            "threads": args.server_threads,
            "worker_class": "gthread",
            "records": len(corpus.read_text(encoding="utf-8").splitlines()),
            "distinct_requests": len(mix),
            "kinds": {k: kinds[k] for k in KINDS},
        }
        log(f"{len(mix)} distinct requests ({dict(kinds)})")
        if index_dir is not None:
            result |= throughput(args, mix, index_dir, tmp)
        if args.memory_curve:
            result["memory_curve"] = memory_curve(args, corpus, mix, tmp)
    result["machine"] = machine_info()
    result["loadavg_1m"] = round(os.getloadavg()[0], 2)
    if str(args.out) not in ("", "."):
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        log(f"saved {args.out}")
    print_results(result, args.json, print_human)


if __name__ == "__main__":
    main()
