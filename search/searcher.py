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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.documents import Document, Section
from search.highlight import match_spans
from search.metadata import Declaration
from search.query import QuerySyntaxError, compile_query, with_filters
from search.ranking import Sort, rank, selected_values
from search.results import FacetValue, Hit, SearchResult, notices
from search.snapshot import DEFAULT_POOL, LiveIndex, Pinned
from search.snippets import make_snippet, mark_html
from search.store import IndexStore
from search.suggest import Suggestion, complete, corrections, did_you_mean

MAX_PER_PAGE = 100
MAX_PAGE = 1000


@dataclass(frozen=True)
class Request:
    """One search's arguments, bounded and checked against an index's declaration:
    what both backends run (``Request.of``)."""

    text: str  # the query with the filters ANDed in
    page: int
    per_page: int
    literal: bool
    sort: Sort | None
    facets: tuple[str, ...]
    collapse: bool

    @classmethod
    def of(
        cls,
        declaration: Declaration,
        q: str,
        page: int,
        per_page: int,
        literal: bool,
        sort: str | None,
        facets: Sequence[str],
        collapse: bool,
        filters: Sequence[str],
    ) -> Request:
        """Raises QuerySyntaxError (``unknown_sort``, ``unknown_facet``, ``bad_filter``)."""
        order, wanted = _sort_of(declaration, sort), _facet_names_of(declaration, facets)
        return cls(
            text=with_filters(q, filters) if filters else q,
            page=max(1, min(page, MAX_PAGE)),
            per_page=max(1, min(per_page, MAX_PER_PAGE)),
            literal=literal and not filters,
            sort=order,
            facets=wanted,
            collapse=collapse,
        )


def _sort_of(declaration: Declaration, sort: str | None) -> Sort | None:
    """``relevance`` / ``date`` / ``-date`` → a Sort; raises QuerySyntaxError(``unknown_sort``)."""
    name = (sort or "").strip()
    if name in ("", "relevance"):
        return None
    descending = name.startswith("-")
    field = name.lstrip("-+")
    sortable = declaration.sortable
    if field not in sortable:
        choices = ", ".join(["relevance", *(f"{f}, -{f}" for f in sortable)])
        raise QuerySyntaxError(
            "unknown_sort", f"cannot sort by {name!r}: the choices are {choices}", sort=name, choices=sortable
        )
    return Sort(field, descending)


def sort_name(sort: Sort | None) -> str:
    return "relevance" if sort is None else f"{'-' if sort.descending else ''}{sort.field}"


def _facet_names_of(declaration: Declaration, names: Sequence[str]) -> tuple[str, ...]:
    known = declaration.facets
    wanted = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise QuerySyntaxError(
            "unknown_facet",
            f"cannot facet by {unknown[0]!r}: the facet fields are {', '.join(known)}",
            facet=unknown[0],
            facets=known,
        )
    return wanted


def hit_from(
    fields: dict[str, Any], score: float, spans: dict[str, list[tuple[int, int]]], match: str, duplicates: int
) -> Hit:
    """A section's stored fields as a hit, its snippet and heading marked with ``spans``
    (``search.highlight.match_spans``). Both backends build their hits with it."""
    heading = fields.get("heading") or ""
    return Hit(
        doc_id=fields["doc_id"],
        title=fields.get("title") or "",
        path=fields.get("path") or "",
        ordinal=fields["ordinal"],
        heading=heading,
        score=score,
        snippet=make_snippet(fields.get("body") or "", spans.get("body", [])),
        heading_html=mark_html(heading, spans.get("heading", [])),
        match=match,
        meta=fields.get("meta") or {},
        duplicates=duplicates,
    )


