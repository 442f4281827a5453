"""The paths a watcher was given, and what to do when one disappears.

A folder that disappears is far more often an unmounted share, a disconnected
disk or a folder being replaced than a collection its owner deleted for good, and
removing its documents would empty the search for the time the share is away (and
re-analyse everything when it returns). So a path given to ``sakuin watch`` that
disappears is **missing**, not deleted: updates leave it out (files outside a
run's paths keep their documents, as ``sakuin index`` does for paths it was not
given), and when it returns it is watched again and brought up to date.

Design decisions:

* **An unmounted share can leave an empty folder behind** (its mount point). A
  path whose file system is no longer the one it was on when the watcher first
  saw it counts as missing too, until it is back on that file system.
* **A folder replaced by another** (same path, new folder: ``mv new docs``) is
  watched again, since a watch follows the folder it was put on, not the path.
* Documents of a path that is gone for good stay until the index is rebuilt
  without it (``sakuin index --rebuild`` with the paths that remain).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: What ``Root.check`` reports.
MISSING, BACK, REPLACED = "missing", "back", "replaced"


@dataclass
class Root:
    """One path given to the watcher (absolute, symbolic links kept, as the indexer keys it)."""

    path: Path
    device: int | None = None
    identity: tuple[int, int] | None = None
    missing: bool = False
    #: Why it counts as missing: ``gone`` or ``other_fs``.
    why: str = ""

    def check(self) -> str | None:
        """Look at the path again: ``MISSING``, ``BACK``, ``REPLACED`` or None (as it was)."""
        try:
            info = os.stat(self.path)
        except OSError:
            return self._lost("gone")
        if self.device is None:
            self.device = info.st_dev
        if info.st_dev != self.device:
            return self._lost("other_fs")
        identity = (info.st_dev, info.st_ino)
        if self.missing:
            self.missing, self.why, self.identity = False, "", identity
            return BACK
        if self.identity is not None and identity != self.identity:
            self.identity = identity
            return REPLACED
        self.identity = identity
        return None

    def _lost(self, why: str) -> str | None:
        if self.missing:
            self.why = why
            return None
        self.missing, self.why = True, why
        return MISSING


__all__ = ["BACK", "MISSING", "REPLACED", "Root"]
