"""The operating system's change notifications, through watchdog, as one feed of changes.

watchdog is the well-kept library for this: inotify on Linux, FSEvents on macOS,
ReadDirectoryChangesW on Windows, and a polling observer that compares snapshots
of the folders (for network mounts, where notifications do not arrive: ``--poll
SECONDS``). Its observers call ``ChangeFeed`` from their own threads; the
watcher's loop takes what has arrived with ``wait``.

Design decisions:

* **Only changes count.** The feed asks for created, deleted, modified, moved and
  closed-after-writing events, never opened or closed-without-writing: an update
  reads every file to hash it, and those reads must not look like changes (the
  watcher would update forever).
* **The same files as the indexer.** A change counts when it is under a watched
  folder (or is a watched file), not in a hidden file or folder (the walker skips
  them, as it skips editors' swap files), and not in the index's own folder
  (which a run writes into). A move counts if either end does.
* **Nothing is lost when the kernel drops events** (inotify's queue overflows):
  watchdog says so with an ``EventsLostEvent``, which counts as a change; an
  update reads the folders from scratch anyway.
* **A folder that cannot be watched natively** (the inotify watch limit,
  ``fs.inotify.max_user_watches``, is reached) is polled instead, every
  ``FALLBACK_POLL`` seconds, and the watcher says so, rather than failing or
  silently missing changes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    EventsLostEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.observers.polling import PollingObserver

#: The events a watch asks for (see the module's design decisions).
WATCHED = [
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileClosedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    EventsLostEvent,
]
#: How often a folder that cannot be watched natively is polled instead (seconds).
FALLBACK_POLL = 5.0

_NATIVE = {
    "InotifyObserver": "inotify",
    "FSEventsObserver": "FSEvents",
    "KqueueObserver": "kqueue",
    "WindowsApiObserver": "ReadDirectoryChangesW",
}

log = logging.getLogger(__name__)


def _text(path: Any) -> str:
    return os.fsdecode(path)


class ChangeFeed(FileSystemEventHandler):
    """Collects the changes that matter from watchdog's threads; ``wait`` hands them over."""

    def __init__(self, roots: list[Path], exclude: list[Path] | None = None) -> None:
        self.roots = [(str(r), r.is_dir()) for r in roots]
        self.exclude = _excluded_prefixes(roots, exclude or [])
        self._arrived: list[float] = []
        self._cond = threading.Condition()

    # -- from watchdog's threads ---------------------------------------------------------

    def on_any_event(self, event: FileSystemEvent) -> None:
        if isinstance(event, EventsLostEvent):
            self._add()
            return
        if event.event_type not in ("created", "deleted", "modified", "moved", "closed"):
            return
        if event.is_directory and event.event_type == "modified":
            return  # its entries' own events say what changed
        ends = [_text(event.src_path)]
        if getattr(event, "dest_path", ""):
            ends.append(_text(event.dest_path))
        if any(self.counts(p) for p in ends):
            self._add()

    def counts(self, path: str) -> bool:
        """Whether a change at ``path`` can change what the indexer reads."""
        if any(path == x or path.startswith(x + os.sep) for x in self.exclude):
            return False
        for root, is_dir in self.roots:
            if path == root:
                return True
            if is_dir and path.startswith(root.rstrip(os.sep) + os.sep):
                rel = path[len(root.rstrip(os.sep)) + 1 :]
                return not any(part.startswith(".") for part in rel.split(os.sep))
        return False

    def _add(self) -> None:
        with self._cond:
            self._arrived.append(time.monotonic())
            self._cond.notify_all()

    # -- from the watcher's loop -------------------------------------------------------------

    def wait(self, timeout: float) -> list[float]:
        """The arrival times (monotonic) of the changes since the last call, waiting up to
        ``timeout`` seconds for the first one."""
        with self._cond:
            if not self._arrived and timeout > 0:
                self._cond.wait(timeout)
            arrived, self._arrived = self._arrived, []
        return arrived

    def wake(self) -> None:
        """End a ``wait`` now (the watcher is stopping)."""
        with self._cond:
            self._cond.notify_all()


