"""Layer 3 for a cluster: the same ``Plan`` as query DSL, filter clauses and facet aggregations.

Each plan node becomes what the embedded emitter (``sakuin.search.embedded.reading.emit``) makes
of it, clause for clause, so both backends match the same sections and score
them with the same BM25 terms:

* a word: ``term`` on ``<field>_all`` (its unit), or its parts as a
  ``match_phrase`` on ``<field>_fine``; all words of a keyword run required, the
  run's phrase optional (it ranks higher);
* a sentence: a ``bool`` of weighted ``term`` clauses (words and useful bigrams),
  any of which may match; for a query that is one sentence (``Plan.question``),
  also each of its pairs (``sakuin.search.query.plan.Pair``) as a ``match_phrase`` on
  ``<field>_fine`` in a ``constant_score`` of the pair's weight: the bonus the
  embedded backend adds (``sakuin.search.embedded.reading.proximity``). The embedded backend looks for
  pairs in its best ``PAIR_WINDOW`` sections only, the cluster in every match; a
  bonus only raises a score, so the two orders differ at most below that window;
* a phrase: ``match_phrase`` on ``<field>_fine``; readings: ``term`` on ``reading``;
  hiragana's katakana word (``Run.kana``) and readings: alternatives to the words;
* words that have synonyms (``Expansion``): a ``bool`` ``should`` of the words and each
  synonym (its word, or its words as a ``match_phrase``), boosted by its weight;
* NOT, AND, OR: ``must_not``, ``must``, ``should`` (at least one);
* filters: ``term``/``terms``/``range`` clauses in the query's ``filter``, and each facet
  a ``filter`` aggregation over the other fields' filters (a field's own filters
  are left out of its counts, as the embedded backend counts).

The substring candidates of keyword queries (``京都`` inside ``東京都``) are a
second query (``sakuin.search.opensearch.engine``): every bigram of every typed word
required, the word matches excluded, checked against each candidate's text.
"""

from __future__ import annotations

from typing import Any

from sakuin.search.analysis.normalize import fold
from sakuin.search.documents.metadata import PATH
from sakuin.search.query.filters import FAll, FilterNode, FNot, Match, Range, fields_of, top_level
from sakuin.search.query.plan import NO_TERM, Pair, PAll, Plan, PlanNode, PNot, Run, Synonym, Term, Word

DSL = dict[str, Any]
MATCH_NOTHING: DSL = {"bool": {"must_not": [{"match_all": {}}]}}


def _field(name: str, fine: bool = False) -> str:
    if name in ("grams", "reading"):
        return name
    return f"{name}_{'fine' if fine else 'all'}"


def _term(t: Term) -> DSL:
    body: dict[str, Any] = {"value": t.text}
    if t.weight != 1.0:
        body["boost"] = t.weight
    return {"term": {_field(t.field): body}}


def _phrase(field: str, terms: list[str], boost: float = 1.0) -> DSL:
    """``boost``: 1.0 but for hiragana's katakana word (``Run.kana``)."""
    if len(terms) == 1:
        return _term(Term(field, terms[0], "part", boost))
    text = " ".join(terms)
    return {"match_phrase": {_field(field, fine=True): text if boost == 1.0 else {"query": text, "boost": boost}}}


def _any(clauses: list[DSL]) -> DSL:
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}}


def _word(word: Word) -> DSL:
    unit = _term(word.unit)
    if not word.parts:
        return unit
    return _any([unit, _phrase(word.unit.field, [p.text for p in word.parts], word.unit.weight)])


def _synonym(synonym: Synonym) -> DSL:
    if len(synonym.words) == 1:
        return _word(synonym.words[0])
    seq = synonym.sequence()
    return _phrase(seq[0].field, [t.text for t in seq], seq[0].weight)


def _words(run: Run) -> list[DSL]:
    """A keyword run's required clauses: each word, or words that have synonyms as "these words,
    or one of the synonyms" (as the embedded emitter's ``_words_query``)."""
    clauses: list[DSL] = []
    i = 0
    for e in sorted(run.expansions, key=lambda e: e.first):
        clauses += [_word(w) for w in run.words[i : e.first]]
        typed = [_word(w) for w in run.words[e.first : e.last + 1]]
        clauses.append(_any([typed[0] if len(typed) == 1 else {"bool": {"must": typed}}, *map(_synonym, e.synonyms)]))
        i = e.last + 1
    return clauses + [_word(w) for w in run.words[i:]]


