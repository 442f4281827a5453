"""The seam between sakuin and where its sections live: two typed interfaces, two backends.

``SearchBackend`` is what the CLI and the web app search through; ``IndexBackend``
what ``sakuin index`` and ``sakuin optimize`` write through. The embedded Whoosh
index (``sakuin.search.embedded``) and an OpenSearch cluster
(``sakuin.search.opensearch``) each implement both (and a ``StatusStore`` for the
run history, ``open_status``), and neither imports the other's internals: what
they share (the query plan, highlighting, result objects, change detection) lives
outside both.

``--backend`` (or ``SAKUIN_BACKEND``) takes either kind of target: a path is the
embedded index, ``http(s)://`` URLs (comma-separated nodes) a cluster;
``--index-dir`` stays the embedded index's option. Every command builds its engine
or indexer through ``open_engine`` / ``open_indexer``, so the CLI, the API and the
pages never branch on the backend.

Access control (``sakuin.search.access``) crosses this seam as a typed argument: every
method that reads documents takes ``access``, the filter of what the reader may read
(None: everything), and the backend applies it before it ranks or counts anything, so
a denied document is never in a total, a facet, a suggestion or a page, and is the
same ``None`` as a missing one. It is never part of the query string.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from sakuin.search.access.model import Access
from sakuin.search.documents.metadata import Declaration, Kind
from sakuin.search.documents.model import Document
from sakuin.search.documents.originals import Original
from sakuin.search.indexing.history import StatusStore
from sakuin.search.indexing.report import IndexReport, Progress
from sakuin.search.results.examples import Examples
from sakuin.search.results.model import SearchResult, Suggestion

#: Per section ordinal, the query's match spans in its heading and body.
SectionSpans = dict[int, dict[str, list[tuple[int, int]]]]


@runtime_checkable
class SearchBackend(Protocol):
    """Search over the live version of an index; every answer of one call comes from one version."""

    @property
    def version(self) -> str | None:
        """The live version's name (None: no index yet)."""
        ...

    def ready(self) -> str:
        """The live version's name once it opens; raises IndexMissing (or what opening raised)."""
        ...

    def declaration(self) -> Declaration:
        """The live version's metadata declaration (which fields filter, facet and sort)."""
        ...

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
        """A page of ranked sections; raises QuerySyntaxError or IndexMissing. ``substrings``:
        also list the sections that have the words only inside longer words (after every
        word match), which are otherwise counted apart (``SearchResult.substring_total``);
        ``synonyms``: also search the synonyms of the words (``SearchResult.expansions``),
        ranked after the sections that have the words as typed; ``access``: only what it
        permits is matched, counted and suggested."""
        ...

    def suggest(self, text: str, limit: int = 8, *, access: Access | None = None) -> list[Suggestion]:
        """Completions of what is being typed: indexed words, then matching titles (of what ``access`` permits)."""
        ...

    def document(self, doc_id: str, *, access: Access | None = None) -> Document | None:
        """A whole document rebuilt from its stored sections, or None (missing or not permitted)."""
        ...

    def section_spans(
        self, doc_id: str, q: str, synonyms: bool = True, *, access: Access | None = None
    ) -> SectionSpans:
        """Per section of ``doc_id``, where ``q`` matched (for the document page); empty if not permitted."""
        ...

    def analyze(self, text: str) -> dict[str, Any]:
        """What the index's analysis makes of ``text``: its words (with the index's user
        dictionaries) and the synonyms of its words (``sakuin analyze``, ``/api/analyze``)."""
        ...

    def original(self, doc_id: str, *, access: Access | None = None) -> Original | None:
        """Where ``doc_id``'s original file is, if it may be served (``sakuin.search.documents.originals``)."""
        ...

    def stats(self, *, access: Access | None = None) -> dict[str, Any]:
        """Counts and sizes of the live version (``GET /api/stats``), counted over what ``access`` permits."""
        ...

    def examples(self, *, access: Access | None = None) -> Examples:
        """Queries taken from what is indexed (and permitted), for the pages to suggest."""
        ...

    def close(self) -> None:
        """Release what the engine holds open (files, connections)."""
        ...


@runtime_checkable
class IndexBackend(Protocol):
    """Builds and updates an index: the same report whatever the backend."""

    def build(
        self,
        paths: list[Path],
        *,
        rebuild: bool = False,
        procs: int | None = None,
        progress: Progress | None = None,
        wait: bool = True,
        declare: Iterable[tuple[str, Kind]] = (),
        trigger: str = "index",
        synonyms: Sequence[str] | None = None,
        user_dicts: Sequence[str] | None = None,
    ) -> IndexReport:
        """Bring the index in line with ``paths`` and publish it (``sakuin index``); the run history
        records the run as started by ``trigger`` (``index`` or ``watch``). ``synonyms`` and
        ``user_dicts`` (``sudachi``, files, ``none``) replace what the index remembers; None keeps
        it (``sakuin.search.indexing.analysis``)."""
        ...

    def optimize(self, *, procs: int | None = None, progress: Progress | None = None, wait: bool = True) -> IndexReport:
        """Rewrite the live version without its deleted sections (``sakuin optimize``)."""
        ...


def is_cluster(target: str | Path | None) -> bool:
    """Whether ``target`` names OpenSearch nodes (``http(s)://…``) rather than an index directory."""
    return bool(target) and str(target).startswith(("http://", "https://"))


def open_engine(target: str | Path, pool_size: int | None = None) -> SearchBackend:
    """The search backend of an index directory, or of comma-separated OpenSearch node URLs.

    ``pool_size``: idle searchers the embedded index keeps per version (a server's threads)."""
    if is_cluster(target):
        from sakuin.search.opensearch.engine import OpenSearchEngine

        return OpenSearchEngine(str(target))
    from sakuin.search.embedded.reading.engine import EmbeddedEngine

    return EmbeddedEngine(Path(target), pool_size=pool_size)


def open_indexer(target: str | Path, *, shards: int | None = None, replicas: int | None = None) -> IndexBackend:
    """The index backend of a directory or of node URLs; ``shards`` and ``replicas`` are a cluster's."""
    if is_cluster(target):
        from sakuin.search.opensearch.indexer import OpenSearchIndexer

        return OpenSearchIndexer(str(target), shards=shards, replicas=replicas)
    from sakuin.search.embedded.writing.indexer import EmbeddedIndexer

    return EmbeddedIndexer(Path(target))


def open_status(target: str | Path) -> StatusStore:
    """The run history, skipped files and watchers' states kept beside an index
    (``sakuin.search.indexing.history``): files in the index directory, or documents on the cluster."""
    if is_cluster(target):
        from sakuin.search.opensearch.status import ClusterStatusStore

        return ClusterStatusStore(str(target))
    from sakuin.search.embedded.status import FileStatusStore

    return FileStatusStore(Path(target))


def build(
    target: str | Path, paths: list[Path], *, shards: int | None = None, replicas: int | None = None, **options: Any
) -> IndexReport:
    """``open_indexer(target).build(paths, **options)``: one call for scripts and tests."""
    return open_indexer(target, shards=shards, replicas=replicas).build(paths, **options)


__all__ = [
    "Access",
    "IndexBackend",
    "Original",
    "SearchBackend",
    "SectionSpans",
    "StatusStore",
    "build",
    "is_cluster",
    "open_engine",
    "open_indexer",
    "open_status",
]
