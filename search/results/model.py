"""Result objects: the one source of truth for the CLI, the JSON API and the HTML pages.

``to_dict()`` is the JSON contract; the web templates read the same objects, so
what the browser shows and what the API returns cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sakuin.search.errors import message


@dataclass(frozen=True, slots=True)
class Snippet:
    """A passage of a section body with the matches marked.

    ``html`` is escaped text with ``<mark>`` around matches; ``highlights`` are
    [start, end) offsets into ``text``, for clients that render their own way.
    """

    text: str
    html: str
    highlights: tuple[tuple[int, int], ...]

    def to_dict(self) -> dict[str, Any]:
        return {"html": self.html, "text": self.text, "highlights": [list(h) for h in self.highlights]}


@dataclass(frozen=True, slots=True)
class Hit:
    """One matching section."""

    doc_id: str
    title: str
    path: str
    ordinal: int
    heading: str
    score: float
    snippet: Snippet
    heading_html: str = ""
    #: The document title with the query's matches marked (a hit that matches only through
    #: its title shows why it matched).
    title_html: str = ""
    #: "word": the query's words match as words; "substring": only inside longer words;
    #: "synonym": only through a synonym of a word (ranked after the other two).
    match: str = "word"
    #: The document's metadata as its source gave it (JSONL fields, front matter, <meta>).
    meta: dict[str, Any] = field(default_factory=dict)
    #: Sections with the same text in other places, collapsed into this hit.
    duplicates: int = 0
    #: The built-in ``type`` (``pdf``, ``md``…; "" when the index does not know it).
    file_type: str = ""
    #: The file's modification time when it was read (ISO 8601), if known.
    modified: str | None = None
    #: A paged document's section: its (first, last) page, and the page of its first match.
    pages: tuple[int, int] | None = None
    page: int | None = None

    @property
    def url(self) -> str | None:
        """The document's own address, when its metadata has an http(s) ``url``."""
        url = self.meta.get("url")
        return url if isinstance(url, str) and url.startswith(("http://", "https://")) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "title_html": self.title_html,
            "path": self.path,
            "url": self.url,
            "section": {"ordinal": self.ordinal, "heading": self.heading, "heading_html": self.heading_html},
            "score": round(self.score, 4),
            "match": self.match,
            "duplicates": self.duplicates,
            "meta": self.meta,
            "type": self.file_type,
            "modified": self.modified,
            "pages": list(self.pages) if self.pages else None,
            "page": self.page,
            "snippet": self.snippet.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class SynonymExpansion:
    """Typed words that were also searched as their synonyms (those the index has)."""

    word: str
    synonyms: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"word": self.word, "synonyms": list(self.synonyms)}


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should know about an answer (not an error): ``code``, an
    English ``message`` and the values it names, for UIs that say it their own way."""

    code: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, code: str, **params: Any) -> Notice:
        """The notice ``code`` of the message table (``sakuin.search.errors``), in English."""
        return cls(code, message(code).english(params), params)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "params": self.params}


@dataclass(frozen=True, slots=True)
class FacetValue:
    value: str
    count: int
    selected: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "count": self.count, "selected": self.selected}


@dataclass(frozen=True, slots=True)
class DocumentGroup:
    """Consecutive hits of one document, as the results page shows them."""

    doc_id: str
    title: str
    path: str
    hits: list[Hit]


@dataclass(slots=True)
class SearchResult:
    """A page of hits, best first; ``total`` counts all matching sections."""

    query: str
    total: int
    took_ms: float
    page: int
    per_page: int
    hits: list[Hit] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    #: Matching sections before near-duplicates were collapsed (``total`` counts hits after),
    #: up to ``TRACK_TOTAL``.
    sections: int = 0
    #: Requested facets: field → values with their counts over all matching sections.
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    #: ``field:value`` filters given beside the query (``filter=`` / ``--filter``).
    filters: list[str] = field(default_factory=list)
    #: The order: "relevance", or a date/number field, "-" first for descending.
    sort: str = "relevance"
    #: Sections that have the query's words only inside longer words (京都 in 東京都): listed
    #: after every word match when ``substrings`` was asked for or nothing matches as a word,
    #: else only counted here (they are not in ``total`` or the facets).
    substring_total: int = 0
    #: Whether the request asked for the substring matches to be listed.
    substrings: bool = False
    #: "eq": ``total`` is exact; "gte": there are more than ``TRACK_TOTAL`` (10,000) hits,
    #: ``total`` says that many ("at least"), and ``substring_total`` counts what was found
    #: before counting stopped. ``sections`` is counted up to ``TRACK_TOTAL`` too.
    total_relation: str = "eq"
    #: For few or no hits: indexed words close to the query's (``sakuin.search.results.suggestions``).
    did_you_mean: list[str] = field(default_factory=list)
    #: Whether synonyms were asked for (``synonyms=false`` turns them off), and the typed words
    #: the search also looked for as synonyms.
    synonyms: bool = True
    expansions: list[SynonymExpansion] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def at_least(self) -> bool:
        """Whether ``total`` is a lower bound (more hits than were counted)."""
        return self.total_relation == "gte"

    def groups(self) -> list[DocumentGroup]:
        """Hits grouped by document, in the order each document first appears."""
        order: dict[str, DocumentGroup] = {}
        for h in self.hits:
            g = order.get(h.doc_id)
            if g is None:
                g = order[h.doc_id] = DocumentGroup(h.doc_id, h.title, h.path, [])
            g.hits.append(h)
        return list(order.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "total_relation": self.total_relation,
            "took_ms": round(self.took_ms, 2),
            "page": self.page,
            "per_page": self.per_page,
            "last_page": self.pages,
            "filters": self.filters,
            "sections": self.sections,
            "substring_total": self.substring_total,
            "sort": self.sort,
            "hits": [h.to_dict() for h in self.hits],
            "facets": {name: [v.to_dict() for v in values] for name, values in self.facets.items()},
            "did_you_mean": self.did_you_mean,
            "synonyms": self.synonyms,
            "expansions": [e.to_dict() for e in self.expansions],
            "notices": [n.to_dict() for n in self.notices],
        }


@dataclass(frozen=True, slots=True)
class Suggestion:
    """``kind``: ``word`` (completes the last word) or ``title`` (a document)."""

    kind: str
    text: str
    doc_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "doc_id": self.doc_id}
