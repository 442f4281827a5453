"""What a user can observe of an index, to compare two runs (the reliability tests).

The reliability tests compare whole result sets: every (doc id, section) that several
queries return, plus the index statistics. ``snapshot`` computes that comparison key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sakuin.search.config import MAX_PER_PAGE
from sakuin.search.embedded.reading.engine import EmbeddedEngine
from sakuin.search.errors import IndexMissing
from support.corpora import TOPICS

#: Queries whose full result sets are compared: words, a phrase, OR, NOT, a field.
QUERIES = (*TOPICS, '"電話会談"', "猫 OR 犬", "温泉 -予算", "title:空港", "ロシア 国防")


def all_hits(engine: EmbeddedEngine, q: str) -> tuple[int, list[tuple[str, int]] | None]:
    """(total, every (doc_id, ordinal) sorted) for ``q``, through EmbeddedEngine.search only.

    The whole set is read in one request of MAX_PER_PAGE hits; a query with more
    matches is compared by its total only, because paging can legitimately order
    equal scores differently in two physically different (but equivalent) indexes.
    """
    result = engine.search(q, per_page=MAX_PER_PAGE, snippets=False)
    if result.total > MAX_PER_PAGE:
        return result.total, None
    found = sorted((h.doc_id, h.ordinal) for h in result.hits)
    assert len(found) == len(set(found)) == result.total, (q, len(found), result.total)
    return result.total, found


def snapshot(index_dir: Path) -> dict[str, Any] | None:
    """What a user can observe of an index: full result sets and counts; None if there is none."""
    engine = EmbeddedEngine(index_dir)
    try:
        stats = engine.stats()
    except IndexMissing:
        return None
    return {
        "hits": {q: all_hits(engine, q) for q in QUERIES},
        "stats": {k: stats[k] for k in ("documents", "sections", "files")},
    }


def leftovers(index_dir: Path) -> list[str]:
    """Files a finished run must not leave: build directories and temporary pointers."""
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith((".tmp-", "CURRENT.")))
