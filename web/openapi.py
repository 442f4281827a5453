"""The OpenAPI 3.1 description of the JSON API, served at /api/openapi.json.

Objects are closed (``additionalProperties: false``) so that ``tests/behaviour/test_api.py``,
which validates real responses against these schemas, fails as soon as a response
gains, loses or retypes a field without this document changing too.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from sakuin.search.config import (
    FACET_LIMIT,
    MAX_FACETS,
    MAX_FILTERS,
    MAX_PAGE,
    MAX_PER_PAGE,
    MAX_QUERY_CHARS,
    RUN_PATHS_KEPT,
    RUNS_KEPT,
    TRACK_TOTAL,
)
from sakuin.search.errors import MESSAGES, codes
from sakuin.search.indexing.history import TRIGGERS
from sakuin.search.indexing.skips import SKIP_CODES
from sakuin.search.watching.state import STATES
from sakuin.search.watching.status import DEFAULT_RUNS
from sakuin.web.common import DEFAULT_PER_PAGE, MAX_ANALYZE_CHARS


def _obj(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
        **extra,
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


_INT0 = {"type": "integer", "minimum": 0}
_INT1 = {"type": "integer", "minimum": 1}
_STR = {"type": "string"}

SCHEMAS: dict[str, Any] = {
    "ErrorBody": _obj(
        {
            "code": {
                "type": "string",
                "pattern": "^[a-z_0-9]+$",
                "description": "Stable, machine-readable: one of the codes in docs/errors.md.",
            },
            "message": {"type": "string", "minLength": 1, "description": "A sentence for humans."},
        }
    ),
    "Error": _obj({"error": _ref("ErrorBody")}, description="Every error response of the API."),
    "Snippet": _obj(
        {
            "html": {"type": "string", "description": "Escaped text with <mark> around matches."},
            "text": _STR,
            "highlights": {
                "type": "array",
                "description": "[start, end) offsets of the matches in `text`.",
                "items": {"type": "array", "prefixItems": [_INT0, _INT0], "minItems": 2, "maxItems": 2},
            },
        }
    ),
    "Hit": _obj(
        {
            "doc_id": _STR,
            "title": _STR,
            "path": _STR,
            "url": {
                "type": ["string", "null"],
                "description": "The document's own http(s) address (its `url` metadata), else null.",
            },
            "title_html": {
                "type": "string",
                "description": "The title, escaped, with the query's matches in <mark> (a hit that matches only "
                "through its document's title shows why).",
            },
            "section": _obj(
                {
                    "ordinal": {**_INT0, "description": "The section's position; the #s-N anchor of the doc page."},
                    "heading": _STR,
                    "heading_html": {"type": "string", "description": "The heading, escaped, matches in <mark>."},
                }
            ),
            "score": {"type": "number"},
            "match": {
                "enum": ["word", "substring", "synonym"],
                "description": "`word`: the query's words match as words; `substring`: only inside longer words "
                "(京都 in 東京都); `synonym`: only through a synonym of a word (スマートフォン for スマホ). "
                "Substring matches rank after every word match, synonym matches after both.",
            },
            "duplicates": {
                **_INT0,
                "description": "Sections with the same body text elsewhere, collapsed into this hit "
                "(`collapse=false` lists them).",
            },
            "meta": {"type": "object", "description": "The document's metadata as its source gave it."},
            "type": {
                "type": "string",
                "description": "The built-in `type`: pdf, docx, xlsx, xls, ods, pptx, epub, eml, rtf, md, html, txt, "
                "jsonl.",
            },
            "modified": {
                "type": ["string", "null"],
                "description": "The file's modification time when it was read (ISO 8601), the built-in `modified`.",
            },
            "pages": {
                "type": ["array", "null"],
                "description": "A PDF section's [first, last] page (a PPTX section's slide), else null.",
                "prefixItems": [_INT1, _INT1],
                "minItems": 2,
                "maxItems": 2,
            },
            "page": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "The page of the section's first match; `/files/<doc_id>#page=N` opens a PDF there.",
            },
            "snippet": _ref("Snippet"),
        }
    ),
    "Notice": _obj(
        {
            "code": {"enum": codes(["notice"]), "description": "What the notice is about (a stable code)."},
            "message": {"type": "string", "minLength": 1},
            "params": {"type": "object", "description": "The values the message names, for UIs in other languages."},
        }
    ),
    "FacetValue": _obj(
        {
            "value": _STR,
            "count": {**_INT0, "description": "Matching sections with this value, over all pages."},
            "selected": {"type": "boolean", "description": "A filter of the request selects this value."},
        }
    ),
    "SearchResult": _obj(
        {
            "query": _STR,
            "total": {
                **_INT0,
                "description": "All hits, not just this page (sections with the same text count once).",
            },
            "total_relation": {
                "type": "string",
                "enum": ["eq", "gte"],
                "description": "`eq`: `total` and `sections` are exact; `gte`: more than "
                f"{TRACK_TOTAL:,} hits matched, `total` is {TRACK_TOTAL:,} (at least that many) "
                "and `substring_total` counts those found before counting stopped.",
            },
            "took_ms": {"type": "number", "minimum": 0},
            "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "last_page": {"type": "integer", "minimum": 1, "description": "The last page with hits (1 if none)."},
            "filters": {"type": "array", "items": _STR, "description": "The `filter` parameters, as given."},
            "sections": {
                **_INT0,
                "description": "Matching sections before same-text sections were collapsed, "
                f"counted up to {TRACK_TOTAL:,}.",
            },
            "substring_total": {
                **_INT0,
                "description": "Sections that have the query's words only inside longer words (京都 in 東京都). "
                "They are listed after every word match, and counted in `total` and the facets, only with "
                "`substring=true` or when no section matches as a word.",
            },
            "sort": {"type": "string", "description": "`relevance`, or the field sorted by (`-` first: descending)."},
            "hits": {"type": "array", "items": _ref("Hit"), "maxItems": MAX_PER_PAGE},
            "facets": {
                "type": "object",
                "description": "Per requested facet field, its values among all matching sections, most frequent "
                f"first (at most {FACET_LIMIT}, plus selected ones). A field's own filters are left out of its "
                "counts, so its other values stay choosable.",
                "additionalProperties": {"type": "array", "items": _ref("FacetValue")},
            },
            "did_you_mean": {
                "type": "array",
                "items": _STR,
                "description": "For a keyword query with few or no hits: the query with indexed words nearest "
                "to its unknown ones.",
            },
            "synonyms": {
                "type": "boolean",
                "description": "Whether the search also looked for the words' synonyms (`synonyms=false`: not).",
            },
            "expansions": {
                "type": "array",
                "items": _ref("Expansion"),
                "description": "The typed words also searched as their synonyms (those the index has).",
            },
            "notices": {"type": "array", "items": _ref("Notice"), "description": "What to tell the user, if anything."},
        }
    ),
    "Expansion": _obj(
        {
            "word": {"type": "string", "description": "The word (or words) as typed."},
            "synonyms": {"type": "array", "items": _STR, "minItems": 1, "description": "As their source writes them."},
        }
    ),
    "SearchRequest": _obj(
        # ``null`` is the same as leaving a field out (its default), as the GET parameters' empty values.
        {
            "q": {
                "type": ["string", "null"],
                "maxLength": MAX_QUERY_CHARS,
                "description": "May be empty with a filter.",
            },
            "page": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_PAGE, "default": 1},
            "per_page": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_PER_PAGE, "default": 10},
            "sort": {"type": ["string", "null"], "default": "relevance"},
            "facets": {"type": "array", "items": _STR, "maxItems": MAX_FACETS},
            "filter": {"type": "array", "items": _STR, "maxItems": MAX_FILTERS},
            "collapse": {"type": ["boolean", "null"], "default": True},
            "substring": {"type": ["boolean", "null"], "default": False},
            "synonyms": {"type": ["boolean", "null"], "default": True},
        },
        required=[],
        description="The GET parameters as a JSON object; a field that is null takes its default.",
    ),
    "Suggestions": _obj(
        {
            "q": _STR,
            "suggestions": {
                "type": "array",
                "items": _obj(
                    {
                        "kind": {
                            "enum": ["word", "title"],
                            "description": "`word`: the query with its last word completed from the index; "
                            "`title`: a document whose title matches.",
                        },
                        "text": _STR,
                        "doc_id": {"type": ["string", "null"]},
                    }
                ),
            },
        }
    ),
    "Document": _obj(
        {
            "doc_id": _STR,
            "title": _STR,
            "path": _STR,
            "meta": {"type": "object", "description": "Extra JSONL fields, or the format's document properties."},
            "type": {"type": "string", "description": "The built-in `type` (pdf, docx, md…)."},
            "modified": {"type": ["string", "null"], "description": "The file's modification time (ISO 8601)."},
            "sections": {
                "type": "array",
                "items": _obj(
                    {
                        "ordinal": _INT0,
                        "heading": _STR,
                        "text": _STR,
                        "pages": {
                            "type": ["array", "null"],
                            "description": "A PDF section's [first, last] page, else null.",
                            "prefixItems": [_INT1, _INT1],
                            "minItems": 2,
                            "maxItems": 2,
                        },
                    }
                ),
            },
        }
    ),
    "Token": _obj(
        {
            "surface": _STR,
            "term": {"type": "string", "description": "The indexed form (normalized, NFKC, lower-cased)."},
            "pos": {"type": "string", "description": "Part of speech."},
            "reading": _STR,
            "start": _INT0,
            "end": _INT0,
            "indexed": {"type": "boolean", "description": "False for function words and punctuation."},
            "parts": {
                "type": "array",
                "description": "Mode-A parts indexed alongside a compound.",
                "items": _obj({"term": _STR, "start": _INT0, "end": _INT0}),
            },
            "user_dictionary": {"type": "boolean", "description": "The word comes from the index's user dictionary."},
        }
    ),
    "Analysis": _obj(
        {
            "text": _STR,
            "tokens": {"type": "array", "items": _ref("Token")},
            "synonyms": {
                "type": "array",
                "description": "Runs of the text that have synonyms in the index's sources (a search uses those "
                "the index has).",
                "items": _obj(
                    {"text": _STR, "start": _INT0, "end": _INT0, "synonyms": {"type": "array", "items": _STR}}
                ),
            },
        }
    ),
    "Stats": _obj(
        {
            "version": {"type": ["string", "null"]},
            "documents": _INT0,
            "sections": _INT0,
            "files": _INT0,
            "segments": _INT0,
            "terms": {
                "type": "object",
                "description": "Distinct terms per indexed text field; the fields depend on the index schema.",
                "additionalProperties": _INT0,
            },
            "size_bytes": {
                "type": ["integer", "null"],
                "minimum": 0,
                "description": "The index's size; null for a reader whose access rules hide part of it (their "
                "counts are of what they may read, and `terms` is empty).",
            },
            "index_dir": _STR,
            "updated": {"type": ["string", "null"], "description": "When this version was published (ISO 8601)."},
            "metadata": {
                "type": "object",
                "description": "Declared metadata fields: name → `keyword`, `date` or `number`.",
                "additionalProperties": {"enum": ["keyword", "date", "number"]},
            },
            "synonyms": {
                "type": "array",
                "items": _STR,
                "description": "The index's synonym sources: `sudachi` (Sudachi's synonym dictionary), file names.",
            },
            "user_dicts": {"type": "array", "items": _STR, "description": "The index's user dictionaries (CSV names)."},
            "cluster": _obj(
                {"status": {"enum": ["green", "yellow", "red"]}, "nodes": _INT0},
                description="Only with an OpenSearch backend: the cluster's health.",
            ),
            "types": {
                "type": "object",
                "description": "Documents per file type (the suffix without its dot; `none` for none), largest first.",
                "additionalProperties": _INT0,
            },
            "folders": {
                "type": "object",
                "description": "Documents per folder at the first level under `root` (`.`: files right in it), "
                "largest first; beyond the 30 largest, the rest summed under `…`.",
                "additionalProperties": _INT0,
            },
            "root": {"type": "string", "description": "The folder that holds every indexed file."},
        },
        required=[
            *("version", "documents", "sections", "files", "segments", "terms", "size_bytes", "index_dir"),
            *("updated", "metadata", "types", "folders", "root", "synonyms", "user_dicts"),
        ],
    ),
    # -- the status report (GET /api/status; sakuin.search.watching.status) ---------------------
    "Run": _obj(
        {
            "started": {"type": "string", "description": "When the run started (ISO 8601, UTC)."},
            "seconds": {"type": "number", "minimum": 0},
            "trigger": {"enum": list(TRIGGERS), "description": "`index` (sakuin index), `watch` or `optimize`."},
            "outcome": {"enum": ["updated", "unchanged", "failed", "interrupted"]},
            "error": {"type": ["string", "null"], "description": "Why a failed run failed; the index was kept."},
            "paths": {"type": "array", "items": _STR, "description": "The run's inputs (absolute paths)."},
            "added": _INT0,
            "changed": _INT0,
            "removed": _INT0,
            "unchanged": _INT0,
            "records": _obj({"added": _INT0, "changed": _INT0, "removed": _INT0}),
            "skipped": _INT0,
            "problems": _INT0,
            "examples": _obj(
                {
                    k: {"type": "array", "items": _STR, "maxItems": RUN_PATHS_KEPT}
                    for k in ("added", "changed", "removed")
                },
                description=f"The first {RUN_PATHS_KEPT} paths of each kind of change.",
            ),
            "rebuilt": {"type": "boolean"},
            "documents": {
                "type": ["integer", "null"],
                "minimum": 0,
                "description": "After the run (null if it failed).",
            },
            "sections": {"type": ["integer", "null"], "minimum": 0},
            "size_bytes": {"type": ["integer", "null"], "minimum": 0},
            "version": {"type": ["string", "null"]},
        }
    ),
    "Watcher": _obj(
        {
            "id": _STR,
            "host": _STR,
            "pid": _INT0,
            "paths": {"type": "array", "items": _STR},
            "mode": {"type": "string", "description": "How changes are noticed: `inotify`, `polling every 5 s`, …"},
            "started": _STR,
            "heartbeat": {"type": "string", "description": "When the watcher last wrote this state."},
            "state": {"enum": list(STATES), "description": "`gone`: it stopped without saying so (killed)."},
            "since": _STR,
            "running": {"type": "boolean"},
            "pending": {**_INT0, "description": "Changes noticed and not yet indexed."},
            "pending_since": {"type": ["string", "null"]},
            "missing": {
                "type": "object",
                "description": "Paths that disappeared (their documents are kept): `gone`, or `other_fs` "
                "(an unmounted share).",
                "additionalProperties": {"enum": ["gone", "other_fs"]},
            },
            "last_check": {"type": ["string", "null"]},
            "last_change": {"type": ["string", "null"]},
            "updates": _INT0,
            "failures": {**_INT0, "description": "Failed attempts in a row."},
            "error": {"type": ["string", "null"]},
            "retry_at": {"type": ["string", "null"]},
            "notes": {"type": "array", "items": _STR},
        }
    ),
    "SkippedFile": _obj(
        {
            "path": _STR,
            "reason": {"type": "string", "description": "Why, in words."},
            "code": {"enum": list(SKIP_CODES), "description": "Why, as a stable code (docs/errors.md)."},
            "at": {"type": "string", "description": "When the run that skipped it started."},
        }
    ),
    "Status": _obj(
        {
            "index": {
                "anyOf": [_ref("Stats"), {"type": "null"}],
                "description": "The live version (null: no index yet).",
            },
            "watchers": {"type": "array", "items": _ref("Watcher"), "description": "Running ones first."},
            "runs": {
                "type": "array",
                "items": _ref("Run"),
                "maxItems": RUNS_KEPT,
                "description": "The last runs, newest first.",
            },
            "skipped": _obj(
                {
                    "total": _INT0,
                    "reasons": {
                        "type": "object",
                        "description": "Skipped files per reason code, over all of them.",
                        "additionalProperties": _INT0,
                    },
                    "filter": _obj({"reasons": {"type": "array", "items": {"enum": list(SKIP_CODES)}}, "path": _STR}),
                    "files": {
                        "type": "array",
                        "items": _ref("SkippedFile"),
                        "description": "Every skipped file the filter keeps, by path.",
                    },
                }
            ),
            "restricted": {
                "type": "boolean",
                "description": "With `--auth`, a reader who may not read every document: `index` counts what "
                "they may read, and `watchers`, `runs` and `skipped` are empty (they name files and folders).",
            },
        }
    ),
    "Health": _obj({"status": {"const": "ok"}, "version": {"type": ["string", "null"]}}),
    "HealthUnavailable": _obj({"status": {"const": "unavailable"}, "error": _ref("ErrorBody")}),
}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _codes(status: int) -> str:
    """The table's codes answered with ``status`` (``sakuin.search.errors``), as a Markdown list."""
    return ", ".join(f"`{code}`" for code in dict.fromkeys(m.code for m in MESSAGES if m.status == status))


