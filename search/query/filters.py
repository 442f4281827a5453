"""Metadata filters in the plan: ``category:スポーツ``, ``date:2012-01..2012-06``, ``path:docs/``.

The planner (``sakuin.search.query.plan``) turns every ``name:value`` whose name is a
declared metadata field (or ``path``) into a filter node here, with its value
already understood, so a backend only has to evaluate it (the embedded one as
boolean arrays, ``sakuin.search.embedded.reading.metatables.evaluate``; a cluster as filter clauses)::

    category:スポーツ        Match(category, values=(スポーツ,))
    path:docs/guide/         Match(path, values=(docs/guide/,))   (folder prefix)
    date:>=2012-01-01        Range(date, low=2012-01-01 00:00, inclusive)
    date:2012-01..2012-06    Range(date, [2012-01-01, 2012-07-01))
    date:2012                Range(date, [2012-01-01, 2013-01-01))
    price:10..20             Range(price, [10, 20])

A date bound is as precise as it is written: a year, a month, a day or a time
(to the second); ``date:2012-01-05`` is that whole day and ``<=2012-01`` runs
to the end of January. Dates compare on their own wall clock
(``sakuin.search.documents.metadata``).

Filters combine with the text of a query by AND (Meilisearch's and
Elasticsearch's filter context): they select, they never score. Among
themselves they take OR, NOT and parentheses (``category:a OR category:b``,
``-category:c``); mixing a filter and text inside one OR is refused
(``filter_in_or``): the filter would have to score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sakuin.search.documents.metadata import PATH, Kind, parse_date, parse_number
from sakuin.search.errors import QuerySyntaxError


@dataclass(frozen=True, slots=True)
class Match:
    """Sections whose ``field`` has one of ``values`` (for ``path``: lies under the folder or is the file)."""

    field: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Range:
    """Sections whose ``field`` lies within the bounds (None: unbounded)."""

    field: str
    low: float | None
    high: float | None
    low_inclusive: bool = True
    high_inclusive: bool = False


@dataclass(frozen=True, slots=True)
class FNot:
    child: FilterNode


@dataclass(frozen=True, slots=True)
class FAll:
    children: tuple[FilterNode, ...]


@dataclass(frozen=True, slots=True)
class FAny:
    children: tuple[FilterNode, ...]


FilterNode = Match | Range | FNot | FAll | FAny

_OPERATOR = re.compile(r"(>=|<=|>|<|=)?(.*)\Z", re.S)


def filter_node(field: str, kind: Kind, text: str) -> FilterNode:
    """The filter ``field:text`` for a field of ``kind``; raises QuerySyntaxError (``bad_filter_value``)."""
    text = text.strip()
    if kind == "keyword":
        if field == PATH:
            return Match(field, (_path(text),))
        return Match(field, (" ".join(text.split()),))
    if kind == "date":
        return _range(field, text, _date_bounds, "date")
    return _range(field, text, _number_bounds, "number")


def _path(text: str) -> str:
    text = text.replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return text.lstrip("/")


Bounds = tuple[float, float, bool]  # start, end, end inclusive


def _range(field: str, text: str, bounds: object, kind: str) -> Range:
    """``kind`` (date or number) picks the error message's examples."""

    def read(value: str) -> Bounds:
        found = bounds(value)  # type: ignore[operator]
        if found is None:
            raise QuerySyntaxError(f"bad_filter_value/{kind}", field=field, value=value)
        return found  # type: ignore[no-any-return]

    if ".." in text:
        left, _, right = text.partition("..")
        if not left.strip() and not right.strip():
            raise QuerySyntaxError(f"bad_filter_value/{kind}_range", field=field, value=text)
        low = read(left.strip())[0] if left.strip() else None
        high_bounds = read(right.strip()) if right.strip() else None
        high = high_bounds[1] if high_bounds else None
        return Range(field, low, high, True, high_bounds[2] if high_bounds else False)
    m = _OPERATOR.match(text)
    assert m is not None
    op, value = m.group(1), m.group(2).strip()
    start, end, end_inclusive = read(value)
    if op == ">=":
        return Range(field, start, None, True)
    if op == ">":
        return Range(field, end, None, not end_inclusive)
    if op == "<":
        return Range(field, None, start, True, False)
    if op == "<=":
        return Range(field, None, end, True, end_inclusive)
    return Range(field, start, end, True, end_inclusive)


def _date_bounds(text: str) -> Bounds | None:
    """[start, end) of a date as written: a year, a month, a day, or a time to the second."""
    start = parse_date(text)
    if start is None:
        return None
    moment = datetime(1970, 1, 1) + timedelta(seconds=start)
    if re.fullmatch(r"\d{4}", text):
        end = moment.replace(year=moment.year + 1)
    elif re.fullmatch(r"\d{4}-\d{2}", text):
        end = moment.replace(year=moment.year + moment.month // 12, month=moment.month % 12 + 1)
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        end = moment + timedelta(days=1)
    else:
        end = moment + timedelta(seconds=1)
    return start, (end - datetime(1970, 1, 1)).total_seconds(), False


def _number_bounds(text: str) -> Bounds | None:
    number = parse_number(text)
    return None if number is None else (number, number, True)


def top_level(where: FilterNode | None) -> list[FilterNode]:
    """The filters a query ANDs together (each may be counted or left out on its own)."""
    return list(where.children) if isinstance(where, FAll) else [where] if where is not None else []


def fields_of(node: FilterNode) -> set[str]:
    if isinstance(node, (Match, Range)):
        return {node.field}
    if isinstance(node, FNot):
        return fields_of(node.child)
    return set().union(*(fields_of(c) for c in node.children))


__all__ = ["FAll", "FAny", "FNot", "FilterNode", "Match", "Range", "fields_of", "filter_node", "top_level"]
