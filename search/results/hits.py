"""Hits and documents from a section's stored fields: what both backends hand back.

A backend finds sections and their match spans; turning one into a ``Hit`` (with
its snippet and marked heading) or a run of sections into a ``Document`` is the
same for both, so it is done here once.
"""

from __future__ import annotations

from typing import Any

from sakuin.search.documents.model import Document, Section, page_at, page_range
from sakuin.search.highlight.snippets import make_snippet, mark_html
from sakuin.search.query.plan import Plan
from sakuin.search.results.model import Hit, Notice, SearchResult, SynonymExpansion


def hit_from(
    fields: dict[str, Any], score: float, spans: dict[str, list[tuple[int, int]]], match: str, duplicates: int
) -> Hit:
    """A section's stored fields as a hit, its snippet and heading marked with ``spans``
    (``sakuin.search.highlight.spans.match_spans``). Both backends build their hits with it."""
    heading = fields.get("heading") or ""
    info = fields.get("info") or {}
    pages = _page_starts(info)
    body_spans = spans.get("body", [])
    return Hit(
        doc_id=fields["doc_id"],
        title=fields.get("title") or "",
        path=fields.get("path") or "",
        ordinal=fields["ordinal"],
        heading=heading,
        score=score,
        snippet=make_snippet(fields.get("body") or "", spans.get("body", [])),
        heading_html=mark_html(heading, spans.get("heading", [])),
        title_html=mark_html(fields.get("title") or "", spans.get("title", [])),
        match=match,
        meta=fields.get("meta") or {},
        duplicates=duplicates,
        file_type=info.get("type") or "",
        modified=info.get("modified"),
        pages=page_range(pages),
        page=page_at(pages, min(body_spans)[0] if body_spans else 0),
    )


def _page_starts(info: dict[str, Any]) -> tuple[tuple[int, int], ...]:
    return tuple((int(offset), int(page)) for offset, page in info.get("pages") or ())


def document_from(doc_id: str, rows: list[dict[str, Any]]) -> Document | None:
    """A document from its sections' stored fields in ordinal order (None: no sections)."""
    if not rows:
        return None
    first = rows[0]
    sections = tuple(
        Section(r["ordinal"], r.get("heading") or "", r.get("body") or "", _page_starts(r.get("info") or {}))
        for r in rows
    )
    info = first.get("info") or {}
    return Document(
        doc_id,
        first.get("title") or "",
        first.get("path") or "",
        sections,
        first.get("meta") or {},
        file_type=info.get("type") or "",
        modified=info.get("modified"),
    )


def expansions(plan: Plan) -> list[SynonymExpansion]:
    """The typed words the plan also searches as synonyms, each word once."""
    out: dict[str, dict[str, None]] = {}
    for e in plan.expansions:
        out.setdefault(e.typed, {}).update(dict.fromkeys(s.text for s in e.synonyms))
    return [SynonymExpansion(word, tuple(synonyms)) for word, synonyms in out.items()]


def notices(plan: Plan, result: SearchResult) -> list[Notice]:
    """What to tell the user about this answer: a query with nothing to look up, a page past the
    end, the synonyms it also searched for."""
    out = []
    if result.total == 0 and plan.only_function_words:
        out.append(Notice.of("only_function_words", query=plan.text.strip()))
    if result.total and result.page > result.pages and not (result.at_least and result.hits):
        out.append(Notice.of("page_past_end", page=result.page, last_page=result.pages))
    if result.expansions:
        synonyms = list(dict.fromkeys(s for e in result.expansions for s in e.synonyms))
        out.append(Notice.of("synonyms_searched", synonyms=synonyms))
    return out


__all__ = ["document_from", "expansions", "hit_from", "notices"]
