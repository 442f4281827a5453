"""Running queries: query → ranked sections → hits with snippets.

``EmbeddedEngine`` (a ``SearchBackend``) only orchestrates: the
live index version is pinned for the whole request (``sakuin.search.embedded.reading.snapshot``: one
snapshot per version, a pool of searchers, closed when the version is retired),
the query is compiled against that snapshot's statistics, ranked
(``sakuin.search.embedded.reading.ranking``), and the page's hits get their highlight spans
(``sakuin.search.highlight.spans``) and snippets. Because a request reads one snapshot from
start to end, its total, its hits and its statistics all belong to one version,
even while ``sakuin index`` publishes a new one. Everything a request analyses (the
query, the snippets' cuts) is read with that version's user dictionaries, and the
query is widened with its synonyms (``Snapshot.synonyms``, files followed as they change).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from sakuin.search.access.model import Access
from sakuin.search.analysis.settings import describe
from sakuin.search.analysis.sudachi import user_dictionaries
from sakuin.search.analysis.thesaurus import NO_SYNONYMS, explain
from sakuin.search.config import DEFAULT_POOL
from sakuin.search.documents.metadata import Declaration
from sakuin.search.documents.model import Document
from sakuin.search.documents.originals import Original, Originals
from sakuin.search.embedded.reading.caches import ByteLRU
from sakuin.search.embedded.reading.emit import compile_query
from sakuin.search.embedded.reading.examples import example_queries
from sakuin.search.embedded.reading.highlight import spans_from_postings
from sakuin.search.embedded.reading.permitted import distinct, frequency, permitted, readable, values
from sakuin.search.embedded.reading.ranking import rank
from sakuin.search.embedded.reading.snapshot import LiveIndex, Pinned
from sakuin.search.embedded.reading.suggest import complete, corrections
from sakuin.search.embedded.store import IndexStore
from sakuin.search.highlight.spans import match_spans
from sakuin.search.indexing.inventory import inventory
from sakuin.search.query.request import Request, sort_name
from sakuin.search.results.examples import Examples
from sakuin.search.results.facets import selected_values
from sakuin.search.results.hits import document_from, expansions, hit_from, notices
from sakuin.search.results.model import FacetValue, SearchResult, Suggestion
from sakuin.search.results.suggestions import did_you_mean

#: Readers' example queries kept per version (one per distinct set of rules).
EXAMPLES_KEPT = 64


class EmbeddedEngine:
    """Search over the live version of one index directory."""

    def __init__(self, index_dir: Path | str, pool_size: int | None = None) -> None:
        self.store = IndexStore(index_dir)
        self.live = LiveIndex(self.store, pool_size or DEFAULT_POOL)

    def pin(self) -> Any:
        """Context manager: the live snapshot and a searcher of it (raises IndexMissing)."""
        return self.live.pin()

    @contextmanager
    def _pinned(self) -> Iterator[Pinned]:
        """``pin``, with the version's user dictionaries analysing everything inside."""
        with self.live.pin() as pinned, user_dictionaries(pinned.snapshot.dictionaries):
            yield pinned

    @property
    def version(self) -> str | None:
        return self.store.current_name()

    def declaration(self) -> Declaration:
        """The live version's metadata declaration (which fields filter, facet and sort)."""
        with self.live.pin() as pinned:
            return pinned.snapshot.declaration

    def ready(self) -> str:
        """The live version's name, once it opens (raises IndexMissing, or whatever opening raised)."""
        with self.live.pin() as pinned:
            return pinned.snapshot.name

    def close(self) -> None:
        self.live.close()

    # -- search ---------------------------------------------------------------------

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
        """Ranked sections for ``q``; raises QuerySyntaxError or IndexMissing.

        ``snippets=False`` skips only the snippet step (evaluation runs need the
        ranking, not the passages); ``literal=True`` reads ``q`` as plain text
        with no query operators. ``sort``: ``relevance`` (default) or a date or
        number field, ``-field`` for descending; ``facets``: keyword fields (and
        ``path``) to count values of; ``collapse``: fold sections with the same
        text into one hit; ``filters``: ``field:value`` filters ANDed with ``q``
        (``sakuin.search.query.request.with_filters``; ``q`` may then be empty);
        ``substrings``: also list the substring matches (``SearchBackend.search``);
        ``synonyms``: widen the query with the index's synonyms; ``access``: what the reader
        may read (``sakuin.search.embedded.reading.permitted``).
        Everything else is the path users get.
        """
        started = time.perf_counter()
        with self._pinned() as pinned:
            request = Request.of(
                pinned.snapshot.declaration, q, page, per_page, literal, sort, facets, collapse, filters, substrings
            )
            result = self._search(pinned, request, snippets, synonyms, permitted(pinned, access))
            result.query = q
            result.filters = [f.strip() for f in filters if f.strip()]
        result.took_ms = (time.perf_counter() - started) * 1000
        return result

    def _search(
        self, pinned: Pinned, request: Request, snippets: bool, synonyms: bool, allowed: np.ndarray | None
    ) -> SearchResult:
        searcher = pinned.searcher
        declaration = pinned.snapshot.declaration
        q, page, per_page = request.text, request.page, request.per_page
        compiled = compile_query(
            q,
            searcher.doc_frequency,
            searcher.doc_count(),
            literal=request.literal,
            metadata=declaration,
            thesaurus=pinned.snapshot.synonyms.thesaurus() if synonyms else NO_SYNONYMS,
        )
        limit = page * per_page
        ranked = rank(
            pinned,
            compiled,
            limit,
            sort=request.sort,
            facets=request.facets,
            collapse=request.collapse,
            substrings=request.substrings,
            permitted=allowed,
        )
        result = SearchResult(query=q, total=ranked.total, took_ms=0.0, page=page, per_page=per_page)
        result.sections = ranked.sections
        result.substring_total = ranked.substring_total
        result.substrings = request.substrings
        result.sort = sort_name(request.sort)
        result.synonyms = synonyms
        result.expansions = expansions(compiled.plan)
        selected = selected_values(compiled.filter)
        result.facets = {
            name: [FacetValue(v, n, v in selected.get(name, ())) for v, n in values]
            for name, values in ranked.facets.items()
        }
        df = frequency(pinned, allowed)
        result.did_you_mean = did_you_mean(compiled.plan, result.total, df, corrections(pinned, df))
        result.notices.extend(notices(compiled.plan, result))
        top = ranked.top[(page - 1) * per_page : limit]
        stored = {docnum: pinned.snapshot.stored_fields(searcher, docnum) for docnum, _, _ in top}
        substring = {docnum for docnum, _, match in top if match == "substring"}
        snapshot = pinned.snapshot
        spans = (
            match_spans(
                compiled.targets,
                stored,
                spans_from_postings(searcher, snapshot.scores, snapshot.occurrences),
                substring,
            )
            if snippets
            else {}
        )
        for docnum, score, match in top:
            result.hits.append(
                hit_from(stored[docnum], score, spans.get(docnum, {}), match, ranked.duplicates.get(docnum, 0))
            )
        return result

    def suggest(self, text: str, limit: int = 8, *, access: Access | None = None) -> list[Suggestion]:
        """Completions of what is being typed: indexed words, then matching titles."""
        with self._pinned() as pinned:
            return complete(pinned, text, limit, permitted(pinned, access))

    def analyze(self, text: str) -> dict[str, Any]:
        """What the live version's analysis makes of ``text``: its words (with the user
        dictionaries) and the synonyms of its words (``sakuin analyze``, ``/api/analyze``)."""
        with self._pinned() as pinned:
            return explain(text, pinned.snapshot.synonyms.thesaurus())

    # -- documents and stats ----------------------------------------------------------

    def document(self, doc_id: str, *, access: Access | None = None) -> Document | None:
        """A whole document rebuilt from its stored sections, or None (also when not permitted)."""
        with self.live.pin() as pinned:
            if access is not None and not readable(pinned, doc_id, permitted(pinned, access)):
                return None
            rows = sorted(pinned.searcher.documents(doc_id=doc_id), key=lambda r: r["ordinal"])
        return document_from(doc_id, rows)

    def section_spans(
        self, doc_id: str, q: str, synonyms: bool = True, *, access: Access | None = None
    ) -> dict[int, dict[str, list[tuple[int, int]]]]:
        """Per section ordinal, the query's matches in heading and body (for the doc page)."""
        with self._pinned() as pinned:
            if access is not None and not readable(pinned, doc_id, permitted(pinned, access)):
                return {}
            searcher = pinned.searcher
            compiled = compile_query(
                q,
                searcher.doc_frequency,
                searcher.doc_count(),
                metadata=pinned.snapshot.declaration,
                thesaurus=pinned.snapshot.synonyms.thesaurus() if synonyms else NO_SYNONYMS,
            )
            stored = {n: searcher.stored_fields(n) for n in searcher.document_numbers(doc_id=doc_id)}
            spans = match_spans(
                compiled.targets, stored, spans_from_postings(searcher, None, pinned.snapshot.occurrences)
            )
        return {stored[n]["ordinal"]: found for n, found in spans.items()}

    def original(self, doc_id: str, *, access: Access | None = None) -> Original | None:
        """Where ``doc_id``'s original file is, from the live version's manifest (served read-only)."""
        with self.live.pin() as pinned:
            if access is not None and not readable(pinned, doc_id, permitted(pinned, access)):
                return None
            snapshot = pinned.snapshot
            originals = snapshot.meta.get("originals", lambda: Originals(snapshot.manifest.get("files", {})))
        return originals.find(doc_id)

    def examples(self, *, access: Access | None = None) -> Examples:
        """Example queries from the live version (worked out once per version and reader's rules)."""
        with self._pinned() as pinned:
            allowed = permitted(pinned, access)
            if allowed is None:
                return pinned.snapshot.meta.get("examples", lambda: example_queries(pinned))
            assert access is not None
            cache = pinned.snapshot.meta.get("examples:access", lambda: ByteLRU(EXAMPLES_KEPT, lambda _: 1))
            return cache.get_or_make(access.key, lambda: example_queries(pinned, allowed))

    def stats(self, *, access: Access | None = None) -> dict[str, Any]:
        """Figures of the live version, every one read from the same snapshot.

        Worked out once per version (counting the terms reads every term of three
        fields: over half a second on livedoor), then served from the snapshot. For a
        reader with an access filter, the counts (and the documents by type and by
        folder) are of what they may read, and the figures of the whole index that no
        document has (its terms, its size) are left out."""
        with self.live.pin() as pinned:
            allowed = permitted(pinned, access)
            if allowed is not None:
                return self._restricted_stats(pinned, allowed)
            return dict(pinned.snapshot.meta.get("stats", lambda: self._stats(pinned)))

    def _stats(self, pinned: Pinned) -> dict[str, Any]:
        files = pinned.snapshot.manifest.get("files", {})
        reader = pinned.searcher.reader()
        return self._figures(
            pinned,
            files,
            documents=sum(len(f["doc_ids"]) for f in files.values()),
            sections=pinned.searcher.doc_count(),
            file_count=len(files),
            terms={f: sum(1 for _ in reader.lexicon(f)) for f in ("content", "grams", "reading")},
            size_bytes=self.store.size_bytes(pinned.snapshot.folder),
        )

    def _restricted_stats(self, pinned: Pinned, allowed: np.ndarray) -> dict[str, Any]:
        permitted_docs = values(pinned, "doc_id", allowed)
        files = {
            key: {**entry, "doc_ids": [d for d in entry.get("doc_ids", ()) if d in permitted_docs]}
            for key, entry in pinned.snapshot.manifest.get("files", {}).items()
        }
        return self._figures(
            pinned,
            files,
            documents=len(permitted_docs),
            sections=int(np.count_nonzero(allowed)),
            file_count=distinct(pinned, "source", allowed),
            terms={},
            size_bytes=None,
        )

    def _figures(
        self,
        pinned: Pinned,
        files: dict[str, Any],
        *,
        documents: int,
        sections: int,
        file_count: int,
        terms: dict[str, int],
        size_bytes: int | None,
    ) -> dict[str, Any]:
        """``stats()``'s dictionary: the counts given, and what every reader may see of the version."""
        snapshot = pinned.snapshot
        held = inventory(files)
        return {
            "version": snapshot.name,
            "documents": documents,
            "sections": sections,
            "files": file_count,
            "segments": len(pinned.searcher.reader().leaf_readers()),
            "terms": terms,
            "size_bytes": size_bytes,
            "updated": snapshot.manifest.get("published"),
            "metadata": snapshot.declaration.to_manifest(),
            "index_dir": str(self.store.root),
            "types": held["types"],
            "folders": held["folders"],
            "root": held["root"],
            "synonyms": describe(snapshot.analysis.synonyms),
            "user_dicts": snapshot.analysis.dictionary_names,
        }
