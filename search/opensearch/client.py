"""Connecting to a cluster: several node URLs, retries on another node when one fails."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlparse


class ClusterUnavailable(Exception):
    """No node of the cluster answers; the message names the URLs tried."""


def is_cluster(target: str | None) -> bool:
    return bool(target) and str(target).startswith(("http://", "https://"))


def connect(urls: str) -> Any:
    """An ``OpenSearch`` client over every comma-separated node URL.

    A request that fails on one node (connection refused, timeout, 502/503/504)
    is retried on the others, up to three times, so a node going down costs a
    retry, not an error.
    """
    try:
        from opensearchpy import OpenSearch
    except ImportError as exc:  # pragma: no cover - the extra is missing
        raise ClusterUnavailable(
            "the OpenSearch backend needs the opensearch extra: pip install -e '.[opensearch]'"
        ) from exc
    hosts = []
    for url in (u.strip() for u in urls.split(",") if u.strip()):
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ClusterUnavailable(f"not a node URL: {url!r} (e.g. http://127.0.0.1:9200)")
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
    )


def index_name() -> str:
    """The alias sakuin uses on the cluster (``SAKUIN_CLUSTER_INDEX``, default ``sakuin``)."""
    return os.environ.get("SAKUIN_CLUSTER_INDEX", "sakuin")


__all__ = ["ClusterUnavailable", "connect", "index_name", "is_cluster"]