RESPONSES: dict[str, Any] = {
    "BadParameter": _error(
        "A missing or invalid parameter, or a query (or filter, sort or facet) that cannot be read; the message "
        f"says how to fix it. Codes: {_codes(400)}."
    ),
    "NotFound": _error(f"No such document or no such API address: {_codes(404)}."),
    "MethodNotAllowed": _error(f"Only GET (and HEAD) are accepted ({_codes(405)}); see the Allow header."),
    "PayloadTooLarge": _error(f"A request body over 16 KiB ({_codes(413)})."),
    "UriTooLong": _error(f"A query string over 40,000 bytes or a path over 2,000 characters ({_codes(414)})."),
    "IndexMissing": _error(f"No index has been built yet, or it cannot be opened or reached: {_codes(503)}."),
    "Unauthorized": _error(
        "Only with `sakuin serve --auth`: no credentials, or wrong ones "
        f"({_codes(401)}); the `WWW-Authenticate` header names the Bearer scheme."
    ),
    "Forbidden": _error(
        f"A POST authenticated by the pages' session cookie without its CSRF token ({_codes(403)}); "
        "requests with a bearer token need none."
    ),
    "TooManyRequests": _error(
        f"This client already has as many searches running as it may ({_codes(429)}); retry after the "
        "`Retry-After` seconds."
    ),
    "InternalError": _error(f"A bug ({_codes(500)}); the details are in the server log, never in the response."),
}


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _common(*extra: str) -> dict[str, Any]:
    """The error responses every endpoint can give, plus the endpoint-specific ones."""
    codes = {
        "400": "BadParameter",
        "401": "Unauthorized",
        "403": "Forbidden",
        "404": "NotFound",
        "405": "MethodNotAllowed",
        "413": "PayloadTooLarge",
        "414": "UriTooLong",
        "429": "TooManyRequests",
        "500": "InternalError",
        "503": "IndexMissing",
    }
    wanted = {"401", "405", "413", "414", "500", *extra}
    return {c: {"$ref": f"#/components/responses/{codes[c]}"} for c in sorted(wanted)}


