"""Load test: the production server (``sakuin serve``, gunicorn workers) under concurrent clients.

    python bench/load.py                       # build a livedoor index in a temp dir, 32 clients x 60 s
    python bench/load.py --index-dir /tmp/ix   # reuse (or build there) an index
    python bench/load.py --clients 8 --seconds 10 --json

The server runs as a subprocess on 127.0.0.1 and a free port; the clients are
threads of this process, each with its own keep-alive HTTP connection, cycling
through a deterministic list of mixed queries derived from the corpus titles (one
word, two words, an unspaced title as a question, a quoted phrase, page 2 of a
one-word query). The run is bounded in time (--seconds) and in count
(--max-requests) and stops by itself. It reports errors (anything but a 200 with a
JSON body), throughput and latency percentiles. Client and server share the
machine's cores, so the throughput is a lower bound of what the server can do.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "scale" / "livedoor_news.jsonl.gz"
sys.path.insert(0, str(REPO))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


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


def titles(corpus: Path, every: int = 7) -> list[str]:
    with open(corpus, encoding="utf-8") as fh:
        return [json.loads(line)["title"] for n, line in enumerate(fh) if n % every == 0]


_SYNTAX = str.maketrans({c: " " for c in '"“”„＂«»()（）-－:：'})


def mixed_queries(corpus: Path, count: int = 400) -> list[dict[str, Any]]:
    """Deterministic query parameters from titles: one word, two words, question, phrase, page 2."""
    from search.analysis import is_content, morphemes

    out: list[dict[str, Any]] = []
    for n, raw in enumerate(titles(corpus)):
        # Query syntax characters in a title (quotes, parentheses) would make a 400, not a search.
        title = raw.translate(_SYNTAX)
        words = [m for m in morphemes(title) if is_content(m) and len(m.surface) > 1]
        if len(words) < 2:
            continue
        kind = n % 5
        if kind == 0:
            params = {"q": words[0].surface}
        elif kind == 1:
            params = {"q": f"{words[0].surface} {words[-1].surface}"}
        elif kind == 2:
            params = {"q": "".join(title.split())}  # an unspaced sentence, read as a question
        elif kind == 3:
            a, b = words[0], words[1]
            params = {"q": f'"{title[a.start : b.end]}"'}
        else:
            params = {"q": words[-1].surface, "page": 2}
        out.append(params)
        if len(out) >= count:
            break
    return out


def ensure_index(data: Path, index_dir: Path | None, workdir: Path, limit: int | None) -> tuple[Path, Path]:
    """(corpus .jsonl, index dir); builds the index with ``sakuin index`` unless it exists."""
    corpus = decompress(data, workdir, limit)
    index_dir = index_dir or workdir / "index"
    if not (index_dir / "CURRENT").exists():
        log(f"indexing {corpus} into {index_dir} …")
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "search.cli", "index", str(corpus), "--index-dir", str(index_dir)],
            cwd=REPO,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        log(f"indexed in {time.monotonic() - started:.1f} s")
    return corpus, index_dir


# -- server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``sakuin serve`` on 127.0.0.1:<free port>, stopped with SIGINT."""

    def __init__(self, index_dir: Path, threads: int, workers: int | None = None) -> None:
        self.port = free_port()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 — kept open for the server's lifetime
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "search.cli", "serve", "--index-dir", str(index_dir),
                "--host", "127.0.0.1", "--port", str(self.port), "--threads", str(threads),
                *(["--workers", str(workers)] if workers else []),
            ],
            cwd=REPO,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited: {self.output()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
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

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


# -- clients -----------------------------------------------------------------------------


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
                json.loads(body)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the livedoor corpus (.jsonl or .jsonl.gz)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N records")
    parser.add_argument("--index-dir", type=Path, default=None, help="reuse/build the index here (default: temp)")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring")
    parser.add_argument("--max-requests", type=int, default=500_000, help="hard bound on requests sent")
    parser.add_argument("--server-threads", type=int, default=4, help="threads per worker (sakuin serve --threads)")
    parser.add_argument("--server-workers", type=int, default=None, help="sakuin serve --workers (default: per core)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.data.is_file():
        raise SystemExit(f"corpus not found: {args.data} (pass --data)")

    with tempfile.TemporaryDirectory(prefix="sakuin-load-") as tmp:
        corpus, index_dir = ensure_index(args.data, args.index_dir, Path(tmp), args.limit)
        queries = mixed_queries(corpus)
        kinds = Counter(("word", "two words", "question", "phrase", "page 2")[n % 5] for n in range(len(queries)))
        log(f"{len(queries)} distinct queries ({dict(kinds)}); starting the server …")
        server = Server(index_dir, args.server_threads, args.server_workers)
        try:
            log(f"{args.clients} clients for {args.warmup:.0f}+{args.seconds:.0f} s against 127.0.0.1:{server.port} …")
            result = run_clients(
                server.port, urls_for(queries), args.clients, args.seconds, args.max_requests, args.warmup
            )
        finally:
            server.stop()
        log_text = server.output()
    result["server_threads"] = args.server_threads
    result["server_workers"] = args.server_workers or os.cpu_count()
    result["server_errors_logged"] = log_text.count("Traceback")
    result["cpus"] = os.cpu_count()
    result["loadavg_1m"] = round(os.getloadavg()[0], 2)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return
    lat = result["latency_ms"]
    print(
        f"{result['clients']} clients, {result['seconds']:.0f} s: {result['requests']} requests, "
        f"{result['errors']} errors, {result['throughput_rps']} req/s; latency ms p50 {lat['p50']} "
        f"p95 {lat['p95']} p99 {lat['p99']} max {lat['max']}; server tracebacks {result['server_errors_logged']}"
    )
    if result["error_kinds"]:
        print("errors:", result["error_kinds"])


if __name__ == "__main__":
    main()
