"""The cluster's ``StatusStore``: documents of the ``<name>-state`` index.

The state index already holds the manifest and the writer lock
(``sakuin.search.opensearch.indexer``); the run history, the skipped files and
each watcher's state are documents beside them (``status-runs``,
``status-skipped``, ``status-watcher-HOST-PID``), each one replaced whole by one
``index`` request, so a reader sees the old or the new one. The state index maps
nothing (``dynamic: false``): a document's value is kept in its source as it is
and never indexed.
"""

from __future__ import annotations

from typing import Any

from sakuin.search.opensearch.client import connect, index_name

#: Prefix of the status documents' ids in the state index.
PREFIX = "status-"


class ClusterStatusStore:
    """Named JSON documents in the state index of the cluster's sakuin index (a ``StatusStore``)."""

    def __init__(self, urls: str, client: Any = None) -> None:
        self.client = client if client is not None else connect(urls)
        self.state = f"{index_name()}-state"

    def _ensure(self) -> None:
        if not self.client.indices.exists(index=self.state):
            self.client.indices.create(
                index=self.state,
                body={"settings": {"number_of_shards": 1}, "mappings": {"dynamic": False, "properties": {}}},
                ignore=[400],  # created by a concurrent writer
            )

    def read(self, name: str) -> Any:
        found = self.client.get(index=self.state, id=PREFIX + name, ignore=[404])
        return found.get("_source", {}).get("value") if found.get("found") else None

    def write(self, name: str, value: Any) -> None:
        self._ensure()
        self.client.index(index=self.state, id=PREFIX + name, body={"value": value}, refresh=True)

    def remove(self, name: str) -> None:
        self.client.delete(index=self.state, id=PREFIX + name, ignore=[404], refresh=True)

    def names(self, prefix: str = "") -> list[str]:
        if not self.client.indices.exists(index=self.state):
            return []
        found = self.client.search(index=self.state, body={"query": {"match_all": {}}, "_source": False, "size": 1000})
        ids = [hit["_id"] for hit in found["hits"]["hits"]]
        return sorted(i[len(PREFIX) :] for i in ids if i.startswith(PREFIX + prefix))


__all__ = ["ClusterStatusStore"]
