"""Layer 3 of 3, emit: a plan → what the embedded backend runs, all from the same plan.

``Compiled`` bundles everything derived from one ``Plan`` and is immutable:

* ``query``: the Whoosh word query (units, parts, readings, phrases, sentences);
* ``bag``: for a plan that is one sentence, its (field, term, weight) list, ranked
  term at a time (``search.bagofwords``) with the same scores Whoosh would give;
  ``pairs``: its words that stand side by side, a bonus for the sections that have
  them side by side too (``search.proximity``);
* ``substring``: for a keyword plan, the folded bigrams each typed word needs
  (one group per word, all required), the candidates of sections that contain the
  words inside longer words; ``needles`` are the folded words, checked against the
  candidates' folded text so a candidate is never a false hit;
* ``highlight`` / ``readings`` / ``literals``: what to mark in a hit, from the
  postings (word terms), by re-reading (kana readings) or by finding the typed
  text (substring hits);
* ``filter``: the plan's metadata filters, as they are (they select, never score).

A second backend (the OpenSearch issue) emits from the same plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from whoosh import query as wq

from search.normalize import pairs
from search.query.filters import FilterNode
from search.query.plan import Pair, PAll, Plan, PlanNode, PNot, Run, Word

Bag = tuple[tuple[str, str, float], ...]
#: A term no index has (the analyzer never yields control characters).
NO_TERM = "\x00"


@dataclass(frozen=True, slots=True)
class Compiled:
    plan: Plan
    query: wq.Query | None
    bag: Bag | None = None
    pairs: tuple[Pair, ...] = ()
    substring: tuple[tuple[str, ...], ...] | None = None
    needles: tuple[str, ...] = ()
    highlight: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    readings: frozenset[str] = frozenset()
    literals: tuple[str, ...] = ()
    #: The plan's metadata filters, evaluated by the backend (``search.facets.evaluate``).
    filter: FilterNode | None = None


def _union(queries: list[wq.Query]) -> wq.Or:
    """A small OR walked document by document.

    Whoosh picks a preloading matcher for segments under 5,000 documents, which
    reads every posting of every clause; for a handful of clauses inside an AND
    that costs several times more than it saves (bench/README.md).
    """
    q = wq.Or(queries)
    q.matcher_type = wq.Or.DEFAULT_MATCHER
    return q


def _word_query(word: Word) -> wq.Query:
    """One content word: its unit, or its parts side by side (a document may have split it elsewhere).

    Parts scattered over a section (ディスク here, ドライブ there) are not the word
    the user typed; ``bench/keywords.py`` measured them crowding out the sections
    that contain it.
    """
    boost = word.unit.weight  # 1.0 but for hiragana's katakana word (``Run.kana``)
    q: wq.Query = wq.Term(word.unit.field, word.unit.text, boost=boost)
    if word.parts:
        q = _union([q, wq.Phrase(word.unit.field, [p.text for p in word.parts], boost=boost)])
    return q


def _sequence(run: Run) -> list[str]:
    return [t.text for w in run.words for t in w.sequence()]


def _phrase_query(run: Run) -> wq.Query | None:
    seq = _sequence(run)
    if not seq:
        return None
    return wq.Term(run.field, seq[0]) if len(seq) == 1 else wq.Phrase(run.field, seq)


def _sentence_query(run: Run) -> wq.Query | None:
    terms = run.sentence_terms()
    if not terms:
        return None
    query = wq.Or([wq.Term(t.field, t.text, boost=t.weight) for t in terms])
    # Term-at-a-time over preloaded postings: far cheaper than a tree of unions
    # for the dozens of terms a sentence has.
    query.matcher_type = wq.Or.ARRAY_MATCHER
    return query


def _keyword_query(run: Run) -> wq.Query | None:
    # Hiragana's katakana word (あるく → アルク) and readings are alternatives to its words.
    alternatives = [_word_query(run.kana)] if run.kana is not None else []
    if run.readings:
        terms = [wq.Term(t.field, t.text) for t in run.readings]
        alternatives.append(terms[0] if len(terms) == 1 else wq.And(terms))
    if run.chopped and alternatives:
        # Kana Sudachi could only chop into short pieces (こっ|か|きみ|つ) is a word
        # typed by its reading; the pieces as words are noise (bench/keywords.py).
        return _one_of(alternatives)
    if not run.words and run.typed_words and not alternatives:
        # Its words were set aside (kana no reading explains): it can match only as a
        # substring, and must not let the other words of the query match without it.
        return wq.Term(run.field, NO_TERM)
    queries = [_word_query(w) for w in run.words]
    query: wq.Query | None = None
    if len(queries) == 1:
        query = queries[0]
    elif queries:
        near = _phrase_query(run) if len(_sequence(run)) >= 2 else None
        query = wq.AndMaybe(wq.And(queries), near) if near is not None else wq.And(queries)
    return _one_of(([query] if query is not None else []) + alternatives)


def _one_of(queries: list[wq.Query]) -> wq.Query | None:
    return None if not queries else queries[0] if len(queries) == 1 else _union(queries)


def _emit(node: PlanNode) -> wq.Query | None:
    if isinstance(node, Run):
        if node.kind == "phrase":
            return _phrase_query(node)
        return _sentence_query(node) if node.kind == "sentence" else _keyword_query(node)
    if isinstance(node, PNot):
        inner = _emit(node.child)
        return wq.Not(inner) if inner is not None else None
    parts = [q for c in node.children if (q := _emit(c)) is not None]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return wq.And(parts) if isinstance(node, PAll) else wq.Or(parts)


def _highlight(plan: Plan) -> dict[str, frozenset[str]]:
    marks: dict[str, set[str]] = {}
    for run in plan.runs():
        # A keyword marks its units and their parts; sentences and phrases their sequences.
        # Kana read as other words is located by re-reading the hit (``Compiled.readings``).
        units = run.kind == "keyword"
        terms = [t.text for w in run.words for t in (w.unit, *w.parts)] if units else _sequence(run)
        marks.setdefault(run.field, set()).update(terms if not run.chopped else [])
        if run.kana is not None:
            marks[run.field].update(t.text for t in (run.kana.unit, *run.kana.parts))
    return {f: frozenset(t) for f, t in marks.items()}


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


def emit(plan: Plan) -> Compiled:
    query = _emit(plan.root) if plan.root is not None else None
    question = plan.question
    bag = tuple((t.field, t.text, t.weight) for t in question.sentence_terms()) if question is not None else None
    substring = _substring(plan)
    return Compiled(
        plan=plan,
        query=query,
        bag=bag,
        pairs=question.pairs if question is not None else (),
        substring=substring,
        needles=plan.needles if substring else (),
        highlight=MappingProxyType(_highlight(plan)),
        readings=frozenset(t.text for r in plan.runs() for t in r.readings),
        literals=tuple(r.text for r in plan.runs()) if substring else (),
        filter=plan.filter,
    )


__all__ = ["Bag", "Compiled", "emit"]