def document_from(doc_id: str, rows: list[dict[str, Any]]) -> Document | None:
    """A document from its sections' stored fields in ordinal order (None: no sections)."""
    if not rows:
        return None
    first = rows[0]
    sections = tuple(Section(r["ordinal"], r.get("heading") or "", r.get("body") or "") for r in rows)
    return Document(doc_id, first.get("title") or "", first.get("path") or "", sections, first.get("meta") or {})


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

    def declaration(self) -> Declaration:
        """The live version's metadata declaration (which fields filter, facet and sort)."""
        with self.live.pin() as pinned:
            return pinned.snapshot.declaration

    def ready(self) -> str:
        """The live version's name, once it opens (raises IndexMissing, or whatever opening raised)."""
        with self.live.pin() as pinned:
            return pinned.snapshot.name

    def close(self) -> None:
        self.live.close()

    # -- search ---------------------------------------------------------------------

    def search(
        self,
        q: str,
        page: int = 1,
        per_page: int = 10,
        snippets: bool = True,
        literal: bool = False,
        *,
        sort: str | None = None,
        facets: Sequence[str] = (),
        collapse: bool = True,
        filters: Sequence[str] = (),
    ) -> SearchResult:
        """Ranked sections for ``q``; raises QuerySyntaxError or IndexMissing.

        ``snippets=False`` skips only the snippet step (evaluation runs need the
        ranking, not the passages); ``literal=True`` reads ``q`` as plain text
        with no query operators. ``sort``: ``relevance`` (default) or a date or
        number field, ``-field`` for descending; ``facets``: keyword fields (and
        ``path``) to count values of; ``collapse``: fold sections with the same
        text into one hit; ``filters``: ``field:value`` filters ANDed with ``q``
        (``search.query.with_filters``; ``q`` may then be empty). Everything
        else is the path users get.
        """
        started = time.perf_counter()
        with self.live.pin() as pinned:
            request = Request.of(
                pinned.snapshot.declaration, q, page, per_page, literal, sort, facets, collapse, filters
            )
            result = self._search(pinned, request, snippets)
            result.query = q
            result.filters = [f.strip() for f in filters if f.strip()]
        result.took_ms = (time.perf_counter() - started) * 1000
        return result

    def _search(self, pinned: Pinned, request: Request, snippets: bool) -> SearchResult:
        searcher = pinned.searcher
        declaration = pinned.snapshot.declaration
        q, page, per_page = request.text, request.page, request.per_page
        compiled = compile_query(
            q, searcher.doc_frequency, searcher.doc_count(), literal=request.literal, metadata=declaration
        )
        limit = page * per_page
        ranked = rank(pinned, compiled, limit, sort=request.sort, facets=request.facets, collapse=request.collapse)
        result = SearchResult(query=q, total=ranked.total, took_ms=0.0, page=page, per_page=per_page)
        result.sections = ranked.sections
        result.sort = sort_name(request.sort)
        selected = selected_values(compiled.filter)
        result.facets = {
            name: [FacetValue(v, n, v in selected.get(name, ())) for v, n in values]
            for name, values in ranked.facets.items()
        }
        result.did_you_mean = did_you_mean(
            compiled.plan, result.total, pinned.searcher.doc_frequency, corrections(pinned)
        )
        result.notices.extend(notices(compiled.plan, result))
        top = ranked.top[(page - 1) * per_page : limit]
        stored = {docnum: pinned.snapshot.stored_fields(searcher, docnum) for docnum, _, _ in top}
        substring = {docnum for docnum, _, match in top if match == "substring"}
        snapshot = pinned.snapshot
        spans = (
            match_spans(searcher, compiled, stored, substring, cache=snapshot.scores, occurrences=snapshot.occurrences)
            if snippets
            else {}
        )
        for docnum, score, match in top:
            result.hits.append(
                hit_from(stored[docnum], score, spans.get(docnum, {}), match, ranked.duplicates.get(docnum, 0))
            )
        return result

    def suggest(self, text: str, limit: int = 8) -> list[Suggestion]:
        """Completions of what is being typed: indexed words, then matching titles."""
        with self.live.pin() as pinned:
            return complete(pinned, text, limit)

    # -- documents and stats ----------------------------------------------------------

    def document(self, doc_id: str) -> Document | None:
        """A whole document rebuilt from its stored sections, or None."""
        with self.live.pin() as pinned:
            rows = sorted(pinned.searcher.documents(doc_id=doc_id), key=lambda r: r["ordinal"])
        return document_from(doc_id, rows)

    def section_spans(self, doc_id: str, q: str) -> dict[int, dict[str, list[tuple[int, int]]]]:
        """Per section ordinal, the query's matches in heading and body (for the doc page)."""
        with self.live.pin() as pinned:
            searcher = pinned.searcher
            compiled = compile_query(
                q, searcher.doc_frequency, searcher.doc_count(), metadata=pinned.snapshot.declaration
            )
            stored = {n: searcher.stored_fields(n) for n in searcher.document_numbers(doc_id=doc_id)}
            spans = match_spans(searcher, compiled, stored, occurrences=pinned.snapshot.occurrences)
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
                "updated": snapshot.manifest.get("published"),
                "metadata": snapshot.declaration.to_manifest(),
                "index_dir": str(self.store.root),
            }
