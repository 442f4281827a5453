"""Shared fixtures: a real index built from ``seeds/`` once per session, the app and its client,
the browser, the OpenSearch cluster. Helpers live in ``tests/support/``.

``seed`` is the seed corpus on each backend in turn: the embedded index, then the same
corpus indexed into a real 3-node OpenSearch cluster (``cluster_urls``). Every test that
uses ``seed``, ``app`` or ``client`` therefore runs on both backends; the OpenSearch run
skips with the fixture's message where Java or Maven is missing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask, Response, request, request_finished
from flask.testing import FlaskClient
from support.backends import BACKENDS, SEED_ALIAS, Seed, cluster_index
from support.browser import CHROMIUM, CHROMIUM_ARGS
from support.opensearch import CLUSTER_ENV, opensearch_missing, start_cluster, stop_cluster
from support.paths import SEEDS

from sakuin.search.embedded.writing.indexer import build_index


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the seed corpus, built once (indexing runs Sudachi over every section)."""
    target = tmp_path_factory.mktemp("seed-index")
    build_index([SEEDS], target)
    return target


@pytest.fixture(scope="session")
def make_index(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Build an index from ``{relative name: text}`` files (plus extra input paths); returns its dir."""

    def make(files: dict[str, str], extra: list[Path] | None = None) -> Path:
        base = tmp_path_factory.mktemp("corpus")
        docs = base / "docs"
        for name, text in files.items():
            path = docs / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        build_index([docs, *(extra or [])], base / "index")
        return base / "index"

    return make


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium for the browser tests of one module (they skip first where it is missing)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def cluster_urls() -> Iterator[list[str]]:
    """A 3-node OpenSearch cluster for the session, started (once, on first use) and stopped
    through ``scripts/opensearch-cluster``; skips where Java, Maven or opensearch-py is missing."""
    pytest.importorskip("opensearchpy", reason="opensearch-py is not installed (pip install -e '.[opensearch]')")
    reason = opensearch_missing()
    if reason:
        pytest.skip(reason)
    nodes = start_cluster(3, env=CLUSTER_ENV)
    assert len(nodes) == 3
    try:
        yield nodes
    finally:
        stop_cluster(env=CLUSTER_ENV)


@pytest.fixture(scope="session", params=BACKENDS)
def seed(request: pytest.FixtureRequest, index_dir: Path) -> Seed:
    """The seed index on each backend (the OpenSearch one: 3 shards, 1 replica, on 3 nodes)."""
    if request.param == "embedded":
        return Seed("embedded", str(index_dir))
    from sakuin.search.backend import build

    urls = ",".join(request.getfixturevalue("cluster_urls"))
    with cluster_index(SEED_ALIAS):
        report = build(urls, [SEEDS], rebuild=True, shards=3, replicas=1)
    assert report.sections == 17
    return Seed("opensearch", urls, SEED_ALIAS, {"SAKUIN_CLUSTER_INDEX": SEED_ALIAS})


@pytest.fixture(scope="session")
def app(seed: Seed) -> Flask:
    return seed.app()


@pytest.fixture
def client(app: Flask, caplog: pytest.LogCaptureFixture) -> Iterator[FlaskClient]:
    """A test client that fails the test if any request reached the catch-all 500 handler.

    No user input may cause a 500, so every test using this client also proves that.
    """
    server_errors: list[str] = []

    def record(sender: Flask, response: Response, **_: object) -> None:
        if response.status_code >= 500 and response.status_code != 503:
            server_errors.append(f"{request.method} {request.full_path} -> {response.status}")

    caplog.set_level(logging.WARNING, logger=app.logger.name)
    with request_finished.connected_to(record, app):
        yield app.test_client()
    unhandled = [r for r in caplog.records if r.name == app.logger.name and r.levelno >= logging.ERROR]
    assert not unhandled, f"a request hit the 500 handler: {unhandled[0].getMessage()}"
    assert not server_errors, f"server errors: {server_errors}"
