"""One search's arguments, bounded and checked against an index's declaration.

Both backends run the same ``Request`` (``Request.of``): the page is clamped to
``MAX_PAGE`` × ``MAX_PER_PAGE``, a sort names a declared date or number field,
facets name declared keyword fields (or ``path``), and filters given beside the
query are ANDed into it (``with_filters``), so a filter and a ``field:value`` in
the query are the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sakuin.search.config import MAX_PAGE, MAX_PER_PAGE
from sakuin.search.documents.metadata import Declaration
from sakuin.search.errors import QuerySyntaxError


@dataclass(frozen=True, slots=True)
class Sort:
    """Order by a date or number field; ``descending``: newest or largest first."""

    field: str
    descending: bool = False


def with_filters(q: str, filters: Sequence[str]) -> str:
    """``q`` AND the filters (``category:スポーツ``, ``date:2012-01..``), as one query string.

    Filters on the same field are ORed (checking a second category widens the
    results, as a facet list does), different fields ANDed. Raises
    QuerySyntaxError (``bad_filter``) for a filter that is not ``field:value``.
    """
    by_field: dict[str, list[str]] = {}
    for raw in filters:
        text = raw.strip()
        if not text:
            continue
        name, colon, value = text.partition(":")
        if not colon or not value.strip() or not name.strip():
            raise QuerySyntaxError("bad_filter", filter=text)
        by_field.setdefault(name.strip().lower(), []).append(text)
    if not by_field:
        return q
    parts = [f"({q})"] if q.strip() else []
    for group in by_field.values():
        parts.append(group[0] if len(group) == 1 else "(" + " OR ".join(group) + ")")
    return " ".join(parts)


@dataclass(frozen=True)
class Request:
    """One search's arguments, bounded and checked against an index's declaration:
    what both backends run (``Request.of``)."""

    text: str  # the query with the filters ANDed in
    page: int
    per_page: int
    literal: bool
    sort: Sort | None
    facets: tuple[str, ...]
    collapse: bool
    #: List the sections that have the words only inside longer words even when there are word matches.
    substrings: bool = False

    @classmethod
    def of(
        cls,
        declaration: Declaration,
        q: str,
        page: int,
        per_page: int,
        literal: bool,
        sort: str | None,
        facets: Sequence[str],
        collapse: bool,
        filters: Sequence[str],
        substrings: bool = False,
    ) -> Request:
        """Raises QuerySyntaxError (``unknown_sort``, ``unknown_facet``, ``bad_filter``)."""
        order, wanted = _sort_of(declaration, sort), _facet_names_of(declaration, facets)
        return cls(
            text=with_filters(q, filters) if filters else q,
            page=max(1, min(page, MAX_PAGE)),
            per_page=max(1, min(per_page, MAX_PER_PAGE)),
            literal=literal and not filters,
            sort=order,
            facets=wanted,
            collapse=collapse,
            substrings=substrings,
        )


def _sort_of(declaration: Declaration, sort: str | None) -> Sort | None:
    """``relevance`` / ``date`` / ``-date`` → a Sort; raises QuerySyntaxError(``unknown_sort``)."""
    name = (sort or "").strip()
    if name in ("", "relevance"):
        return None
    descending = name.startswith("-")
    field = name.lstrip("-+")
    sortable = declaration.sortable
    if field not in sortable:
        choices = ["relevance", *(f"{s}{f}" for f in sortable for s in ("", "-"))]
        raise QuerySyntaxError("unknown_sort", sort=name, choices=choices)
    return Sort(field, descending)


def sort_name(sort: Sort | None) -> str:
    return "relevance" if sort is None else f"{'-' if sort.descending else ''}{sort.field}"


def _facet_names_of(declaration: Declaration, names: Sequence[str]) -> tuple[str, ...]:
    known = declaration.facets
    wanted = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise QuerySyntaxError("unknown_facet", facet=unknown[0], facets=known)
    return wanted


__all__ = ["Request", "Sort", "sort_name", "with_filters"]
