"""Slow clients (slowloris) against ``sakuin serve``: a normal search's latency idle and while 200
connections trickle their headers.

    python bench/slow_clients.py [--index-dir DIR] [--slow 200] [--searches 200] [--rounds 5] [--json] [--out]
    python bench/slow_clients.py --limit 300 --searches 30 --rounds 1   # smoke run

Starts ``sakuin serve`` as a user would (default workers and 2 threads per worker) on a livedoor
index, runs every query once untimed, then for each round times ``--searches`` searches from one
client (bench/queries.py's mixed API queries, a new connection each, one at a time) idle, and the
same searches while ``--slow`` connections each send a request's headers one byte every half
second (reopened when the server closes them at its read timeout); the two arms take turns at
going first. Reports p50/p95 of both per round and the median over rounds of
p95(with slow clients) / p95(idle); the aim is ≤ 2. The same clients stopped the server before
its requests were read by the event loop (``sakuin.web.readahead``): with gunicorn's own
threaded worker, the searches timed out after 20 s (``tests/reliability/test_reliability_slow_clients.py``
fails that way).
"""

from __future__ import annotations

import http.client
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import corpora
from harness import arguments, ensure_index, finish, log, machine_info, percentile
from queries import mixed_queries, urls_for
from servers import SakuinServer


class Trickle:
    """``count`` connections sending a request's headers a byte per ``interval`` seconds."""

    def __init__(self, port: int, count: int, interval: float = 0.5) -> None:
        self.port, self.count, self.interval = port, count, interval
        self.request = b"GET /api/search?q=%E3%83%86%E3%82%B9%E3%83%88 HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 8000
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.reopened = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _connect(self) -> tuple[socket.socket, int]:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.setblocking(False)
        return s, 0

    def _run(self) -> None:
        conns = [self._connect() for _ in range(self.count)]
        self.ready.set()
        while not self.stop.is_set():
            for i, (s, sent) in enumerate(conns):
                try:
                    s.send(self.request[sent : sent + 1])
                    conns[i] = (s, sent + 1)
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    s.close()
                    conns[i] = self._connect()
                    self.reopened += 1
            self.stop.wait(self.interval)
        for s, _ in conns:
            s.close()

    def __enter__(self) -> Trickle:
        self.thread.start()
        self.ready.wait(60)
        time.sleep(2)  # every connection has started its headers
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(30)


def timed(port: int, paths: list[str]) -> list[float]:
    out = []
    for path in paths:
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            ok = response.status == 200
        except OSError:
            ok = False
        finally:
            conn.close()
        out.append((time.perf_counter() - started) * 1000 if ok else float("inf"))
    return out


def run(index_dir: Path, paths: list[str], slow: int, rounds: int) -> dict[str, Any]:
    per_round = []
    with SakuinServer(index_dir, threads=2) as server:
        timed(server.port, paths)  # every query once, untimed: both arms then find warm caches
        for n in range(1, rounds + 1):
            if n % 2:  # the arms take turns at going first
                idle = timed(server.port, paths)
            with Trickle(server.port, slow) as trickle:
                loaded = timed(server.port, paths)
            if not n % 2:
                idle = timed(server.port, paths)
            row = {
                "idle": {"p50": percentile(idle, 50), "p95": percentile(idle, 95)},
                "slow": {"p50": percentile(loaded, 50), "p95": percentile(loaded, 95)},
                "failed": sum(1 for t in loaded if t == float("inf")),
                "reopened": trickle.reopened,
            }
            row["ratio_p95"] = row["slow"]["p95"] / row["idle"]["p95"]
            log(
                f"round {n}: p95 idle {row['idle']['p95']:.1f} ms, with {slow} slow clients "
                f"{row['slow']['p95']:.1f} ms (×{row['ratio_p95']:.2f}), {row['failed']} failed"
            )
            per_round.append(row)

    def median(key: str, stat: str | None = None) -> float:
        return statistics.median(r[key][stat] if stat else r[key] for r in per_round)

    return {
        "slow_clients": slow,
        "rounds": per_round,
        "median": {
            "idle_p50_ms": median("idle", "p50"),
            "idle_p95_ms": median("idle", "p95"),
            "slow_p50_ms": median("slow", "p50"),
            "slow_p95_ms": median("slow", "p95"),
            "ratio_p95": median("ratio_p95"),
            "failed": sum(r["failed"] for r in per_round),
        },
    }


def print_human(res: dict[str, Any]) -> None:
    m = res["median"]
    print(f"{res['searches']} searches × {len(res['rounds'])} rounds (medians over rounds)")
    print(f"  idle:                  p50 {m['idle_p50_ms']:.1f} ms  p95 {m['idle_p95_ms']:.1f} ms")
    label = f"{res['slow_clients']} slow clients:"
    print(f"  {label:<22} p50 {m['slow_p50_ms']:.1f} ms  p95 {m['slow_p95_ms']:.1f} ms")
    print(f"  p95 ratio: {m['ratio_p95']:.2f} (aim ≤ 2); searches that failed: {m['failed']}")


def main() -> int:
    parser = arguments(__doc__)
    parser.add_argument("--index-dir", type=Path, default=None, help="reuse this index")
    parser.add_argument("--slow", type=int, default=200, help="slow connections")
    parser.add_argument("--searches", type=int, default=200, help="searches timed per arm and round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sakuin-slow-") as tmp:
        index_dir, _ = ensure_index(args.index_dir, Path(tmp), args.data, args.limit)
        corpus = corpora.livedoor_jsonl(args.data, Path(tmp), args.limit)
        paths = urls_for(mixed_queries(corpus, args.searches))
        results = {"machine": machine_info(), "searches": len(paths), **run(index_dir, paths, args.slow, args.rounds)}
    return finish(results, args, print_human)


if __name__ == "__main__":
    sys.exit(main())
