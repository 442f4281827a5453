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
from itertools import islice

from sakuin.search.analysis.normalize import normalize_term, to_hiragana
from sakuin.search.analysis.sudachi import is_content, morphemes
from sakuin.search.config import FEW_HITS
from sakuin.search.query.plan import Plan
from sakuin.search.results.model import Suggestion

Frequency = Callable[[str, str], int]


def words_for(
    text: str, candidates: Iterable[str], frequency: Frequency, limit: int, by_reading: Iterable[str] = ()
) -> list[Suggestion]:
    """``text`` with its last word completed by the most frequent of ``candidates`` that start
    with it, or of ``by_reading`` (words whose reading continues what was typed in kana:
    きょう → 今日), at most half of ``limit``; none for an operator or a field. The part the
    user typed stays as typed (ｉＰｈｏ completes to ｉＰｈｏne, not iphone)."""
    words = text.split()
    if not words:
        return []
    typed = words[-1]
    head, last = words[:-1], normalize_term(typed)
    if not last or last.startswith("-") or ":" in last:
        return []
    chosen = {t for t in candidates if t != last and t.startswith(last)} | {t for t in by_reading if t != last}
    found = sorted(((frequency("content", t), t) for t in chosen), key=lambda x: (-x[0], x[1]))
    prefix = " ".join(head)
    keep = len(typed) == len(last)  # width and case fold one character to one: the typed part maps back

    def shown(term: str) -> str:
        return typed + term[len(last) :] if keep and term.startswith(last) else term

    return [Suggestion("word", f"{prefix} {shown(t)}".strip()) for n, t in found[: max(1, limit // 2)] if n]


#: Readings (katakana) tried for words when a completion is typed in kana.
READINGS_TRIED = 12


def words_by_reading(kana: str, readings: Iterable[str], frequency: Frequency) -> list[str]:
    """Indexed words whose reading is one of ``readings`` (those that continue ``kana``, most
    frequent first): each reading, written in hiragana, is read by Sudachi, and its word kept
    when Sudachi reads it as one word the index has (きょうみ → 興味)."""
    out = []
    for reading in islice(readings, READINGS_TRIED):
        morphs = [m for m in morphemes(to_hiragana(reading)) if is_content(m)]
        if len(morphs) != 1 or morphs[0].end - morphs[0].start != len(reading):
            continue
        word = normalize_term(morphs[0].normalized)
        if word != normalize_term(kana) and frequency("content", word):
            out.append(word)
    return out


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


__all__ = [
    "FEW_HITS",
    "Frequency",
    "closest",
    "did_you_mean",
    "edit_distance",
    "last_word",
    "words_by_reading",
    "words_for",
]
