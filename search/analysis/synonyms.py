"""Synonym tables: which other words a typed word also stands for, read from a source.

Two formats:

* **Sudachi's synonym dictionary** (``data/sudachi_synonyms.txt``, from the
  SudachiDict project, Apache-2.0, its notice beside it), one word per line in
  groups: group number, noun/verb flag, expansion control, lexeme number, form
  (0 representative, 1 translation, 2 alternative name, 3 old name, 4 misuse),
  abbreviation (0 full form, 1 alphabetic abbreviation, 2 other abbreviation),
  spelling (0 representative, 1 alphabetic spelling, 2 variant, 3 misspelling),
  field, headword. Every line of a group with the same lexeme number is a form of
  one lexeme: インフルエンザ, influenza and インフル are one lexeme, 流感 another lexeme
  of the same group.
* **Solr's synonym format**, for a collection's own words: ``a, b, c`` (each also
  stands for the others) and ``a => b, c`` (``a`` also stands for ``b`` and ``c``,
  not the other way round); ``#`` starts a comment line; ``\\`` escapes a comma,
  ``=`` or ``\\``.

Design decisions:

* **A word expands to the other forms of its own lexeme** (its spelling variants,
  abbreviations, translations, other and old names: スマホ ↔ スマートフォン,
  エストロゲン ↔ estrogen), never to the group's other lexemes: those are related words
  with meanings of their own (支払い's group also holds 勘定, 精算, 会計), which widen
  a search into other topics.
* **Expansion control is obeyed**: a line flagged 1 is expanded to but never
  expands (an abbreviation with several meanings: CP); a line flagged 2 is neither
  (the project keeps it as a record of a removed word).
* **A headword of several groups is not expanded to**: SP is the abbreviation of
  スマートフォン and of seven other things, so スマホ does not search SP (it would find
  every section that writes SP for anything). Within its own lexeme, every other
  form is.
* **Keys are the headwords NFKC'd and lower-cased** (``normalize_term``), the same
  key the query side makes of what was typed and of Sudachi's normalized form of
  it, so width and case never hide an entry. An expansion stays text; the planner
  analyses it (``sakuin.search.query.plan``), so it becomes exactly the terms the
  index has for it.
* **A malformed line of a user's file is an error** naming ``file:line: reason``
  (``UserDictionaryError``): a file that means something else than was written
  must not be half used.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType

from sakuin.search.analysis.normalize import normalize_term
from sakuin.search.errors import UserDictionaryError

#: The name ``--synonyms`` takes for Sudachi's synonym dictionary (and ``none`` for no synonyms).
SUDACHI = "sudachi"
NONE = "none"
#: The shipped copy of SudachiDict's ``src/main/text/synonyms.txt``.
SUDACHI_FILE = "sudachi_synonyms.txt"

#: Columns of a line of Sudachi's synonym dictionary.
_GROUP, _CONTROL, _LEXEME, _HEADWORD = 0, 2, 3, 8
#: Expansion control: the line expands to its lexeme's other forms (0, or left empty), is only
#: expanded to (1), or is neither (2).
_TRIGGERS, _NEVER = frozenset({"", "0"}), "2"

_ARROW = "=>"
_ESCAPED = re.compile(r"\\(.)")


@dataclass(frozen=True)
class SynonymTable:
    """key (``normalize_term`` of a word) → the words it also stands for, as written in the source."""

    entries: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def lookup(self, key: str) -> tuple[str, ...]:
        return self.entries.get(key, ())

    def __len__(self) -> int:
        return len(self.entries)


def _table(pairs: Iterable[tuple[str, str]]) -> SynonymTable:
    """A table from (word, synonym) pairs, keyed by the normalized word; a word is never its own synonym."""
    out: dict[str, dict[str, None]] = defaultdict(dict)
    for word, synonym in pairs:
        key = normalize_term(word)
        if key and normalize_term(synonym) != key:
            out[key][synonym] = None
    return SynonymTable(MappingProxyType({k: tuple(v) for k, v in out.items()}))


# -- Sudachi's synonym dictionary ------------------------------------------------------------


def read_sudachi(text: str) -> SynonymTable:
    """The table of a file in Sudachi's synonym format (module doc: forms of one lexeme, expansion control)."""
    lexemes: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)  # (group, lexeme) → (headword, control)
    groups: dict[str, set[str]] = defaultdict(set)  # headword → the groups it is in
    for row in _sudachi_rows(text):
        if len(row) <= _HEADWORD or not row[_HEADWORD].strip():
            continue
        control = row[_CONTROL].strip()
        if control == _NEVER:
            continue
        headword, group = row[_HEADWORD].strip(), row[_GROUP].strip()
        lexemes[(group, row[_LEXEME].strip())].append((headword, control))
        groups[headword].add(group)
    return _table(
        (word, other)
        for forms in lexemes.values()
        for word, control in forms
        if control in _TRIGGERS
        for other, _ in forms
        if other != word and len(groups[other]) == 1
    )


