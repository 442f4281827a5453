"""``sakuin serve``: the web app under gunicorn, one worker process per core.

Why gunicorn: Python runs on one core per process (the GIL), so using the
machine means processes; gunicorn is the well-kept pre-fork server for that
(a master that binds the socket once, restarts workers that die, and shuts down
gracefully on SIGTERM). Its ``gthread`` workers add threads, so slow requests
do not hold up fast ones. Unix only (gunicorn forks): Windows and macOS are out
of scope.

* Workers: ``--workers`` (default: one per core) × ``--threads`` (default 2).
  Requests are CPU-bound Python, so threads of one worker take turns on the GIL:
  two let a fast request pass a slow one; four cost a third of the throughput
  (``bench/load.py`` on livedoor, 2 cores: 2 × 4 threads 131 req/s, 2 × 2 185,
  2 × 1 181, 4 × 1 167).
  The app is created in the master before forking (``preload_app``) but opens
  nothing there (workers must not share open files and their offsets): each
  worker opens and warms the live version in gunicorn's ``post_fork`` hook,
  before it accepts a request, so the first query costs what any other does.
  Every request checks CURRENT, so all workers move to a new version on their
  next request without a restart (``search/embedded/reading/snapshot.py``: one snapshot per
  version per worker, a pool of ``--threads`` searchers, the old version closed
  when its last request ends). The index files are mmap'd and read in place
  (``search/embedded/reading/mapped.py``), shared through the page cache by every worker and
  thread; each worker loads its own Sudachi dictionary (also mmap'd).
* Requests are read whole before a thread sees them (``sakuin.web.readahead``):
  each worker's event loop reads the head and body of every request, within
  ``READ_SECONDS``, so slow clients (slowloris) hold sockets, never threads.
* Access log: one line per request on stdout, ``host [time] "request" status
  bytes ms``, the request line cut past ``ACCESS_LOG_CHARS`` (``sakuin.web.accesslog``);
  no other per-request logging.
* ``--auth FILE``: users, sign-in and what each may read (``sakuin.web.auth``,
  ``docs/access.md``). Without it every document is public: fine on 127.0.0.1 (the
  default), said loudly (``public_without_auth``) for any other address.
* One client (a user, else an address) may run at most ``CLIENT_CONCURRENCY``
  expensive requests at once per worker (``sakuin.web.limits``).
* SIGTERM stops gracefully: workers finish in-flight requests (up to
  ``GRACEFUL_SECONDS``) before exiting. Ctrl+C (SIGINT) and SIGQUIT stop at once.
* Limits: gunicorn's request-line limit (8 KB) would cut a 1,000-character
  Japanese query (9 KB percent-encoded) with its own error page, so it is off
  and the app's own limits answer (400 with a message, ``web/security.py``).

Expected failures (no index yet, port taken) print one line and exit 1, like
every other sakuin command.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import re
import socket
import sys
from pathlib import Path
from typing import Any

import click
import gunicorn.http.message
import gunicorn.http.parser
import gunicorn.http.wsgi
from gunicorn.app.base import BaseApplication

from sakuin.search.backend import open_engine
from sakuin.search.config import DEFAULT_THREADS, GRACEFUL_SECONDS, client_concurrency
from sakuin.search.errors import IndexMissing, SakuinError, message
from sakuin.web import create_app
from sakuin.web.accesslog import ACCESS_LOG_FORMAT, AccessLogger
from sakuin.web.common import ENGINE_KEY
from sakuin.web.readahead import ReadAheadWorker
from sakuin.web.watching import WatcherProcess


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"sakuin: {message}", err=True)
    sys.exit(code)


def is_loopback(host: str) -> bool:
    """Whether ``host`` (as ``--host`` takes it) is reachable from this machine only."""
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def _bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _check_port(host: str, port: int) -> int:
    """Fail in one line if the address cannot be bound (gunicorn would retry for seconds, then print a log).

    Returns the port (a free one for port 0, so that the printed URL is the one served).
    """
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    family, kind, proto, _, address = infos[0]  # the address gunicorn binds too
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        return int(probe.getsockname()[1])


class _Request(gunicorn.http.message.Request):  # type: ignore[misc]
    """A request whose target may hold raw UTF-8 (``curl 'http://host/api/search?q=京都'``, as
    many scripts send it): the bytes a browser would percent-encode are percent-encoded
    before gunicorn checks the line, so the request is answered as the encoded one is
    (and bytes that are not UTF-8 get the API's own ``invalid_encoding``), never with
    gunicorn's HTML "Invalid Request Line"."""

    def parse_request_line(self, line_bytes: bytes) -> Any:
        method, _, rest = line_bytes.partition(b" ")
        target, _, version = rest.rpartition(b" ")
        if target and max(target) >= 0x80:
            target = _RAW.sub(lambda m: b"%%%02X" % m.group()[0], target)
            line_bytes = b" ".join((method, target, version))
        return super().parse_request_line(line_bytes)


_RAW = re.compile(rb"[\x80-\xff]")


class _Server(BaseApplication):  # type: ignore[misc]
    """gunicorn driven from Python: our options, our app object, no config files or argv."""

    def __init__(self, app: Any, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def serve(
    index_dir: Path | str,
    host: str = "127.0.0.1",
    port: int = 5000,
    threads: int = DEFAULT_THREADS,
    workers: int | None = None,
    auth: Path | str | None = None,
    *,
    watch: list[Path] | None = None,
    poll: float | None = None,
) -> None:
    """Serve ``index_dir`` at http://host:port/ until stopped; exit 1 if there is no index, 2 if the
    access file (``auth``) cannot be used.

    ``watch``: folders a ``sakuin watch`` child keeps the index equal to (``sakuin.web.watching``);
    it starts first (building the index if there is none) and stops with the server."""
    watcher = WatcherProcess(watch, index_dir, poll) if watch else None
    if watcher is not None:
        watcher.start()
        try:
            watcher.wait_for_index()
        except SakuinError as exc:
            _fail(str(exc))
        except BaseException:
            watcher.stop()
            raise
    try:
        _serve(index_dir, host, port, threads, workers, auth)
    finally:
        if watcher is not None and os.getpid() == watcher.parent:
            watcher.stop()


def _serve(
    index_dir: Path | str, host: str, port: int, threads: int, workers: int | None, auth: Path | str | None
) -> None:
    try:
        # Open it now: a typo in --index-dir should fail here, not as a 503 in the browser.
        # Closed before the fork: workers must not share open files (and their offsets).
        probe = open_engine(index_dir)
        probe.ready()
        probe.close()
    except IndexMissing as exc:
        _fail(str(exc))
    except Exception as exc:  # a damaged index: say so in one line, not a traceback
        _fail(f"cannot open the index in {index_dir}: {exc}")
    port = _check_port(host, port)
    workers = workers or default_workers()
    config: dict[str, Any] = {
        "BACKEND": str(index_dir),
        "SEARCHERS": threads,
        "CLIENT_CONCURRENCY": client_concurrency(threads),
    }
    if auth is not None:
        config["AUTH_FILE"] = str(auth)
    try:
        app = create_app(config)
    except SakuinError as exc:  # the access file: one line, exit 2
        _fail(str(exc), exc.exit)
    if auth is None and not is_loopback(host):
        click.echo(f"sakuin: {message('public_without_auth').english({'host': host or '0.0.0.0'})}", err=True)
    gunicorn.http.wsgi.SERVER = "sakuin"  # the Server header (gunicorn has no setting for it)
    gunicorn.http.parser.RequestParser.mesg_class = _Request
    options = {
        "bind": [_bind_address(host, port)],
        "workers": workers,
        "threads": threads,
        "worker_class": ReadAheadWorker,
        "preload_app": True,
        "graceful_timeout": GRACEFUL_SECONDS,
        "timeout": 120,
        "keepalive": 5,
        "limit_request_line": 0,
        # With sendfile gunicorn logs 0 bytes for static files; they are small, so write them.
        "sendfile": False,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "logger_class": AccessLogger,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "sakuin",
        "forwarded_allow_ips": "",
        "post_fork": lambda server, worker: _warm_worker(app),
    }
    click.echo(
        f"sakuin: serving {index_dir} at {_url(host, port)} with {workers} worker"
        f"{'s' if workers != 1 else ''} × {threads} threads (Ctrl+C to stop)"
    )
    sys.stdout.flush()
    master = os.getpid()
    try:
        _Server(app, options).run()  # the master exits with SystemExit when it halts
    finally:
        if os.getpid() == master:  # workers leave through here too (gunicorn forks inside run)
            click.echo("sakuin: stopped")


def _warm_worker(app: Any) -> None:
    """In each new worker, before it serves: open and warm the live version."""
    # No index (yet) or unreadable: requests say so, as they would without warming.
    with contextlib.suppress(Exception):
        app.extensions[ENGINE_KEY].ready()


def main(argv: list[str] | None = None) -> None:
    """``python -m sakuin.web.server``: the same as ``sakuin serve``, for running from a checkout."""
    parser = argparse.ArgumentParser(prog="python -m sakuin.web.server", description=serve.__doc__)
    parser.add_argument("--index-dir", type=Path, default=Path("index"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--auth", type=Path, default=None)
    args = parser.parse_args(argv)
    serve(args.index_dir, args.host, args.port, args.threads, args.workers, args.auth)


if __name__ == "__main__":  # pragma: no cover
    main()
