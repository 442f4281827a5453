"""What a plan asks of a hit besides matching it: the words to mark, and the text a
substring match must contain. Both backends read these from the plan the same way.

* ``highlight`` / ``readings`` / ``literals``: what to mark in a hit, from the
  postings or stored offsets (word terms, per field, synonyms' included), by
  re-reading the hit's text (kana readings) or by finding the typed text
  (substring hits); ``synonyms``: the terms among ``highlight`` that only a
  synonym brought (per field);
* ``substring``: for a keyword plan, the folded bigrams each typed word needs (one
  group per word, all required): the candidates of sections that contain the
  words inside longer words; ``needles`` are the folded words, checked against a
  candidate's folded text (``contains_all``) so a candidate is never a false hit;
* ``typed``: the words that normalization respelled (ジャポン matches ジャパン), as
  typed and folded, with their bigrams (``typed_grams``): the sections that write
  them as typed rank above those that only match through the normalized form, found
  and checked the same way as substring candidates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from sakuin.search.analysis.normalize import fold, pairs
from sakuin.search.query.plan import Plan, Run


@dataclass(frozen=True, slots=True)
class Targets:
    """What to mark in a hit and what a substring hit must contain (see the module doc)."""

    highlight: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    readings: frozenset[str] = frozenset()
    literals: tuple[str, ...] = ()
    substring: tuple[tuple[str, ...], ...] | None = None
    needles: tuple[str, ...] = ()
    typed: tuple[str, ...] = ()
    typed_grams: tuple[tuple[str, ...], ...] = ()
    synonyms: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))

    def typed_terms(self, fieldname: str) -> frozenset[str]:
        """The terms to mark in ``fieldname`` that the query has as typed (not through a synonym)."""
        return self.highlight.get(fieldname, frozenset()) - self.synonyms.get(fieldname, frozenset())

    def needles_to_check(self) -> list[str]:
        """The typed words a substring candidate's text must contain; a word of two
        characters is one bigram, which the candidates have already: exact."""
        return [n for n in self.needles if len(n) > 2]


def _highlight(plan: Plan) -> dict[str, frozenset[str]]:
    marks: dict[str, set[str]] = {}
    for run in plan.runs():
        # A keyword marks its units and their parts; sentences and phrases their sequences.
        # Kana read as other words is located by re-reading the hit (``Targets.readings``).
        units = run.kind == "keyword"
        terms = [t.text for w in run.words for t in ((w.unit, *w.parts) if units else w.sequence())]
        marks.setdefault(run.field, set()).update(terms if not run.chopped else [])
        if run.kana is not None:
            marks[run.field].update(t.text for t in (run.kana.unit, *run.kana.parts))
        marks[run.field].update(_synonym_terms(run))
    return {f: frozenset(t) for f, t in marks.items()}


def _synonym_terms(run: Run) -> set[str]:
    return {t.text for s in run.synonyms() for w in s.words for t in (w.unit, *w.parts)}


def _synonyms(plan: Plan) -> dict[str, frozenset[str]]:
    """Per field, the terms only synonyms brought (a typed word may also be a synonym's part)."""
    typed: dict[str, set[str]] = {}
    brought: dict[str, set[str]] = {}
    for run in plan.runs():
        typed.setdefault(run.field, set()).update(t.text for w in run.words for t in (w.unit, *w.parts))
        brought.setdefault(run.field, set()).update(_synonym_terms(run))
    return {f: frozenset(terms - typed[f]) for f, terms in brought.items() if terms - typed[f]}


def _substring(plan: Plan) -> tuple[tuple[str, ...], ...] | None:
    """Per typed word, its folded bigrams; None when a word is too short to have one."""
    if not plan.keyword:
        return None
    groups = []
    for needle in plan.needles:
        if len(needle) < 2:
            return None
        groups.append(tuple(dict.fromkeys(pairs(needle))))
    return tuple(groups) or None


def targets(plan: Plan) -> Targets:
    substring = _substring(plan)
    typed = tuple(t for t in plan.respelled if len(t) >= 2)  # one character has no bigram to find it by
    return Targets(
        highlight=MappingProxyType(_highlight(plan)),
        readings=frozenset(t.text for r in plan.runs() for t in r.readings),
        literals=tuple(r.text for r in plan.runs()) if substring else (),
        substring=substring,
        needles=plan.needles if substring else (),
        typed=typed,
        typed_grams=tuple(tuple(dict.fromkeys(pairs(t))) for t in typed),
        synonyms=MappingProxyType(_synonyms(plan)),
    )


def fold_section(fields: Mapping[str, Any]) -> tuple[str, str, str]:
    """A section's folded title, heading and body (bigrams never cross them)."""
    return fold(fields.get("title") or ""), fold(fields.get("heading") or ""), fold(fields.get("body") or "")


def contains_all(texts: Sequence[str], needles: Sequence[str]) -> bool:
    """Whether each needle is in one of the folded texts. Both backends check substring candidates with it."""
    return all(any(n in t for t in texts) for n in needles)


__all__ = ["Targets", "contains_all", "fold_section", "targets"]
