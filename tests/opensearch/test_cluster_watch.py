"""``sakuin watch`` into an OpenSearch cluster: the same watcher, the cluster's writer lock, and the
run history, skipped files and watcher state kept as documents of the cluster's state index."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow
pytest.importorskip("opensearchpy", reason="opensearch-py is not installed (pip install -e '.[opensearch]')")
from support.backends import cluster_index  # noqa: E402
from support.opensearch import opensearch_missing  # noqa: E402

if opensearch_missing():
    pytest.skip(str(opensearch_missing()), allow_module_level=True)

from sakuin.search.backend import open_engine, open_status  # noqa: E402
from sakuin.search.watching import Watcher, status_report  # noqa: E402

ALIAS = "sakuin-watch"


@pytest.fixture
def urls(cluster_urls: list[str]) -> Iterator[str]:
    """The session cluster, under an alias of this test's own, emptied first (a cluster may be reused)."""
    from sakuin.search.opensearch.client import connect

    client = connect(",".join(cluster_urls))
    client.indices.delete(index=f"{ALIAS}-*", ignore=[404])
    with cluster_index(ALIAS):
        yield ",".join(cluster_urls)


def wait_for(check: Callable[[], Any], timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {check}")


def test_a_watcher_keeps_a_cluster_index_current_and_reports_there(urls: str, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# 猫\n\n猫が鳴く。\n", encoding="utf-8")
    (docs / "skip.zip").write_bytes(b"PK\x03\x04")
    lines: list[str] = []
    watcher = Watcher([docs], urls, quiet=0.3, max_delay=10, procs=1, echo=lambda line, _: lines.append(line))
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    engine = open_engine(urls)

    def found(q: str) -> int:
        try:
            return engine.search(q, snippets=False).total
        except Exception:
            return -1

    try:
        wait_for(lambda: found("猫") == 1)
        (docs / "b.md").write_text("# 犬\n\n犬が走る。\n", encoding="utf-8")
        wait_for(lambda: found("犬") == 1)
        (docs / "a.md").unlink()
        wait_for(lambda: found("猫") == 0)
        # The history and the state are written just after each publication: wait for the third.
        report = wait_for(lambda: (r := status_report(engine, open_status(urls)))["runs"][2:] and r)
        wait_for(lambda: [w for w in status_report(engine, open_status(urls))["watchers"] if w["updates"] >= 3])
        (state,) = [w for w in status_report(engine, open_status(urls))["watchers"] if w["running"]]
        assert state["paths"] == [str(docs)] and state["updates"] >= 3
        assert [r["trigger"] for r in report["runs"][:3]] == ["watch"] * 3
        assert [r["outcome"] for r in report["runs"][:3]] == ["updated"] * 3
        assert report["skipped"]["reasons"] == {"unsupported_type": 1}
        assert report["index"]["documents"] == 1 and report["index"]["types"] == {"md": 1}
    finally:
        watcher.stop()
        thread.join(30)
    assert not [line for line in lines if "update failed" in line], lines
    stopped = [w for w in status_report(engine, open_status(urls))["watchers"] if w["id"] == state["id"]]
    assert stopped and stopped[0]["state"] == "stopped"
