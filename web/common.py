"""What pages and the API share: the engine on the app, request parameters, doc-id URLs.

Parameters are validated here once, so the HTML page and its JSON twin accept and
reject exactly the same input with the same message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from flask import current_app, request
from werkzeug.routing import BaseConverter

from sakuin.search.backend import Access, Original, SearchBackend, SectionSpans
from sakuin.search.config import MAX_FACETS, MAX_FILTERS, MAX_PAGE, MAX_PER_PAGE, MAX_QUERY_CHARS
from sakuin.search.documents.metadata import Declaration
from sakuin.search.documents.model import Document
from sakuin.search.errors import BadParameter
from sakuin.search.results.examples import Examples
from sakuin.search.results.model import SearchResult, Suggestion
from sakuin.web.auth.guard import current_access

ENGINE_KEY = "sakuin.engine"
DEFAULT_PER_PAGE = 10
#: ``/api/analyze`` input limit; the analyzer is cheap but output grows per character.
MAX_ANALYZE_CHARS = MAX_QUERY_CHARS

_DIGITS = re.compile(r"[0-9]{1,7}")

__all__ = [
    "DEFAULT_PER_PAGE",
    "MAX_ANALYZE_CHARS",
    "DocIdConverter",
    "Reader",
    "SearchParams",
    "checked_int",
    "checked_text",
    "engine",
    "int_arg",
    "query_arg",
    "search_params",
    "search_params_from",
    "text_arg",
]


def engine() -> Reader:
    """The app's engine as this request's reader sees it: every read passes their access
    (``sakuin.web.auth.current_access``; None without ``--auth``)."""
    return Reader(current_app.extensions[ENGINE_KEY], current_access())


class Reader:
    """The one engine created with the app (``sakuin.search.backend.open_engine``: an embedded
    ``EmbeddedEngine``, which follows the index's CURRENT pointer itself, or an ``OpenSearchEngine``),
    bound to one reader's ``Access``: no page or endpoint can read the index without it."""

    def __init__(self, backend: SearchBackend, access: Access | None) -> None:
        self.backend = backend
        self.access = access

    @property
    def version(self) -> str | None:
        return self.backend.version

    def ready(self) -> str:
        return self.backend.ready()

    def declaration(self) -> Declaration:
        return self.backend.declaration()

    def search(self, q: str, **options: Any) -> SearchResult:
        return self.backend.search(q, **options, access=self.access)

    def suggest(self, text: str, limit: int = 8) -> list[Suggestion]:
        return self.backend.suggest(text, limit, access=self.access)

    def document(self, doc_id: str) -> Document | None:
        return self.backend.document(doc_id, access=self.access)

    def section_spans(self, doc_id: str, q: str, synonyms: bool = True) -> SectionSpans:
        return self.backend.section_spans(doc_id, q, synonyms, access=self.access)

    def analyze(self, text: str) -> dict[str, Any]:
        return self.backend.analyze(text)

    def original(self, doc_id: str) -> Original | None:
        return self.backend.original(doc_id, access=self.access)

    def stats(self) -> dict[str, Any]:
        return self.backend.stats(access=self.access)

    def examples(self) -> Examples:
        return self.backend.examples(access=self.access)


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """A bounded integer parameter; only plain ASCII digits (``int()`` would take " 1", "1_0", "١")."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not _DIGITS.fullmatch(raw) or not low <= int(raw) <= high:
        raise _out_of_range(name, low, high)
    return int(raw)


def _out_of_range(name: str, low: int, high: int) -> BadParameter:
    return BadParameter("bad_parameter", name=name, low=low, high=high)


def query_arg(required: bool = True) -> str:
    """The ``q`` parameter, length-checked before any analysis runs."""
    return text_arg("q", MAX_QUERY_CHARS, required=required, too_long_code="query_too_long/parameter")


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
            raise BadParameter("invalid_encoding", name=name) from None


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
            raise BadParameter("missing_parameter", name=name)
        return ""
    if not isinstance(value, str):
        raise BadParameter("bad_parameter/string", name=name)
    if len(value) > limit:
        raise BadParameter(too_long_code, name=name, limit=limit)
    return value


def checked_int(name: str, value: Any, default: int, low: int, high: int) -> int:
    """An integer from a JSON body (booleans are not numbers here)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _out_of_range(name, low, high)
    return value


_BOOLEAN = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


@dataclass(frozen=True)
class SearchParams:
    """One search request's parameters, the same from a URL, a JSON body or a form."""

    q: str
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    sort: str | None = None
    facets: tuple[str, ...] = ()
    filters: tuple[str, ...] = ()
    collapse: bool = True
    substrings: bool = False
    synonyms: bool = True

    def run(self, snippets: bool = True) -> Any:
        return engine().search(
            self.q,
            page=self.page,
            per_page=self.per_page,
            snippets=snippets,
            sort=self.sort,
            facets=self.facets,
            filters=self.filters,
            collapse=self.collapse,
            substrings=self.substrings,
            synonyms=self.synonyms,
        )


def search_params(default_facets: bool = False) -> SearchParams:
    """The search parameters of a GET request: ``q``, ``page``, ``per_page``, ``sort``,
    ``facets`` (comma-separated or repeated), ``filter`` (repeated), ``collapse``,
    ``substring`` (list the substring matches too), ``synonyms`` (false: only the words typed).

    ``q`` may be empty when there is a filter. ``default_facets``: with no
    ``facets`` parameter, count every facet field the index has (the HTML page).
    """
    filters = tuple(_checked_list("filter", request.args.getlist("filter"), MAX_FILTERS))
    q = query_arg(required=not filters)
    facets = [f for raw in request.args.getlist("facets") for f in raw.split(",")]
    if not facets and default_facets and "facets" not in request.args:
        facets = engine_facets()
    return SearchParams(
        q,
        int_arg("page", 1, 1, MAX_PAGE),
        int_arg("per_page", DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
        request.args.get("sort") or None,
        tuple(_checked_list("facets", facets, MAX_FACETS)),
        filters,
        _checked_bool("collapse", request.args.get("collapse"), True),
        _checked_bool("substring", request.args.get("substring"), False),
        _checked_bool("synonyms", request.args.get("synonyms"), True),
    )


def search_params_from(body: dict[str, Any]) -> SearchParams:
    """The same parameters from a JSON body (``facets`` and ``filter`` are lists there)."""
    # A list absent from the body is empty; one given must be a list (``{}`` or ``""`` is a 400).
    filters = tuple(_checked_list("filter", body.get("filter", []), MAX_FILTERS))
    q = checked_text(
        "q", body.get("q"), MAX_QUERY_CHARS, required=not filters, too_long_code="query_too_long/parameter"
    )
    sort = body.get("sort")
    if sort is not None and not isinstance(sort, str):
        raise BadParameter("bad_parameter/sort", name="sort")
    return SearchParams(
        q,
        checked_int("page", body.get("page"), 1, 1, MAX_PAGE),
        checked_int("per_page", body.get("per_page"), DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
        sort or None,
        tuple(_checked_list("facets", body.get("facets", []), MAX_FACETS)),
        filters,
        _checked_bool("collapse", body.get("collapse"), True),
        _checked_bool("substring", body.get("substring"), False),
        _checked_bool("synonyms", body.get("synonyms"), True),
    )


def engine_facets() -> list[str]:
    """The facet fields of the live index (its keyword fields, then ``path``)."""
    return list(engine().declaration().facets)


def _checked_list(name: str, values: Any, limit: int) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise BadParameter("bad_parameter/list", name=name)
    values = [v.strip() for v in values if v.strip()]
    if len(values) > limit:
        raise BadParameter("bad_parameter/count", name=name, limit=limit)
    if sum(len(v) for v in values) > MAX_QUERY_CHARS:
        raise BadParameter("query_too_long/parameter", name=name, limit=MAX_QUERY_CHARS)
    return values


def _checked_bool(name: str, value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _BOOLEAN:
        return _BOOLEAN[value.lower()]
    raise BadParameter("bad_parameter/bool", name=name)


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
