"""Which backend a command talks to: a path is the embedded Whoosh index, a URL a cluster.

``--backend`` (or ``SAKUIN_BACKEND``) takes either; ``--index-dir`` stays the
embedded index's option. Every command builds its engine or index through these
two functions, so the CLI, the API and the pages never branch on the backend.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sakuin.search.opensearch.client import is_cluster


def open_engine(target: str | Path, pool_size: int | None = None) -> Any:
    """``Engine`` over an index directory, or ``ClusterEngine`` over comma-separated node URLs."""
    if is_cluster(str(target)):
        from sakuin.search.opensearch.engine import ClusterEngine

        return ClusterEngine(str(target))
    from sakuin.search.embedded.reading.engine import Engine
    from sakuin.search.embedded.reading.snapshot import DEFAULT_POOL

    return Engine(Path(target), pool_size=pool_size or DEFAULT_POOL)


def build(target: str | Path, paths: list[Path], **options: Any) -> Any:
    """``sakuin index`` into either backend; returns the ``IndexReport``."""
    if is_cluster(str(target)):
        from sakuin.search.opensearch.indexer import build_cluster_index

        options.pop("progress", None)
        return build_cluster_index(paths, str(target), **options)
    from sakuin.search.embedded.writing.indexer import build_index

    options.pop("shards", None)
    options.pop("replicas", None)
    return build_index(paths, Path(target), **options)


__all__ = ["build", "is_cluster", "open_engine"]
