"""Running queries: query → ranked sections → hits with snippets.

``Engine`` is what the CLI and the web app share, and it only orchestrates: the
live index version is pinned for the whole request (``search.snapshot``: one
snapshot per version, a pool of searchers, closed when the version is retired),
the query is compiled against that snapshot's statistics, ranked
(``search.ranking``), and the page's hits get their highlight spans
(``search.highlight``) and snippets. Because a request reads one snapshot from
start to end, its total, its hits and its statistics all belong to one version,
even while ``sakuin index`` publishes a new one.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from search.documents import Document, Section
from search.highlight import match_spans
from search.query import compile_query
from search.ranking import rank
from search.results import Hit, SearchResult, notices
from search.snapshot import DEFAULT_POOL, LiveIndex, Pinned
from search.snippets import make_snippet, mark_html
from search.store import IndexStore

MAX_PER_PAGE = 100
MAX_PAGE = 1000


class Engine:
    """Search over the live version of one index directory."""

    def __init__(self, index_dir: Path | str, pool_size: int = DEFAULT_POOL) -> None:
        self.store = IndexStore(index_dir)
        self.live = LiveIndex(self.store, pool_size)

    def pin(self) -> Any:
        """Context manager: the live snapshot and a searcher of it (raises IndexMissing)."""
        return self.live.pin()

    @property
    def version(self) -> str | None:
        return self.store.current_name()

    def close(self) -> None:
        self.live.close()

    # -- search ---------------------------------------------------------------------

    def search(
        self, q: str, page: int = 1, per_page: int = 10, snippets: bool = True, literal: bool = False
    ) -> SearchResult:
        """Ranked sections for ``q``; raises QuerySyntaxError or IndexMissing.

        ``snippets=False`` skips only the snippet step (evaluation runs need the
        ranking, not the passages); ``literal=True`` reads ``q`` as plain text
        with no query operators. Everything else is the path users get.
        """
        started = time.perf_counter()
        page = max(1, min(page, MAX_PAGE))
        per_page = max(1, min(per_page, MAX_PER_PAGE))
        with self.live.pin() as pinned:
            result = self._search(pinned, q, page, per_page, snippets, literal)
        result.took_ms = (time.perf_counter() - started) * 1000
        return result

    def _search(self, pinned: Pinned, q: str, page: int, per_page: int, snippets: bool, literal: bool) -> SearchResult:
        searcher = pinned.searcher
        compiled = compile_query(q, searcher.doc_frequency, searcher.doc_count(), literal=literal)
        limit = page * per_page
        ranked = rank(pinned, compiled, limit)
        result = SearchResult(query=q, total=ranked.total, took_ms=0.0, page=page, per_page=per_page)
        result.notices.extend(notices(compiled.plan, result))
        top = ranked.top[(page - 1) * per_page : limit]
        stored = {docnum: searcher.stored_fields(docnum) for docnum, _, _ in top}
        substring = {docnum for docnum, _, match in top if match == "substring"}
        spans = match_spans(searcher, compiled, stored, substring) if snippets else {}
        for docnum, score, match in top:
            fields = stored[docnum]
            heading = fields.get("heading") or ""
            found = spans.get(docnum, {})
            result.hits.append(
                Hit(
                    doc_id=fields["doc_id"],
                    title=fields.get("title") or "",
                    path=fields.get("path") or "",
                    ordinal=fields["ordinal"],
                    heading=heading,
                    score=score,
                    snippet=make_snippet(fields.get("body") or "", found.get("body", [])),
                    heading_html=mark_html(heading, found.get("heading", [])),
                    match=match,
                )
            )
        return result

    # -- documents and stats ----------------------------------------------------------

    def document(self, doc_id: str) -> Document | None:
        """A whole document rebuilt from its stored sections, or None."""
        with self.live.pin() as pinned:
            rows = sorted(pinned.searcher.documents(doc_id=doc_id), key=lambda r: r["ordinal"])
        if not rows:
            return None
        first = rows[0]
        sections = tuple(Section(r["ordinal"], r.get("heading") or "", r.get("body") or "") for r in rows)
        return Document(doc_id, first.get("title") or "", first.get("path") or "", sections, first.get("meta") or {})

    def section_spans(self, doc_id: str, q: str) -> dict[int, dict[str, list[tuple[int, int]]]]:
        """Per section ordinal, the query's matches in heading and body (for the doc page)."""
        with self.live.pin() as pinned:
            searcher = pinned.searcher
            compiled = compile_query(q, searcher.doc_frequency, searcher.doc_count())
            stored = {n: searcher.stored_fields(n) for n in searcher.document_numbers(doc_id=doc_id)}
            spans = match_spans(searcher, compiled, stored)
        return {stored[n]["ordinal"]: found for n, found in spans.items()}

    def stats(self) -> dict[str, Any]:
        """Figures of the live version, every one read from the same snapshot."""
        with self.live.pin() as pinned:
            snapshot, reader = pinned.snapshot, pinned.searcher.reader()
            files = snapshot.manifest.get("files", {})
            return {
                "version": snapshot.name,
                "documents": sum(len(f["doc_ids"]) for f in files.values()),
                "sections": pinned.searcher.doc_count(),
                "files": len(files),
                "segments": len(reader.leaf_readers()),
                "terms": {f: sum(1 for _ in reader.lexicon(f)) for f in ("content", "grams", "reading")},
                "size_bytes": self.store.size_bytes(snapshot.folder),
                "index_dir": str(self.store.root),
            }
