"""Query handling in three layers, as tantivy and Meilisearch do it.

``syntax``: the string → an AST (no index knowledge; typed errors with codes);
``plan``: the AST → an immutable plan of terms and their derivations (each run
analysed once, against the index's statistics); ``emit``: the plan → the Whoosh
query, the term-at-a-time bag, the substring candidates and the highlight terms.
``compile_query`` runs all three.
"""

from __future__ import annotations

from search.query.emit import Compiled, emit
from search.query.plan import QUERY_FIELDS, Lexicon, Plan, Planner
from search.query.syntax import MAX_DEPTH, MAX_QUERY_CHARS, All, Any_, Node, Not, QuerySyntaxError, Text, parse


def plan_query(q: str, lexicon: Lexicon | None = None, sections: int | None = None, literal: bool = False) -> Plan:
    """Parse and understand ``q``; raises QuerySyntaxError."""
    return Planner(lexicon, sections).plan(parse(q, literal), q)


def compile_query(
    q: str, lexicon: Lexicon | None = None, sections: int | None = None, literal: bool = False
) -> Compiled:
    """Parse, understand and emit in one step; raises QuerySyntaxError.

    ``lexicon`` and ``sections`` (the index's section count) let the planner
    skip terms that cannot match or barely matter.
    """
    return emit(plan_query(q, lexicon, sections, literal))


__all__ = [
    "MAX_DEPTH",
    "MAX_QUERY_CHARS",
    "QUERY_FIELDS",
    "All",
    "Any_",
    "Compiled",
    "Node",
    "Not",
    "Plan",
    "QuerySyntaxError",
    "Text",
    "compile_query",
    "parse",
    "plan_query",
]
