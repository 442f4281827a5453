"""``sakuin watch``: keep an index equal to its folders.

The watcher runs the same incremental update as ``sakuin index``
(``IndexBackend.build``: change detection by content hash, JSONL records by
record hash, the remembered metadata declaration, the writer lock, a private
version published atomically) whenever the folders change, and only then.

The loop, in one thread (watchdog's observers and the heartbeat have their own):

1. start: watch every path given, then bring the index up to date at once
   (changes made while no watcher ran);
2. collect changes (``events.ChangeFeed``) until one is due (``debounce``: a
   quiet second, at most 30 s under a storm), checking every second that each
   path is still there (``roots``);
3. update: every path that is there, in one run, trigger ``watch``; one log line
   says what changed; the state document (``state``) says what the watcher is doing;
4. on failure (disk full, a cluster down, a file changing while it is read) the
   previous index keeps serving, the error is logged and the update is tried
   again with back-off (``debounce.Backoff``);
5. on SIGTERM or Ctrl+C: stop watching, mark the state stopped. An update in
   progress is abandoned; its private version is removed (by it, or by the next
   writer if it was killed), so the live index is untouched.

Design decisions:

* **Updates in this process**, not a ``sakuin index`` per update: Sudachi's
  dictionary and the analysis set-up stay loaded, so a one-file update costs
  a fifth of a second on a livedoor-size index instead of seconds.
* **Two watchers on one index**: each update takes the writer lock like any
  ``sakuin index``; a watcher that finds it taken says it is waiting and waits
  (then usually finds the other's update already did its work).
* **Every update reads all the folders**, not just the paths the events named:
  that is what makes the watcher exactly ``sakuin index`` (renames, moved
  folders, lost events and changes during an update all come out right), and on
  livedoor (7,367 files) hashing them all takes about 0.15 s.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sakuin.search.backend import IndexBackend, StatusStore, is_cluster, open_indexer, open_status
from sakuin.search.config import WATCH_RETRY_FIRST, WATCH_RETRY_MAX, WATCH_ROOT_CHECK, watch_max_delay, watch_quiet
from sakuin.search.documents.metadata import Kind
from sakuin.search.errors import EXIT_USAGE, IndexBusy, SakuinError
from sakuin.search.indexing.history import now_iso
from sakuin.search.indexing.report import IndexReport, Progress
from sakuin.search.watching.debounce import Backoff, Debouncer
from sakuin.search.watching.events import ChangeFeed, Observers
from sakuin.search.watching.roots import BACK, MISSING, REPLACED, Root
from sakuin.search.watching.state import StateWriter, WatcherState, prune

#: ``echo(line, error)``: where the watcher's log lines go.
Echo = Callable[[str, bool], None]
#: Paths a log line names per kind of change.
NAMED = 3


def stamp() -> str:
    """Local time for a log line."""
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _echo(line: str, error: bool = False) -> None:
    """Routine lines on stdout, failures and warnings on stderr."""
    print(line, file=sys.stderr if error else sys.stdout, flush=True)


class Watcher:
    """Watches ``paths`` and keeps the index at ``target`` (a directory or node URLs) equal to them."""

    def __init__(
        self,
        paths: Iterable[Path],
        target: str | Path,
        *,
        poll: float | None = None,
        declare: Iterable[tuple[str, Kind]] = (),
        procs: int | None = None,
        quiet: float | None = None,
        max_delay: float | None = None,
        echo: Echo = _echo,
        progress: Progress | None = None,
        parent: int | None = None,
        indexer: IndexBackend | None = None,
        store: StatusStore | None = None,
    ) -> None:
        self.roots = [Root(Path(p).absolute()) for p in paths]
        self.target = target
        self.indexer = indexer or open_indexer(target)
        self.store = store or open_status(target)
        self.declare = list(declare)
        self.procs = procs
        self.echo = echo
        self.progress = progress
        self.parent = parent
        exclude = [] if is_cluster(target) else [Path(target)]
        self.feed = ChangeFeed([r.path for r in self.roots], exclude)
        self.observers = Observers(self.feed, poll)
        self.debounce = Debouncer(
            watch_quiet() if quiet is None else quiet, watch_max_delay() if max_delay is None else max_delay
        )
        self.backoff = Backoff(WATCH_RETRY_FIRST, WATCH_RETRY_MAX)
        self.writer = StateWriter(self.store, WatcherState([str(r.path) for r in self.roots], self.observers.mode))
        self.updates = 0
        self._stopping = False

    # -- the loop ---------------------------------------------------------------------------

    def run(self) -> None:
        """Watch until ``stop()``, SIGTERM (if the caller turned it into KeyboardInterrupt) or Ctrl+C."""
        self.observers.start()
        for root in self.roots:
            if root.check() == MISSING:
                self._say_missing(root)
            else:
                self.observers.watch(root.path)
        self.writer.state.mode = self.observers.mode
        self._notes()
        prune(self.store)
        self.writer.set(state="idle", missing=self._missing())
        self.writer.start(tick=self._check_parent)
        names = ", ".join(_shown(r.path) for r in self.roots)
        self.echo(
            f"{stamp()} watch: watching {names} ({self.observers.mode}) into {self.target}; Ctrl+C to stop", False
        )
        # Catch up at once with what changed while no watcher ran.
        self.debounce.note(time.monotonic() - self.debounce.quiet)
        try:
            while not self._stopping:
                self._step()
        except KeyboardInterrupt:
            pass
        finally:
            self.observers.stop()
            self.writer.stop()
            self.writer.set(state="stopped", pending=self.debounce.count)
            self.echo(f"{stamp()} watch: stopped", False)

    def stop(self) -> None:
        """Stop after the current step (from another thread)."""
        self._stopping = True
        self.feed.wake()

    def _step(self) -> None:
        now = time.monotonic()
        self._check_roots()
        present = [r for r in self.roots if not r.missing]
        if self.debounce.due(now) and not self.backoff.waiting(now) and present:
            self._update([r.path for r in present])
            return
        timeout = WATCH_ROOT_CHECK
        due = self.debounce.due_at()
        if due is not None and present:
            if self.backoff.retry_at is not None:
                due = max(due, self.backoff.retry_at)
            timeout = min(timeout, max(0.0, due - now))
        arrived = self.feed.wait(timeout)
        for at in arrived:
            self.debounce.note(at)
        if arrived and self.writer.state.state == "idle":
            self.writer.set(state="pending", pending=self.debounce.count, pending_since=now_iso())
        elif arrived:
            self.writer.state.pending = self.debounce.count  # written with the next heartbeat

    def _check_roots(self) -> None:
        for root in self.roots:
            change = root.check()
            if change == MISSING:
                self.observers.unwatch(root.path)
                self._say_missing(root)
                self.writer.set(missing=self._missing())
            elif change in (BACK, REPLACED):
                self.observers.watch(root.path)
                self._notes()
                if change == BACK:
                    self.echo(f"{stamp()} watch: {_shown(root.path)} is back; bringing it up to date", False)
                    self.writer.set(missing=self._missing())
                self.debounce.note(time.monotonic())

    def _say_missing(self, root: Root) -> None:
        why = "now on another file system (an unmounted share?)" if root.why == "other_fs" else "missing"
        self.echo(
            f"{stamp()} watch: {_shown(root.path)} is {why}; its documents are kept until it returns",
            True,
        )

    def _missing(self) -> dict[str, str]:
        return {str(r.path): r.why for r in self.roots if r.missing}

    def _notes(self) -> None:
        for note in self.observers.notes:
            self.echo(f"{stamp()} watch: {note}", True)
        self.writer.state.notes = [*self.writer.state.notes, *self.observers.notes][-10:]
        self.observers.notes.clear()

    def _check_parent(self) -> None:
        """From the heartbeat thread: a watcher started by ``sakuin serve --watch`` ends with it."""
        if self.parent is not None and os.getppid() != self.parent:
            os.kill(os.getpid(), signal.SIGTERM)

    # -- one update -------------------------------------------------------------------------

    def _update(self, paths: list[Path]) -> None:
        count = self.debounce.take()
        self.writer.set(state="updating", pending=0, pending_since=None)
        try:
            report = self._build(paths)
        except SakuinError as exc:
            if exc.exit == EXIT_USAGE:
                raise  # a bad declaration (--facet): no retry will fix it
            self._failed(exc)
            return
        except Exception as exc:
            self._failed(exc)
            return
        self.backoff.succeeded()
        self.updates += 1
        self.progress = None  # the first update's bar only
        self.echo(f"{stamp()} watch: {describe(report, self.roots, count)}", False)
        checked = now_iso()
        pending = self.debounce.count
        self.writer.set(
            state="pending" if pending else "idle",
            pending=pending,
            pending_since=checked if pending else None,
            last_check=checked,
            last_change=self.writer.state.last_change if report.up_to_date else checked,
            updates=self.updates,
            failures=0,
            error=None,
            retry_at=None,
        )

    def _failed(self, exc: Exception) -> None:
        """The previous index keeps serving; say so, and try again after a back-off."""
        delay = self.backoff.failed(time.monotonic())
        self.debounce.note(time.monotonic())  # the work is still to be done
        retry = datetime.fromtimestamp(time.time() + delay).astimezone()
        said = str(exc).removesuffix("; previous index kept").removesuffix("; previous kept")
        # The state first: whoever reads the line may then read the failure in the status.
        self.writer.set(
            state="retrying",
            failures=self.backoff.failures,
            error=str(exc) or type(exc).__name__,
            retry_at=retry.isoformat(timespec="seconds"),
        )
        self.echo(
            f"{stamp()} watch: update failed: {said}; the index is unchanged; "
            f"trying again in {delay:.0f} s (attempt {self.backoff.failures + 1})",
            True,
        )

    def _build(self, paths: list[Path]) -> IndexReport:
        """One update; if another writer holds the lock, say so and wait for it."""
        options: dict[str, Any] = {
            "procs": self.procs,
            "progress": self.progress,
            "declare": self.declare,
            "trigger": "watch",
        }
        try:
            return self.indexer.build(paths, wait=False, **options)
        except IndexBusy:
            self.echo(f"{stamp()} watch: another writer is updating the index; waiting for it", False)
            self.writer.set(state="waiting")
            result = self.indexer.build(paths, wait=True, **options)
            self.writer.set(state="updating")
            return result


def _shown(path: Path) -> str:
    """A path as a log line names it: relative to the working folder when it is below it."""
    try:
        return str(path.relative_to(Path.cwd())) or "."
    except ValueError:
        return str(path)


def _relative(key: str, roots: list[Root]) -> str:
    for root in roots:
        base = str(root.path)
        if key.startswith(base.rstrip(os.sep) + os.sep):
            return key[len(base.rstrip(os.sep)) + 1 :]
        if key == base:
            return root.path.name
    return key


def _named(keys: list[str], roots: list[Root]) -> str:
    shown = ", ".join(_relative(k, roots) for k in keys[:NAMED])
    more = f" +{len(keys) - NAMED} more" if len(keys) > NAMED else ""
    return f" ({shown}{more})"


def describe(report: IndexReport, roots: list[Root], changes: int = 0) -> str:
    """One update as one log line: what changed (a few names), the totals, the version, the time."""
    seconds = f"{report.seconds:.1f} s"
    skipped = f"; {len(report.skipped)} skipped" if report.skipped else ""
    if report.up_to_date:
        files = report.unchanged
        return f"no change ({files:,} file{'s' if files != 1 else ''} checked in {seconds}){skipped}"
    parts = []
    for what, keys in (("added", report.added), ("changed", report.changed), ("removed", report.removed)):
        if keys:
            parts.append(f"{len(keys):,} {what}{_named(keys, roots)}")
    records = {k: sum(c.get(k, 0) for c in report.records.values()) for k in ("added", "changed", "removed")}
    if any(records.values()):
        parts.append("records " + ", ".join(f"{n:,} {k}" for k, n in records.items() if n))
    what = "; ".join(parts) or ("rebuilt" if report.rebuilt else "re-derived")
    return f"updated {report.version} in {seconds}: {what}; {report.documents:,} documents{skipped}" + (
        f" ({changes:,} changes noticed)" if changes > 1 else ""
    )


__all__ = ["Watcher", "describe", "stamp"]
