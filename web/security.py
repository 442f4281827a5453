"""Response headers and request size limits, applied to every request.

The CSP allows no inline script or style at all, so even if some text escaped
escaping, a browser would refuse to run it; templates must therefore keep every
script and style in ``static/``.
"""

from __future__ import annotations

from flask import Flask, Response, abort, current_app, request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

#: Percent-encoded bytes of the query string. The query limit is in characters
#: (1,000 for every script), and 1,000 characters take up to 12,000 bytes encoded
#: (4 UTF-8 bytes x 3); this bound is well above that, so a too-long query of any
#: script gets the same 400 ``query_too_long`` naming the limit, and only
#: addresses that are not queries at all get a 414.
MAX_QUERY_STRING = 40_000
#: Decoded characters of the path (doc ids are file paths; none is this long).
MAX_PATH = 2_000
#: Only ``POST /api/search`` takes a body (a JSON query: 1,000 characters escaped
#: as \uXXXX is 6 KB); anything above this is refused before it is read.
MAX_CONTENT_LENGTH = 16 * 1024


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
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response
