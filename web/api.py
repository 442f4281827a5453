"""The JSON API. Bodies are the same ``to_dict()`` objects the CLI prints with --json.

Errors are raised, not returned, so that ``sakuin.web.errors`` gives every endpoint the
same ``{"error": {"code", "message"}}`` shape and status codes.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from sakuin.search.analysis.thesaurus import NO_SYNONYMS, explain
from sakuin.search.errors import BadParameter, IndexMissing, message
from sakuin.web.common import (
    MAX_ANALYZE_CHARS,
    MAX_QUERY_CHARS,
    engine,
    int_arg,
    search_params,
    search_params_from,
    text_arg,
)
from sakuin.web.errors import error_response
from sakuin.web.openapi import openapi_spec

bp = Blueprint("api", __name__, url_prefix="/api")
#: The health check lives at the root, where load balancers expect it.
health_bp = Blueprint("health", __name__)


#: The keys a POST /api/search body may have.
SEARCH_KEYS = ("q", "page", "per_page", "sort", "facets", "filter", "collapse", "substring", "synonyms")


@bp.get("/search")
def search() -> Response:
    return jsonify(search_params().run().to_dict())


@bp.post("/search")
def search_post() -> Response:
    """The same search with a JSON body (``SEARCH_KEYS``): for queries too long for a URL."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadParameter("bad_body")
    unknown = sorted(set(body) - set(SEARCH_KEYS))
    if unknown:
        raise BadParameter("bad_parameter/key", key=unknown[0], keys=SEARCH_KEYS)
    return jsonify(search_params_from(body).run().to_dict())


@bp.get("/suggest")
def suggest() -> Response:
    """Completions for a search box: indexed words that continue the last word, then titles."""
    q = text_arg("q", MAX_QUERY_CHARS, required=False, too_long_code="query_too_long/parameter")
    limit = int_arg("limit", 8, 1, 20)
    return jsonify({"q": q, "suggestions": [s.to_dict() for s in engine().suggest(q, limit)] if q.strip() else []})


@bp.get("/documents/<docid:doc_id>")
def document(doc_id: str) -> Response:
    doc = engine().document(doc_id)
    if doc is None:
        return error_response(404, "document_not_found")
    return jsonify(
        {
            "doc_id": doc.doc_id,
            "title": doc.title,
            "path": doc.path,
            "meta": doc.meta or {},
            "type": doc.file_type,
            "modified": doc.modified,
            "sections": [
                {
                    "ordinal": s.ordinal,
                    "heading": s.heading,
                    "text": s.text,
                    "pages": list(s.page_range) if s.page_range else None,
                }
                for s in doc.sections
            ],
        }
    )


@bp.get("/analyze")
def analyze() -> Response:
    """How the index analyses ``text``: its words (with the index's user dictionaries) and the
    synonyms of its words; before an index exists, by Sudachi's dictionary alone."""
    text = text_arg("text", MAX_ANALYZE_CHARS)
    try:
        return jsonify(engine().analyze(text))
    except IndexMissing:
        return jsonify(explain(text, NO_SYNONYMS))


@bp.get("/stats")
def stats() -> Response:
    return jsonify(engine().stats())  # every figure from one pinned snapshot


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_spec())


@health_bp.get("/healthz")
def healthz() -> Response | tuple[Response, int]:
    """Ready only when a search could run: the live version opens, not just CURRENT exists."""
    try:
        version = engine().ready()
    except IndexMissing:
        return _unavailable("index_missing/api")
    except Exception:
        current_app.logger.exception("health check: the index does not open")
        return _unavailable("index_unreadable")
    return jsonify({"status": "ok", "version": version})


def _unavailable(key: str) -> tuple[Response, int]:
    row = message(key)
    return jsonify({"status": "unavailable", "error": {"code": row.code, "message": row.english({})}}), 503