def _param(
    name: str, where: str, schema: dict[str, Any], description: str, required: bool = False, empty: bool = False
) -> dict[str, Any]:
    """One parameter. ``empty``: the server takes an empty value (``page=``, as an HTML form
    sends it) as absent, i.e. the default (``sakuin.web.common``); OpenAPI says so with ``allowEmptyValue``."""
    param = {"name": name, "in": where, "required": required, "schema": schema, "description": description}
    if empty:
        param["allowEmptyValue"] = True
    return param


Q = _param(
    "q",
    "query",
    {"type": "string", "maxLength": MAX_QUERY_CHARS},
    'The query: words (all required), "phrases", OR, NOT word or -word, parentheses, title:word, heading:word, '
    "and metadata filters: category:スポーツ, date:>=2012-01-01, date:2012-01..2012-06, path:docs/guide/. "
    "Required unless there is a `filter`.",
)
SEARCH_OPTIONS = [
    _param(
        "filter",
        "query",
        {"type": "array", "items": {"type": "string"}, "maxItems": MAX_FILTERS},
        "Repeatable `field:value` filters ANDed with `q`; several on one field are ORed "
        "(filter=category:a&filter=category:b).",
    ),
    _param(
        "facets",
        "query",
        {"type": "string"},
        "Comma-separated facet fields to count (the declared keyword fields and `path`), e.g. `category,path`.",
    ),
    _param(
        "sort",
        "query",
        {"type": "string", "default": "relevance"},
        "`relevance`, or a declared date or number field; `-date` is newest first.",
    ),
    _param(
        "collapse",
        "query",
        {"type": "boolean", "default": True},
        "Collapse sections with the same body text into one hit. Empty means the default.",
        empty=True,
    ),
    _param(
        "substring",
        "query",
        {"type": "boolean", "default": False},
        "Also list the sections that have the words only inside longer words (after every word match). "
        "Empty means the default.",
        empty=True,
    ),
    _param(
        "synonyms",
        "query",
        {"type": "boolean", "default": True},
        "Also search the synonyms of the words (the index's `--synonyms`); their matches rank after the "
        "sections that have the words as typed. `false`: only the words typed. Empty means the default.",
        empty=True,
    ),
]
SEARCH_OPTIONS[0]["style"], SEARCH_OPTIONS[0]["explode"] = "form", True
PAGE = _param(
    "page",
    "query",
    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
    "1-based page. Empty (`page=`, as an HTML form sends it) means the default.",
    empty=True,
)
PER_PAGE = _param(
    "per_page",
    "query",
    {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
    "Hits per page. Empty means the default.",
    empty=True,
)
DOC_ID = _param(
    "doc_id",
    "path",
    {"type": "string", "minLength": 1},
    "The document id, percent-encoded. It may contain slashes (ids of files are relative paths such as "
    "`sub/a.md`), which may be sent as-is.",
    required=True,
)
TEXT = _param("text", "query", {"type": "string", "minLength": 1, "maxLength": MAX_ANALYZE_CHARS}, "Text to analyse.")
TEXT["required"] = True

PATHS: dict[str, Any] = {
    "/api/search": {
        "get": {
            "operationId": "search",
            "summary": "Search sections",
            "description": "Matching sections, best first, with a snippet each. "
            "The HTML twin is `/search?q=...`, which groups the same hits by document.",
            "parameters": [Q, PAGE, PER_PAGE, *SEARCH_OPTIONS],
            "responses": {"200": _ok("SearchResult", "A page of hits."), **_common("400", "429", "503")},
        },
        "post": {
            "operationId": "searchPost",
            "summary": "Search sections (JSON body)",
            "description": "The same search as GET with the parameters in a JSON body, for queries too long "
            "for an address.",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("SearchRequest")}},
            },
            "responses": {"200": _ok("SearchResult", "A page of hits."), **_common("400", "403", "429", "503")},
        },
    },
    "/api/suggest": {
        "get": {
            "operationId": "suggest",
            "summary": "Suggestions while typing",
            "description": "Indexed words that complete the last word of `q`, then titles of documents that "
            "match it. Empty `q`: no suggestions.",
            "parameters": [
                _param("q", "query", {"type": "string", "maxLength": MAX_QUERY_CHARS}, "What has been typed."),
                _param(
                    "limit",
                    "query",
                    {"type": "integer", "minimum": 1, "maximum": 20, "default": 8},
                    "At most. Empty means the default.",
                    empty=True,
                ),
            ],
            "responses": {"200": _ok("Suggestions", "Suggestions, best first."), **_common("400", "429", "503")},
        }
    },
    "/api/documents/{doc_id}": {
        "get": {
            "operationId": "getDocument",
            "summary": "A whole document",
            "description": "All sections in order. The HTML twin is `/doc/{doc_id}`.",
            "parameters": [DOC_ID],
            "responses": {"200": _ok("Document", "The document."), **_common("404", "429", "503")},
        }
    },
    "/api/analyze": {
        "get": {
            "operationId": "analyze",
            "summary": "Show how text is tokenized",
            "description": "What the index does to `text`: the same output as `sakuin analyze --json`: its words, "
            "read with the index's user dictionaries, and the synonyms of its words. Without an index, "
            "Sudachi's dictionary alone and no synonyms.",
            "parameters": [TEXT],
            "responses": {"200": _ok("Analysis", "One entry per morpheme."), **_common("400")},
        }
    },
    "/api/stats": {
        "get": {
            "operationId": "stats",
            "summary": "Index counts and sizes",
            "responses": {"200": _ok("Stats", "The live index version's statistics."), **_common("503")},
        }
    },
    "/api/status": {
        "get": {
            "operationId": "status",
            "summary": "What the index holds and what happened to it",
            "description": "The live version (documents by type and folder), the watchers, the last runs and every "
            "skipped file with its reason: the same as `sakuin status --json`. The HTML twin is `/status`.",
            "parameters": [
                _param(
                    "runs",
                    "query",
                    {"type": "integer", "minimum": 0, "maximum": RUNS_KEPT, "default": DEFAULT_RUNS},
                    "How many of the last runs to list.",
                ),
                {
                    **_param(
                        "reason",
                        "query",
                        {"type": "array", "items": {"enum": list(SKIP_CODES)}},
                        "Repeatable: list only the files skipped for these reasons.",
                    ),
                    "style": "form",
                    "explode": True,
                },
                _param(
                    "path",
                    "query",
                    {"type": "string", "maxLength": MAX_QUERY_CHARS},
                    "List only the skipped files whose path contains this (case-insensitive).",
                ),
            ],
            "responses": {"200": _ok("Status", "The status report."), **_common("400", "503")},
        }
    },
    "/api/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "security": [],
            "responses": {
                "200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}},
                **{k: v for k, v in _common().items() if k != "401"},
            },
        }
    },
    "/healthz": {
        "get": {
            "operationId": "health",
            "summary": "Readiness",
            "description": "200 once the live index opens; 503 otherwise (for load balancers and scripts). "
            "Needs no credentials.",
            "security": [],
            "responses": {
                "200": _ok("Health", "Ready; `version` is the live index version."),
                "503": _ok("HealthUnavailable", "Not ready: no index (`index_missing`) or it does not open."),
                **{k: v for k, v in _common().items() if k not in ("401", "503")},
            },
        }
    },
}


SECURITY_SCHEMES: dict[str, Any] = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "With `sakuin serve --auth`: the token `sakuin auth add-user` printed. A denied "
        "document answers 404, as a missing one; totals, facets and suggestions count only what the "
        "token's user may read.",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "sakuin_session",
        "description": "The pages' sign-in (/login); a POST then needs the CSRF token in `X-CSRFToken`.",
    },
}


def _version() -> str:
    try:
        return version("sakuin")
    except PackageNotFoundError:  # running from a checkout that was not installed
        return "0.0.0"


@cache
def openapi_spec() -> dict[str, Any]:
    """The whole document; cached because it never changes while the process runs."""
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "sakuin (索引) search API",
            "version": _version(),
            "description": "Japanese full-text search over documents, section by section. "
            'Errors are always `{"error": {"code": "...", "message": "..."}}`. '
            "Every HTML page links to its JSON twin here.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/"}],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS, "responses": RESPONSES, "securitySchemes": SECURITY_SCHEMES},
        # Only with ``sakuin serve --auth``; without it no credentials are needed (the empty alternative).
        "security": [{"bearer": []}, {"session": []}, {}],
    }
