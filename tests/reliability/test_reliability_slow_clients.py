"""A real ``sakuin serve`` (2 threads per worker, as by default) against clients that send slowly:
200 connections trickling their headers (slowloris) must not stop normal requests, a body that
trickles holds no thread either, a client out of time gets a 408 and is closed; the access log
cuts a huge request line; binding beyond loopback without --auth says every document is public."""

from __future__ import annotations

import contextlib
import http.client
import socket
import statistics
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.access import token_of, write_access, write_access_corpus
from support.paths import ROOT
from support.processes import Server, sakuin_cmd

from sakuin.search.embedded.writing.indexer import build_index
from sakuin.web.server import is_loopback

SLOW = 200
#: Normal searches timed, idle and under the slow clients.
SEARCHES = 40


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("slow")
    build_index([write_access_corpus(base / "docs")], base / "index", declare=[("category", "keyword")])
    return base / "index"


class Trickle:
    """``count`` connections that each send a request's headers one byte per ``interval`` seconds,
    reopened when the server closes one, until stopped."""

    def __init__(self, port: int, count: int, interval: float = 0.5) -> None:
        self.port, self.count, self.interval = port, count, interval
        self.request = b"GET /api/search?q=%E5%A0%B1%E5%91%8A HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 4000
        self.stop = threading.Event()
        self.reopened = 0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.open = threading.Event()

    def _connect(self) -> tuple[socket.socket, int]:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        s.setblocking(False)
        return s, 0

    def _run(self) -> None:
        conns = [self._connect() for _ in range(self.count)]
        self.open.set()
        while not self.stop.is_set():
            for i, (s, sent) in enumerate(conns):
                try:
                    s.send(self.request[sent : sent + 1])
                    conns[i] = (s, sent + 1)
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:  # closed by the server (its time was up): open another
                    s.close()
                    conns[i] = self._connect()
                    self.reopened += 1
            self.stop.wait(self.interval)
        for s, _ in conns:
            s.close()

    def __enter__(self) -> Trickle:
        self.thread.start()
        assert self.open.wait(30)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(30)


def _timed_searches(port: int, n: int) -> list[float]:
    """Seconds each of ``n`` searches took (a new connection each, as a browser's first request)."""
    out = []
    for i in range(n):
        q = urllib.parse.quote(["報告", "ゾルバニア", "詳細な報告", "定例"][i % 4])
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        conn.request("GET", f"/api/search?q={q}")
        response = conn.getresponse()
        assert response.status == 200
        response.read()
        conn.close()
        out.append(time.monotonic() - started)
    return out


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def test_two_hundred_slow_clients_do_not_stop_normal_requests(index: Path) -> None:
    with Server(index, threads=2) as server:
        _timed_searches(server.port, 10)  # warm
        idle = _timed_searches(server.port, SEARCHES)
        with Trickle(server.port, SLOW):
            time.sleep(2)  # every slow connection has started its headers
            loaded = _timed_searches(server.port, SEARCHES)
            health = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            health.request("GET", "/healthz")
            assert health.getresponse().status == 200
        print(f"search p95 idle {_p95(idle) * 1000:.1f} ms, with {SLOW} slow clients {_p95(loaded) * 1000:.1f} ms")
        # Every request answered, none waiting for a thread a slow client holds (that took 20 s and
        # more before); the 2× figure is measured by bench/slow_clients.py on a quiet machine.
        assert max(loaded) < 5.0
        assert _p95(loaded) < max(4 * _p95(idle), _p95(idle) + 0.5)


def test_a_client_out_of_time_gets_a_408_and_a_slow_body_holds_no_thread(index: Path) -> None:
    with Server(index, threads=1, env={"SAKUIN_READ_TIMEOUT": "2"}, args=("--workers", "1")) as server:
        slow_head = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        slow_head.sendall(b"GET /api/stats HTTP/1.1\r\nHost: x\r\n")
        slow_body = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        slow_body.sendall(
            b"POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        # One worker, one thread: both slow clients are waiting, and the thread is free.
        assert _timed_searches(server.port, 3)
        started = time.monotonic()
        answer = slow_head.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408") and b"request_timeout" in answer
        assert time.monotonic() - started < 5
        assert slow_body.recv(4096).startswith(b"HTTP/1.1 408")
        big = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        big.sendall(b"POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n")
        assert big.recv(4096).startswith(b"HTTP/1.1 413")  # refused before a byte of it is read
        pipelined = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        pipelined.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.5)
        assert pipelined.recv(65536).count(b"HTTP/1.1 200") == 2
        for s in (slow_head, slow_body, big, pipelined):
            s.close()


def test_the_access_log_cuts_a_huge_request_line(index: Path) -> None:
    with Server(index, threads=2) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
        conn.request("GET", "/api/search?q=" + "x" * 180_000)
        assert conn.getresponse().status == 414
        conn.close()
        time.sleep(0.5)
        lines = [line for line in server.output().splitlines() if "/api/search?q=xxx" in line]
        assert len(lines) == 1 and len(lines[0]) < 2300, len(lines[0]) if lines else None
        assert "…(+" in lines[0] and " 414 " in lines[0]


@contextlib.contextmanager
def _serving(*args: str) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        sakuin_cmd("serve", *args), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_binding_beyond_loopback_without_auth_warns_and_a_bad_access_file_stops(index: Path, tmp_path: Path) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("")
    with _serving("--index-dir", str(index), "--host", "0.0.0.0", "--port", "0") as proc:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "without --auth" in line and "every document" in line
    access = write_access(tmp_path / "access.toml", {"hana": ["hr"]}, [{"path": "hr/", "groups": ["hr"]}])
    with _serving("--index-dir", str(index), "--host", "0.0.0.0", "--port", "0", "--auth", str(access)) as proc:
        assert proc.stdout is not None
        assert "serving" in proc.stdout.readline()
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        assert "without --auth" not in err
    bad = tmp_path / "bad.toml"
    bad.write_text("default = 'sometimes'\n", encoding="utf-8")
    done = subprocess.run(
        sakuin_cmd("serve", "--index-dir", str(index), "--port", "0", "--auth", str(bad)),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "default must be" in done.stderr


def test_add_user_prints_the_token_once_and_keeps_only_its_hash(index: Path, tmp_path: Path) -> None:
    access = tmp_path / "team.toml"
    made = subprocess.run(
        sakuin_cmd("auth", "add-user", "aiko", "--group", "hr", "--group", "legal", "--auth", str(access)),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert len(token) >= 40 and token not in access.read_text(encoding="utf-8")
    assert oct(access.stat().st_mode & 0o777) == "0o600"
    again = subprocess.run(
        sakuin_cmd("auth", "add-user", "aiko", "--auth", str(access)), cwd=ROOT, capture_output=True, text=True
    )
    assert again.returncode == 2 and "already" in again.stderr and again.stdout == ""
    bad = subprocess.run(
        sakuin_cmd("auth", "add-user", "two words", "--auth", str(access)), cwd=ROOT, capture_output=True, text=True
    )
    assert bad.returncode == 2 and bad.stderr.startswith("sakuin: bad user name")
    with Server(index, threads=2, args=("--auth", str(access))) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
        conn.request("GET", "/api/stats", headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        # A new file denies by default and has no rules yet: signed in, aiko reads nothing.
        assert response.status == 200 and b'"documents":0,' in response.read().replace(b" ", b"")
        conn.request("GET", "/api/stats", headers={"Authorization": f"Bearer {token_of('aiko')}"})
        assert conn.getresponse().status == 401
