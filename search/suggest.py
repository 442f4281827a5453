"""Suggestions while typing, and "did you mean" for queries with few or no hits.

Both read only the index (its terms and titles), so they suggest what can be found.
The rules (which words complete a prefix, which word corrects a misspelling) are
``words_for`` and ``closest``, shared by both backends; where the candidates come
from is the backend's (here the embedded term list; the cluster engine asks
OpenSearch's term suggester and the sections that match the prefix):

* ``complete(pinned, text)``: the last word typed, completed from the indexed
  words that start with it (most frequent first), and the titles of the
  documents that best match what was typed;
* ``did_you_mean(plan, total, frequency, correct)``: for each word of a keyword
  query that the index lacks or barely has, the indexed word nearest to it by edit distance
  (at most 1, or a third of its length) among the words that share characters
  with it, the most frequent of equally near ones; the query is offered with
  that word replaced.

The vocabulary for "did you mean" (the index's words, with a table from each
bigram and character to the words that have it) is built once per snapshot on
first use: about 0.7 s for livedoor's 68k words, paid by the first query with
few hits on each version in each worker. A suggested word must be in at least
two sections (a one-off typo in a document is not a correction).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from search.normalize import normalize_term, pairs
from search.query import plan_query
from search.query.plan import Plan
from search.snapshot import Pinned

#: Candidates per word compared by edit distance (those sharing the most bigrams).
MAX_CANDIDATES = 300
#: A query with fewer hits than this gets a "did you mean".
FEW_HITS = 3


@dataclass(frozen=True, slots=True)
class Suggestion:
    """``kind``: ``word`` (completes the last word) or ``title`` (a document)."""

    kind: str
    text: str
    doc_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "doc_id": self.doc_id}


Frequency = Callable[[str, str], int]


def words_for(text: str, candidates: Iterable[str], frequency: Frequency, limit: int) -> list[Suggestion]:
    """``text`` with its last word completed by the most frequent of ``candidates`` that
    start with it (at most half of ``limit``); none for an operator or a field."""
    words = text.split()
    if not words:
        return []
    head, last = words[:-1], normalize_term(words[-1])
    if not last or last.startswith("-") or ":" in last:
        return []
    found = sorted(
        ((frequency("content", t), t) for t in set(candidates) if t != last and t.startswith(last)),
        key=lambda x: (-x[0], x[1]),
    )
    prefix = " ".join(head)
    return [Suggestion("word", f"{prefix} {t}".strip()) for _, t in found[: max(1, limit // 2)]]


def last_word(text: str) -> str:
    """The normalized last word of what was typed (what ``words_for`` completes)."""
    words = text.split()
    return normalize_term(words[-1]) if words else ""


def complete(pinned: Pinned, text: str, limit: int = 8) -> list[Suggestion]:
    searcher = pinned.searcher
    last = last_word(text)
    candidates = []
    if last:
        for i, term in enumerate(searcher.reader().expand_prefix("content", last)):
            if i >= 2000:
                break
            candidates.append(term.decode("utf-8") if isinstance(term, bytes) else term)
    out = words_for(text, candidates, searcher.doc_frequency, limit)
    out += _titles(pinned, text, limit - len(out))
    return out[:limit]


def _titles(pinned: Pinned, text: str, limit: int) -> list[Suggestion]:
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
    for hit in searcher.search(q, limit=limit * 4):
        fields = hit.fields()
        title = fields.get("title") or ""
        if title and title not in seen:
            seen[title] = Suggestion("title", title, fields.get("doc_id"))
        if len(seen) >= limit:
            break
    return list(seen.values())


# -- did you mean ----------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """The index's words, and for each bigram and character the words (indices, ascending) that have it."""

    words: tuple[str, ...]
    by_gram: dict[str, np.ndarray]


def vocabulary(pinned: Pinned) -> Vocabulary:
    return pinned.snapshot.meta.get("vocabulary", lambda: _vocabulary(pinned.searcher))


def _vocabulary(searcher: Any) -> Vocabulary:
    """The index's words of 2–30 characters, keyed by bigram and character.

    Read from the term list alone (about 0.5 s per 70k terms, once per version
    and process); frequencies are looked up only for the few candidates a
    misspelling has, since decoding every term's statistics took ten times longer.
    """
    words = []
    for term in searcher.reader().lexicon("content"):
        text = term.decode("utf-8") if isinstance(term, bytes) else term
        if 2 <= len(text) <= 30:
            words.append(text)
    by_gram: dict[str, list[int]] = {}
    for i, text in enumerate(words):
        for key in _keys(text):
            by_gram.setdefault(key, []).append(i)
    return Vocabulary(tuple(words), {key: np.array(ids, np.int32) for key, ids in by_gram.items()})


def edit_distance(a: str, b: str, bound: int) -> int:
    """Levenshtein distance, or ``bound + 1`` as soon as it must exceed ``bound``."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > bound:
            return bound + 1
        previous = current
    return previous[-1]


def nearest(vocab: Vocabulary, word: str, frequency: Frequency) -> str | None:
    """``closest`` among the indexed words that share the most bigrams and characters with ``word``."""
    lists = [vocab.by_gram[key] for key in _keys(word) if key in vocab.by_gram]
    if not lists:
        return None
    # Counted with numpy: a common character's list holds a good part of the vocabulary.
    ids, shared = np.unique(np.concatenate(lists), return_counts=True)
    candidates = ids[np.lexsort((ids, -shared))[:MAX_CANDIDATES]].tolist()
    return closest(word, (vocab.words[i] for i in candidates), frequency)


def closest(word: str, candidates: Iterable[str], frequency: Frequency) -> str | None:
    """The candidate closest to ``word`` by edit distance (at most 1, or a third of its
    length) and in at least two sections, the more frequent among equally close words."""
    bound = max(1, len(word) // 3)
    best: tuple[int, int, str] | None = None
    for other in candidates:
        if other == word:
            continue
        distance = edit_distance(word, other, bound)
        if distance > bound:
            continue
        df = frequency("content", other)
        if df < 2:
            continue
        key = (distance, -df, other)
        if best is None or key < best:
            best = key
    return best[2] if best else None


def _keys(word: str) -> set[str]:
    """What a word is looked up by: its bigrams, and its characters (so 国坊 finds 国防)."""
    return {*pairs(word), *word}


def did_you_mean(plan: Plan, total: int, frequency: Frequency, correct: Callable[[str], str | None]) -> list[str]:
    """Alternative queries for a keyword query with fewer than ``FEW_HITS`` hits: each word
    the index lacks or barely has (``frequency``) replaced by ``correct(word)``."""
    if total >= FEW_HITS or not plan.keyword:
        return []
    runs = plan.runs()
    if not runs or len(runs) > 4:
        return []
    replaced = []
    changed = False
    for run in runs:
        word = normalize_term(run.text)
        text = run.text
        if len(word) >= 2 and frequency("content", word) < FEW_HITS:
            text = correct(word) or run.text
        changed |= text != run.text
        replaced.append(text)
    return [" ".join(replaced)] if changed else []


def corrections(pinned: Pinned) -> Callable[[str], str | None]:
    """The embedded index's ``correct`` for ``did_you_mean`` (its vocabulary is built on first use)."""
    searcher = pinned.searcher
    return lambda word: nearest(vocabulary(pinned), word, searcher.doc_frequency)


__all__ = [
    "FEW_HITS",
    "Suggestion",
    "Vocabulary",
    "closest",
    "complete",
    "corrections",
    "did_you_mean",
    "edit_distance",
    "last_word",
    "nearest",
    "vocabulary",
    "words_for",
]
