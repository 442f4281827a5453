"""Response headers and request size limits, applied to every request.

The CSP allows no inline script or style at all, so even if some text escaped
escaping, a browser would refuse to run it; templates must therefore keep every
script and style in ``static/``.
"""

from __future__ import annotations

from flask import Flask, Response, abort, current_app, request

from sakuin.search.config import MAX_PATH

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    app.before_request(limit_request_size)
    app.after_request(add_security_headers)


def limit_request_size() -> None:
    """Refuse oversized input before routing, parsing or analysis spends anything on it."""
    if len(request.query_string) > current_app.config["MAX_QUERY_STRING"] or len(request.path) > MAX_PATH:
        abort(414)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is not None and (request.content_length or 0) > limit:
        abort(413)


def add_security_headers(response: Response) -> Response:
    """The headers above on every response; a route that sets its own (a served original's
    policy, ``sakuin.web.files``) keeps it."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
