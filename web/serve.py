"""``sakuin serve``: the web app under waitress, a production WSGI server.

Flask's development server is single-user and says so; waitress is pure Python, so
it needs nothing beyond pip. Expected failures (no index yet, port taken) print one
line and exit 1, like every other sakuin command.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import click
from waitress.server import create_server

from search.searcher import Engine
from search.store import IndexMissing
from web import create_app

DEFAULT_THREADS = 8
WAITRESS_MAX_BODY = 1024 * 1024


def _fail(message: str) -> None:
    click.echo(f"sakuin: {message}", err=True)
    sys.exit(1)


def _url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def serve(index_dir: Path, host: str = "127.0.0.1", port: int = 5000, threads: int = DEFAULT_THREADS) -> None:
    """Serve ``index_dir`` at http://host:port/ until interrupted; exit 1 if there is no index."""
    try:
        # Open it now: a typo in --index-dir should fail here, not as a 503 in the browser.
        Engine(index_dir).searcher()
    except IndexMissing as exc:
        _fail(str(exc))
    except Exception as exc:  # a damaged index: say so in one line, not a traceback
        _fail(f"cannot open the index in {index_dir}: {exc}")
    app = create_app({"INDEX_DIR": str(index_dir)})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        server = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="sakuin",
            # The app answers 413 (as JSON or HTML, with its headers) above MAX_CONTENT_LENGTH;
            # waitress only stops bodies far beyond that before buffering them.
            max_request_body_size=WAITRESS_MAX_BODY,
            clear_untrusted_proxy_headers=True,
        )
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    # "localhost" can bind both ::1 and 127.0.0.1; waitress then returns a multi-socket server.
    listening = getattr(server, "effective_listen", None) or [(server.effective_host, server.effective_port)]
    urls = " and ".join(_url(str(h), int(p)) for h, p in listening)
    click.echo(f"sakuin: serving {index_dir} at {urls} (Ctrl+C to stop)")
    try:
        server.run()
    except KeyboardInterrupt:
        click.echo("sakuin: stopped")
    finally:
        server.close()


def main(argv: list[str] | None = None) -> None:
    """``python -m web.serve``: the same as ``sakuin serve``, for running from a checkout."""
    parser = argparse.ArgumentParser(prog="python -m web.serve", description=serve.__doc__)
    parser.add_argument("--index-dir", type=Path, default=Path("index"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    args = parser.parse_args(argv)
    serve(args.index_dir, args.host, args.port, args.threads)


if __name__ == "__main__":  # pragma: no cover
    main()