def _sudachi_rows(text: str) -> Iterator[list[str]]:
    """The file's rows; a line without quotes is split directly (csv's reader takes four times as long)."""
    for line in text.splitlines():
        if not line.strip():
            continue
        yield next(csv.reader([line])) if '"' in line else line.split(",")


@cache
def sudachi_table() -> SynonymTable:
    """Sudachi's synonym dictionary as shipped with sakuin (read once per process, ~0.3 s)."""
    data = resources.files("sakuin.search.analysis").joinpath("data", SUDACHI_FILE)
    return read_sudachi(data.read_text(encoding="utf-8"))


# -- Solr's format -------------------------------------------------------------------------------


def read_solr(text: str, name: str) -> SynonymTable:
    """The table of a file in Solr's synonym format; raises UserDictionaryError naming ``name:line``."""
    pairs: list[tuple[str, str]] = []
    for number, raw in enumerate(io.StringIO(text), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pairs += _solr_line(line, name, number)
    return _table(pairs)


def _solr_line(line: str, name: str, number: int) -> list[tuple[str, str]]:
    sides = _split(line, _ARROW)
    if len(sides) > 2:
        raise _bad(name, number, "more than one =>; write a => b, c")
    groups = [_words(side, name, number, explicit=len(sides) == 2) for side in sides]
    if len(groups) == 2:
        return [(a, b) for a in groups[0] for b in groups[1]]
    words = groups[0]
    if len(words) < 2:
        raise _bad(name, number, "one word alone; separate synonyms with commas (a, b) or map one to others (a => b)")
    return [(a, b) for a in words for b in words if a != b]


def _words(side: str, name: str, number: int, explicit: bool) -> list[str]:
    words = [_ESCAPED.sub(r"\1", w).strip() for w in _split(side, ",")]
    if explicit and not any(words):
        raise _bad(name, number, "nothing on one side of =>")
    if not all(words):
        raise _bad(name, number, "an empty synonym between commas")
    return words


def _split(text: str, separator: str) -> list[str]:
    """``text`` split at each ``separator`` that is not escaped by a backslash."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
        elif text.startswith(separator, i):
            parts.append("".join(current))
            current = []
            i += len(separator)
        else:
            current.append(text[i])
            i += 1
    parts.append("".join(current))
    return parts


def _bad(name: str, number: int, reason: str) -> UserDictionaryError:
    return UserDictionaryError("bad_synonyms", file=name, line=number, reason=reason)


def decode(data: bytes, name: str) -> str:
    """A synonyms file's text (UTF-8, a BOM allowed); raises UserDictionaryError naming the first bad line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _bad(name, line, "not UTF-8 text") from None


__all__ = ["NONE", "SUDACHI", "SynonymTable", "decode", "read_solr", "read_sudachi", "sudachi_table"]
