"""HTML pages: search, document, help. They work without JavaScript.

A malformed query or parameter re-renders the search page with the box still
filled in, because the user's next step is to edit what they typed.
"""

from __future__ import annotations

from itertools import permutations
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for
from markupsafe import Markup

from sakuin.search.config import MAX_PAGE, MAX_QUERY_CHARS
from sakuin.search.errors import BadParameter, IndexMissing, QuerySyntaxError, message
from sakuin.search.highlight.snippets import mark_html
from sakuin.search.results.examples import Examples
from sakuin.search.results.facets import facet_filter
from sakuin.search.results.model import SearchResult
from sakuin.web.common import engine, query_arg, search_params
from sakuin.web.errors import error_response
from sakuin.web.render import SearchState, page_window, paragraphs

bp = Blueprint("pages", __name__)


@bp.app_context_processor
def _examples() -> dict[str, Any]:
    """Example queries for every page (the box's placeholder, the home page, the no-hit tips,
    the help page): built from the index's own words and kept only if they find something."""
    try:
        reader = engine()
        examples = reader.examples()
        key = (examples, reader.access.key if reader.access is not None else "")
        found = _EXAMPLES.get(key)
        if found is None:
            if len(_EXAMPLES) > 64:
                _EXAMPLES.clear()  # one entry per live version and reader's rules: old ones go
            found = _EXAMPLES[key] = _verified(examples)
    except Exception:  # an error page must render whatever the index's state
        examples, found = Examples(), {}
    home = [found[k] for k in ("word", "all", "either", "without", "question", "filter") if k in found]
    return {"examples": examples, "example": found, "example_queries": home}


#: Examples that find something, per the live version's ``Examples`` (they differ by version) and
#: the reader's access (verified with the reader's searches: a reader is shown only what finds
#: something they may read).
_EXAMPLES: dict[tuple[Examples, str], dict[str, str]] = {}


def _verified(examples: Examples) -> dict[str, str]:
    """Per kind of query (a word, all of two, either, one without the other, a field, a group,
    a question, a filter), the first candidate built from the examples that has hits."""
    words = examples.words
    pairs = list(permutations(words, 2))
    candidates = {
        "word": words[:1],
        "all": [f"{a} {b}" for a, b in pairs],
        "phrase": [f'"{a} {b}"' for a, b in pairs],
        "either": [f"{a} OR {b}" for a, b in pairs],
        "without": [f"{a} -{b}" for a, b in pairs],
        "title": [f"title:{a}" for a in words],
        "heading": [f"heading:{a}" for a in words],
        "group": [f"({a} OR {b}) {c}" for a, b, c in permutations(words, 3)],
        "question": [examples.question] if examples.question else [],
        "filter": [examples.filter] if examples.filter else [],
    }
    found = {}
    for kind, queries in candidates.items():
        for q in queries:
            if engine().search(q, per_page=1, snippets=False).total:
                found[kind] = q
                break
    return found


@bp.get("/")
@bp.get("/search")
def search() -> tuple[str, int]:
    raw_q = request.args.get("q", "")
    filters = [f for f in request.args.getlist("filter") if f.strip()]
    context: dict[str, Any] = {
        "q": raw_q,
        "filters": filters,
        "sort": request.args.get("sort") or "relevance",
        "result": None,
        "error": None,
        "autofocus": True,
        "stats": None,
    }
    try:
        if raw_q.strip() or filters:
            context["result"] = search_params(default_facets=True).run()
        else:
            query_arg(required=False)  # the same checks (length, encoding) as a search
            context["stats"] = _home_stats()
    except (BadParameter, QuerySyntaxError) as exc:
        context["error"] = exc.japanese()
    result: SearchResult | None = context["result"]
    collapse = request.args.get("collapse", "").lower() not in ("0", "false", "no")
    substrings = request.args.get("substring", "").lower() in ("1", "true", "yes")
    synonyms = request.args.get("synonyms", "").lower() not in ("0", "false", "no")
    state = SearchState(raw_q, tuple(filters), context["sort"], collapse, substrings, synonyms)
    context["state"] = state
    if result is not None:
        last = min(result.pages, MAX_PAGE)
        shown = ("page_past_end", "synonyms_searched")  # said in their own places on the page
        context["notices"] = [message(n.code).japanese(n.params) for n in result.notices if n.code not in shown]
        context["synonyms_note"] = next(
            (message(n.code).japanese(n.params) for n in result.notices if n.code == "synonyms_searched"), None
        )
        context.update(
            groups=result.groups(),
            first=(result.page - 1) * result.per_page + 1,
            last=last,
            window=page_window(result.page, last),
            **_metadata_context(result),
        )
    if raw_q.strip() or filters:
        context["json_url"] = url_for("api.search", **state.params(page=request.args.get("page") or None))
    status = 400 if context["error"] else 200
    return render_template("search.html", **context), status


def _home_stats() -> dict[str, Any] | None:
    try:
        return engine().stats()
    except IndexMissing:
        return None


def _metadata_context(result: SearchResult) -> dict[str, Any]:
    """What the page needs of the index's metadata: sort choices, fields shown on hits, facet filters."""
    declaration = engine().declaration()
    return {
        "sortable": declaration.of_kind("date"),
        "meta_fields": [n for n in declaration.of_kind("date", "keyword", "number") if n != "url"],
        "facet_filters": {facet_filter(name, v.value) for name, values in result.facets.items() for v in values},
    }


@bp.get("/doc/<docid:doc_id>")
def document(doc_id: str) -> str | Response:
    doc = engine().document(doc_id)
    if doc is None:
        return error_response(404, "document_not_found/page")
    q = request.args.get("q", "")
    spans: dict[int, dict[str, list[tuple[int, int]]]] = {}
    notice = None
    if q.strip():
        if len(q) > MAX_QUERY_CHARS:
            notice = f"検索語が長すぎるため強調表示できません（{MAX_QUERY_CHARS:,} 文字まで）。"
        else:
            try:
                synonyms = request.args.get("synonyms", "").lower() not in ("0", "false", "no")
                spans = engine().section_spans(doc_id, q, synonyms)
            except QuerySyntaxError as exc:
                notice = "この検索語は強調表示できません: " + exc.japanese()
    sections = []
    pdf = doc.file_type == "pdf"
    for s in doc.sections:
        found = spans.get(s.ordinal, {})
        body = found.get("body") or []
        page = s.page_at(min(body)[0]) if body else None
        sections.append(
            {
                "ordinal": s.ordinal,
                "heading": s.heading,
                # mark_html escapes the text, so these render as they are.
                "heading_html": Markup(mark_html(s.heading, found.get("heading", []))),
                "paragraphs": paragraphs(s.text, body),
                "matches": len(found.get("heading", [])) + len(found.get("body", [])),
                "pages": s.page_range,
                "page": page or (s.page_range[0] if s.page_range else None),
                # The page of the section's first match, its matches boxed (``sakuin.web.files``).
                "thumbnail": url_for("files.thumbnail", page=page, doc_id=doc_id, q=q) if pdf and page else None,
            }
        )
    return render_template(
        "document.html",
        doc=doc,
        sections=sections,
        q=q,
        notice=notice,
        json_url=url_for("api.document", doc_id=doc_id),
        original_url=url_for("files.original_file", doc_id=doc_id) if doc.file_type not in ("", "jsonl") else None,
    )


@bp.get("/help")
def help_page() -> str:
    return render_template("help.html", q="")
