"""``sakuin serve --watch PATH...``: a ``sakuin watch`` process beside the server.

Design decisions:

* **A child process, not a thread of the server.** gunicorn's master forks its
  workers, and an update forks analysis workers; a watcher thread in the master
  would fork workers while it holds locks, and would share the master's signal
  handling. ``sakuin watch`` as a child is exactly the watcher a user runs by
  hand, with its own log lines on the same terminal.
* **It ends with the server:** the server stops it (SIGTERM) when it stops, and
  the watcher also ends on its own if the server is killed (``--parent-pid``: it
  checks every heartbeat that its parent is still the server).
* **The index is built before the server starts** when there is none yet, so the
  first page served is a search page, not "no index"; if the watcher ends before
  that (a typo in a metadata option, an unreachable cluster) the server does not
  start, and says so in one line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sakuin.search.backend import is_cluster, open_engine
from sakuin.search.errors import SakuinError


class WatcherProcess:
    """``sakuin watch PATHS --backend TARGET`` as a child of this process."""

    def __init__(self, paths: list[Path], target: str | Path, poll: float | None = None) -> None:
        where = str(target) if is_cluster(target) else str(Path(target).absolute())
        self.command = [
            sys.executable,
            "-m",
            "sakuin",
            "watch",
            *(str(Path(p).absolute()) for p in paths),
            "--backend",
            where,
            "--parent-pid",
            str(os.getpid()),
            *(["--poll", str(poll)] if poll else []),
        ]
        self.target = target
        #: The server's process: only it stops the watcher (gunicorn's workers leave through the same code).
        self.parent = os.getpid()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(self.command, stdin=subprocess.DEVNULL)

    def wait_for_index(self, pause: float = 0.2) -> None:
        """Return once the index opens; raise ``watcher_failed`` if the watcher ends first."""
        engine = open_engine(self.target)
        try:
            while True:
                with contextlib.suppress(Exception):
                    engine.ready()
                    return
                if self.proc is not None and self.proc.poll() is not None:
                    raise SakuinError("watcher_failed", status=self.proc.returncode)
                time.sleep(pause)
        finally:
            engine.close()

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM, and SIGKILL if it has not ended within ``timeout`` seconds."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


__all__ = ["WatcherProcess"]
