"""Shared fixtures: a real index built from ``seeds/`` once per session, the app and its client.

``seed`` is the seed corpus on each backend in turn: the embedded index, then the same
corpus indexed into a real 3-node OpenSearch cluster (``cluster_urls``). Every test that
uses ``seed``, ``app`` or ``client`` therefore runs on both backends; the OpenSearch run
skips with the fixture's message where Java or Maven is missing.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, Response, request, request_finished
from flask.testing import FlaskClient

from sakuin.search.embedded.writing.indexer import build_index

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


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


#: Debian's chromium, driven by Playwright (no downloaded browser).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


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
    from opensearch_fixture import opensearch_missing, start_cluster, stop_cluster

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


#: The session cluster's own state directory and ports, so it never touches a developer's cluster.
CLUSTER_ENV = {"SAKUIN_OPENSEARCH_HOME": "/var/tmp/sakuin-os-tests", "SAKUIN_OPENSEARCH_PORT": "9551"}


@contextlib.contextmanager
def cluster_index(name: str | None) -> Iterator[None]:
    """``SAKUIN_CLUSTER_INDEX`` set to ``name`` inside the block, restored after it (None: unchanged).

    A cluster engine reads its alias when it opens, so an engine opened inside keeps it."""
    if name is None:
        yield
        return
    before = os.environ.get("SAKUIN_CLUSTER_INDEX")
    os.environ["SAKUIN_CLUSTER_INDEX"] = name
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("SAKUIN_CLUSTER_INDEX", None)
        else:
            os.environ["SAKUIN_CLUSTER_INDEX"] = before


@dataclass(frozen=True)
class Seed:
    """The seed corpus on one backend: what ``--backend`` takes, and how to open it."""

    name: str  # "embedded" or "opensearch"
    target: str  # an index directory, or comma-separated node URLs
    alias: str | None = None  # the cluster alias the seed was built under
    env: dict[str, str] = field(default_factory=dict)  # for a ``sakuin`` subprocess

    def engine(self) -> Any:
        from sakuin.search.backend import open_engine

        with cluster_index(self.alias):
            return open_engine(self.target)

    def app(self, **config: Any) -> Flask:
        from sakuin.web import create_app

        with cluster_index(self.alias):
            return create_app({"TESTING": True, "BACKEND": self.target, **config})

    @property
    def option(self) -> list[str]:
        """``--backend TARGET`` for a ``sakuin`` command line (run it with ``env``)."""
        return ["--backend", self.target]


#: The two backends of every parametrized test; the cluster's runs are slow (a quick
#: ``pytest -m "not slow"`` leaves them out, .ci/run runs them).
BACKENDS = ["embedded", pytest.param("opensearch", marks=pytest.mark.slow)]

#: The alias the seed is built under on the session cluster.
SEED_ALIAS = "sakuin-seed"


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
