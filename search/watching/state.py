"""A watcher's state as ``sakuin status`` and the status page show it.

Each watcher keeps one document in the index's ``StatusStore``
(``watcher-HOST-PID``): what it watches and how, what it is doing (``idle``,
``pending``, ``updating``, ``waiting`` for another writer, ``retrying`` after a
failure, ``stopped``), the changes not yet indexed, its last update and its last
error. It rewrites the document on every change of state and every
``WATCH_HEARTBEAT`` seconds.

Design decisions:

* **A reader decides whether a watcher still runs**, because a killed watcher
  cannot say it stopped: one whose process is gone (same machine) or whose
  document is older than three heartbeats (any machine) is shown as ``gone``.
  The heartbeat is written by its own thread, so a long update does not make a
  live watcher look dead.
* **Bounded:** a watcher that starts removes the documents of watchers that are
  no longer running beyond the ``KEEP_STOPPED`` most recent.
* Writing the document is best effort, like the run history: a full disk is
  reported by the watcher's log line, not made worse by a failing status write.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sakuin.search.config import WATCH_HEARTBEAT
from sakuin.search.indexing.history import StatusStore, now_iso

#: Prefix of the watchers' document names.
PREFIX = "watcher-"
#: Documents of watchers no longer running that a starting watcher keeps (the newest).
KEEP_STOPPED = 3
#: The states, in words for the status page's legend.
STATES = ("idle", "pending", "updating", "waiting", "retrying", "stopped", "gone")

log = logging.getLogger(__name__)


@dataclass
class WatcherState:
    """One watcher's document."""

    paths: list[str]
    mode: str
    id: str = field(default_factory=lambda: f"{PREFIX}{socket.gethostname()}-{os.getpid()}")
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    started: str = field(default_factory=now_iso)
    heartbeat: str = field(default_factory=now_iso)
    state: str = "idle"
    since: str = field(default_factory=now_iso)
    #: Changes noticed and not yet in an update, and when the first of them arrived.
    pending: int = 0
    pending_since: str | None = None
    #: Paths given that are missing (an unmounted share), and why.
    missing: dict[str, str] = field(default_factory=dict)
    #: The last update that finished (whatever it found), and the last that changed the index.
    last_check: str | None = None
    last_change: str | None = None
    updates: int = 0
    #: Failed attempts in a row, the last error and when the next attempt is due.
    failures: int = 0
    error: str | None = None
    retry_at: str | None = None
    notes: list[str] = field(default_factory=list)


class StateWriter:
    """Keeps one watcher's document current: on every change, and every heartbeat from a thread."""

    def __init__(self, store: StatusStore, state: WatcherState) -> None:
        self.store = store
        self.state = state
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._warned = False

    def set(self, **changes: Any) -> None:
        """Change fields (``state`` also moves ``since``) and write the document."""
        with self._lock:
            if "state" in changes and changes["state"] != self.state.state:
                self.state.since = now_iso()
            for name, value in changes.items():
                setattr(self.state, name, value)
        self.save()

    def save(self) -> None:
        with self._lock:
            self.state.heartbeat = now_iso()
            data = asdict(self.state)
            try:
                self.store.write(self.state.id, data)
            except Exception as exc:  # best effort (module doc)
                if not self._warned:
                    self._warned = True
                    log.warning("sakuin: the watcher's state could not be written (%s)", exc)
                return
            self._warned = False

    def start(self, every: float = WATCH_HEARTBEAT, tick: Any = None) -> None:
        """Write the document every ``every`` seconds from a daemon thread; ``tick()`` is called too."""

        def beat() -> None:
            while not self._stop.wait(every):
                self.save()
                if tick is not None:
                    tick()

        self._thread = threading.Thread(target=beat, name="sakuin-watch-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _age(iso: str | None) -> float:
    if not iso:
        return float("inf")
    try:
        return time.time() - datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return float("inf")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def running(doc: dict[str, Any], heartbeat: float = WATCH_HEARTBEAT) -> bool:
    """Whether the watcher of ``doc`` still runs (module doc)."""
    if doc.get("state") == "stopped":
        return False
    if _age(doc.get("heartbeat")) > 3 * heartbeat:
        return False
    if doc.get("host") == socket.gethostname() and isinstance(doc.get("pid"), int):
        return _process_alive(doc["pid"])
    return True


def read_watchers(store: StatusStore) -> list[dict[str, Any]]:
    """Every watcher's document, running ones first, each with ``running`` and its state
    (``gone`` for one that stopped without saying so)."""
    out = []
    for name in store.names(PREFIX):
        doc = store.read(name)
        if not isinstance(doc, dict):
            continue
        alive = running(doc)
        doc = {**doc, "running": alive}
        if not alive and doc.get("state") != "stopped":
            doc["state"] = "gone"
        out.append(doc)
    out.sort(key=lambda d: (not d["running"], _age(d.get("heartbeat"))))
    return out


def prune(store: StatusStore, keep: int = KEEP_STOPPED) -> None:
    """Remove the documents of watchers no longer running, but the ``keep`` newest."""
    with contextlib.suppress(Exception):
        gone = [d for d in read_watchers(store) if not d["running"]]
        for doc in gone[keep:]:
            store.remove(doc["id"])


__all__ = ["KEEP_STOPPED", "PREFIX", "STATES", "StateWriter", "WatcherState", "prune", "read_watchers", "running"]
