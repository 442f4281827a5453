"""The Whoosh schema: one Whoosh document per section.

A section carries its document's id, title and path so a hit can be shown,
grouped and linked without a second lookup, and ``source`` (the file it came
from) so an incremental run can delete exactly what a changed file produced. ``key``
has a column: equal scores rank in key order (``sakuin.search.embedded.reading.scoring.best``).

Ranking reads one combined field, ``content`` = title, heading and body, so a
word scores once per section whichever part it is in (BM25 over separate short
fields over-rewards titles shared by every section of a document); its analyzer
reads the three apart (``japanese_analyzer(lines=3)``, schema 8), so no word spans
two of them and its title words are the ``title`` field's, which the indexer
analyses once per document (``sakuin.search.analysis.terms.section_terms``). ``title`` and
``heading`` are indexed on their own for ``title:``/``heading:`` queries and
highlighting. ``grams`` and ``reading`` back up the word field: character
bigrams of the folded text, and the katakana reading of each word. Both record
only which sections contain a term (``Presence``): every match scores as one
occurrence, while the field length still counts every bigram or reading, so
BM25's length normalisation is unchanged. On the dev set this ranks better than
counting occurrences (nDCG@10 0.9541 against 0.9513: a long passage that
repeats a common bigram no longer outranks one that has it once), and it makes
the two largest fields a third of their size to write (``sakuin.search.embedded.writing.w3blocks``).

Metadata (``sakuin.search.documents.metadata``): ``facets`` holds one term per keyword value
(``name\x1fvalue``) and per folder of the file, for filters and facet counts;
each declared date or number field is a float column ``num_<name>`` (NaN where
a section has none), for range filters and sorting; ``dup`` is a column with a
hash of the section's folded body (0 for short bodies), to collapse the same
text found in several documents; ``folded`` holds the section's folded title,
heading and body (``sakuin.search.analysis.normalize.fold``), so checking a substring candidate
reads a few bytes instead of unpickling and folding its stored fields (at 1M
sections a common word has a thousand candidates). The declared columns are part of the schema,
which the index keeps, so a declaration made once holds for later runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.analysis import RegexTokenizer
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.formats import Format, Frequency, tokens
from whoosh.index import FileIndex

from sakuin.search.analysis.chain import BigramTokenizer, gram_analyzer, japanese_analyzer, reading_analyzer
from sakuin.search.analysis.normalize import content_bigrams
from sakuin.search.documents.metadata import Declaration, column_name

#: The ``folded`` column's type (``folded_text``).
FOLDED_COLUMN = VarBytesColumn()


class Presence(Format):
    """Which sections contain a term: weight 1 per section, no per-posting value.

    Whoosh's writer adds each term's frequency to the field length, so the length
    still counts every occurrence; only the posting's weight is 1 (Whoosh's
    ``Existence`` format would count distinct terms instead).
    """

    posting_size = 0

    def __init__(self, field_boost: float = 1.0, **options: Any) -> None:
        self.field_boost = field_boost
        self.options = options

    def word_values(self, value: Any, analyzer: Any, **kwargs: Any) -> Iterator[tuple[str, int, float, bytes]]:
        fb = self.field_boost
        for word, freq in Counter(t.text for t in tokens(value, analyzer, kwargs)).items():
            yield word, freq, fb, b""

    def encode(self, value: Any) -> bytes:
        return b""

    def decode_frequency(self, valuestring: bytes) -> int:
        return 1

    def decode_weight(self, valuestring: bytes) -> float:
        return self.field_boost

    def combine(self, vs: Any) -> bytes:
        return b""


class GramPresence(Presence):
    """``Presence`` for the bigram field, counted without Token objects.

    The bigram field has about one term per character, so Whoosh's generic path
    (a Token per bigram through the analyzer chain) was a large share of indexing
    time. The terms are exactly the analyzer's (a test checks it); only the
    counting is done in bulk.
    """

    def word_values(self, value: Any, analyzer: Any, **kwargs: Any) -> Iterator[tuple[str, int, float, bytes]]:
        if not isinstance(analyzer, BigramTokenizer):
            yield from super().word_values(value, analyzer, **kwargs)
            return
        fb = self.field_boost
        for gram, freq in Counter(content_bigrams(value)).items():
            yield gram, freq, fb, b""


class GramFrequency(Frequency):
    """The bigram field's format up to schema 5 (term frequencies), kept so that an
    index built then still opens (Whoosh unpickles its schema) until ``sakuin index``
    rebuilds it, which it does on its own for a new schema version."""


def build_schema(declaration: Declaration | None = None) -> Schema:
    words = japanese_analyzer()
    schema = Schema(
        key=ID(unique=True, stored=True, sortable=True),
        doc_id=ID(stored=True),
        source=ID(stored=True),
        path=STORED(),
        ordinal=NUMERIC(int, stored=True, sortable=True),
        title=TEXT(analyzer=words, stored=True, chars=True),
        heading=TEXT(analyzer=words, stored=True, chars=True),
        body=STORED(),
        content=TEXT(analyzer=japanese_analyzer(lines=3), chars=True),
        grams=_presence_field(gram_analyzer(), GramPresence()),
        reading=_presence_field(reading_analyzer(lines=3), Presence()),
        meta=STORED(),
        info=STORED(),
        facets=KEYWORD(analyzer=RegexTokenizer(r"[^\n]+")),
        dup=COLUMN(NumericColumn("Q", default=0)),
        folded=COLUMN(FOLDED_COLUMN),
    )
    for name in (declaration or Declaration()).sortable:
        schema.add(column_name(name), number_column())
    return schema


def open_index(folder: Path | str, declaration: Declaration) -> FileIndex:
    """Open an index version with the schema built for ``declaration``, not the one in its TOC.

    Whoosh pickles the schema into every TOC, and with it the analyzer and format
    classes by module path: reading it back would tie an index to the module layout
    of the sakuin that wrote it. The schema is a function of the declaration (kept in
    the manifest) and of ``SCHEMA_VERSION`` (a change rebuilds), so it is built anew.
    """
    return whoosh_index.open_dir(str(folder), schema=build_schema(declaration))


def number_column() -> COLUMN:
    """A date or number field: a float column, NaN where a section has no value."""
    return COLUMN(NumericColumn("d", default=float("nan")))


def _presence_field(analyzer: Any, format: Presence) -> TEXT:
    field = TEXT(analyzer=analyzer, phrase=False)
    field.format = format
    return field
