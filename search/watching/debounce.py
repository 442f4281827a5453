"""When to update: a quiet period after the last change, a bound on the delay, back-off after failures.

Pure logic over a monotonic clock that the caller passes in, so the rules are
tested without sleeping.

Design decisions:

* **Quiet period** (``WATCH_QUIET``, 1 s): an update starts once no change has
  arrived for this long. Copying a thousand files or switching a git branch
  sends its events in a burst with gaps of milliseconds, so the burst becomes one
  update; a person saving a file waits one quiet period, which is most of what
  "saved to searchable" costs.
* **Bounded delay** (``WATCH_MAX_DELAY``, 30 s): changes that never pause (a log
  written every 100 ms, a copy of 100,000 files) would postpone a quiet-period
  update forever, so one starts anyway once the oldest change not yet indexed is
  this old.
* **The slate is cleared when an update starts, not when it ends:** an update
  reads the folders from scratch, so changes that arrive while it runs may or may
  not be in what it reads; they count for the next update, so none is lost.
* **Back-off** after a failed update (disk full, a cluster down): the next
  attempt waits 2 s, then twice as long each time up to 5 minutes, whatever
  arrives meanwhile; a success starts over. Retrying at once would hammer a full
  disk; never retrying would leave the index stale until the next change.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Debouncer:
    """Changes seen since the last update started, and when an update is due."""

    quiet: float
    max_delay: float
    first: float | None = None
    last: float | None = None
    count: int = 0

    def note(self, at: float, count: int = 1) -> None:
        """``count`` changes seen at ``at``."""
        if self.first is None:
            self.first = at
        self.last = at if self.last is None else max(self.last, at)
        self.count += count

    @property
    def pending(self) -> bool:
        return self.first is not None

    def due_at(self) -> float | None:
        """When an update is due (None: nothing pending)."""
        if self.first is None or self.last is None:
            return None
        return min(self.last + self.quiet, self.first + self.max_delay)

    def due(self, now: float) -> bool:
        at = self.due_at()
        return at is not None and now >= at

    def take(self) -> int:
        """Start an update: the pending changes are its; returns how many there were."""
        count = self.count
        self.first = self.last = None
        self.count = 0
        return count


@dataclass
class Backoff:
    """Waits between attempts after failures: ``first``, doubling, at most ``longest``."""

    first: float
    longest: float
    failures: int = 0
    retry_at: float | None = None

    def failed(self, now: float) -> float:
        """Record a failure at ``now``; returns the seconds until the next attempt."""
        self.failures += 1
        delay = min(self.longest, self.first * 2 ** (self.failures - 1))
        self.retry_at = now + delay
        return delay

    def succeeded(self) -> None:
        self.failures = 0
        self.retry_at = None

    def waiting(self, now: float) -> bool:
        """Whether an attempt must still wait."""
        return self.retry_at is not None and now < self.retry_at


__all__ = ["Backoff", "Debouncer"]