def _excluded_prefixes(roots: list[Path], exclude: list[Path]) -> list[str]:
    """The excluded folders as events name them: as given, resolved, and through each root's
    own spelling (an index inside a folder reached through a symbolic link)."""
    out: set[str] = set()
    for folder in exclude:
        absolute, real = os.path.abspath(folder), os.path.realpath(folder)
        out.update((absolute, real))
        for root in roots:
            root_abs, root_real = os.path.abspath(root), os.path.realpath(root)
            if real == root_real or real.startswith(root_real + os.sep):
                out.add(os.path.normpath(os.path.join(root_abs, os.path.relpath(real, root_real))))
    return sorted(out)


class Observers:
    """watchdog's observer (native, or polling with ``poll`` seconds) and one watch per folder.

    A watched file is watched through its folder (not recursively), so an editor
    that saves by writing a new file and renaming it over the old one is seen.
    """

    def __init__(self, feed: ChangeFeed, poll: float | None = None) -> None:
        self.feed = feed
        self.poll = poll
        self.main: BaseObserver = PollingObserver(timeout=poll) if poll else Observer()
        self.fallback: BaseObserver | None = None
        self.watches: dict[str, tuple[BaseObserver, ObservedWatch]] = {}
        self.notes: list[str] = []
        self._lock = threading.Lock()

    @property
    def mode(self) -> str:
        """How changes are noticed, for people: ``inotify``, or ``polling every 5 s``."""
        if self.poll:
            return f"polling every {self.poll:g} s"
        name = _NATIVE.get(type(self.main).__name__, "polling every 1 s")
        if self.fallback is not None:
            name += f" (some folders polled every {FALLBACK_POLL:g} s)"
        return name

    def start(self) -> None:
        self.main.start()

    def watch(self, root: Path) -> None:
        """Watch ``root`` (again): a folder recursively, a file through its folder."""
        with self._lock:
            self._unwatch(root)
            where, recursive = (str(root), True) if root.is_dir() else (str(root.parent), False)
            try:
                handle = self.main.schedule(self.feed, where, recursive=recursive, event_filter=WATCHED)
                self.watches[str(root)] = (self.main, handle)
                return
            except OSError as exc:
                if self.poll:
                    self.notes.append(f"{root}: cannot be read for changes ({exc.strerror or exc})")
                    return
                self.notes.append(
                    f"{root}: cannot be watched by {self.mode} ({exc.strerror or exc}); polled every "
                    f"{FALLBACK_POLL:g} s instead (on Linux, raise fs.inotify.max_user_watches)"
                )
            if self.fallback is None:
                self.fallback = PollingObserver(timeout=FALLBACK_POLL)
                self.fallback.start()
            try:
                handle = self.fallback.schedule(self.feed, where, recursive=recursive, event_filter=WATCHED)
            except OSError as exc:
                self.notes.append(f"{root}: cannot be read for changes ({exc.strerror or exc})")
                return
            self.watches[str(root)] = (self.fallback, handle)

    def unwatch(self, root: Path) -> None:
        with self._lock:
            self._unwatch(root)

    def _unwatch(self, root: Path) -> None:
        found = self.watches.pop(str(root), None)
        if found is not None:
            observer, handle = found
            with contextlib.suppress(Exception):  # its emitter may have stopped with the folder
                observer.unschedule(handle)

    def stop(self) -> None:
        for observer in (self.main, self.fallback):
            if observer is not None:
                with contextlib.suppress(Exception):
                    observer.stop()
        for observer in (self.main, self.fallback):
            if observer is not None and observer.is_alive():
                observer.join(timeout=5)


__all__ = ["FALLBACK_POLL", "WATCHED", "ChangeFeed", "Observers"]
