"""Document metadata: which fields a collection declares, and what their values mean.

A document's ``meta`` holds what its source carries besides text (the scalar
fields of a JSONL record, Markdown front matter, HTML ``<meta name>`` and
``<time>``). The user declares which of those fields to use
(``sakuin index PATH --facet category --date date --number price``) and the
index remembers the declaration in its manifest, so later runs need not repeat it:

* ``keyword`` fields are filterable (``category:スポーツ``) and facetable;
  a list of scalars is several values;
* ``date`` fields (ISO 8601, with or without time and zone) and ``number``
  fields are range-filterable (``date:>=2012-01-01``, ``date:2012-01..2012-06``,
  ``price:10..20``) and sortable (``--sort -date``);
* ``path`` is built in: the folders a file lies in, filterable by prefix
  (``path:docs/guide/``) and facetable;
* ``type`` is built in: what kind of document it is (``pdf``, ``docx``, ``md``,
  ``jsonl``…; ``sakuin.search.documents.kinds``), filterable and facetable;
* ``modified`` is built in: the file's modification time when it was read, a
  date field (``modified:2026-12``, ``--sort -modified``).

Design decisions:

* **Dates compare as written.** ``2010-05-22T14:30:00+09:00`` is on 2010-05-22:
  a date is its wall-clock time with the offset dropped, so a filter on a day
  finds what the documents say happened that day, in whatever zone they were
  written (a Japanese collection is all +09:00; converting to UTC would move a
  morning article to the previous day). Across zones, sorting may be off by
  the zones' difference.
* **Values are indexed as terms of one field** (``facets``: ``name\\x1fvalue``)
  and dates and numbers as one column each (``num_<name>``, float64, NaN where
  missing), so the index stays a standard Whoosh index and a filter or a facet
  count costs one array operation per request (``sakuin.search.embedded.reading.metatables``).
* **Values are kept exactly** (for display and exact filtering); a filter value
  also matches a value that differs only in width or case (``fold``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sakuin.search.errors import MetadataError

Kind = Literal["keyword", "date", "number"]
KINDS: tuple[Kind, ...] = ("keyword", "date", "number")
#: The built-in facet of every index: the folders of a document's file.
PATH = "path"
#: The built-in facet of every index: the kind of document (``pdf``, ``md``…).
TYPE = "type"
#: The built-in date field of every index: the file's modification time.
MODIFIED = "modified"
#: Field names a declaration may not take (the query language's own fields, the built-ins).
RESERVED = frozenset(
    {"title", "heading", "content", "grams", "reading", PATH, TYPE, MODIFIED, "id", "text", "sections"}
)
#: A field name as the query language reads it (``name:``).
NAME = re.compile(r"[a-z][a-z0-9_]*\Z")
#: Separates a field's name from its value in a ``facets`` term.
SEP = "\x1f"
#: Longer keyword values are cut (a facet value is a label, not text).
MAX_VALUE_CHARS = 200
#: Values per field and document beyond this are ignored (a list field gone wild).
MAX_VALUES = 50


def column_name(name: str) -> str:
    """The Whoosh column of a date or number field."""
    return f"num_{name}"


@dataclass(frozen=True)
class Declaration:
    """Which metadata fields an index uses, and how: name → kind."""

    fields: Mapping[str, Kind] = field(default_factory=dict)

    @classmethod
    def from_manifest(cls, data: Any) -> Declaration:
        if not isinstance(data, dict):
            return cls()
        return cls({str(k): v for k, v in data.items() if v in KINDS and k not in RESERVED})

    def to_manifest(self) -> dict[str, str]:
        return dict(sorted(self.fields.items()))

    def with_fields(self, declared: Iterable[tuple[str, Kind]]) -> Declaration:
        """This declaration plus ``declared``; raises MetadataError on a bad name or a changed kind."""
        out = dict(self.fields)
        for name, kind in declared:
            name = name.strip()
            if not NAME.match(name):
                raise MetadataError("bad_declaration/name", name=name)
            if name in RESERVED:
                raise MetadataError("bad_declaration/reserved", name=name)
            if out.get(name, kind) != kind:
                raise MetadataError("bad_declaration/kind", name=name, kind=out[name])
            out[name] = kind
        return Declaration(out)

    def of_kind(self, *kinds: Kind) -> list[str]:
        return [n for n, k in sorted(self.fields.items()) if k in kinds]

    @property
    def facets(self) -> list[str]:
        """Facetable fields: the keyword fields, then ``path`` and ``type``."""
        return [*self.of_kind("keyword"), PATH, TYPE]

    @property
    def sortable(self) -> list[str]:
        """Date and number fields, then ``modified``: each has a column."""
        return [*self.of_kind("date", "number"), MODIFIED]

    def kind(self, name: str) -> Kind | None:
        if name in (PATH, TYPE):
            return "keyword"
        if name == MODIFIED:
            return "date"
        return self.fields.get(name)

    @property
    def names(self) -> list[str]:
        """Every field a filter may name: the built-ins, then the declared ones."""
        return [PATH, TYPE, MODIFIED, *sorted(self.fields)]


# -- values --------------------------------------------------------------------------


def _scalars(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        for item in value[:MAX_VALUES]:
            if item is not None and not isinstance(item, (list, dict)):
                yield item
    elif value is not None and not isinstance(value, dict):
        yield value


def keyword_values(value: Any) -> list[str]:
    """A metadata value as facet values: strings trimmed, numbers and booleans spelled as JSON does."""
    out = []
    for item in _scalars(value):
        text = ("true" if item else "false") if isinstance(item, bool) else " ".join(str(item).split())
        if text:
            out.append(text[:MAX_VALUE_CHARS])
    return list(dict.fromkeys(out))


def parse_date(value: Any) -> float | None:
    """An ISO 8601 date or date-time as seconds since 1970 on its own wall clock (module doc), else None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if re.fullmatch(r"\d{4}", text):
        text += "-01-01"
    elif re.fullmatch(r"\d{4}-\d{2}", text):
        text += "-01"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    moment = moment.replace(tzinfo=None)
    return (moment - _EPOCH).total_seconds()


