"""The embedded index's example queries: its most frequent title words, a title that holds the
first of them, and the most frequent value of its first declared facet
(``sakuin.search.results.examples`` says what makes a good example)."""

from __future__ import annotations

from itertools import islice

import numpy as np

from sakuin.search.embedded.reading.snapshot import Pinned
from sakuin.search.results.examples import Examples, facet_example, frequent_words, question_from

#: Title terms weighed (by frequency) to find the example words, and titles read for the question.
TERMS_READ = 300
TITLES_READ = 200


def example_queries(pinned: Pinned) -> Examples:
    searcher = pinned.searcher
    reader = searcher.reader()
    counts = [(_text(term), int(freq)) for freq, term in reader.most_frequent_terms("title", TERMS_READ)]
    words = frequent_words(counts)
    titles = (fields.get("title") or "" for fields in islice(searcher.all_stored_fields(), TITLES_READ))
    return Examples(words, question_from(titles, words), _facet(pinned))


def _facet(pinned: Pinned) -> str | None:
    keywords = [name for name in pinned.snapshot.declaration.of_kind("keyword") if name != "url"]
    if not keywords:
        return None
    table = pinned.snapshot.meta.keyword(pinned.searcher, keywords[0])
    if not len(table.values):
        return None
    counts = table.counts(pinned.snapshot.meta.live(pinned.searcher))
    return facet_example(keywords[0], table.values[int(np.argmax(counts))])


def _text(term: bytes | str) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


__all__ = ["example_queries"]
