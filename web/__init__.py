"""The web front end: ``create_app()`` builds the Flask app (pages, /api, errors, headers).

One engine (``open_engine``: the embedded index or a cluster) is created per app and kept
in ``app.extensions``; it follows the live version, so the server sees a new ``sakuin
index`` run without a restart, and owns what it opens (``search/embedded/reading/snapshot.py``). Creating the
app never touches the index, so a missing index is a 503 per request (and a
clear message from ``sakuin serve``) rather than a crash at import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from sakuin.search.backend import open_engine, open_status
from sakuin.search.config import AUTH_RELOAD_SECONDS, MAX_CONTENT_LENGTH, MAX_QUERY_STRING
from sakuin.search.results.facets import facet_filter
from sakuin.web import api, auth, errors, files, limits, pages, security, status
from sakuin.web.common import ENGINE_KEY, DocIdConverter
from sakuin.web.render import facet_label, filter_label, local_time, meta_text, page_label, type_label

DEFAULT_INDEX_DIR = "index"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides defaults, e.g. ``{"INDEX_DIR": "/srv/index"}``
    (or ``{"BACKEND": "http://node1:9200,http://node2:9200"}`` for a cluster, ``{"AUTH_FILE":
    "access.toml"}`` for sign-in and access rules: raises SakuinError if it cannot be used)."""
    app = Flask(__name__)
    app.config.from_mapping(
        INDEX_DIR=DEFAULT_INDEX_DIR,
        SEARCHERS=None,  # idle searchers kept per index version (the server's threads); None: the default
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        MAX_QUERY_STRING=MAX_QUERY_STRING,
        AUTH_FILE=None,  # the access file (``sakuin serve --auth``): sign-in and per-folder rules
        AUTH_RELOAD_SECONDS=AUTH_RELOAD_SECONDS,
        CLIENT_CONCURRENCY=None,  # expensive requests one client may run at once (``sakuin.web.limits``)
    )
    if config:
        app.config.update(config)

    # Japanese stays readable in API responses, and keys keep the documented order.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    # Doc ids are arbitrary strings: "a//b" must not be redirected to "a/b".
    app.url_map.merge_slashes = False
    app.url_map.converters["docid"] = DocIdConverter
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.globals.update(
        facet_filter=facet_filter,
        facet_label=facet_label,
        filter_label=filter_label,
        type_label=type_label,
        page_label=page_label,
    )
    app.jinja_env.filters["meta_text"] = meta_text
    app.jinja_env.filters["local_time"] = local_time

    target = app.config.get("BACKEND") or app.config["INDEX_DIR"]
    app.extensions[ENGINE_KEY] = open_engine(target, pool_size=app.config["SEARCHERS"])
    app.extensions[status.STATUS_KEY] = open_status(target)

    security.init_app(app)
    errors.init_app(app)
    if app.config.get("AUTH_FILE"):
        auth.init_app(app, app.config["AUTH_FILE"])
    if app.config.get("CLIENT_CONCURRENCY"):
        limits.init_app(app, int(app.config["CLIENT_CONCURRENCY"]))
    app.register_blueprint(pages.bp)
    app.register_blueprint(files.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api.health_bp)
    app.register_blueprint(status.bp)
    status.init_app(app)
    return app


def serve(
    target: str | Path,
    host: str = "127.0.0.1",
    port: int = 5000,
    threads: int = 2,
    workers: int | None = None,
    auth: str | Path | None = None,
    *,
    watch: list[Path] | None = None,
    poll: float | None = None,
) -> None:
    """``sakuin serve``: the app under gunicorn until stopped (``sakuin.web.server``); ``watch``:
    folders a ``sakuin watch`` beside it keeps the index equal to (``poll``: its ``--poll``)."""
    from sakuin.web.server import serve as run

    run(target, host, port, threads, workers, auth, watch=watch, poll=poll)


__all__ = ["create_app", "serve"]