def parse_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip().replace(",", ""))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


_EPOCH = datetime(1970, 1, 1)


def folders(path: str) -> list[str]:
    """The folders a file lies in, outermost first: ``docs/guide/a.md`` → ``docs/``, ``docs/guide/``."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts)) if parts[i]]


@dataclass(frozen=True, slots=True)
class Derived:
    """What one document's metadata puts in the index: facet terms and column values."""

    terms: tuple[str, ...]
    numbers: Mapping[str, float]


def derive(
    declaration: Declaration,
    meta: Mapping[str, Any] | None,
    path: str,
    info: Mapping[str, Any] | None = None,
) -> Derived:
    """The ``facets`` terms (keyword values, the path and the type) and the columns of one
    document; ``info`` holds the built-ins (``type``, ``modified``) its reader found."""
    terms = [f"{PATH}{SEP}{f}" for f in folders(path)]
    terms.append(f"{PATH}{SEP}{path}")
    numbers: dict[str, float] = {}
    info = info or {}
    if info.get(TYPE):
        terms.append(f"{TYPE}{SEP}{info[TYPE]}")
    modified = parse_date(info.get(MODIFIED))
    if modified is not None:
        numbers[column_name(MODIFIED)] = modified
    meta = meta or {}
    for name, kind in declaration.fields.items():
        value = meta.get(name)
        if value is None:
            continue
        if kind == "keyword":
            terms.extend(f"{name}{SEP}{v}" for v in keyword_values(value))
            continue
        parse = parse_date if kind == "date" else parse_number
        parsed = next((p for item in _scalars(value) if (p := parse(item)) is not None), None)
        if parsed is not None:
            numbers[column_name(name)] = parsed
    return Derived(tuple(dict.fromkeys(terms)), numbers)


# -- suggestions for the indexing summary ----------------------------------------------


@dataclass
class FieldSurvey:
    """Undeclared metadata fields seen while indexing, to suggest declarations."""

    sample: int = 2000
    documents: int = 0
    seen: Counter[str] = field(default_factory=Counter)
    dates: Counter[str] = field(default_factory=Counter)
    numbers: Counter[str] = field(default_factory=Counter)
    values: dict[str, set[str]] = field(default_factory=dict)

    def add(self, meta: Mapping[str, Any] | None) -> None:
        if not meta or self.documents >= self.sample:
            return
        self.documents += 1
        for name, value in meta.items():
            if not isinstance(name, str) or not NAME.match(name) or name in RESERVED:
                continue
            items = list(_scalars(value))
            if not items:
                continue
            self.seen[name] += 1
            if parse_number(items[0]) is not None:
                self.numbers[name] += 1
            elif parse_date(items[0]) is not None:
                self.dates[name] += 1
            bucket = self.values.setdefault(name, set())
            if len(bucket) <= 1000:
                bucket.update(keyword_values(value))

    def suggestions(self, declaration: Declaration) -> list[str]:
        """``--facet category``-style options for fields seen but not declared, most common first."""
        out = []
        for name, n in self.seen.most_common():
            if name in declaration.fields:
                continue
            if self.dates[name] == n:
                out.append(f"--date {name}")
            elif self.numbers[name] == n:
                out.append(f"--number {name}")
            elif len(self.values.get(name, ())) <= max(50, n // 20):  # labels, not one value per document
                out.append(f"--facet {name}")
        return out


__all__ = [
    "KINDS",
    "MODIFIED",
    "PATH",
    "RESERVED",
    "SEP",
    "TYPE",
    "Declaration",
    "Derived",
    "FieldSurvey",
    "Kind",
    "column_name",
    "derive",
    "folders",
    "keyword_values",
    "parse_date",
    "parse_number",
]
