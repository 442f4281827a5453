"""Which synonyms an index uses now, and where they apply in a typed text.

An index declares its synonym sources when it is built (``--synonyms sudachi``,
``--synonyms FILE``; ``sakuin.search.analysis.settings``); ``Sources`` turns them
into a ``Thesaurus`` for each search and ``Thesaurus.find`` says which runs of a
typed text have synonyms.

Design decisions:

* **Synonyms apply at query time**, so changing them needs no re-index: a file is
  re-read when it changes (its modification time, size or inode), checked with one
  ``stat`` per search; an edit shows from the next search on, in every server
  process, without a restart.
* **A file that cannot be read at search time does not fail searches**: the last
  version read stays in use (none, if it never could be read) and the problem is
  logged once per change. ``sakuin index`` reports the same problem as an error.
* **Longest match first, on word boundaries**: a run of up to ``MAX_SPAN``
  morphemes that starts and ends with a content word is looked up as typed
  (NFKC, lower case); a single word also by Sudachi's normalized form (サーバ is
  found under サーバー, 支払っ under 支払う). Runs do not overlap.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sakuin.search.analysis.normalize import normalize_term
from sakuin.search.analysis.sudachi import Morph, is_content, morphemes
from sakuin.search.analysis.sudachi import explain as sudachi_explain
from sakuin.search.analysis.synonyms import SUDACHI, SynonymTable, decode, read_solr, sudachi_table
from sakuin.search.errors import UserDictionaryError

log = logging.getLogger("sakuin.synonyms")

#: The longest run of morphemes looked up as one entry (中期 経営 計画, ice␣cream).
MAX_SPAN = 6


@dataclass(frozen=True, slots=True)
class Found:
    """A run of typed text that has synonyms: morphemes ``first``..``last`` (inclusive), the
    text as typed and its synonyms as their sources write them."""

    first: int
    last: int
    typed: str
    synonyms: tuple[str, ...]


class Thesaurus:
    """The synonyms of several tables (an index's sources, in order)."""

    def __init__(self, tables: Sequence[SynonymTable] = ()) -> None:
        self.tables = tuple(t for t in tables if len(t))

    def __bool__(self) -> bool:
        return bool(self.tables)

    def lookup(self, key: str) -> tuple[str, ...]:
        """The synonyms of ``key`` (``normalize_term`` of a word) from every table, first table first."""
        found: dict[str, None] = {}
        for table in self.tables:
            found.update(dict.fromkeys(table.lookup(key)))
        return tuple(found)

    def find(self, text: str, morphs: Sequence[Morph]) -> list[Found]:
        """The runs of ``text`` (analysed as ``morphs``) that have synonyms, left to right, longest first."""
        out: list[Found] = []
        if not self.tables:
            return out
        i, n = 0, len(morphs)
        while i < n:
            if not is_content(morphs[i]):
                i += 1
                continue
            hit = None
            for j in range(min(n, i + MAX_SPAN) - 1, i - 1, -1):
                if not is_content(morphs[j]):
                    continue
                typed = text[morphs[i].start : morphs[j].end]
                keys = [normalize_term(typed)] + ([normalize_term(morphs[i].normalized)] if i == j else [])
                synonyms = tuple(dict.fromkeys(s for key in keys for s in self.lookup(key)))
                if synonyms:
                    hit = Found(i, j, typed, synonyms)
                    break
            if hit is None:
                i += 1
            else:
                out.append(hit)
                i = hit.last + 1
        return out


NO_SYNONYMS = Thesaurus()


def explain(text: str, thesaurus: Thesaurus) -> dict[str, Any]:
    """What analysis makes of ``text`` (``sakuin analyze``, ``/api/analyze``): its morphemes
    (``sudachi.explain``, with the user dictionaries in use) and the runs of it that have
    synonyms, with every synonym the sources list (a search keeps those the index has)."""
    morphs = morphemes(text)
    found = thesaurus.find(text, morphs)
    return {
        "text": text,
        "tokens": sudachi_explain(text),
        "synonyms": [
            {"text": f.typed, "start": morphs[f.first].start, "end": morphs[f.last].end, "synonyms": list(f.synonyms)}
            for f in found
        ],
    }


def load(source: str) -> SynonymTable:
    """The table of one declared source (``sudachi`` or a file's path); raises UserDictionaryError."""
    if source == SUDACHI:
        return sudachi_table()
    path = Path(source)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserDictionaryError("synonyms_missing", path=source) from None
    except OSError as exc:
        raise UserDictionaryError("synonyms_unreadable", path=source, reason=exc.strerror or str(exc)) from None
    return read_solr(decode(data, path.name), path.name)


class Sources:
    """An index's synonym sources as a thesaurus that follows its files (module doc)."""

    def __init__(self, sources: Sequence[str]) -> None:
        self.sources = tuple(sources)
        self._lock = threading.Lock()
        #: source → (the file's stat signature when read, its table)
        self._tables: dict[str, tuple[tuple[int, ...] | None, SynonymTable]] = {}
        self._thesaurus = NO_SYNONYMS
        self._signature: tuple[tuple[int, ...] | None, ...] | None = None

    def thesaurus(self) -> Thesaurus:
        """The synonyms as the files are now (a ``stat`` per file; a changed file is read again)."""
        signature = tuple(_signature(s) for s in self.sources)
        if signature == self._signature:
            return self._thesaurus
        with self._lock:
            if signature != self._signature:
                tables = [self._table(s, sig) for s, sig in zip(self.sources, signature, strict=True)]
                self._thesaurus = Thesaurus(tables)
                self._signature = signature
        return self._thesaurus

    def _table(self, source: str, signature: tuple[int, ...] | None) -> SynonymTable:
        known = self._tables.get(source)
        if known is not None and known[0] == signature:
            return known[1]
        try:
            table = load(source)
        except UserDictionaryError as exc:
            log.warning("synonyms: %s; %s", exc, "keeping the version read before" if known else "not used")
            table = known[1] if known else SynonymTable()
        self._tables[source] = (signature, table)
        return table


def _signature(source: str) -> tuple[int, ...] | None:
    """What tells that a file changed (None: the shipped dictionary, or no file)."""
    if source == SUDACHI:
        return None
    try:
        st = os.stat(source)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


__all__ = ["MAX_SPAN", "NO_SYNONYMS", "Found", "Sources", "Thesaurus", "explain", "load"]
