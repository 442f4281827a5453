"""The access log: one line per request on stdout, with the request line cut to a bounded length.

gunicorn writes the request line as the client sent it; a client that sends a
180 KB query string would get a 180 KB log line, and every such request would cost
the log's reader (and disk) that much. ``AccessLogger`` cuts the line past
``ACCESS_LOG_CHARS`` and says how many characters it left out, so a line stays
readable and bounded whatever a client sends. Nothing else a client chooses (its
headers, its user agent) is in the format.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from sakuin.search.config import ACCESS_LOG_CHARS

#: ``host [time] "request" status bytes ms``
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(r)s" %(s)s %(B)s %(M)sms'


def shorten(line: str, limit: int = ACCESS_LOG_CHARS) -> str:
    """``line`` itself, or its first ``limit`` characters and how many more there were."""
    if len(line) <= limit:
        return line
    return f"{line[:limit]}…(+{len(line) - limit} chars)"


class AccessLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger with the request line (and its parts) bounded."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for name in ("r", "U", "q"):
            if isinstance(atoms.get(name), str):
                atoms[name] = shorten(atoms[name])
        return atoms


__all__ = ["ACCESS_LOG_FORMAT", "AccessLogger", "shorten"]
