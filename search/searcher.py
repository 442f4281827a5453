"""Running queries: query → ranked sections → hits with snippets.

``Engine`` is what the CLI and the web app share. It follows the store's CURRENT
pointer, so a server sees a newly published index on its next request, and keeps
one Whoosh searcher per thread (Whoosh searchers are not meant to be shared
between threads).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.reading import TermNotFound
from whoosh.scoring import BM25F
from whoosh.searching import Searcher

from search.documents import Document, Section
from search.query import Compiled, compile_query
from search.results import Hit, SearchResult
from search.snippets import make_snippet, mark_html, merge_spans
from search.store import IndexStore

MAX_PER_PAGE = 100
MAX_PAGE = 1000


class Engine:
    """Search over the live version of one index directory."""

    def __init__(self, index_dir: Path | str) -> None:
        self.store = IndexStore(index_dir)
        self._local = threading.local()

    # -- plumbing -------------------------------------------------------------------

    def searcher(self) -> Searcher:
        """This thread's searcher on the live version, reopened when CURRENT moves."""
        version = self.store.current()  # raises IndexMissing
        cached = getattr(self._local, "state", None)
        if cached is not None and cached[0] == version.name:
            return cached[1]
        ix = whoosh_index.open_dir(str(version))
        searcher = ix.searcher(weighting=BM25F(B=0.75, K1=1.2))
        if cached is not None:
            cached[1].close()
        self._local.state = (version.name, searcher)
        return searcher

    @property
    def version(self) -> str | None:
        return self.store.current_name()

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
        compiled = compile_query(q, literal=literal)
        searcher = self.searcher()
        result = SearchResult(query=q, total=0, took_ms=0.0, page=page, per_page=per_page)
        if compiled.query is not None:
            hits = searcher.search(compiled.query, limit=page * per_page)
            result.total = len(hits)
            top = hits[(page - 1) * per_page : page * per_page]
            docnums = [h.docnum for h in top] if snippets else []
            body_spans = self._spans(searcher, compiled, "body", docnums)
            heading_spans = self._spans(searcher, compiled, "heading", docnums)
            for h in top:
                stored = h.fields()
                heading = stored.get("heading") or ""
                result.hits.append(
                    Hit(
                        doc_id=stored["doc_id"],
                        title=stored.get("title") or "",
                        path=stored.get("path") or "",
                        ordinal=stored["ordinal"],
                        heading=heading,
                        score=float(h.score or 0.0),
                        snippet=make_snippet(stored.get("body") or "", body_spans.get(h.docnum, [])),
                        heading_html=mark_html(heading, merge_spans(heading_spans.get(h.docnum, []))),
                    )
                )
        result.took_ms = (time.perf_counter() - started) * 1000
        return result

    @staticmethod
    def _spans(
        searcher: Searcher, compiled: Compiled, field: str, docnums: list[int]
    ) -> dict[int, list[tuple[int, int]]]:
        """Character spans of the query's terms in each hit, read from the postings."""
        spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
        wanted = sorted(docnums)
        if not wanted:
            return spans
        reader = searcher.reader()
        for term in compiled.highlight.get(field, ()):
            try:
                m = reader.postings(field, term)
            except TermNotFound:
                continue
            for docnum in wanted:
                if not m.is_active():
                    break
                if m.id() < docnum:
                    m.skip_to(docnum)
                    if not m.is_active():
                        break
                if m.id() == docnum:
                    spans[docnum].extend((s, e) for _, s, e in m.value_as("characters"))
        return spans

    # -- documents and stats ----------------------------------------------------------

    def document(self, doc_id: str) -> Document | None:
        """A whole document rebuilt from its stored sections, or None."""
        rows = sorted(self.searcher().documents(doc_id=doc_id), key=lambda r: r["ordinal"])
        if not rows:
            return None
        first = rows[0]
        sections = tuple(Section(r["ordinal"], r.get("heading") or "", r.get("body") or "") for r in rows)
        return Document(doc_id, first.get("title") or "", first.get("path") or "", sections, first.get("meta") or {})

    def section_spans(self, doc_id: str, q: str) -> dict[int, dict[str, list[tuple[int, int]]]]:
        """Per section ordinal, the query's matches in heading and body (for the doc page)."""
        compiled = compile_query(q)
        searcher = self.searcher()
        docnums = list(searcher.document_numbers(doc_id=doc_id))
        ordinals = {n: searcher.stored_fields(n)["ordinal"] for n in docnums}
        out: dict[int, dict[str, list[tuple[int, int]]]] = {}
        for field in ("heading", "body"):
            for docnum, spans in self._spans(searcher, compiled, field, docnums).items():
                out.setdefault(ordinals[docnum], {})[field] = merge_spans(spans)
        return out

    def stats(self) -> dict[str, Any]:
        searcher = self.searcher()
        reader = searcher.reader()
        manifest = self.store.manifest()
        files = manifest.get("files", {})
        return {
            "version": self.store.current_name(),
            "documents": sum(len(f["doc_ids"]) for f in files.values()),
            "sections": reader.doc_count(),
            "files": len(files),
            "segments": len(reader.leaf_readers()),
            "terms": {f: sum(1 for _ in reader.lexicon(f)) for f in ("title", "heading", "body")},
            "size_bytes": self.store.size_bytes(),
            "index_dir": str(self.store.root),
        }
