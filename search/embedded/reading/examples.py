"""The embedded index's example queries: its most frequent title words, a title that holds the
first of them, and the most frequent value of its first declared facet
(``sakuin.search.results.examples`` says what makes a good example)."""

from __future__ import annotations

from itertools import islice

import numpy as np

from sakuin.search.embedded.reading.snapshot import Pinned
from sakuin.search.results.examples import Examples, facet_example, frequent_words, question_from, title_word_counts

#: Title terms weighed (by frequency) to find the example words, and titles read for the question.
TERMS_READ = 300
TITLES_READ = 200


def example_queries(pinned: Pinned, permitted: np.ndarray | None = None) -> Examples:
    """``permitted``: the sections a reader may read (None: all). The index's title lexicon
    counts every section, so a reader's examples come from the titles of a sample of the
    sections they may read instead (``TITLES_READ``), as the cluster backend counts them."""
    searcher = pinned.searcher
    if permitted is not None:
        sample = np.flatnonzero(permitted)[:TITLES_READ].tolist()
        titles = [pinned.snapshot.stored_fields(searcher, d).get("title") or "" for d in sample]
        words = frequent_words(title_word_counts(titles))
        return Examples(words, question_from(titles, words), _facet(pinned, permitted))
    reader = searcher.reader()
    counts = [(_text(term), int(freq)) for freq, term in reader.most_frequent_terms("title", TERMS_READ)]
    words = frequent_words(counts)
    every = (fields.get("title") or "" for fields in islice(searcher.all_stored_fields(), TITLES_READ))
    return Examples(words, question_from(every, words), _facet(pinned))


def _facet(pinned: Pinned, permitted: np.ndarray | None = None) -> str | None:
    keywords = [name for name in pinned.snapshot.declaration.of_kind("keyword") if name != "url"]
    if not keywords:
        return None
    table = pinned.snapshot.meta.keyword(pinned.searcher, keywords[0])
    if not len(table.values):
        return None
    counts = table.counts(pinned.snapshot.meta.live(pinned.searcher) if permitted is None else permitted)
    if not counts.any():
        return None
    return facet_example(keywords[0], table.values[int(np.argmax(counts))])


def _text(term: bytes | str) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


__all__ = ["example_queries"]
