"""The search backend on a cluster: the same search, documents and stats, answered by OpenSearch.

It takes the same arguments and returns the same result objects as
the embedded index's engine (both are ``sakuin.search.backend.SearchBackend``), so the CLI,
the API and the pages do not know which
backend they talk to (``sakuin.search.backend.open_engine`` picks one).

A query is planned against the cluster's statistics in two passes: a first
planning pass with every term assumed present records every (field, term) the
planner may ask about, one search with a ``filters`` aggregation (a bucket per
term) counts them all, and the real pass runs on those answers (cached per
version, so recurring terms cost nothing). The plan then becomes query DSL
(``sakuin.search.opensearch.emit``), searched with global term statistics
(``dfs_query_then_fetch``).

The page is read in parts, in the embedded ranking's order: the tiers of the word
matches as typed (respelled words written as typed first, then the sections that
have the words in their own text), the substring matches, then the matches only
through a synonym (``Plan.without_synonyms`` as a ``filter`` or ``must_not``).
The index's synonyms and user dictionaries come with its manifest
(``sakuin.search.analysis.settings``); a user dictionary is compiled on this machine
into ``DICTIONARY_DIR`` from the copy the cluster keeps (``ClusterState.dictionary``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from sakuin.search.access.model import Access
from sakuin.search.analysis.settings import AnalysisSettings, describe
from sakuin.search.analysis.sudachi import user_dictionaries
from sakuin.search.analysis.thesaurus import NO_SYNONYMS, Sources, Thesaurus, explain
from sakuin.search.analysis.userdict import compiled
from sakuin.search.config import (
    FEW_HITS,
    SUBSTRING_CANDIDATES,
    SUBSTRING_PAGE,
    TITLE_WINDOW,
    TRACK_TOTAL,
    TYPED_WEIGHT,
    dictionary_dir,
)
from sakuin.search.documents.metadata import Declaration
from sakuin.search.documents.model import Document
from sakuin.search.documents.originals import Original, Originals
from sakuin.search.errors import IndexMissing, QuerySyntaxError
from sakuin.search.highlight.spans import match_spans, stored_spans
from sakuin.search.indexing.inventory import inventory
from sakuin.search.opensearch.client import connect, index_name
from sakuin.search.opensearch.emit import MATCH_NOTHING, facet_aggregations, filter_clause, query
from sakuin.search.opensearch.indexer import ClusterState
from sakuin.search.query import parse
from sakuin.search.query.filters import top_level
from sakuin.search.query.plan import Planner
from sakuin.search.query.request import Request, sort_name
from sakuin.search.query.targets import Targets, contains_all, fold_section, targets
from sakuin.search.results.examples import Examples, facet_example, frequent_words, question_from, title_word_counts
from sakuin.search.results.facets import facet_list, selected_values
from sakuin.search.results.hits import document_from, expansions, hit_from, notices
from sakuin.search.results.model import FacetValue, SearchResult, Suggestion
from sakuin.search.results.suggestions import closest, did_you_mean, last_word, words_for

MatchKind = Literal["word", "substring", "synonym"]

_FIELDS = {"content": "content_all", "title": "title_all", "heading": "heading_all"}
#: Document frequencies cached per version and process.
MAX_CACHED_TERMS = 200_000
_SOURCE = ["doc_id", "title", "path", "ordinal", "heading", "body", "meta", "info", "key", "group"]
#: How long the alias's target is trusted before it is asked again (a publish shows within this).
ALIAS_SECONDS = 1.0
#: Sections read for the words that complete a prefix while typing.
PREFIX_SAMPLE = 200
#: Sections whose titles give the example queries.
EXAMPLE_SAMPLE = 300
#: Readers' example queries kept per version (one per distinct set of rules).
EXAMPLES_KEPT = 64


@dataclass(frozen=True)
class _Analysis:
    """How the live version analyses text: its synonyms (files followed) and compiled dictionaries."""

    settings: AnalysisSettings
    synonyms: Sources
    dictionaries: tuple[str, ...]


class OpenSearchEngine:
    """Search over the live version (the alias) of a sakuin index on a cluster."""

    def __init__(self, urls: str) -> None:
        self.urls = urls
        self.client = connect(urls)
        self.state = ClusterState(self.client, index_name())
        self._manifest: tuple[str | None, dict[str, Any]] = (None, {})
        self._originals: tuple[str | None, Originals] = (None, Originals({}))
        self._alias: tuple[str | None, float] = (None, 0.0)
        #: Per live version: its section count and the document frequencies asked so far.
        self._stats: tuple[str | None, int, dict[tuple[str, str], int]] = (None, 0, {})
        self._examples: tuple[str | None, dict[str, Examples]] = (None, {})
        self._analysis: tuple[str | None, _Analysis | None] = (None, None)

    # -- the live version ------------------------------------------------------------

    def _live(self) -> tuple[str, dict[str, Any]]:
        now = time.monotonic()
        if self._alias[0] is None or now - self._alias[1] > ALIAS_SECONDS:
            self._alias = (self.state.current(), now)
        current = self._alias[0]
        if current is None:
            raise IndexMissing("index_missing/cluster", urls=self.urls)
        if self._manifest[0] != current:
            self._manifest = (current, self.state.manifest())
        return current, self._manifest[1]

    @property
    def version(self) -> str | None:
        return self.state.current()

    def declaration(self) -> Declaration:
        return Declaration.from_manifest(self._live()[1].get("metadata"))

    def _analysis_of(self, index: str, manifest: dict[str, Any]) -> _Analysis:
        if self._analysis[0] != index or self._analysis[1] is None:
            settings = AnalysisSettings.from_manifest(manifest.get("analysis"))
            paths = []
            for entry in settings.user_dicts:
                made = compiled(entry, dictionary_dir(), lambda e=entry: self.state.dictionary(e.sha256))
                if made is not None:
                    paths.append(str(made))
            self._analysis = (index, _Analysis(settings, Sources(settings.synonyms), tuple(paths)))
        assert self._analysis[1] is not None
        return self._analysis[1]

    @contextmanager
    def _analysing(self) -> Iterator[tuple[str, dict[str, Any], _Analysis]]:
        """The live version, its manifest and analysis, with its user dictionaries in use inside."""
        index, manifest = self._live()
        analysis = self._analysis_of(index, manifest)
        with user_dictionaries(analysis.dictionaries):
            yield index, manifest, analysis

    def ready(self) -> str:
        return self._live()[0]

    def close(self) -> None:
        self.client.close()

    # -- planning ---------------------------------------------------------------------

    def _version_stats(self, index: str) -> tuple[int, dict[tuple[str, str], int]]:
        """The version's section count and its cache of document frequencies (a version never changes)."""
        if self._stats[0] != index:
            self._stats = (index, self.client.count(index=index)["count"], {})
        _, sections, df = self._stats
        if len(df) > MAX_CACHED_TERMS:
            df.clear()
        return sections, df

    def _lexicon(
        self, index: str, pairs: set[tuple[str, str]], guard: list[Any] | None = None
    ) -> dict[tuple[str, str], int]:
        """Document frequencies, cached per version; with ``guard`` (a reader's access clauses),
        among the sections the reader may read, asked each time (a word offered to a reader
        must be in a section they may read: ``suggest``, "did you mean")."""
        _, shared = self._version_stats(index)
        cache = shared if guard is None else {}
        ordered = sorted(p for p in pairs if p not in cache)
        if not ordered:
            return {p: cache[p] for p in pairs}
        # One request: a ``filters`` aggregation with a bucket per term counts them all in one pass.
        filters = {
            str(i): {"bool": {"filter": [{"term": {_FIELDS.get(f, f): t}}, *(guard or [])]}}
            for i, (f, t) in enumerate(ordered)
        }
        body = {"size": 0, "track_total_hits": False, "aggs": {"df": {"filters": {"filters": filters}}}}
        buckets = self.client.search(index=index, body=body)["aggregations"]["df"]["buckets"]
        for i, p in enumerate(ordered):
            cache[p] = buckets[str(i)]["doc_count"]
        return {p: cache[p] for p in pairs}

    def _plan(
        self, index: str, text: str, literal: bool, declaration: Declaration, thesaurus: Thesaurus = NO_SYNONYMS
    ) -> Any:
        node = parse(text, literal)
        asked: set[tuple[str, str]] = set()

        def record(field: str, term: str) -> int:
            asked.add((field, term))
            return 1

        sections, _ = self._version_stats(index)
        Planner(record, sections, metadata=declaration, thesaurus=thesaurus).plan(node, text)
        df = self._lexicon(index, asked)

        def lexicon(field: str, term: str) -> int:
            # A real answer can lead the planner to a term the first pass did not reach
            # (kana known as a word is then tried as a reading): ask for it on its own.
            if (field, term) not in df:
                df.update(self._lexicon(index, {(field, term)}))
            return df[(field, term)]

        return Planner(lexicon, sections, metadata=declaration, thesaurus=thesaurus).plan(node, text)

    # -- search -----------------------------------------------------------------------

    def search(
        self,
        q: str,
        page: int = 1,
        per_page: int = 10,
        snippets: bool = True,
        literal: bool = False,
        *,
        sort: str | None = None,
        facets: Sequence[str] = (),
        collapse: bool = True,
        filters: Sequence[str] = (),
        substrings: bool = False,
        synonyms: bool = True,
        access: Access | None = None,
    ) -> SearchResult:
        """``access``: its clause joins every query's ``filter`` (the page, the counts, the facets'
        global aggregations, the substring and typed-first scans, the frequencies of "did you mean")."""
        started = time.perf_counter()
        with self._analysing() as (index, manifest, analysis):
            declaration = Declaration.from_manifest(manifest.get("metadata"))
            request = Request.of(declaration, q, page, per_page, literal, sort, facets, collapse, filters, substrings)
            thesaurus = analysis.synonyms.thesaurus() if synonyms else NO_SYNONYMS
            result = self._search(index, declaration, request, thesaurus, snippets, access)
        result.query = q
        result.filters = [f.strip() for f in filters if f.strip()]
        result.synonyms = synonyms
        result.took_ms = (time.perf_counter() - started) * 1000
        return result

    def _search(
        self,
        index: str,
        declaration: Declaration,
        request: Request,
        thesaurus: Thesaurus,
        snippets: bool,
        access: Access | None,
    ) -> SearchResult:
        guard = access_clauses(access)
        page, per_page, order, wanted = request.page, request.per_page, request.sort, request.facets
        collapse, substrings = request.collapse, request.substrings
        plan = self._plan(index, request.text, request.literal, declaration, thesaurus)
        marks = targets(plan)
        scoring = query(plan)
        where = [filter_clause(n) for n in top_level(plan.filter)] + guard
        body: dict[str, Any] = {
            "query": {"bool": {"must": [scoring], "filter": where}},
            "from": (page - 1) * per_page,
            "size": per_page,
            "track_total_hits": TRACK_TOTAL,
            "_source": [*_SOURCE, "offsets"],
            "sort": ["_score", {"key": "asc"}],
        }
        question = plan.question is not None
        typed_plan = plan.without_synonyms()
        as_typed = query(typed_plan) if not question and typed_plan is not plan else None
        typed = self._typed_first(index, marks, scoring, where, body, question) if marks.typed else None
        title_only = self._title_only(index, marks, body) if order is None and not question and TITLE_WINDOW else set()
        tiers = _tiers(typed, title_only) if order is None else []
        synonym_tiers: list[dict[str, Any]] = []
        if as_typed is not None:
            tiers = [{**t, "filter": [*t.get("filter", []), as_typed]} for t in tiers or [{}]]
            synonym_tiers = [{"must_not": [as_typed]}]
        if tiers:
            body["size"] = 0  # the page comes in parts (``_page``)
        if order is not None:
            direction = "desc" if order.descending else "asc"
            body["sort"] = [{f"num_{order.field}": {"order": direction, "missing": "_last"}}, "_score", {"key": "asc"}]
            body["track_scores"] = True
        aggs: dict[str, Any] = {}
        if collapse:
            # Groups of more than one section, counted in the same request (no inner hits:
            # they cost a query per hit).
            body["collapse"] = {"field": "group"}
            aggs["groups"] = {"cardinality": {"field": "group", "precision_threshold": 40000}}
            aggs["same"] = {"terms": {"field": "group", "min_doc_count": 2, "size": 10_000}}
        if wanted:
            aggs["all"] = {
                "global": {},
                "aggs": {
                    name: {
                        "filter": {"bool": {"must": [scoring], "filter": [agg["filter"], *guard]}},
                        "aggs": agg["aggs"],
                    }
                    for name, agg in facet_aggregations(plan.filter, list(wanted)).items()
                },
            }
        if aggs:
            body["aggs"] = aggs
        answer = self.client.search(index=index, body=body, search_type="dfs_query_then_fetch")
        # Hits are counted up to TRACK_TOTAL (``track_total_hits``); past it the total is a lower bound.
        sections = answer["hits"]["total"]["value"]
        total = answer["aggregations"]["groups"]["value"] if collapse and sections else sections
        at_least = total > TRACK_TOTAL or (not collapse and answer["hits"]["total"]["relation"] == "gte")
        result = SearchResult(
            query=request.text, total=min(total, TRACK_TOTAL), took_ms=0.0, page=page, per_page=per_page
        )
        result.total_relation = "gte" if at_least else "eq"
        result.sections = sections
        result.sort = sort_name(order)
        result.substrings = substrings
        result.expansions = expansions(plan)
        selected = selected_values(plan.filter)
        for name in wanted:
            buckets = answer["aggregations"]["all"][f"facet_{name}"]["values"]["buckets"]
            values = facet_list(name, [(b["key"], b["doc_count"]) for b in buckets], selected.get(name, set()))
            result.facets[name] = [FacetValue(v, n, v in selected.get(name, ())) for v, n in values]
        same_text = (
            {b["key"]: b["doc_count"] for b in answer["aggregations"]["same"]["buckets"]}
            if collapse and sections
            else {}
        )
        found: list[Any] = []
        words = total  # the word hits (with the synonym ones), which the page lists around substring hits
        if marks.substring is not None:
            found = self._substrings(index, marks, as_typed or scoring, where)
            result.substring_total = len(found)
            if not substrings and self._any(index, as_typed, scoring, where, total):
                found = []  # the typed words match as words: the substring matches are only counted
            if found and as_typed is not None:  # a substring match is not also a synonym match
                also = {"terms": {"key": sorted(h["_source"]["key"] for h in found)}}
                synonym_tiers = [{**t, "must_not": [*t["must_not"], also]} for t in synonym_tiers]
                words = self._count_of(index, body, {"must_not": [also]}, collapse)
                result.total = min(words, TRACK_TOTAL)
            if found and not at_least:  # listed substring hits count as hits: the threshold holds for the sum
                if result.total + len(found) > TRACK_TOTAL:
                    result.total_relation = "gte"
                result.total = min(result.total + len(found), TRACK_TOTAL)
                result.sections = min(result.sections + len(found), TRACK_TOTAL)
            for name in wanted:  # substring hits pass every filter: count them under their own values
                counts = {v.value: v.count for v in result.facets[name]}
                for h in found:
                    for value in h["_source"].get(f"f_{name}", []):
                        counts[value] = counts.get(value, 0) + 1
                values = facet_list(name, list(counts.items()), selected.get(name, set()))
                result.facets[name] = [FacetValue(v, n, v in selected.get(name, ())) for v, n in values]
        start = (page - 1) * per_page
        if tiers or synonym_tiers:
            parts: list[tuple[dict[str, Any] | list[Any], MatchKind]] = [(t, "word") for t in tiers]
            parts += [(found, "substring"), *((t, "synonym") for t in synonym_tiers)]
            hits = self._page(index, body, parts, start, per_page, collapse)
        else:
            hits = [(h, "word") for h in answer["hits"]["hits"]]
            begin = max(0, start - words)
            hits += [(h, "substring") for h in found[begin : begin + per_page - len(hits)]]
        stored = {i: h["_source"] for i, (h, _) in enumerate(hits)}
        substring = {i for i, (_, kind) in enumerate(hits) if kind == "substring"}
        spans = match_spans(marks, stored, stored_spans(stored), substring) if snippets else {}
        for i, (h, kind) in enumerate(hits):
            fields = h["_source"]
            same = same_text.get(fields.get("group"), 1)
            duplicates = max(0, same - 1) if collapse and kind != "substring" else 0
            result.hits.append(hit_from(fields, float(h.get("_score") or 0.0), spans.get(i, {}), kind, duplicates))
        result.did_you_mean = did_you_mean(
            plan,
            result.total,
            lambda field, term: self._lexicon(index, {(field, term)}, guard if access else None)[(field, term)],
            lambda word: self._correct(index, word, guard if access else None),
        )
        result.notices.extend(notices(plan, result))
        return result

    def _any(
        self, index: str, as_typed: dict[str, Any] | None, scoring: dict[str, Any], where: list[Any], total: int
    ) -> bool:
        """Whether any section matches the words as typed, as words (not only through a synonym)."""
        if as_typed is None:
            return bool(total)
        body = {"size": 0, "track_total_hits": 1, "query": {"bool": {"must": [scoring, as_typed], "filter": where}}}
        return bool(self.client.search(index=index, body=body)["hits"]["total"]["value"])

    def _typed_first(
        self,
        index: str,
        marks: Targets,
        scoring: dict[str, Any],
        where: list[Any],
        body: dict[str, Any],
        question: bool,
    ) -> set[str] | None:
        """The embedded backend's typed-first rule (``ranking._typed_first``): the matches that
        write each respelled word as typed are found as substring candidates are (its bigrams,
        then the text, at most ``SUBSTRING_CANDIDATES``). A question gives each such word
        ``TYPED_WEIGHT`` as a constant bonus (added to ``body``); for a keyword query, returns
        the keys of the sections that write them all, which ``_page`` lists first."""
        written: list[set[str]] = []
        for needle, grams in zip(marks.typed, marks.typed_grams, strict=True):
            must = [scoring, *({"term": {"grams": g}} for g in grams)]
            query = {"bool": {"must": must, "filter": where}}
            check = [needle] if len(needle) > 2 else []
            hits = self._scan(index, query, ["key", "title", "heading", "body"])
            written.append({h["_source"]["key"] for h in hits if contains_all(fold_section(h["_source"]), check)})
        bool_query = body["query"]["bool"]
        if question:
            bool_query["should"] = [
                {"constant_score": {"filter": {"terms": {"key": sorted(keys)}}, "boost": TYPED_WEIGHT}}
                for keys in written
                if keys
            ]
            return None
        return set.intersection(*written)

    def _title_only(self, index: str, marks: Targets, body: dict[str, Any]) -> set[str]:
        """The keys of the best ``TITLE_WINDOW`` sections that have the query's words only in
        their document's title (``ranking._own_text_first``): read from the offsets each
        section stores, every one before the end of the title."""
        terms = marks.highlight.get("content", frozenset())
        if not terms:
            return set()
        window = {**body, "from": 0, "size": TITLE_WINDOW, "_source": ["key", "title", "offsets"], "aggs": {}}
        window.pop("collapse", None)
        hits = self.client.search(index=index, body=window, search_type="dfs_query_then_fetch")["hits"]["hits"]
        out = set()
        for h in hits:
            source = h["_source"]
            title_end = len(source.get("title") or "")
            table = (source.get("offsets") or {}).get("content") or {}
            starts = [s for term in terms & table.keys() for s in table[term][::2]]
            if starts and all(s < title_end for s in starts):
                out.add(source["key"])
        return out

    def _page(
        self,
        index: str,
        body: dict[str, Any],
        parts: list[tuple[dict[str, Any] | list[Any], MatchKind]],
        start: int,
        size: int,
        collapse: bool,
    ) -> list[tuple[Any, MatchKind]]:
        """One page of hits read part after part: a part is ``bool`` clauses over ``body``'s query
        (a tier, read by score) or a list of hits already found (the substring matches). A sort
        on a set of keys needs a script, and a boost would cost the scores their precision (they
        are 32-bit floats), so the tiers are read apart and joined, each counted on the way
        (after collapsing) to know where the page starts."""
        hits: list[tuple[Any, MatchKind]] = []
        seen = 0
        for part, kind in parts:
            if len(hits) >= size:
                break
            if isinstance(part, list):
                if start < seen + len(part):
                    begin = max(0, start - seen)
                    hits += [(h, kind) for h in part[begin : begin + size - len(hits)]]
                seen += len(part)
                continue
            request = {**body, "from": max(0, start - seen), "size": size - len(hits), "aggs": {}}
            request["query"] = _narrowed(body, part)
            if collapse:
                request["aggs"] = {"groups": {"cardinality": {"field": "group", "precision_threshold": 40000}}}
            answer = self.client.search(index=index, body=request, search_type="dfs_query_then_fetch")
            if start < seen + (count := self._count(answer, collapse)):
                hits += [(h, kind) for h in answer["hits"]["hits"]]
            seen += count
        return hits[:size]

    def _count_of(self, index: str, body: dict[str, Any], part: dict[str, Any], collapse: bool) -> int:
        """How many hits ``body``'s query narrowed by ``part`` has (after collapsing)."""
        request: dict[str, Any] = {"size": 0, "track_total_hits": True, "query": _narrowed(body, part)}
        if collapse:
            request["aggs"] = {"groups": {"cardinality": {"field": "group", "precision_threshold": 40000}}}
        answer = self.client.search(index=index, body=request)
        return self._count(answer, collapse) if answer["hits"]["total"]["value"] else 0

    @staticmethod
    def _count(answer: dict[str, Any], collapse: bool) -> int:
        return int(answer["aggregations"]["groups"]["value"] if collapse else answer["hits"]["total"]["value"])

    def _scan(self, index: str, query: dict[str, Any], source: list[str]) -> list[Any]:
        """Up to ``SUBSTRING_CANDIDATES`` matches of ``query``, read in pages of ``SUBSTRING_PAGE``."""
        body: dict[str, Any] = {
            "size": SUBSTRING_PAGE,
            "query": query,
            "sort": [{"key": "asc"}],
            "track_total_hits": False,
            "_source": source,
        }
        out: list[Any] = []
        while True:
            page = self.client.search(index=index, body=body)["hits"]["hits"]
            out += page
            if len(page) < SUBSTRING_PAGE or len(out) >= SUBSTRING_CANDIDATES:
                return out
            body["search_after"] = page[-1]["sort"]

    def _substrings(self, index: str, marks: Targets, words: dict[str, Any], where: list[Any]) -> list[Any]:
        """Sections that contain the typed words only inside longer words, checked against their text.

        The candidates are the sections with every bigram of every typed word and
        no word match, best bigram score first, as the embedded backend ranks them;
        the first ``SUBSTRING_CANDIDATES`` are checked, read in pages of ``SUBSTRING_PAGE``
        (``search_after`` is consistent across pages: a published version is never written again).
        """
        grams = [{"term": {"grams": g}} for group in marks.substring or () for g in group]
        body: dict[str, Any] = {
            "size": SUBSTRING_PAGE,
            "query": {"bool": {"must": grams, "must_not": [words], "filter": where}},
            "sort": ["_score", {"key": "asc"}],
            "track_total_hits": False,
            "_source": [*_SOURCE, "f_*"],
        }
        check = marks.needles_to_check()
        found: list[Any] = []
        read = 0
        while True:
            page = self.client.search(index=index, body=body, search_type="dfs_query_then_fetch")["hits"]["hits"]
            found += [h for h in page if contains_all(fold_section(h["_source"]), check)]
            read += len(page)
            if len(page) < SUBSTRING_PAGE or read >= SUBSTRING_CANDIDATES:
                return found
            body["search_after"] = page[-1]["sort"]

    def suggest(self, text: str, limit: int = 8, *, access: Access | None = None) -> list[Suggestion]:
        """Suggestions by the rules of ``sakuin.search.results.suggestions``: completed words, then titles."""
        with self._analysing() as (index, _, _):
            if not text.split():
                return []
            guard = access_clauses(access) if access is not None else None
            out = self._completions(index, text, limit, guard)
            out += self._titles(index, text, limit - len(out), guard)
            return out[:limit]

    def analyze(self, text: str) -> dict[str, Any]:
        """What the live version's analysis makes of ``text`` (``EmbeddedEngine.analyze``)."""
        with self._analysing() as (_, _, analysis):
            return explain(text, analysis.synonyms.thesaurus())

    def _completions(self, index: str, text: str, limit: int, guard: list[Any] | None = None) -> list[Suggestion]:
        """Words that complete the last one typed, from the sections that have a word starting
        with it (``PREFIX_SAMPLE`` of them), ranked by their true document frequency."""
        last = last_word(text)
        if not last or last.startswith("-") or ":" in last:
            return []
        body = {
            "size": PREFIX_SAMPLE,
            "track_total_hits": False,
            "_source": ["offsets.content"],
            "query": {"bool": {"must": [{"prefix": {_FIELDS["content"]: last}}], "filter": guard or []}},
        }
        candidates: set[str] = set()
        for h in self.client.search(index=index, body=body)["hits"]["hits"]:
            terms = h["_source"].get("offsets", {}).get("content", {})
            candidates.update(t for t in terms if t.startswith(last) and t != last)
        df = self._lexicon(index, {("content", t) for t in candidates}, guard)
        return words_for(text, candidates, lambda field, term: df[(field, term)], limit)

    def _titles(self, index: str, text: str, limit: int, guard: list[Any] | None = None) -> list[Suggestion]:
        """Titles that contain the typed words."""
        if limit <= 0:
            return []
        try:
            plan = self._plan(index, text, True, Declaration())
        except QuerySyntaxError:
            return []
        terms = [t.text for run in plan.runs() for w in run.words for t in w.sequence()]
        if not terms:
            return []
        body = {
            "size": limit * 3,
            "_source": ["title", "doc_id"],
            "query": {"bool": {"must": [{"term": {"title_all": t}} for t in terms], "filter": guard or []}},
        }
        out: dict[str, Suggestion] = {}
        for h in self.client.search(index=index, body=body)["hits"]["hits"]:
            title = h["_source"].get("title") or ""
            if title and title not in out:
                out[title] = Suggestion("title", title, h["_source"].get("doc_id"))
        return list(out.values())[:limit]

    def _correct(self, index: str, word: str, guard: list[Any] | None = None) -> str | None:
        """``did_you_mean``'s correction: candidates from OpenSearch's term suggester (edit
        distance at most 2, from every shard), chosen by ``closest`` on global frequencies.

        The suggester's own frequency and ``min_doc_freq`` are per shard (a word in two
        sections on two shards has 1 on each), so both are left to ``closest``."""
        options = {
            "field": _FIELDS["content"],
            "suggest_mode": "always",
            "max_edits": 2,
            "prefix_length": 0,
            "min_word_length": 2,
            "max_term_freq": FEW_HITS,  # absolute: only words the index barely has are corrected
            "accuracy": 0.1,
            "size": 25,
        }
        body = {"size": 0, "track_total_hits": False, "suggest": {"word": {"text": word, "term": options}}}
        entries = self.client.search(index=index, body=body)["suggest"]["word"]
        candidates = {o["text"] for e in entries for o in e["options"]}
        df = self._lexicon(index, {("content", c) for c in candidates}, guard)
        return closest(word, candidates, lambda field, term: df[(field, term)])

    # -- documents and stats ----------------------------------------------------------

    def _sections(self, index: str, doc_id: str, access: Access | None = None) -> list[dict[str, Any]]:
        """Every section of ``doc_id``, or none if ``access`` does not permit every one of them."""
        guard = access_clauses(access)
        body = {
            "size": 10_000,
            "query": {"bool": {"filter": [{"term": {"doc_id": doc_id}}]}},
            "sort": [{"ordinal": "asc"}],
            "_source": [*_SOURCE, "offsets"],
        }
        if guard:  # counted in the same request: the sections the reader may not read
            body["aggs"] = {"denied": {"filter": {"bool": {"must_not": [{"bool": {"filter": guard}}]}}}}
        answer = self.client.search(index=index, body=body)
        if guard and answer["aggregations"]["denied"]["doc_count"]:
            return []  # the whole document is hidden, as a missing one
        return [h["_source"] for h in answer["hits"]["hits"]]

    def original(self, doc_id: str, *, access: Access | None = None) -> Original | None:
        """Where ``doc_id``'s original file is, from the live version's manifest (served read-only)."""
        index, manifest = self._live()
        if access is not None and not self._sections(index, doc_id, access):
            return None
        if self._originals[0] != index:
            self._originals = (index, Originals(manifest.get("files", {})))
        return self._originals[1].find(doc_id)

    def document(self, doc_id: str, *, access: Access | None = None) -> Document | None:
        index, _ = self._live()
        return document_from(doc_id, self._sections(index, doc_id, access))

    def section_spans(
        self, doc_id: str, q: str, synonyms: bool = True, *, access: Access | None = None
    ) -> dict[int, dict[str, list[tuple[int, int]]]]:
        with self._analysing() as (index, manifest, analysis):
            thesaurus = analysis.synonyms.thesaurus() if synonyms else NO_SYNONYMS
            plan = self._plan(index, q, False, Declaration.from_manifest(manifest.get("metadata")), thesaurus)
            rows = self._sections(index, doc_id, access)
            stored = {i: r for i, r in enumerate(rows)}
            spans = match_spans(targets(plan), stored, stored_spans(stored))
        return {rows[i]["ordinal"]: found for i, found in spans.items()}

    def examples(self, *, access: Access | None = None) -> Examples:
        """Example queries from a sample of the live version's sections (cached per version and
        reader's rules): the frequent words of their titles, one of the titles, and the first
        declared facet's most frequent value."""
        with self._analysing() as (index, manifest, _):
            key = access.key if access is not None else ""
            if self._examples[0] != index:
                self._examples = (index, {})
            kept = self._examples[1]
            if key not in kept:
                if len(kept) >= EXAMPLES_KEPT:
                    kept.clear()
                kept[key] = self._example_queries(index, manifest, access_clauses(access))
            return kept[key]

    def _example_queries(self, index: str, manifest: dict[str, Any], guard: list[Any]) -> Examples:
        body = {
            "size": EXAMPLE_SAMPLE,
            "sort": [{"key": "asc"}],
            "_source": ["title"],
            "track_total_hits": False,
            "query": {"bool": {"filter": guard}},
        }
        titles = [h["_source"].get("title") or "" for h in self.client.search(index=index, body=body)["hits"]["hits"]]
        words = frequent_words(title_word_counts(titles))
        keywords = [n for n in Declaration.from_manifest(manifest.get("metadata")).of_kind("keyword") if n != "url"]
        facet = None
        if keywords:
            aggs = {"top": {"terms": {"field": f"f_{keywords[0]}", "size": 1}}}
            body = {"size": 0, "track_total_hits": False, "aggs": aggs, "query": {"bool": {"filter": guard}}}
            answer = self.client.search(index=index, body=body)
            buckets = answer["aggregations"]["top"]["buckets"]
            facet = facet_example(keywords[0], buckets[0]["key"] if buckets else None)
        return Examples(words, question_from(titles, words), facet)

    def stats(self, *, access: Access | None = None) -> dict[str, Any]:
        index, manifest = self._live()
        files = manifest.get("files", {})
        store = self.client.indices.stats(index=index, metric="store,docs")["_all"]["primaries"]
        health = self.client.cluster.health()
        if access is not None and not access.allows_all:
            guard = access_clauses(access)
            held = inventory(self._readable_files(index, guard))
            return {
                **self._counted(index, guard),
                **self._about(index, manifest, health),
                "size_bytes": None,
                **{k: held[k] for k in ("types", "folders", "root")},
            }
        held = inventory(files)
        return {
            "documents": sum(len(f["doc_ids"]) for f in files.values()),
            "sections": store["docs"]["count"],
            "files": len(files),
            **self._about(index, manifest, health),
            "size_bytes": store["store"]["size_in_bytes"],
            **{k: held[k] for k in ("types", "folders", "root")},
        }

    def _counted(self, index: str, guard: list[Any]) -> dict[str, Any]:
        """Documents, sections and files among the sections a reader may read: every document
        has a section 0, and ``source`` is a section's file (its distinct count is exact below
        40,000 files, HyperLogLog's estimate above)."""
        first = {"bool": {"filter": [*guard, {"term": {"ordinal": 0}}]}}
        aggs = {"files": {"cardinality": {"field": "source", "precision_threshold": 40000}}}
        body = {"size": 0, "track_total_hits": True, "query": {"bool": {"filter": guard}}, "aggs": aggs}
        answer = self.client.search(index=index, body=body)
        return {
            "documents": self.client.count(index=index, body={"query": first})["count"],
            "sections": answer["hits"]["total"]["value"],
            "files": int(answer["aggregations"]["files"]["value"]),
        }

    def _readable_files(self, index: str, guard: list[Any]) -> dict[str, dict[str, Any]]:
        """Each file with the documents a reader may read in it (as many ``doc_ids`` as there are:
        ``inventory`` counts them), from the first sections the guard lets through."""
        first = {"bool": {"filter": [*guard, {"term": {"ordinal": 0}}]}}
        aggs = {"files": {"terms": {"field": "source", "size": MAX_INVENTORY_FILES}}}
        answer = self.client.search(index=index, body={"size": 0, "query": first, "aggs": aggs})
        buckets = answer["aggregations"]["files"]["buckets"]
        return {b["key"]: {"doc_ids": [None] * int(b["doc_count"])} for b in buckets}

    def _about(self, index: str, manifest: dict[str, Any], health: dict[str, Any]) -> dict[str, Any]:
        """What every reader may see of the live version, whatever their access."""
        analysis = AnalysisSettings.from_manifest(manifest.get("analysis"))
        return {
            "version": index,
            "segments": 0,
            "terms": {},
            "index_dir": self.urls,
            "updated": manifest.get("published"),
            "metadata": Declaration.from_manifest(manifest.get("metadata")).to_manifest(),
            "synonyms": describe(analysis.synonyms),
            "user_dicts": analysis.dictionary_names,
            "cluster": {"status": health["status"], "nodes": health["number_of_nodes"]},
        }


