"""Connecting to a cluster: several node URLs, retries on another node when one fails."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlparse

from sakuin.search.config import READ_RETRIES, RETRY_PAUSE, cluster_index
from sakuin.search.errors import BackendUnavailable, install_hint


def connect(urls: str) -> Any:
    """An ``OpenSearch`` client over every comma-separated node URL.

    A request that fails on one node (connection refused, timeout, 502/503/504)
    is retried on the others, up to three times, so a node going down costs a
    retry, not an error. A search (or count) that reached a live node but whose
    shards were asked of a node that has just gone (the coordinating node answers
    500 with ``node_not_connected_exception`` until it notices) is sent again,
    ``READ_RETRIES`` times, after a short pause: the cluster then asks a replica.
    Only reads are: a write sent twice is not the same as once. When no node answers, the request raises
    ``BackendUnavailable`` naming the URLs (one line in the CLI, a 503 from the
    server), not the client library's connection error.
    """
    try:
        from opensearchpy import OpenSearch, Transport
        from opensearchpy.exceptions import ConnectionError as NoConnection
        from opensearchpy.exceptions import TransportError
    except ImportError as exc:  # the extra is missing
        raise BackendUnavailable("backend_unavailable/extra", install=install_hint("opensearch")) from exc

    class _Transport(Transport):  # type: ignore[misc]
        def perform_request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            for attempt in range(READ_RETRIES + 1):
                try:
                    return super().perform_request(method, url, *args, **kwargs)
                except NoConnection as exc:  # every node and retry failed (timeouts included)
                    raise BackendUnavailable("backend_unavailable/down", urls=urls) from exc
                except TransportError as exc:
                    if attempt == READ_RETRIES or not _is_read(url) or not _node_gone(exc):
                        raise
                time.sleep(RETRY_PAUSE * (attempt + 1))
            raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    hosts = []
    for url in (u.strip() for u in urls.split(",") if u.strip()):
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise BackendUnavailable("backend_unavailable/url", url=url)
        hosts.append(
            {"host": parsed.hostname, "port": parsed.port or 9200, "scheme": parsed.scheme, "url_prefix": parsed.path}
        )
    return OpenSearch(
        hosts=hosts,
        timeout=30,
        max_retries=3,
        retry_on_timeout=True,
        retry_on_status=(502, 503, 504),
        http_compress=True,
        transport_class=_Transport,
    )


#: Error types of a shard request that went to a node no longer there.
_NODE_GONE = (
    "node_not_connected_exception",
    "node_disconnected_exception",
    "node_closed_exception",
    "connect_transport_exception",
)


def _is_read(url: str) -> bool:
    """Whether a request path is a search or a count (safe to send twice)."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] in ("_search", "_count", "_msearch")


def _node_gone(exc: Any) -> bool:
    """Whether a cluster error says a shard's node was gone (not a bad request or a real fault)."""
    return getattr(exc, "status_code", None) in (500, 503) and any(t in str(exc.info) for t in _NODE_GONE)


def index_name() -> str:
    """The alias sakuin uses on the cluster (``SAKUIN_CLUSTER_INDEX``, default ``sakuin``)."""
    return cluster_index()


__all__ = ["connect", "index_name"]
