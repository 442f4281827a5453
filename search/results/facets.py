"""Facet rules both backends follow: which values a facet lists, and which a query selected."""

from __future__ import annotations

from sakuin.search.config import FACET_LIMIT
from sakuin.search.documents.metadata import PATH
from sakuin.search.query.filters import FAny, FilterNode, Match, top_level


def facet_list(name: str, counts: list[tuple[str, int]], chosen: set[str]) -> list[tuple[str, int]]:
    """What a facet lists of its (value, count) pairs: most frequent first, at most
    ``FACET_LIMIT`` plus the ``chosen`` ones; for ``path``, the folders one level below
    the chosen one (the top level when none is), a drill-down. Both backends list with it."""
    if name == PATH:
        depth = max((v.rstrip("/").count("/") + 1 for v in chosen if v), default=0)
        counts = [(v, n) for v, n in counts if v.endswith("/") and v.count("/") == depth + 1]
    ranked = sorted(counts, key=lambda x: (-x[1], x[0]))
    return ranked[:FACET_LIMIT] + [(v, n) for v, n in ranked[FACET_LIMIT:] if v in chosen]


def selected_values(where: FilterNode | None) -> dict[str, set[str]]:
    """The values a query's top-level filters select, per field (listed even when rare)."""
    out: dict[str, set[str]] = {}
    for node in top_level(where):
        for leaf in node.children if isinstance(node, FAny) else (node,):
            if isinstance(leaf, Match):
                out.setdefault(leaf.field, set()).update(leaf.values)
    return out


def facet_filter(name: str, value: str) -> str:
    """The filter a facet value stands for, quoted so spaces and colons survive the parser."""
    if '"' in value:
        return f"{name}:{value}"
    return f'{name}:"{value}"' if any(c.isspace() or c in "():" for c in value) else f"{name}:{value}"


__all__ = ["FACET_LIMIT", "facet_filter", "facet_list", "selected_values"]
