"""The embedded index's ``StatusStore``: small JSON files in ``index/status/``.

Beside the versions, never inside one::

    index/
      CURRENT  v000007/  .lock
      status/
        runs.json                 the run history (``sakuin.search.indexing.history``)
        skipped.json              the skipped files of each folder's latest run
        watcher-HOST-PID.json     each watcher's state (``sakuin.search.watching.state``)

Design decisions:

* **Replaced whole, atomically:** a document is written to a private temporary
  file, flushed to disk and renamed over the old one, so a reader (a server
  worker, ``sakuin status``) sees the old or the new document and a writer killed
  mid-write leaves the old one. Nothing here is part of a version, so ``CURRENT``
  and the versions' crash safety are untouched, and copying an index without
  ``status/`` loses only its history.
* Temporary files are named after their writer's process; those of a process
  that is gone are removed by the next write.
* A document that cannot be parsed (a disk that lost it) reads as absent.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path
from typing import Any

#: The folder of the status documents inside an index directory.
STATUS_DIR = "status"
_SUFFIX = ".json"
_TMP = ".tmp"


class FileStatusStore:
    """Named JSON documents in ``<index>/status/`` (a ``StatusStore``)."""

    def __init__(self, index_dir: Path | str) -> None:
        self.folder = Path(index_dir) / STATUS_DIR

    def _path(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"bad status document name {name!r}")
        return self.folder / f"{name}{_SUFFIX}"

    def read(self, name: str) -> Any:
        try:
            return json.loads(self._path(name).read_text(encoding="utf-8"))
        except (FileNotFoundError, NotADirectoryError, ValueError):
            return None

    def write(self, name: str, value: Any) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self._path(name)
        tmp = self.folder / f".{name}.{os.getpid()}.{threading.get_ident()}{_TMP}"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(value, fh, ensure_ascii=False)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        self._remove_abandoned()

    def remove(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(name).unlink()

    def names(self, prefix: str = "") -> list[str]:
        try:
            entries = os.listdir(self.folder)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(
            e[: -len(_SUFFIX)]
            for e in entries
            if e.endswith(_SUFFIX) and not e.startswith(".") and e.startswith(prefix)
        )

    def _remove_abandoned(self) -> None:
        """Temporary files of processes that are gone (killed mid-write)."""
        for entry in os.listdir(self.folder):
            if not (entry.startswith(".") and entry.endswith(_TMP)):
                continue
            parts = entry.split(".")
            pid = int(parts[-3]) if len(parts) >= 4 and parts[-3].isdigit() else 0
            if pid and not _alive(pid):
                with contextlib.suppress(OSError):
                    (self.folder / entry).unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


__all__ = ["STATUS_DIR", "FileStatusStore"]