#: Files a restricted reader's documents by type and by folder are counted over (a terms
#: aggregation's buckets): past it, the largest files count and the rest are left out.
MAX_INVENTORY_FILES = 60_000  # under the cluster's search.max_buckets (65,535)


def access_clauses(access: Access | None) -> list[dict[str, Any]]:
    """A reader's access (``sakuin.search.access``) as ``filter`` clauses: none for no control
    or every section, a clause that matches nothing when nothing is permitted."""
    if access is None or access.allows_all:
        return []
    if access.node is None:
        return [MATCH_NOTHING]
    return [filter_clause(access.node)]


def _narrowed(body: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """``body``'s ``bool`` query with ``part``'s clauses added to its own."""
    query = {"bool": {**body["query"]["bool"]}}
    for clause, extra in part.items():
        query["bool"][clause] = [*body["query"]["bool"].get(clause, []), *extra]
    return query


def _tiers(typed: set[str] | None, title_only: set[str]) -> list[dict[str, Any]]:
    """The order of a keyword query's word matches as ``bool`` clauses over keys: those that
    write the respelled words as typed first, and in each, the sections that have the words in
    their own text before those that have them only in the title (as the embedded ranking)."""
    if not typed and not title_only:
        return []
    first: list[dict[str, Any]] = [{}]
    if typed:
        first = [{"filter": [{"terms": {"key": sorted(typed)}}]}, {"must_not": [{"terms": {"key": sorted(typed)}}]}]
    if not title_only:
        return first
    title = {"terms": {"key": sorted(title_only)}}
    out = []
    for tier in first:
        out.append({**tier, "must_not": [*tier.get("must_not", []), title]})
        out.append({**tier, "filter": [*tier.get("filter", []), title]})
    return out


__all__ = ["OpenSearchEngine"]
