"""Connecting to a cluster: several node URLs, retries on another node when one fails."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from sakuin.search.config import cluster_index
from sakuin.search.errors import BackendUnavailable, install_hint


def connect(urls: str) -> Any:
    """An ``OpenSearch`` client over every comma-separated node URL.

    A request that fails on one node (connection refused, timeout, 502/503/504)
    is retried on the others, up to three times, so a node going down costs a
    retry, not an error. When no node answers, the request raises
    ``BackendUnavailable`` naming the URLs (one line in the CLI, a 503 from the
    server), not the client library's connection error.
    """
    try:
        from opensearchpy import OpenSearch, Transport
        from opensearchpy.exceptions import ConnectionError as NoConnection
    except ImportError as exc:  # the extra is missing
        raise BackendUnavailable("backend_unavailable/extra", install=install_hint("opensearch")) from exc

    class _Transport(Transport):  # type: ignore[misc]
        def perform_request(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().perform_request(*args, **kwargs)
            except NoConnection as exc:  # every node and retry failed (timeouts included)
                raise BackendUnavailable("backend_unavailable/down", urls=urls) from exc

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


def index_name() -> str:
    """The alias sakuin uses on the cluster (``SAKUIN_CLUSTER_INDEX``, default ``sakuin``)."""
    return cluster_index()


__all__ = ["connect", "index_name"]
