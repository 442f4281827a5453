"""A gunicorn worker that reads each request whole in its event loop before a thread sees it.

gunicorn's ``gthread`` worker hands a connection to a thread as soon as its first
bytes arrive, and the thread then reads the rest of the request with blocking
calls: a client that sends its headers a byte at a time (slowloris) holds a thread
for as long as it likes, and a dozen such clients stopped ``sakuin serve`` (2
workers × 2 threads) answering anyone. ``ReadAheadWorker`` keeps gunicorn's
process model, threads and keep-alive handling, and changes one step: every
request, on a new, a kept-alive or a pipelining connection, is read by the worker's
main thread, with non-blocking ``recv`` calls driven by its selector, into a
buffer, until the head (request line and headers) and the whole body
(``Content-Length`` or chunked) are there. Only then does the connection go to
the thread pool, with the bytes already in the parser's buffer: a thread never
waits for a client. This is what waitress's channels do, inside gunicorn.

Bounds, each answered from the loop with the error table's message and the
connection closed:

* ``READ_SECONDS`` (``SAKUIN_READ_TIMEOUT``) for the head, and again for the
  body: 408 ``request_timeout``;
* ``MAX_HEAD_BYTES`` for the head: 431 ``header_too_large``;
* a body over ``MAX_CONTENT_LENGTH`` is refused from its ``Content-Length`` (or as
  its chunks add up) before it is read: 413 ``payload_too_large``.

A client that sends ``Expect: 100-continue`` gets its ``100 Continue`` from the loop
(and the header is taken out of what the app sees, so it is not sent twice). A slow
reader of a response still holds its thread while the response is written, as in
any threaded server; responses are small (a page of hits) and the kernel's send
buffer takes them whole. TLS is left to gunicorn's own path (sakuin serves plain
HTTP behind a proxy that terminates TLS).
"""

from __future__ import annotations

import contextlib
import errno
import json
import re
import selectors
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

from sakuin.search.config import MAX_CONTENT_LENGTH, MAX_HEAD_BYTES, read_seconds
from sakuin.search.errors import message

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*([0-9]+)[ \t]*(?=\r\n)", re.I)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:[^\r\n]*chunked", re.I)
_EXPECT = re.compile(rb"\r\nexpect:[ \t]*100-continue[ \t]*(?=\r\n)", re.I)
#: Bytes read per ``recv``.
RECV_BYTES = 65536


@dataclass
class _Reading:
    """A request being read: its bytes so far and when the client's time is up."""

    deadline: float
    buffer: bytearray = field(default_factory=bytearray)
    head_end: int = -1  # offset just past the head's blank line, once it has come


def request_end(buffer: bytes | bytearray, head_end: int, body_limit: int) -> int | None:
    """Where the first request in ``buffer`` ends (None: not all there yet), given where its head
    ends; raises ``_TooLarge`` for a body over ``body_limit`` and ``ValueError`` for a chunked body
    gunicorn's parser will refuse (it is then handed over as it is, to be answered 400)."""
    head = bytes(buffer[: head_end - 2])
    if _CHUNKED.search(head):
        return _chunked_end(buffer, head_end, body_limit)
    found = _CONTENT_LENGTH.search(head)
    length = int(found.group(1)) if found else 0
    if length > body_limit:
        raise _TooLarge
    end = head_end + length
    return end if len(buffer) >= end else None


def _chunked_end(buffer: bytes | bytearray, pos: int, body_limit: int) -> int | None:
    total = 0
    while True:
        line_end = buffer.find(b"\r\n", pos)
        if line_end < 0:
            if len(buffer) - pos > 1024:
                raise ValueError("chunk size line too long")
            return None
        size = int(bytes(buffer[pos:line_end]).split(b";", 1)[0].strip() or b"x", 16)
        total += size
        if total > body_limit:
            raise _TooLarge
        if size == 0:  # the last chunk, then trailers up to a blank line
            if buffer[line_end + 2 : line_end + 4] == b"\r\n":
                return line_end + 4
            end = buffer.find(b"\r\n\r\n", line_end + 2)
            return end + 4 if end >= 0 else None
        pos = line_end + 2 + size + 2
        if len(buffer) < pos:
            return None


class _TooLarge(Exception):
    pass


