"""Error responses: JSON ``{"error": {"code", "message"}}`` under /api, a Japanese page elsewhere.

Every failure a user can cause maps to a 4xx (or 503 for a missing index) here, so
the catch-all 500 handler exists only for bugs: it logs the traceback and answers
with a generic message that reveals nothing about the server. Codes and texts come
from the one table (``sakuin.search.errors``): the API answers in English, the
pages in Japanese.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from sakuin.search.errors import (
    BackendUnavailable,
    BadParameter,
    IndexMissing,
    QuerySyntaxError,
    SakuinError,
    message,
)

#: The table's row for each HTTP error raised by routing or ``abort``.
HTTP_ERRORS: dict[int, str] = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    414: "uri_too_long",
    500: "internal_error",
}


def wants_json() -> bool:
    """JSON for the API and the health check, HTML for everything a browser navigates to."""
    path = request.path
    return path == "/api" or path.startswith("/api/") or path == "/healthz"


def error_response(
    status: int, key: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> Response:
    """The error of the table's row ``key``, in the form the requested address speaks."""
    row = message(key)
    return _respond(status, row.code, row.english(params or {}), row.japanese(params or {}), headers)


def _respond(status: int, code: str, english: str, japanese: str, headers: dict[str, str] | None) -> Response:
    if wants_json():
        response = jsonify({"error": {"code": code, "message": english}})
    else:
        page = render_template(
            "error.html", status=status, code=code, message=japanese, english=english, q=request.args.get("q", "")
        )
        response = current_app.response_class(page, mimetype="text/html")
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(BadParameter, _bad_request)
    app.register_error_handler(QuerySyntaxError, _bad_request)
    app.register_error_handler(IndexMissing, _index_missing)
    app.register_error_handler(BackendUnavailable, _backend_unavailable)
    app.register_error_handler(Exception, _unexpected)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    # Keep headers the error defines itself (Allow on 405), never its HTML content type.
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    key = HTTP_ERRORS.get(status)
    if key is None:  # a status the table does not name: werkzeug's own words
        english = exc.description or "Request failed."
        return _respond(status, f"http_{status}", english, message("bad_request").japanese({}), headers)
    return error_response(status, key, headers=headers)


def _bad_request(exc: SakuinError) -> Response:
    return error_response(400, exc.row.key, exc.params)


def _index_missing(exc: IndexMissing) -> Response:
    current_app.logger.warning("index missing: %s", exc)
    # The exception names the server's directory; the client only needs to know why.
    return error_response(503, "index_missing/api", headers={"Retry-After": "60"})


def _backend_unavailable(exc: BackendUnavailable) -> Response:
    current_app.logger.error("backend unavailable: %s", exc)
    return error_response(503, "backend_unavailable/api", headers={"Retry-After": "10"})


def _unexpected(exc: Exception) -> Response:
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, HTTP_ERRORS[500])
