"""Suggestion rules both backends follow; where the candidates come from is each backend's.

* ``words_for``: what was typed, its last word completed by the most frequent
  indexed word that starts with it;
* ``did_you_mean``: for each word of a keyword query that the index lacks or
  barely has, the indexed word nearest to it (``closest``: edit distance at most
  1, or a third of its length, in at least two sections, the most frequent of
  equally near ones); the query is offered with that word replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sakuin.search.analysis.normalize import normalize_term
from sakuin.search.config import FEW_HITS
from sakuin.search.query.plan import Plan
from sakuin.search.results.model import Suggestion

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


__all__ = ["FEW_HITS", "Frequency", "closest", "did_you_mean", "edit_distance", "last_word", "words_for"]
