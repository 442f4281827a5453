"""What an index version holds, by type and by folder: read from its manifest's files.

The manifest lists every input file (its absolute path as key) with the ids of
the documents it made, so both backends answer "how many documents of each type,
from which folders" from the same dictionary, without a query. ``stats()`` adds
these figures, and the home page and the status page show them.

Design decisions:

* **Documents, not files.** A JSONL file of 7,000 records is 7,000 documents of
  type ``jsonl``; that is what a search finds.
* **Type is the file's suffix** (lower case, without the dot; ``none`` for a file
  without one), so a format added later is counted without a change here.
* **Folders are the first level under the common folder** of every indexed file
  (``root``): ``docs/news/a.md`` and ``docs/news/b/c.md`` count for ``news`` when
  everything is under ``docs/``. Files right in the common folder count for
  ``.``. The first level is what a person recognises; deeper levels are a search
  filter away (``path:``).
* **Bounded:** the ``FOLDERS_SHOWN`` largest folders are listed, the rest summed
  under ``…``, so a flat archive of 50,000 folders does not make a 50,000-bar chart.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import PurePath
from typing import Any

#: Folders listed by ``folders``; the others are summed under ``OTHER``.
FOLDERS_SHOWN = 30
OTHER = "…"
#: The folder name of files right in the common folder.
HERE = "."


def file_type(key: str) -> str:
    """A file's type as the inventory counts it: its suffix without the dot, lower case."""
    return PurePath(key).suffix.lower().lstrip(".") or "none"


def common_root(keys: list[str]) -> str:
    """The deepest folder that holds every file (``""`` for none)."""
    if not keys:
        return ""
    return os.path.commonpath([os.path.dirname(k) for k in keys])


def inventory(files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``{"types": {type: documents}, "folders": {folder: documents}, "root": common folder}``
    of a manifest's ``files``; each dictionary largest first (ties by name)."""
    types: Counter[str] = Counter()
    by_folder: Counter[str] = Counter()
    keys = [k for k, entry in files.items() if entry.get("doc_ids")]
    root = common_root(keys)
    for key in keys:
        documents = len(files[key]["doc_ids"])
        types[file_type(key)] += documents
        rel = os.path.relpath(os.path.dirname(key), root) if root else os.path.dirname(key)
        by_folder[HERE if rel in (".", "") else PurePath(rel).parts[0]] += documents
    ordered = sorted(by_folder.items(), key=lambda kv: (-kv[1], kv[0]))
    folders = dict(ordered[:FOLDERS_SHOWN])
    rest = sum(n for _, n in ordered[FOLDERS_SHOWN:])
    if rest:
        folders[OTHER] = rest
    return {"types": dict(sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))), "folders": folders, "root": root}


__all__ = ["FOLDERS_SHOWN", "HERE", "OTHER", "common_root", "file_type", "inventory"]
