"""The status report: the live version, the watchers, the last runs and the skipped files.

One dictionary, built here, is what ``sakuin status --json`` prints, what
``GET /api/status`` answers and what the ``/status`` page draws (its charts and
tables read exactly these numbers), so the three never disagree.

* ``index``: the live version's ``stats()`` (with documents by type and by folder),
  or None when there is no index yet;
* ``watchers``: each watcher's state (``sakuin.search.watching.state``), running first;
* ``runs``: the last runs, newest first (``sakuin.search.indexing.history``);
* ``skipped``: every skipped file (``files``, filtered by ``reason`` codes and a
  ``path`` substring when asked), and how many there are per reason over all of
  them (``reasons``), so a filter shows what it leaves out;
* ``restricted``: True for a reader of ``sakuin serve --auth`` who may not read every
  document. The run history, the skipped files and the watchers name files and folders
  whatever the rules say, so such a reader gets none of them (empty lists, zero
  counts), only the live version as they may read it (their own counts by type and by
  folder): a denied document must look like a missing one, here too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sakuin.search.backend import SearchBackend, StatusStore
from sakuin.search.config import RUNS_KEPT
from sakuin.search.errors import IndexMissing
from sakuin.search.indexing.history import read_runs, read_skipped
from sakuin.search.indexing.skips import SKIP_CODES
from sakuin.search.watching.state import read_watchers

#: Runs a report lists unless asked for another number.
DEFAULT_RUNS = 20


def status_report(
    engine: SearchBackend,
    store: StatusStore,
    *,
    runs: int = DEFAULT_RUNS,
    reasons: Sequence[str] = (),
    path: str = "",
    restricted: bool = False,
) -> dict[str, Any]:
    """The status report (module doc); ``reasons`` and ``path`` filter the skipped files listed;
    ``restricted``: the reader may not read every document (no history, skips or watchers)."""
    try:
        index: dict[str, Any] | None = engine.stats()
    except IndexMissing:
        index = None
    skipped = [] if restricted else read_skipped(store)
    counts = Counter(s["code"] for s in skipped)
    wanted = set(reasons)
    needle = path.casefold()
    files = [
        s for s in skipped if (not wanted or s["code"] in wanted) and (not needle or needle in s["path"].casefold())
    ]
    return {
        "index": index,
        "watchers": [] if restricted else read_watchers(store),
        "runs": [] if restricted else read_runs(store, max(0, min(runs, RUNS_KEPT))),
        "skipped": {
            "total": len(skipped),
            "reasons": {code: counts[code] for code in SKIP_CODES if counts[code]},
            "filter": {"reasons": [c for c in SKIP_CODES if c in wanted], "path": path},
            "files": files,
        },
        "restricted": restricted,
    }


__all__ = ["DEFAULT_RUNS", "status_report"]
