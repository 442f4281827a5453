"""Error responses: JSON ``{"error": {"code", "message"}}`` under /api, an HTML page elsewhere.

Every failure a user can cause maps to a 4xx (or 503 for a missing index) here, so
the catch-all 500 handler exists only for bugs: it logs the traceback and answers
with a generic message that reveals nothing about the server.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from sakuin.search.embedded.store import IndexMissing
from sakuin.search.query import QuerySyntaxError
from sakuin.web.common import BadParameter

#: Short codes and human messages for HTTP errors raised by routing or ``abort``.
HTTP_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be understood."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method; see the Allow header."),
    413: ("payload_too_large", "The request body is too large: at most 16 KiB (a query is at most 1,000 characters)."),
    414: (
        "uri_too_long",
        "The address is too long: at most 40,000 bytes; a query is at most 1,000 characters (POST /api/search "
        "takes a JSON body).",
    ),
    500: ("internal_error", "Something went wrong on the server; the error has been logged."),
}
INDEX_MISSING_HINT = "The search index has not been built yet: run `sakuin index PATH` and reload."


def wants_json() -> bool:
    """JSON for the API and the health check, HTML for everything a browser navigates to."""
    path = request.path
    return path == "/api" or path.startswith("/api/") or path == "/healthz"


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """One error, in the form the requested address speaks."""
    if wants_json():
        response = jsonify({"error": {"code": code, "message": message}})
    else:
        response = current_app.response_class(
            render_template("error.html", status=status, code=code, message=message, q=request.args.get("q", "")),
            mimetype="text/html",
        )
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(BadParameter, _bad_parameter)
    app.register_error_handler(QuerySyntaxError, _query_syntax)
    app.register_error_handler(IndexMissing, _index_missing)
    app.register_error_handler(Exception, _unexpected)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    code, message = HTTP_ERRORS.get(status, (f"http_{status}", exc.description or "Request failed."))
    # Keep headers the error defines itself (Allow on 405), never its HTML content type.
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return error_response(status, code, message, headers)


def _bad_parameter(exc: BadParameter) -> Response:
    return error_response(400, exc.code, exc.message)


def _query_syntax(exc: QuerySyntaxError) -> Response:
    return error_response(400, exc.code, exc.message)


def _index_missing(exc: IndexMissing) -> Response:
    current_app.logger.warning("index missing: %s", exc)
    # The exception names the server's directory; the client only needs to know why.
    return error_response(503, "index_missing", INDEX_MISSING_HINT, {"Retry-After": "60"})


def _unexpected(exc: Exception) -> Response:
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    code, message = HTTP_ERRORS[500]
    return error_response(500, code, message)
