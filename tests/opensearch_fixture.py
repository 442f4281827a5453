"""A local OpenSearch cluster for tests, run through ``scripts/opensearch-cluster``.

Nothing here is registered by itself: a test module or ``tests/conftest.py`` opts in with

    from opensearch_fixture import opensearch_cluster  # noqa: F401  (the session fixture)

and a test then takes ``opensearch_cluster`` (the node URLs, ``http://127.0.0.1:PORT``, in the
order ``kill I`` numbers them). The fixture skips when Java or Maven is missing, reuses a cluster
that was already running (and leaves it running), and otherwise stops the cluster it started at the
end of the session.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "opensearch-cluster"

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


def running_urls(env: Mapping[str, str] | None = None) -> list[str]:
    """URLs of the nodes that run now (empty when none)."""
    result = cluster_command("status", env=env, timeout=60)
    return _urls(result) if result.returncode == 0 else []


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


@pytest.fixture(scope="session")
def opensearch_cluster() -> Iterator[list[str]]:
    """The URLs of a 3-node local OpenSearch cluster (green when handed out)."""
    reason = opensearch_missing()
    if reason:
        pytest.skip(reason)
    was_running = bool(running_urls())
    try:
        urls = start_cluster(3)
    except RuntimeError:
        if not was_running:
            stop_cluster()
        raise
    try:
        yield urls
    finally:
        if not was_running:
            stop_cluster()
