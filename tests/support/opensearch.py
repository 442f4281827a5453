"""Driving ``scripts/opensearch-cluster`` from tests: run it, start and stop a cluster, call a node.

The session cluster the backend tests share is ``cluster_urls`` in ``tests/conftest.py``,
built on these (in ``CLUSTER_ENV``); ``tests/opensearch/test_opensearch_cluster.py`` tests
the script itself with them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from support.paths import ROOT

SCRIPT = ROOT / "scripts" / "opensearch-cluster"

#: Where the session's cluster lives and listens; a second checkout testing at the same time on
#: the same machine sets ``SAKUIN_TEST_OPENSEARCH_HOME`` and ``SAKUIN_TEST_OPENSEARCH_PORT``.
CLUSTER_ENV = {
    "SAKUIN_OPENSEARCH_HOME": os.environ.get("SAKUIN_TEST_OPENSEARCH_HOME", "/var/tmp/sakuin-os-tests"),
    "SAKUIN_OPENSEARCH_PORT": os.environ.get("SAKUIN_TEST_OPENSEARCH_PORT", "9551"),
}

# Start covers a first download through Maven plus the script's own 180 s wait for green.
START_TIMEOUT = 600


def opensearch_missing() -> str | None:
    """Why the cluster cannot run here (a skip reason), or None when the tools are present."""
    missing = [tool for tool in ("java", "mvn", "curl", "bash") if shutil.which(tool) is None]
    if missing:
        return f"OpenSearch cluster tests need {' and '.join(missing)} on PATH (scripts/opensearch-cluster)"
    return None


def cluster_command(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = START_TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run ``scripts/opensearch-cluster ARGS`` (``env`` adds to the environment); never raises on exit status."""
    return subprocess.run(
        ["bash", str(SCRIPT), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _urls(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("http://")]


def start_cluster(nodes: int = 3, env: Mapping[str, str] | None = None) -> list[str]:
    """Start (or reuse) a cluster of ``nodes`` nodes and return its URLs; RuntimeError with the script's stderr."""
    result = cluster_command("start", "--nodes", str(nodes), env=env)
    if result.returncode != 0:
        raise RuntimeError(f"opensearch-cluster start failed ({result.returncode}):\n{result.stderr}")
    return _urls(result)


def stop_cluster(env: Mapping[str, str] | None = None) -> None:
    result = cluster_command("stop", env=env, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"opensearch-cluster stop failed ({result.returncode}):\n{result.stderr}")


def request(method: str, url: str, body: Any = None, timeout: float = 30) -> tuple[int, Any]:
    """One HTTP call to OpenSearch: ``(status, parsed JSON)``; a list body is sent as NDJSON (bulk)."""
    data = None
    headers = {}
    if isinstance(body, list):
        data = "".join(json.dumps(line) + "\n" for line in body).encode()
        headers["Content-Type"] = "application/x-ndjson"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text)
        except ValueError:
            return error.code, text.decode(errors="replace")
