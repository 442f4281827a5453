"""The seed corpus on each backend: what the ``seed`` fixture (``tests/conftest.py``) gives.

Every test that uses ``seed``, ``app`` or ``client``, or is parametrized over ``BACKENDS``,
runs on the embedded index and on a real 3-node OpenSearch cluster.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask


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

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """``sakuin ARGS`` against this backend (``--backend`` goes after ARGS), from the checkout."""
        from support.paths import ROOT

        return subprocess.run(
            [sys.executable, "-m", "sakuin", *args, *self.option],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=timeout,
            env={**os.environ, **self.env},
        )


#: The two backends of every parametrized test; the cluster's runs are slow (a quick
#: ``pytest -m "not slow"`` leaves them out, .ci/run runs them).
BACKENDS = ["embedded", pytest.param("opensearch", marks=pytest.mark.slow)]

#: The alias the seed is built under on the session cluster.
SEED_ALIAS = "sakuin-seed"
