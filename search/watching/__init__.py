"""Keeping an index current: ``sakuin watch`` and what the status page shows.

* ``watcher.py``: ``Watcher``, the loop that updates the index when the folders change;
* ``events.py``: watchdog's notifications (inotify, FSEvents, polling) as one feed of changes;
* ``debounce.py``: when an update is due (a quiet period, a bounded delay) and back-off after failures;
* ``roots.py``: the paths given, and a path that disappears (an unmounted share);
* ``state.py``: each watcher's state document;
* ``status.py``: the status report (``sakuin status``, ``GET /api/status``, ``/status``).

Backend-neutral: the watcher writes through ``IndexBackend.build`` and keeps its
state in the index's ``StatusStore`` (``sakuin.search.backend``).
"""

from sakuin.search.watching.status import status_report
from sakuin.search.watching.watcher import Watcher

__all__ = ["Watcher", "status_report"]