def _response(status: int, key: str, reason: str) -> bytes:
    """A complete error response in the API's shape, from the error table (``key``)."""
    row = message(key)
    body = json.dumps({"error": {"code": row.code, "message": row.english({})}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\nServer: sakuin\r\n\r\n"
    )
    return head.encode("ascii") + body


_TIMEOUT = _response(408, "request_timeout", "Request Timeout")
_HEAD_TOO_LARGE = _response(431, "header_too_large", "Request Header Fields Too Large")
_BODY_TOO_LARGE = _response(413, "payload_too_large", "Payload Too Large")


class ReadAheadWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's threaded worker, with requests read whole by the event loop (see the module)."""

    def init_process(self) -> None:
        self.read_seconds = read_seconds()
        self.reading: dict[Any, _Reading] = {}
        super().init_process()

    # -- every way to the thread pool passes here (main thread) -----------------------

    def enqueue_req(self, conn: Any) -> None:
        if self.cfg.is_ssl or conn.is_http2:
            super().enqueue_req(conn)
            return
        state = _Reading(time.monotonic() + self.read_seconds)
        if conn.parser is not None:  # a pipelined request the parser already read part of
            state.buffer += conn.parser.unreader.take_buffered()
        conn.sock.setblocking(False)
        self.reading[conn] = state
        if not self._advance(conn, state):
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn: Any, _sock: Any) -> None:
        state = self.reading.get(conn)
        if state is None:
            return
        try:
            data = conn.sock.recv(RECV_BYTES)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._drop(conn)
            return
        state.buffer += data
        self._advance(conn, state)

    def _advance(self, conn: Any, state: _Reading) -> bool:
        """Hand the connection on if its request is all there; True when it left the loop."""
        buffer = state.buffer
        if state.head_end < 0:
            found = buffer.find(b"\r\n\r\n")
            if found < 0:
                if len(buffer) > MAX_HEAD_BYTES:
                    self._answer(conn, _HEAD_TOO_LARGE)
                    return True
                return False
            if found + 4 > MAX_HEAD_BYTES:
                self._answer(conn, _HEAD_TOO_LARGE)
                return True
            state.head_end = found + 4
            state.deadline = time.monotonic() + self.read_seconds  # the body's own time
        try:
            end = request_end(buffer, state.head_end, MAX_CONTENT_LENGTH)
        except _TooLarge:
            self._answer(conn, _BODY_TOO_LARGE)
            return True
        except ValueError:
            end = len(buffer)  # malformed: gunicorn's parser answers it
        if end is None:
            self._continue(conn, state)
            return False
        self._hand_over(conn, state)
        return True

    def _continue(self, conn: Any, state: _Reading) -> None:
        """Tell a client waiting for ``100 Continue`` to send its body (once), and drop the
        header so that gunicorn does not send it again."""
        head = bytes(state.buffer[: state.head_end])
        found = _EXPECT.search(head)
        if found is None:
            return
        del state.buffer[found.start() : found.end()]
        state.head_end -= found.end() - found.start()
        with contextlib.suppress(OSError):
            conn.sock.send(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _hand_over(self, conn: Any, state: _Reading) -> None:
        self._forget(conn)
        conn.sakuin_request = bytes(state.buffer)
        super().enqueue_req(conn)

    def _forget(self, conn: Any) -> None:
        self.reading.pop(conn, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)

    def _drop(self, conn: Any) -> None:
        self._forget(conn)
        self.nr_conns -= 1
        conn.close()

    def _answer(self, conn: Any, response: bytes) -> None:
        """Send a short error response (it fits the socket's buffer) and close."""
        try:
            conn.sock.send(response)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EPIPE, errno.ECONNRESET):
                self.log.debug("error response not sent: %s", exc)
        self._drop(conn)

    def murder_pending(self) -> None:
        """gunicorn's sweep, and the requests whose client ran out of time (each loop turn)."""
        super().murder_pending()
        now = time.monotonic()
        stopping = not self.alive  # a stopping worker does not wait for requests not yet begun
        for conn, state in [(c, s) for c, s in self.reading.items() if s.deadline <= now or stopping]:
            if stopping and state.buffer and state.deadline > now:
                continue  # begun: it may still arrive within its time, and be answered
            if state.buffer:
                self._answer(conn, _TIMEOUT)
            else:
                self._drop(conn)

    # -- in a thread: the request is all in the buffer ----------------------------------

    def handle(self, conn: Any) -> Any:
        request = getattr(conn, "sakuin_request", None)
        if request is not None:
            conn.sakuin_request = None
            conn.data_ready = True
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(request)
        return super().handle(conn)


__all__ = ["RECV_BYTES", "ReadAheadWorker", "request_end"]
