"""Servers under gunicorn on 127.0.0.1 (``sakuin serve``, the load test's reference app), and
the clients that load them: ``run_clients`` (threads of this process) and ``Wrk``.

A server's stdout and stderr (its access log) go to an unlinked temporary file, never to
a pipe, so the log can never fill a buffer and block the server; ``log_summary`` reads it
back at the end. ``stop`` sends SIGINT (gunicorn stops at once), then SIGKILL to the
process group if it has not exited after 15 s.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from harness import REPO, log, percentile
from processes import sakuin, tree_memory

#: wrk, the default load generator when it is installed (apt-get install wrk).
WRK = shutil.which("wrk") or "/usr/bin/wrk"


def default_workers() -> int:
    """What ``sakuin serve`` starts without --workers (web/server.py): one per usable core."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """A gunicorn master started by ``command`` on 127.0.0.1:``port``, ready once ``probe`` answers 200."""

    def __init__(
        self,
        command: list[str],
        port: int,
        probe: str,
        cwd: Path = REPO,
        timeout: float = 120,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = port
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 — kept open for the server's lifetime
        self.proc = subprocess.Popen(
            command,
            cwd=cwd,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited: {self.output()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", probe)
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise SystemExit("server did not become ready")

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def log_summary(self) -> dict[str, Any]:
        """Tracebacks and the status codes of the access log (``... "GET /x HTTP/1.1" 200 123 4ms``)."""
        text = self.output()
        statuses = Counter(m.group(1) for m in re.finditer(r'" (\d{3}) \S+ \d+ms$', text, re.MULTILINE))
        return {"tracebacks": text.count("Traceback"), "statuses": dict(sorted(statuses.items()))}

    def wait_for_workers(self, workers: int, timeout: float = 60.0) -> None:
        """Until the master has ``workers`` children and the tree's PSS is steady (workers warm in post_fork)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            mem = tree_memory(self.proc.pid)
            if mem["processes"] >= workers + 1 and last is not None and abs(mem["pss_mb"] - last) < 1.0:
                return
            last = mem["pss_mb"] if mem["processes"] >= workers + 1 else None
            time.sleep(0.5)
        log(f"warning: {workers} workers not up and steady after {timeout:.0f} s")

    def stop(self) -> None:
        """SIGINT: gunicorn stops at once."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class SakuinServer(Gunicorn):
    """``sakuin serve`` on 127.0.0.1:<free port>. The load drivers play many clients from one
    address, so the per-client limit on concurrent searches is lifted (``SAKUIN_CLIENT_CONCURRENCY``)
    unless ``clients_limit`` is given."""

    def __init__(
        self,
        index_dir: Path,
        threads: int,
        workers: int | None = None,
        extra: list[str] | None = None,
        clients_limit: int = 1000,
    ) -> None:
        port = free_port()
        super().__init__(
            sakuin(
                "serve", "--index-dir", str(index_dir), "--host", "127.0.0.1", "--port", str(port),
                "--threads", str(threads), *(["--workers", str(workers)] if workers else []), *(extra or []),
            ),
            port,
            "/healthz",
            env={"SAKUIN_CLIENT_CONCURRENCY": str(clients_limit)},
        )  # fmt: skip


REFERENCE_APP = '''\
"""The load test's reference: Flask returning a fixed JSON body (written by bench/servers.py)."""
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


class ReferenceServer(Gunicorn):
    """The reference app under gunicorn: gthread, the same workers, threads, keep-alive and
    access log as ``sakuin serve``."""

    def __init__(self, workdir: Path, threads: int, workers: int) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "app.py").write_text(REFERENCE_APP, encoding="utf-8")
        self.body = reference_body()
        (workdir / "body.json").write_bytes(self.body)
        port = free_port()
        super().__init__(reference_command("app:app", workdir, port, threads, workers), port, "/", cwd=workdir)


def reference_command(app: str, chdir: Path, port: int, threads: int, workers: int) -> list[str]:
    """gunicorn's command line for a reference app (``app``: gunicorn's ``module:callable``, in
    ``chdir``): gthread, the same workers, threads, keep-alive and access log as ``sakuin serve``."""
    return [
        sys.executable, "-m", "gunicorn", "--chdir", str(chdir), app,
        "-k", "gthread", "-w", str(workers), "--threads", str(threads),
        "-b", f"127.0.0.1:{port}", "--preload", "--keep-alive", "5", "--timeout", "120",
        "--access-logfile", "-", "--access-logformat", '%(h)s %(t)s "%(r)s" %(s)s %(B)s %(M)sms',
        "--log-level", "warning",
    ]  # fmt: skip


# -- clients ------------------------------------------------------------------------


def run_clients(
    port: int, urls: list[str], clients: int, seconds: float, max_requests: int, warmup: float = 0.0
) -> dict[str, Any]:
    """``clients`` threads with keep-alive connections until ``seconds`` pass or ``max_requests`` are sent.

    Client ``n`` starts at URL ``n × 997`` and cycles through the list. An error is a
    failed request, a status but 200, a JSON response whose body does not parse, or an
    empty body; errors are counted, never fatal. Latencies of requests sent in the first
    ``warmup`` seconds are not counted.
    """
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


def preflight(port: int, mix: list[tuple[str, str]]) -> dict[str, Any]:
    """One request of each kind of a (kind, URL) mix: its status, content type and size."""
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
