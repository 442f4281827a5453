"""A per-client limit on concurrent expensive requests, so one client cannot take every thread.

A worker of ``sakuin serve`` has a few threads (``--threads``, 2); a client that
keeps that many searches running in every worker would stop everyone else. Each
process counts the expensive requests (``EXPENSIVE``: searches, suggestions, the
document pages) each client has running, and answers one more at once with 429
``too_many_requests`` and ``Retry-After: 1``, before any work is done. A client is
the signed-in user (``sakuin.web.auth``) or, without one, the address the request
came from. ``sakuin serve`` sets the limit to one less than its threads
(``CLIENT_CONCURRENCY``), so each worker always keeps a thread for other clients.

Design decisions: the count is per process (no shared memory to leak when a worker
is killed mid-request; with N workers a client may have N× the limit running, on
different workers, while none of them is full). Originals and thumbnails are not
counted: a document page asks for several thumbnails at once, and both are bounded
(a file read, one cached page render).
"""

from __future__ import annotations

import threading
from collections import Counter

from flask import Flask, Response, current_app, g, request

from sakuin.search.errors import SakuinError
from sakuin.web.auth.guard import current_principal
from sakuin.web.errors import error_response

#: The endpoints a client may run only ``CLIENT_CONCURRENCY`` of at once.
EXPENSIVE = frozenset(
    {"api.search", "api.search_post", "api.suggest", "api.document", "pages.search", "pages.document"}
)
LIMIT_KEY = "sakuin.limits"


class TooMany(SakuinError):
    """A client over its limit of concurrent expensive requests (``too_many_requests``)."""


class ClientLimit:
    """Expensive requests running per client in this process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._running: Counter[str] = Counter()
        self._lock = threading.Lock()

    def enter(self, client: str) -> bool:
        with self._lock:
            if self._running[client] >= self.limit:
                return False
            self._running[client] += 1
            return True

    def leave(self, client: str) -> None:
        with self._lock:
            self._running[client] -= 1
            if self._running[client] <= 0:
                del self._running[client]

    def running(self, client: str) -> int:
        with self._lock:
            return self._running[client]


def init_app(app: Flask, limit: int) -> None:
    """Count expensive requests per client, at most ``limit`` at once (installed after authentication)."""
    app.extensions[LIMIT_KEY] = ClientLimit(limit)
    app.before_request(_enter)
    app.teardown_request(_leave)
    app.register_error_handler(TooMany, _too_many)


def client_of() -> str:
    """Who a request counts against: its signed-in user, else its address."""
    principal = current_principal()
    return f"user:{principal.name}" if principal is not None else f"addr:{request.remote_addr or '-'}"


def _enter() -> None:
    if request.endpoint not in EXPENSIVE:
        return
    limits: ClientLimit = current_app.extensions[LIMIT_KEY]
    client = client_of()
    if not limits.enter(client):
        raise TooMany("too_many_requests", limit=limits.limit)
    g.sakuin_client = client


def _leave(_exc: BaseException | None) -> None:
    client = g.pop("sakuin_client", None)
    if client is not None:
        current_app.extensions[LIMIT_KEY].leave(client)


def _too_many(exc: TooMany) -> Response:
    return error_response(429, exc.row.key, exc.params, headers={"Retry-After": "1"})


__all__ = ["EXPENSIVE", "ClientLimit", "TooMany", "client_of", "init_app"]
