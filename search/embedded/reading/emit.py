"""The embedded backend's emitter: a plan → what the Whoosh index runs, all from the same plan.

``Compiled`` bundles everything derived from one ``Plan`` and is immutable:

* ``query``: the Whoosh word query (units, parts, readings, phrases, sentences);
* ``bag``: for a plan that is one sentence, its (field, term, weight) list, ranked
  term at a time (``bagofwords``) with the same scores Whoosh would give;
  ``pairs``: its words that stand side by side, a bonus for the sections that have
  them side by side too (``proximity``);
* ``targets``: what to mark in a hit and what a substring hit must contain
  (``sakuin.search.query.targets``, the same for both backends);
* ``filter``: the plan's metadata filters, as they are (they select, never score);
* ``typed``: for a plan widened by synonyms (not a question), the query as typed
  (``Plan.without_synonyms``): the sections it matches rank before those that match
  only through a synonym.

The OpenSearch backend emits from the same plan (``sakuin.search.opensearch.emit``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from whoosh import query as wq

from sakuin.search.analysis.thesaurus import NO_SYNONYMS, Thesaurus
from sakuin.search.documents.metadata import Declaration
from sakuin.search.query import plan_query
from sakuin.search.query.filters import FilterNode
from sakuin.search.query.plan import NO_TERM, Lexicon, Pair, PAll, Plan, PlanNode, PNot, Run, Synonym, Word
from sakuin.search.query.targets import Targets, targets

Bag = tuple[tuple[str, str, float], ...]


@dataclass(frozen=True, slots=True)
class Compiled:
    plan: Plan
    query: wq.Query | None
    bag: Bag | None = None
    pairs: tuple[Pair, ...] = ()
    #: For a question: the word terms a section must have to count (``Run.min_words``).
    min_words: int = 0
    targets: Targets = field(default_factory=Targets)
    #: The plan's metadata filters, evaluated by the backend (``metatables.evaluate``).
    filter: FilterNode | None = None
    #: The word query without synonyms, when synonyms widened it (module doc).
    typed: wq.Query | None = None


def _union(queries: list[wq.Query]) -> wq.Or:
    """A small OR walked document by document.

    Whoosh picks a preloading matcher for segments under 5,000 documents, which
    reads every posting of every clause; for a handful of clauses inside an AND
    that costs several times more than it saves (measured with bench/bench_query.py).
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


def _synonym_query(synonym: Synonym) -> wq.Query:
    """A synonym: its one word (as ``_word_query``), or its words side by side."""
    if len(synonym.words) == 1:
        return _word_query(synonym.words[0])
    seq = synonym.sequence()
    return wq.Phrase(seq[0].field, [t.text for t in seq], boost=seq[0].weight)


def _words_query(run: Run) -> list[wq.Query]:
    """A keyword run's words, each required: a word, or a run of words that has synonyms as
    "these words, or one of the synonyms" (``Expansion``)."""
    queries: list[wq.Query] = []
    i = 0
    for e in sorted(run.expansions, key=lambda e: e.first):
        queries += [_word_query(w) for w in run.words[i : e.first]]
        typed = [_word_query(w) for w in run.words[e.first : e.last + 1]]
        queries.append(_union([typed[0] if len(typed) == 1 else wq.And(typed), *map(_synonym_query, e.synonyms)]))
        i = e.last + 1
    return queries + [_word_query(w) for w in run.words[i:]]


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
    queries = _words_query(run)
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


def emit(plan: Plan) -> Compiled:
    query = _emit(plan.root) if plan.root is not None else None
    question = plan.question
    typed = plan.without_synonyms()
    typed_query = _emit(typed.root) if question is None and typed is not plan and typed.root is not None else None
    bag = tuple((t.field, t.text, t.weight) for t in question.sentence_terms()) if question is not None else None
    return Compiled(
        plan=plan,
        query=query,
        bag=bag,
        pairs=question.pairs if question is not None else (),
        min_words=question.min_words() if question is not None else 0,
        targets=targets(plan),
        filter=plan.filter,
        typed=typed_query,
    )


def compile_query(
    q: str,
    lexicon: Lexicon | None = None,
    sections: int | None = None,
    literal: bool = False,
    metadata: Declaration | None = None,
    thesaurus: Thesaurus = NO_SYNONYMS,
) -> Compiled:
    """Parse, understand and emit in one step; raises QuerySyntaxError.

    ``lexicon`` and ``sections`` (the index's section count) let the planner
    skip terms that cannot match or barely matter; ``metadata`` (the index's
    declaration) says which ``name:`` fields are filters; ``thesaurus``: the synonyms.
    """
    return emit(plan_query(q, lexicon, sections, literal, metadata, thesaurus))


__all__ = ["Bag", "Compiled", "compile_query", "emit"]
