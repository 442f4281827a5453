"""Processes the tests start and watch: ``sakuin`` as users run it, process groups,
``sakuin serve`` on a free port (``Server``), and plain HTTP.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from support.paths import ROOT


def sakuin_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "sakuin", *args]


def sakuin(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(sakuin_cmd(*args), capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def group_alive(pgid: int) -> list[int]:
    """Pids of live (non-zombie) processes in process group ``pgid``, read from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


def wait_group_gone(pgid: int, timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while (alive := group_alive(pgid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Server:
    """``sakuin serve`` as a subprocess on 127.0.0.1 and a free port."""

    def __init__(
        self, index_dir: Path, threads: int = 8, env: dict[str, str] | None = None, args: tuple[str, ...] = ()
    ) -> None:
        """``env`` adds to the environment; tests play many clients from 127.0.0.1, so the
        per-client limit on concurrent searches is lifted unless ``env`` sets it."""
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = index_dir.parent / f"serve-{self.port}.log"
        self._log = open(self.log, "wb")  # noqa: SIM115 — closed in stop()
        self.proc = subprocess.Popen(
            sakuin_cmd(
                "serve", "--index-dir", str(index_dir), "--port", str(self.port), "--threads", str(threads), *args
            ),
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "SAKUIN_CLIENT_CONCURRENCY": "64", **(env or {})},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                if http_get(self.base + "/healthz", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError("server did not become ready: " + self.output())

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                kill_group(self.proc.pid)
                self.proc.wait()
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def iter_lines(path: Path) -> Iterator[str]:
    yield from path.read_text(encoding="utf-8", errors="replace").splitlines()
