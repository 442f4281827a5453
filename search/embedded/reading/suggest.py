"""The embedded index's candidates for suggestions while typing and for "did you mean".

Both read only the index (its terms and titles), so they suggest what can be found.
The rules (which words complete a prefix, which word corrects a misspelling) are
``words_for`` and ``closest`` (``sakuin.search.results.suggestions``), shared by both
backends; where the candidates come from is the backend's (here the term list; the
cluster engine asks OpenSearch's term suggester and the sections that match the prefix):

* ``complete(pinned, text)``: the last word typed, completed from the indexed
  words that start with it (most frequent first), and the titles of the
  documents that best match what was typed;
* ``did_you_mean(plan, total, frequency, correct)``: for each word of a keyword
  query that the index lacks or barely has, the indexed word nearest to it by edit distance
  (at most 1, or a third of its length) among the words that share characters
  with it, the most frequent of equally near ones; the query is offered with
  that word replaced.

The spelling index for "did you mean" (the index's words, with a table from each
bigram and character to the words that have it) is built once per snapshot on
first use: about 0.7 s for livedoor's 68k words, paid by the first query with
few hits on each version in each worker. A suggested word must be in at least
two sections (a one-off typo in a document is not a correction).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np

from sakuin.search.analysis.normalize import is_kana, pairs, to_katakana
from sakuin.search.config import MAX_CANDIDATES
from sakuin.search.embedded.reading.permitted import frequency as allowed_frequency
from sakuin.search.embedded.reading.snapshot import Pinned
from sakuin.search.embedded.writing.w3blocks import field_vocabulary
from sakuin.search.query import plan_query
from sakuin.search.results.model import Suggestion
from sakuin.search.results.suggestions import Frequency, closest, last_word, words_by_reading, words_for


def complete(pinned: Pinned, text: str, limit: int = 8, permitted: np.ndarray | None = None) -> list[Suggestion]:
    """``permitted``: the sections the reader may read (None: all). A word is then offered only
    if a permitted section has it (``frequency`` counts those), a title only of such a section."""
    searcher = pinned.searcher
    frequency = allowed_frequency(pinned, permitted)
    last = last_word(text)
    candidates = []
    if last:
        for i, term in enumerate(searcher.reader().expand_prefix("content", last)):
            if i >= 2000:
                break
            candidates.append(term.decode("utf-8") if isinstance(term, bytes) else term)
    if permitted is not None:
        candidates = _verified(candidates, searcher.doc_frequency, frequency, limit)
    by_reading: list[str] = []
    if last and is_kana(last):
        kana = to_katakana(last)
        readings = sorted(
            (_text(r) for r in islice(searcher.reader().expand_prefix("reading", kana), 2000)),
            key=lambda r: -searcher.doc_frequency("reading", r),
        )
        by_reading = words_by_reading(last, readings, frequency)
    out = words_for(text, candidates, frequency, limit, by_reading)
    out += _titles(pinned, text, limit - len(out), permitted)
    return out[:limit]


#: Completions checked against a reader's permitted sections, most frequent first.
VERIFIED = 200


def _verified(candidates: list[str], everywhere: Frequency, permitted: Frequency, limit: int) -> list[str]:
    """The candidates a permitted section has: the index's most frequent first, until ``limit``
    are found (each check reads a word's postings, so not all 2,000 are checked)."""
    out = []
    for term in sorted(candidates, key=lambda t: -everywhere("content", t))[:VERIFIED]:
        if permitted("content", term):
            out.append(term)
            if len(out) > limit:
                break
    return out


def _text(term: bytes | str) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


def _titles(pinned: Pinned, text: str, limit: int, permitted: np.ndarray | None = None) -> list[Suggestion]:
    from whoosh import query as wq

    searcher = pinned.searcher
    try:
        plan = plan_query(text, searcher.doc_frequency, searcher.doc_count(), literal=True)
    except ValueError:
        return []
    terms = [t.text for run in plan.runs() for w in run.words for t in w.sequence()]
    if not terms or limit <= 0:
        return []
    q = wq.And([wq.Term("title", t) for t in terms])
    seen: dict[str, Suggestion] = {}
    for hit in searcher.search(q, limit=limit * 4 if permitted is None else None):
        if permitted is not None and not permitted[hit.docnum]:
            continue
        fields = hit.fields()
        title = fields.get("title") or ""
        if title and title not in seen:
            seen[title] = Suggestion("title", title, fields.get("doc_id"))
        if len(seen) >= limit:
            break
    return list(seen.values())


# -- did you mean ----------------------------------------------------------------------


@dataclass(frozen=True)
class SpellingIndex:
    """The index's words, and for each bigram and character the words (indices, ascending) that have it."""

    words: tuple[str, ...]
    by_gram: dict[str, np.ndarray]


def spelling_index(pinned: Pinned) -> SpellingIndex:
    return pinned.snapshot.meta.get("spelling", lambda: _spelling_index(pinned.searcher))


def _spelling_index(searcher: Any) -> SpellingIndex:
    """The index's words of 2–30 characters, keyed by bigram and character.

    Read from the term tables alone, each segment's run of words in one slice
    (``sakuin.search.embedded.writing.w3blocks.field_vocabulary``), once per version and
    process; frequencies are looked up only for the few candidates a misspelling has,
    since decoding every term's statistics took ten times longer.
    """
    words = []
    for term in field_vocabulary([leaf for leaf, _ in searcher.reader().leaf_readers()], "content"):
        text = term.decode("utf-8")
        if 2 <= len(text) <= 30:
            words.append(text)
    by_gram: dict[str, list[int]] = {}
    for i, text in enumerate(words):
        for key in _keys(text):
            by_gram.setdefault(key, []).append(i)
    return SpellingIndex(tuple(words), {key: np.array(ids, np.int32) for key, ids in by_gram.items()})


def nearest(vocab: SpellingIndex, word: str, frequency: Frequency) -> str | None:
    """``closest`` among the indexed words that share the most bigrams and characters with ``word``."""
    lists = [vocab.by_gram[key] for key in _keys(word) if key in vocab.by_gram]
    if not lists:
        return None
    # Counted with numpy: a common character's list holds a good part of the vocabulary.
    ids, shared = np.unique(np.concatenate(lists), return_counts=True)
    candidates = ids[np.lexsort((ids, -shared))[:MAX_CANDIDATES]].tolist()
    return closest(word, (vocab.words[i] for i in candidates), frequency)


def _keys(word: str) -> set[str]:
    """What a word is looked up by: its bigrams, and its characters (so 国坊 finds 国防)."""
    return {*pairs(word), *word}


def corrections(pinned: Pinned, frequency: Frequency | None = None) -> Callable[[str], str | None]:
    """The embedded index's ``correct`` for ``did_you_mean`` (its vocabulary is built on first use).
    ``frequency``: a reader's (``permitted.frequency``): a word no section they may read has is
    never offered, whatever the whole index has."""
    chosen = frequency or pinned.searcher.doc_frequency
    return lambda word: nearest(spelling_index(pinned), word, chosen)


__all__ = ["MAX_CANDIDATES", "SpellingIndex", "complete", "corrections", "nearest", "spelling_index"]
