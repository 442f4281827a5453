"""What pages and the API share: the engine on the app, request parameters, doc-id URLs.

Parameters are validated here once, so the HTML page and its JSON twin accept and
reject exactly the same input with the same message.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from flask import current_app, request
from werkzeug.routing import BaseConverter

from search.query import MAX_QUERY_CHARS
from search.searcher import MAX_PAGE, MAX_PER_PAGE, Engine

ENGINE_KEY = "sakuin.engine"
DEFAULT_PER_PAGE = 10
#: ``/api/analyze`` input limit; the analyzer is cheap but output grows per character.
MAX_ANALYZE_CHARS = MAX_QUERY_CHARS

_DIGITS = re.compile(r"[0-9]{1,7}")

__all__ = [
    "DEFAULT_PER_PAGE",
    "MAX_ANALYZE_CHARS",
    "MAX_PAGE",
    "MAX_PER_PAGE",
    "MAX_QUERY_CHARS",
    "BadParameter",
    "DocIdConverter",
    "checked_int",
    "checked_text",
    "engine",
    "int_arg",
    "query_arg",
    "text_arg",
]


class BadParameter(Exception):
    """A request parameter we cannot use; ``code`` is the API error code, the message says how to fix it."""

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params


def engine() -> Engine:
    """The one Engine created with the app (it follows the index's CURRENT pointer itself)."""
    return current_app.extensions[ENGINE_KEY]


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """A bounded integer parameter; only plain ASCII digits (``int()`` would take " 1", "1_0", "١")."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise _out_of_range(name, low, high)
    return int(raw)


def _out_of_range(name: str, low: int, high: int) -> BadParameter:
    return BadParameter(
        "bad_parameter", f"{name} must be a whole number from {low} to {high}", name=name, low=low, high=high
    )


def query_arg(required: bool = True) -> str:
    """The ``q`` parameter, length-checked before any analysis runs."""
    return text_arg("q", MAX_QUERY_CHARS, required=required, too_long_code="query_too_long")


def _check_utf8(name: str) -> None:
    """Refuse a parameter whose percent-encoded bytes are not UTF-8.

    Werkzeug decodes with replacement characters, so 国防 sent in Shift_JIS would
    otherwise be searched as mojibake; the user should hear that the encoding is
    wrong instead.
    """
    for pair in request.query_string.split(b"&"):
        key, _, raw = pair.partition(b"=")
        if unquote_to_bytes(key.replace(b"+", b" ")) != name.encode():
            continue
        try:
            unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            raise BadParameter(
                "invalid_encoding", f"{name} is not UTF-8: percent-encode the text as UTF-8 (国 is %E5%9B%BD)"
            ) from None


def text_arg(name: str, limit: int, *, required: bool = True, too_long_code: str = "text_too_long") -> str:
    value = request.args.get(name)
    if value is not None:
        _check_utf8(name)
    return checked_text(name, value, limit, required=required, too_long_code=too_long_code)


def checked_text(
    name: str, value: Any, limit: int, *, required: bool = True, too_long_code: str = "text_too_long"
) -> str:
    """One text parameter (from the query string or a JSON body), present and within ``limit`` characters."""
    if value is None or (required and value == ""):
        if required:
            raise BadParameter("missing_parameter", f"the {name} parameter is required, e.g. ?{name}=国防大臣")
        return ""
    if not isinstance(value, str):
        raise BadParameter("bad_parameter", f"{name} must be a string")
    if len(value) > limit:
        raise BadParameter(too_long_code, f"{name} is too long: at most {limit} characters", limit=limit)
    return value


def checked_int(name: str, value: Any, default: int, low: int, high: int) -> int:
    """An integer from a JSON body (booleans are not numbers here)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _out_of_range(name, low, high)
    return value


class DocIdConverter(BaseConverter):
    """Doc ids are arbitrary strings (relative paths, JSONL ids), so the URL part is too.

    Unlike ``path`` it allows a leading or doubled slash. An id with a "." or ".."
    segment gets its slashes percent-encoded, because browsers would otherwise
    resolve those segments and request a different URL.
    """

    regex = "(?s:.+)"  # any character, newlines included
    part_isolating = False
    weight = 200

    def to_url(self, value: Any) -> str:
        text = str(value)
        safe = "!$&'()*+,:;=@"
        if not any(seg in (".", "..") for seg in text.split("/")):
            safe += "/"
        return quote(text, safe=safe)
