"""scripts/opensearch-cluster: a 3-node cluster comes up green, survives SIGKILL of a node, restarts it, stops clean.

The cluster runs in its own state dir and ports, so it never touches a cluster started by hand (default
dir, port 9251) or the backend tests' ``cluster_urls`` (tests/conftest.py, port 9551).
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from support.opensearch import cluster_command, opensearch_missing, request
from support.paths import ROOT

MISSING = opensearch_missing()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(MISSING is not None, reason=MISSING or "")]

# Under /var/tmp (not pytest's tmp_path, which the unprivileged node user cannot enter); kept between
# runs so the distribution is unpacked once.
HOME = Path("/var/tmp/sakuin-opensearch-selftest")
PORT = 9281
ENV = {"SAKUIN_OPENSEARCH_HOME": str(HOME), "SAKUIN_OPENSEARCH_PORT": str(PORT)}
URLS = [f"http://127.0.0.1:{PORT + i}" for i in range(3)]
INDEX = "failover"
DOCS = [
    {"title": "apple pie", "body": "apple apple cinnamon"},
    {"title": "apple juice", "body": "fresh apple"},
    {"title": "banana bread", "body": "banana walnut"},
]


def run(*args: str) -> tuple[int, list[str], str]:
    result = cluster_command(*args, env=ENV)
    return result.returncode, result.stdout.splitlines(), result.stderr


def node_pids(url: str) -> dict[str, int]:
    """{node name: JVM pid} as the cluster reports them."""
    status, body = request("GET", f"{url}/_nodes/process?filter_path=nodes.*.name,nodes.*.process.id")
    assert status == 200, body
    return {node["name"]: node["process"]["id"] for node in body["nodes"].values()}


def running(pid: int) -> bool:
    """A live process (a SIGKILLed JVM nobody reaped is a zombie: gone for our purposes)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def health(url: str, **wait: str) -> dict:
    query = "&".join(f"{key}={value}" for key, value in {"timeout": "60s", **wait}.items())
    status, body = request("GET", f"{url}/_cluster/health?{query}", timeout=90)
    assert status == 200, body
    return body


def search_hits(url: str, word: str) -> int:
    status, body = request("POST", f"{url}/{INDEX}/_search", {"query": {"match": {"body": word}}})
    assert status == 200, body
    return body["hits"]["total"]["value"]


def until(check, seconds: float = 60):
    """Retry ``check`` (exceptions and falsy results) until it passes or ``seconds`` run out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = check()
            if value:
                return value
        except (AssertionError, OSError) as error:
            if time.monotonic() > deadline:
                raise error
        if time.monotonic() > deadline:
            raise AssertionError(f"{check} did not pass within {seconds} s")
        time.sleep(0.5)


def repo_debris() -> set[str]:
    """Entries the script must never create in the repository."""
    names = {"data", "logs", "target", "nodes", "cluster.state", "lock"}
    found = set()
    for folder in (ROOT, ROOT / "scripts", ROOT / "tests"):
        for entry in folder.iterdir():
            if entry.name in names or entry.name.startswith(("opensearch-", "hs_err")) or entry.suffix == ".pid":
                found.add(str(entry))
    return found


@pytest.fixture
def stopped_after():
    """Whatever happens in the test, no node outlives it."""
    yield
    cluster_command("stop", env=ENV, timeout=120)


def test_cluster_lifecycle(stopped_after: None) -> None:
    debris = repo_debris()
    code, _, err = run("stop")  # leftovers from an interrupted run
    assert code == 0, err

    # start: one URL per node as the last lines of stdout, green with 3 nodes.
    code, out, err = run("start", "--nodes", "3")
    assert code == 0, err
    assert out[-3:] == URLS and all(line.startswith("http://") for line in out), out
    body = health(URLS[2], wait_for_status="green", wait_for_nodes="3")
    assert (body["status"], body["number_of_nodes"]) == ("green", 3)
    pids = node_pids(URLS[0])
    assert sorted(pids) == ["node-1", "node-2", "node-3"]

    # start again: the same URLs, the same processes.
    began = time.monotonic()
    code, out, err = run("start")
    assert code == 0, err
    assert out == URLS
    assert time.monotonic() - began < 30
    assert node_pids(URLS[1]) == pids

    # An index with a replica of every shard; the nodes only have core modules (standard analyzer).
    status, body = request(
        "PUT",
        f"{URLS[0]}/{INDEX}",
        {
            "settings": {"number_of_shards": 2, "number_of_replicas": 1},
            "mappings": {"properties": {"body": {"type": "text"}}},
        },
    )
    assert status == 200, body
    bulk = []
    for number, doc in enumerate(DOCS, 1):
        bulk += [{"index": {"_index": INDEX, "_id": str(number)}}, doc]
    status, body = request("POST", f"{URLS[1]}/_bulk?refresh=true", bulk)
    assert status == 200 and not body["errors"], body
    assert health(URLS[0], wait_for_status="green")["status"] == "green"
    assert search_hits(URLS[2], "apple") == 2

    # kill 2: SIGKILL, the other nodes still answer and the cluster settles on 2 nodes.
    code, _, err = run("kill", "2")
    assert code == 0, err
    assert not running(pids["node-2"])
    assert run("kill", "2")[0] != 0  # not running any more
    assert run("status")[1] == [URLS[0], URLS[2]]
    for url in (URLS[0], URLS[2]):
        assert until(lambda url=url: search_hits(url, "apple") == 2)
    body = until(lambda: health(URLS[0], wait_for_nodes="2", wait_for_status="yellow", timeout="30s"))
    assert body["number_of_nodes"] == 2 and body["status"] in ("yellow", "green") and not body["timed_out"], body
    assert search_hits(URLS[2], "banana") == 1

    # start brings node 2 back on its data; the others keep running.
    code, out, err = run("start")
    assert code == 0, err
    assert out == URLS
    restarted = node_pids(URLS[1])
    assert restarted["node-1"] == pids["node-1"] and restarted["node-3"] == pids["node-3"]
    assert restarted["node-2"] != pids["node-2"]
    assert health(URLS[1], wait_for_status="green", wait_for_nodes="3")["status"] == "green"
    status, body = request("GET", f"{URLS[1]}/{INDEX}/_count")
    assert (status, body["count"]) == (200, 3)

    # stop: no process, no port, no data; a second stop and status agree.
    code, _, err = run("stop")
    assert code == 0, err
    assert [pid for pid in restarted.values() if running(pid)] == []
    assert not any(listening(PORT + offset) for offset in (0, 1, 2, 100, 101, 102))
    assert not (HOME / "nodes").exists()
    assert run("stop")[0] == 0
    assert run("status")[0] != 0
    assert repo_debris() == debris
