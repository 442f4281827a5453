"""A search that meets a node gone mid-request is sent again; a write never is."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

opensearchpy = pytest.importorskip("opensearchpy")

from opensearchpy.exceptions import TransportError  # noqa: E402

from sakuin.search.opensearch import client as client_module  # noqa: E402

_GONE = {
    "error": {
        "type": "search_phase_execution_exception",
        "failed_shards": [
            {"reason": {"type": "node_not_connected_exception", "reason": "[node-2] Node not connected"}}
        ],
    },
    "status": 500,
}


def _client_answering(*outcomes: Any) -> tuple[Any, list[tuple[str, str]]]:
    """A client whose library transport gives ``outcomes`` in turn (an exception is raised)."""
    calls: list[tuple[str, str]] = []
    queue = list(outcomes)

    def perform(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        calls.append((method, url))
        outcome = queue.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    patcher = mock.patch.object(opensearchpy.Transport, "perform_request", perform)
    patcher.start()
    return client_module.connect("http://127.0.0.1:1"), calls


@pytest.fixture(autouse=True)
def _no_pause() -> Any:
    with mock.patch.object(client_module, "RETRY_PAUSE", 0.0):
        yield
    mock.patch.stopall()


@pytest.mark.parametrize("path", ["/sakuin/_search", "/sakuin/_count?q=x", "/_msearch"])
def test_a_read_that_met_a_gone_node_is_sent_again(path: str) -> None:
    gone = TransportError(500, "search_phase_execution_exception", _GONE)
    client, calls = _client_answering(gone, gone, {"hits": "ok"})
    assert client.transport.perform_request("POST", path) == {"hits": "ok"}
    assert len(calls) == 3


def test_a_read_gives_up_after_the_retries() -> None:
    gone = TransportError(500, "search_phase_execution_exception", _GONE)
    client, calls = _client_answering(*[gone] * (client_module.READ_RETRIES + 1))
    with pytest.raises(TransportError):
        client.transport.perform_request("POST", "/sakuin/_search")
    assert len(calls) == client_module.READ_RETRIES + 1


def test_a_write_or_another_error_is_not_sent_again() -> None:
    gone = TransportError(500, "search_phase_execution_exception", _GONE)
    bad = TransportError(400, "parsing_exception", {"error": {"type": "parsing_exception"}})
    client, calls = _client_answering(gone, bad)
    with pytest.raises(TransportError):
        client.transport.perform_request("PUT", "/sakuin/_doc/1")
    with pytest.raises(TransportError):
        client.transport.perform_request("POST", "/sakuin/_search")
    assert calls == [("PUT", "/sakuin/_doc/1"), ("POST", "/sakuin/_search")]