def _pair(pair: Pair) -> DSL:
    """A constant ``weight`` for the sections that have the two words side by side, in order."""
    phrase = {"match_phrase": {_field(pair.field, fine=True): f"{pair.first} {pair.second}"}}
    return {"constant_score": {"filter": phrase, "boost": pair.weight}}


def _sentence(run: Run, pairs: bool) -> DSL | None:
    """A sentence's terms, any of which may match; for the query that is one question
    (``pairs``), also its pairs' bonus and, as a filter that does not score, the share of
    its words a section must have (``Run.min_words``), as the embedded backend counts."""
    terms = run.sentence_terms()
    if not terms:
        return None
    should = [_term(t) for t in terms] + ([_pair(p) for p in run.pairs] if pairs else [])
    query: DSL = {"bool": {"should": should, "minimum_should_match": 1}}
    need = run.min_words()
    if pairs and need:
        words = [{"term": {_field(t.field): t.text}} for t in terms if t.field != "grams"]
        query["bool"]["filter"] = [{"bool": {"should": words, "minimum_should_match": need}}]
    return query


def _sequence(run: Run) -> list[str]:
    return [t.text for w in run.words for t in w.sequence()]


def _keyword(run: Run) -> DSL | None:
    alternatives = [_word(run.kana)] if run.kana is not None else []
    if run.readings:
        terms = [_term(t) for t in run.readings]
        alternatives.append(terms[0] if len(terms) == 1 else {"bool": {"must": terms}})
    if run.chopped and alternatives:
        return _any(alternatives)
    if not run.words and run.typed_words and not alternatives:
        return {"term": {_field(run.field): {"value": NO_TERM}}}
    words = _words(run)
    query: DSL | None = None
    if len(words) == 1:
        query = words[0]
    elif words:
        near = _sequence(run)
        query = {"bool": {"must": words, **({"should": [_phrase(run.field, near)]} if len(near) >= 2 else {})}}
    options = ([query] if query is not None else []) + alternatives
    return _any(options) if options else None


def _node(node: PlanNode) -> DSL | None:
    if isinstance(node, Run):
        if node.kind == "phrase":
            seq = _sequence(node)
            return _phrase(node.field, seq) if seq else None
        if node.kind == "sentence":
            return _sentence(node, pairs=False)
        return _keyword(node)
    if isinstance(node, PNot):
        inner = _node(node.child)
        return {"bool": {"must_not": [inner]}} if inner is not None else None
    parts = [q for c in node.children if (q := _node(c)) is not None]
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    if isinstance(node, PAll):
        return {"bool": {"must": parts}}
    return {"bool": {"should": parts, "minimum_should_match": 1}}


def query(plan: Plan) -> DSL:
    """The scoring part: every live section for a plan that is only filters."""
    if plan.root is None:
        return {"match_all": {}}
    question = plan.question
    q = _sentence(question, pairs=True) if question is not None else _node(plan.root)
    return q if q is not None else MATCH_NOTHING


def filter_clause(node: FilterNode) -> DSL:
    if isinstance(node, Match):
        if node.field == PATH:
            if "" in node.values:  # the root folder: every document (an access rule's path = "")
                return {"match_all": {}}
            values = [t for v in node.values for t in ([v] if v.endswith("/") else [v, f"{v}/"])]
            return {"terms": {f"f_{PATH}": values}}
        return {"terms": {f"ff_{node.field}": [fold(v) for v in node.values]}}
    if isinstance(node, Range):
        bounds: dict[str, float] = {}
        if node.low is not None:
            bounds["gte" if node.low_inclusive else "gt"] = node.low
        if node.high is not None:
            bounds["lte" if node.high_inclusive else "lt"] = node.high
        return {"range": {f"num_{node.field}": bounds}}
    if isinstance(node, FNot):
        return {"bool": {"must_not": [filter_clause(node.child)]}}
    clauses = [filter_clause(c) for c in node.children]
    if isinstance(node, FAll):
        return {"bool": {"filter": clauses}}
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def facet_aggregations(where: FilterNode | None, facets: list[str], size: int = 1000) -> DSL:
    """Per facet, its values' counts among the matches of every filter not on that field."""
    nodes = top_level(where)
    aggs: DSL = {}
    for name in facets:
        others = [filter_clause(n) for n in nodes if fields_of(n) != {name}]
        aggs[f"facet_{name}"] = {
            "filter": {"bool": {"filter": others}} if others else {"match_all": {}},
            "aggs": {"values": {"terms": {"field": f"f_{name}", "size": size}}},
        }
    return aggs


__all__ = ["facet_aggregations", "filter_clause", "query"]
