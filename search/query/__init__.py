"""Query handling in three layers, as tantivy and Meilisearch do it.

``syntax``: the string → an AST (no index knowledge; typed errors with codes);
``plan``: the AST → an immutable plan of terms and their derivations (each run
analysed once, against the index's statistics) and of metadata filters
(``filters``); ``emit``: the plan → the Whoosh
query, the term-at-a-time bag, the substring candidates and the highlight terms.
``compile_query`` runs all three.
"""

from __future__ import annotations

from collections.abc import Sequence

from search.metadata import Declaration
from search.query.emit import Compiled, emit
from search.query.filters import FilterNode
from search.query.plan import QUERY_FIELDS, Lexicon, Plan, Planner
from search.query.syntax import MAX_DEPTH, MAX_QUERY_CHARS, All, Any_, Node, Not, QuerySyntaxError, Text, parse


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
            raise QuerySyntaxError(
                "bad_filter", f"a filter is field:value, e.g. category:スポーツ (got {text!r})", filter=text
            )
        by_field.setdefault(name.strip().lower(), []).append(text)
    if not by_field:
        return q
    parts = [f"({q})"] if q.strip() else []
    for group in by_field.values():
        parts.append(group[0] if len(group) == 1 else "(" + " OR ".join(group) + ")")
    return " ".join(parts)


def plan_query(
    q: str,
    lexicon: Lexicon | None = None,
    sections: int | None = None,
    literal: bool = False,
    metadata: Declaration | None = None,
) -> Plan:
    """Parse and understand ``q``; raises QuerySyntaxError."""
    return Planner(lexicon, sections, metadata=metadata).plan(parse(q, literal), q)


def compile_query(
    q: str,
    lexicon: Lexicon | None = None,
    sections: int | None = None,
    literal: bool = False,
    metadata: Declaration | None = None,
) -> Compiled:
    """Parse, understand and emit in one step; raises QuerySyntaxError.

    ``lexicon`` and ``sections`` (the index's section count) let the planner
    skip terms that cannot match or barely matter; ``metadata`` (the index's
    declaration) says which ``name:`` fields are filters.
    """
    return emit(plan_query(q, lexicon, sections, literal, metadata))


__all__ = [
    "MAX_DEPTH",
    "MAX_QUERY_CHARS",
    "QUERY_FIELDS",
    "All",
    "Any_",
    "Compiled",
    "FilterNode",
    "Node",
    "Not",
    "Plan",
    "QuerySyntaxError",
    "Text",
    "compile_query",
    "parse",
    "plan_query",
    "with_filters",
]
