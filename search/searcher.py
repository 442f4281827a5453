"""Running queries: query → ranked sections → hits with snippets.

``Engine`` is what the CLI and the web app share. It follows the store's CURRENT
pointer, so a server sees a newly published index on its next request, and keeps
one Whoosh searcher per thread (Whoosh searchers are not meant to be shared
between threads; they read the mapped segment files in place, ``search/mapped.py``,
so a searcher costs little beyond the page cache). The searcher is a
``LiveSearcher``: its statistics count live sections only, so an updated index
scores exactly as a fresh build would.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher

from search.bagofwords import TermScoreCache, rank
from search.documents import Document, Section
from search.highlight import literal_spans, reading_spans
from search.livestats import DeletedStats, LiveSearcher
from search.mapped import install as read_segments_in_place
from search.query import Compiled, compile_query
from search.results import Hit, SearchResult
from search.schema import content_offsets
from search.scoring import AllScores, SakuinBM25, best
from search.snippets import make_snippet, mark_html, merge_spans
from search.store import IndexStore

MAX_PER_PAGE = 100
MAX_PAGE = 1000

read_segments_in_place()  # one searcher per thread must not mean one copy of the index per thread


class Engine:
    """Search over the live version of one index directory."""

    def __init__(self, index_dir: Path | str) -> None:
        self.store = IndexStore(index_dir)
        self._local = threading.local()
        self._cache: TermScoreCache | None = None
        self._cache_lock = threading.Lock()

    # -- plumbing -------------------------------------------------------------------

    def searcher(self) -> Searcher:
        """This thread's searcher on the live version, reopened when CURRENT moves."""
        version = self.store.current()  # raises IndexMissing
        cached = getattr(self._local, "state", None)
        if cached is not None and cached[0] == version.name:
            return cached[1]
        ix = whoosh_index.open_dir(str(version))
        searcher = LiveSearcher(ix.reader(), DeletedStats.load(version), fromindex=ix, weighting=SakuinBM25())
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
        searcher = self.searcher()
        compiled = compile_query(q, searcher.doc_frequency, searcher.doc_count(), literal=literal)
        result = SearchResult(query=q, total=0, took_ms=0.0, page=page, per_page=per_page)
        limit = page * per_page
        total, ranked = self._rank(searcher, compiled, compiled.query, limit)
        if total == 0 and compiled.fallback is not None:
            total, ranked = self._rank(searcher, compiled, compiled.fallback, limit)
            compiled.highlight.clear()
        else:
            compiled.literals = []
        result.total = total
        top = ranked[(page - 1) * per_page : limit]
        stored = {docnum: searcher.stored_fields(docnum) for docnum, _ in top}
        spans = self._match_spans(searcher, compiled, stored) if snippets else {}
        for docnum, score in top:
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
                )
            )
        result.took_ms = (time.perf_counter() - started) * 1000
        return result

    def _rank(
        self, searcher: Searcher, compiled: Compiled, query: Any, limit: int
    ) -> tuple[int, list[tuple[int, float]]]:
        """(sections matched, best ``limit`` (docnum, score)) for ``query``."""
        if query is None:
            return 0, []
        keys: list[Any] = []

        def key_of(docnum: int) -> Any:  # equal scores rank in section-key order
            if not keys:
                keys.append(searcher.reader().column_reader("key"))
            return keys[0][docnum]

        if query is compiled.query and compiled.bag is not None:
            # Key the cache by the version this thread's searcher reads, not by
            # CURRENT, which may have moved on since the searcher was opened.
            return rank(searcher, self._term_cache(self._local.state[0]), compiled.bag, limit, key_of)
        # Score every match in one pass: no block skipping (Whoosh would then run
        # the query again to count) and no matcher replacement (which drops OR
        # clauses that cannot reach the current top N, so the total and even the
        # top N would depend on the page size).
        collector = AllScores()
        searcher.search_with_collector(query, collector)
        return collector.count(), best(collector.scored, limit, key_of)

    def _term_cache(self, version: str) -> TermScoreCache:
        with self._cache_lock:
            if self._cache is None or self._cache.version != version:
                self._cache = TermScoreCache(version)
            return self._cache

    @staticmethod
    def _postings_spans(
        searcher: Searcher, fieldname: str, terms: Iterable[str], docnums: list[int]
    ) -> dict[int, list[tuple[int, int]]]:
        """Character spans of ``terms`` in each document, read from the postings."""
        spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
        wanted = sorted(docnums)
        reader = searcher.reader()
        for term in terms:
            try:
                m = reader.postings(fieldname, term)
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

    def _match_spans(
        self, searcher: Searcher, compiled: Compiled, stored: dict[int, dict[str, Any]]
    ) -> dict[int, dict[str, list[tuple[int, int]]]]:
        """Where the query matched in each hit's heading and body.

        Word matches come from the postings (exact offsets, no re-analysis); the
        content field holds title, heading and body, so its offsets are shifted
        back into the heading or the body. Reading and fallback matches are rare
        and have no offsets in the index, so those hits are re-analysed.
        """
        docnums = list(stored)
        out: dict[int, dict[str, list[tuple[int, int]]]] = {n: {"heading": [], "body": []} for n in docnums}
        for fieldname, terms in compiled.highlight.items():
            if fieldname not in ("content", "heading"):
                continue
            for docnum, spans in self._postings_spans(searcher, fieldname, terms, docnums).items():
                fields = stored[docnum]
                if fieldname == "heading":
                    out[docnum]["heading"].extend(spans)
                    continue
                heading = fields.get("heading") or ""
                head_start, body_start = content_offsets(fields.get("title") or "", heading)
                for s, e in spans:
                    if s >= body_start:
                        out[docnum]["body"].append((s - body_start, e - body_start))
                    elif head_start <= s and e <= head_start + len(heading):
                        out[docnum]["heading"].append((s - head_start, e - head_start))
        if compiled.readings or compiled.literals:
            for docnum, fields in stored.items():
                for part in ("heading", "body"):
                    text = fields.get(part) or ""
                    out[docnum][part] += reading_spans(text, compiled.readings) + literal_spans(text, compiled.literals)
        return {n: {k: merge_spans(v) for k, v in parts.items()} for n, parts in out.items()}

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
        searcher = self.searcher()
        compiled = compile_query(q, searcher.doc_frequency, searcher.doc_count())
        stored = {n: searcher.stored_fields(n) for n in searcher.document_numbers(doc_id=doc_id)}
        spans = self._match_spans(searcher, compiled, stored)
        return {stored[n]["ordinal"]: found for n, found in spans.items()}

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
            "terms": {f: sum(1 for _ in reader.lexicon(f)) for f in ("content", "grams", "reading")},
            "size_bytes": self.store.size_bytes(),
            "index_dir": str(self.store.root),
        }
