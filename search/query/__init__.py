"""Query handling in three layers, as tantivy and Meilisearch do it.

``syntax``: the string → an AST (no index knowledge; typed errors with codes);
``plan``: the AST → an immutable plan of terms and their derivations (each run
analysed once, against the index's statistics) and of metadata filters
(``filters``, ``targets``); ``request``: a request's filters ANDed into its query.
Each backend then emits the plan in its own terms (``embedded.reading.emit``,
``opensearch.emit``), so nothing here knows an index.
"""

from __future__ import annotations

from sakuin.search.analysis.thesaurus import NO_SYNONYMS, Thesaurus
from sakuin.search.documents.metadata import Declaration
from sakuin.search.errors import QuerySyntaxError
from sakuin.search.query.filters import FilterNode
from sakuin.search.query.plan import QUERY_FIELDS, Lexicon, Plan, Planner
from sakuin.search.query.request import with_filters
from sakuin.search.query.syntax import All, Any_, Node, Not, Text, parse


def plan_query(
    q: str,
    lexicon: Lexicon | None = None,
    sections: int | None = None,
    literal: bool = False,
    metadata: Declaration | None = None,
    thesaurus: Thesaurus = NO_SYNONYMS,
) -> Plan:
    """Parse and understand ``q``; raises QuerySyntaxError. ``thesaurus``: the synonyms to widen it with."""
    return Planner(lexicon, sections, metadata=metadata, thesaurus=thesaurus).plan(parse(q, literal), q)


__all__ = [
    "QUERY_FIELDS",
    "All",
    "Any_",
    "FilterNode",
    "Node",
    "Not",
    "Plan",
    "QuerySyntaxError",
    "Text",
    "parse",
    "plan_query",
    "with_filters",
]
