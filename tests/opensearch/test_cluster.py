"""The OpenSearch backend against a real 3-node cluster started through ``scripts/opensearch-cluster``.

Same answers as the embedded index (same hits, order, totals and highlights on
the seed), the same API and metadata, incremental and atomic publishing, one
writer at a time, and no lost acknowledged document or failed search when a
node is killed. Skipped (with the reason) where Java, Maven or opensearch-py
is missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
pytest.importorskip("opensearchpy", reason="opensearch-py is not installed (pip install -e '.[opensearch]')")
from support.corpora import RECORDS  # noqa: E402
from support.opensearch import CLUSTER_ENV, cluster_command, opensearch_missing  # noqa: E402
from support.paths import SEEDS  # noqa: E402

if opensearch_missing():
    pytest.skip(str(opensearch_missing()), allow_module_level=True)

from sakuin.search.backend import build, open_engine  # noqa: E402
from sakuin.search.errors import IndexBusy  # noqa: E402
from sakuin.search.opensearch.indexer import ClusterState, optimize_cluster_index  # noqa: E402

#: The seed queries the rest of the suite asks, every query form.
SEED_QUERIES = [
    "国防大臣",
    "電話会談",
    "国防大臣 電話会談",
    "ベロウソフ国防大臣は誰と電話会談したのか",
    "国防大臣の電話",
    '"国防 大臣"',
    '"電話会談"',
    "会談 OR 協議",
    "会談 -電話",
    "(会談 OR 協議) ロシア",
    "title:ロシア",
    "heading:会談",
    "heading:ロシア -ウクライナ",
    "こっかきみつ",
    "ウクライナ",
    "ウクライナとは",
    "ロシアウクライナ",
    "國防",
    "ｶﾀｶﾅ ロシア",
    "ロシア 海軍",
    "大臣 演説",
    "大臣の演説",
    "ノヴゴロド",
    "ﾉｳﾞｺﾞﾛﾄﾞ",
    "ベロウソ",
    "北極海",
]


def cluster(*args: str) -> list[str]:
    done = cluster_command(*args, env=CLUSTER_ENV)
    assert done.returncode == 0, done.stderr[-2000:]
    return [line for line in done.stdout.splitlines() if line.startswith("http")]


@pytest.fixture(scope="module")
def urls(cluster_urls: list[str]) -> Iterator[list[str]]:
    os.environ["SAKUIN_CLUSTER_INDEX"] = "sakuin-test"
    try:
        yield cluster_urls
    finally:
        os.environ.pop("SAKUIN_CLUSTER_INDEX", None)


@pytest.fixture(scope="module")
def backend(urls: list[str]) -> str:
    target = ",".join(urls)
    report = build(target, [SEEDS], rebuild=True, shards=3, replicas=1)
    assert report.sections == 17
    return target


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> object:
    target = tmp_path_factory.mktemp("embedded") / "index"
    build(target, [SEEDS])
    return open_engine(target)


@pytest.mark.parametrize("q", SEED_QUERIES)
def test_same_hits_order_and_highlights_as_the_embedded_index(backend: str, embedded: object, q: str) -> None:
    ours = open_engine(backend).search(q, per_page=20)
    theirs = embedded.search(q, per_page=20)  # type: ignore[attr-defined]
    assert ours.total == theirs.total
    # The same top hit, or one the embedded index scores exactly as high: the bigram and
    # reading fields count a match once, so sections of similar length can tie, and
    # Lucene's one-byte field lengths are finer than Whoosh's (100 and 109 bigrams are one
    # length to Whoosh, two to Lucene); the embedded index orders exact ties by key.
    if ours.hits or theirs.hits:
        best = theirs.hits[0].score
        tied = {h.ordinal for h in theirs.hits if abs(h.score - best) <= 1e-9 * max(1.0, abs(best))}
        assert ours.hits[0].ordinal in tied, (q, ours.hits[0].ordinal, tied)
    assert {h.ordinal for h in ours.hits} == {h.ordinal for h in theirs.hits}
    by_ordinal = {h.ordinal: h for h in theirs.hits}
    for hit in ours.hits:
        other = by_ordinal[hit.ordinal]
        assert hit.snippet.highlights == other.snippet.highlights, (q, hit.ordinal)
        assert hit.heading_html == other.heading_html and hit.match == other.match


def test_api_and_cli_through_the_backend(backend: str) -> None:
    from sakuin.web import create_app

    client = create_app({"TESTING": True, "BACKEND": backend}).test_client()
    body = client.get("/api/search", query_string={"q": "国防大臣", "per_page": 3}).get_json()
    assert body["total"] == 17 and len(body["hits"]) == 3 and "<mark>" in body["hits"][0]["snippet"]["html"]
    stats = client.get("/api/stats").get_json()
    assert stats["sections"] == 17 and stats["cluster"]["nodes"] == 3
    assert client.get("/healthz").get_json()["status"] == "ok"
    assert client.get("/api/search", query_string={"q": '"'}).status_code == 400
    page = client.get("/search", query_string={"q": "国防大臣"})
    assert page.status_code == 200 and "国防大臣" in page.get_data(as_text=True)
    out = subprocess.run(
        [str(Path(os.sys.executable).parent / "sakuin"), "search", "国防大臣", "--backend", backend, "--json"],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["total"] == 17


def test_every_substring_candidate_is_checked(backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Candidates are read page by page (``search_after``): none is dropped past a page, up to the bound."""
    from sakuin.search.opensearch import engine as cluster_engine

    whole = open_engine(backend).search("ライナ", per_page=100, collapse=False)
    assert whole.total == 12 and {h.match for h in whole.hits} == {"substring"}
    monkeypatch.setattr(cluster_engine, "SUBSTRING_PAGE", 5)  # 12 candidates: three pages
    paged = open_engine(backend).search("ライナ", per_page=100, collapse=False)
    assert [(h.ordinal, h.score) for h in paged.hits] == [(h.ordinal, h.score) for h in whole.hits]
    monkeypatch.setattr(cluster_engine, "SUBSTRING_CANDIDATES", 10)  # the bound: the best 10 only
    bounded = open_engine(backend).search("ライナ", per_page=100, collapse=False)
    assert [h.ordinal for h in bounded.hits] == [h.ordinal for h in whole.hits][:10]


def test_incremental_updates_publish_atomically(urls: list[str], tmp_path: Path) -> None:
    target = ",".join(urls)
    os.environ["SAKUIN_CLUSTER_INDEX"] = "sakuin-incr"
    try:
        docs = tmp_path / "docs"
        docs.mkdir()
        records = [{"id": f"r{i}", "title": f"記事{i}", "text": f"第{i}回の会談について。"} for i in range(20)]
        (docs / "a.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), "utf-8")
        (docs / "b.md").write_text("# 国防\n\n国防の話。\n", "utf-8")
        first = build(target, [docs], shards=2, replicas=1)
        assert first.sections == 21
        engine = open_engine(target)
        v1 = engine.version
        assert build(target, [docs]).up_to_date and engine.version == v1
        records[3]["text"] = "第3回は協議になった。"
        (docs / "a.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), "utf-8")
        (docs / "b.md").unlink()
        second = build(target, [docs])
        assert second.records[str(docs / "a.jsonl")]["changed"] == 1 and second.removed
        assert second.sections_written == 1  # only the changed record was analysed; the rest were copied
        v2 = engine.version
        assert v2 != v1
        assert engine.search("協議").total == 1 and engine.search("国防").total == 0
        assert engine.search("会談", collapse=False).total == 19
        optimize_cluster_index(target)  # sakuin optimize --backend: a merge, same answers
        assert engine.search("会談", collapse=False).total == 19 and engine.version == v2
        state = ClusterState(engine.client, "sakuin-incr")
        assert set(engine.client.indices.get(index="sakuin-incr-v*")) == {v1, v2}  # the previous one is kept
        # One writer at a time.
        state.lock(wait=False)
        try:
            with pytest.raises(IndexBusy):
                build(target, [docs], wait=False)
        finally:
            state.unlock()
    finally:
        os.environ["SAKUIN_CLUSTER_INDEX"] = "sakuin-test"


def test_a_lock_left_by_a_dead_writer_is_taken_over(urls: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A killed ``sakuin index`` leaves its lock document; the next writer must not wait forever."""
    import socket

    from sakuin.search.opensearch import indexer
    from sakuin.search.opensearch.client import connect

    monkeypatch.setattr(indexer, "LOCK_RENEW_SECONDS", 0.5)
    monkeypatch.setattr(indexer, "LOCK_STALE_SECONDS", 3)
    monkeypatch.setattr(indexer, "LOCK_WAIT_SECONDS", 8)
    client = connect(",".join(urls))
    state = ClusterState(client, "sakuin-lock")
    state.ensure_state()

    def leave(owner: dict[str, object]) -> None:
        client.index(index=state.state, id="lock", body=owner, refresh=True)

    # A process of this machine that is gone: taken over at once, even with --no-wait.
    gone = subprocess.Popen(["true"])
    gone.wait()
    leave({"host": socket.gethostname(), "pid": gone.pid, "since": 0})
    state.lock(wait=False)
    state.unlock()

    # A writer on another machine that stopped renewing: busy at first, taken over once stale.
    leave({"host": "elsewhere", "pid": 1, "since": 0})
    with pytest.raises(IndexBusy):
        state.lock(wait=False)
    began = time.monotonic()
    state.lock(wait=True)
    assert 3 <= time.monotonic() - began < 8

    # A holder that keeps renewing keeps its lock: the other writer gives up after its wait.
    other = ClusterState(client, "sakuin-lock")
    with pytest.raises(IndexBusy):
        other.lock(wait=True)
    state.unlock()
    other.lock(wait=False)
    other.unlock()
    assert not client.exists(index=state.state, id="lock")

    # A writer whose lock was taken over (it stalled past the stale time) must not publish,
    # and releasing its lease leaves the new holder's lock alone.
    state.lock(wait=False)
    leave({"host": "elsewhere", "pid": 2, "since": 0})  # the takeover, as another writer does it
    time.sleep(1.5)  # three renewal ticks
    with pytest.raises(IndexBusy, match="took over"):
        state.publish("sakuin-lock-v000001", {})
    state.unlock()
    assert client.get(index=state.state, id="lock")["_source"]["host"] == "elsewhere"
    client.delete(index=state.state, id="lock", refresh=True)


def test_metadata_filters_facets_and_sort_match_the_embedded_backend(urls: list[str], tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "records.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS), "utf-8")
    declare = [("category", "keyword"), ("date", "date"), ("price", "number"), ("tags", "keyword")]
    os.environ["SAKUIN_CLUSTER_INDEX"] = "sakuin-meta"
    try:
        build(",".join(urls), [docs], declare=declare, shards=3, replicas=0)
        ours = open_engine(",".join(urls))
        build(tmp_path / "ix", [docs], declare=declare)
        theirs = open_engine(tmp_path / "ix")
        for q, filters, sort in [
            ("国防", [], None),
            ("国防 -会談", ["category:政治"], None),
            ("", ["category:政治", "category:経済"], "-date"),
            ("date:2012-03..2012-06", [], "date"),
            ("price:100..200 選挙", [], None),
            ("編集部", [], None),
        ]:
            a = ours.search(q, filters=filters, sort=sort, facets=["category", "tags"], per_page=100)
            b = theirs.search(q, filters=filters, sort=sort, facets=["category", "tags"], per_page=100)
            assert (a.total, a.sections) == (b.total, b.sections), q
            assert {k: [(v.value, v.count) for v in vs] for k, vs in a.facets.items()} == {
                k: [(v.value, v.count) for v in vs] for k, vs in b.facets.items()
            }, q
            if sort:
                assert [h.doc_id for h in a.hits] == [h.doc_id for h in b.hits], q
            else:
                assert {h.doc_id for h in a.hits} == {h.doc_id for h in b.hits}, q
    finally:
        os.environ["SAKUIN_CLUSTER_INDEX"] = "sakuin-test"


def test_killing_a_node_loses_nothing_and_searches_keep_answering(urls: list[str], tmp_path: Path) -> None:
    """Replicas 1 on 3 nodes: node 2 is SIGKILLed during searches and during an index run."""
    target = ",".join(urls)
    docs = tmp_path / "docs"
    docs.mkdir()
    records = [
        {"id": f"k{i}", "title": "記事", "text": f"会談{i}号の本文。" + "国防の話。" * (i % 7)} for i in range(3000)
    ]
    (docs / "k.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), "utf-8")
    os.environ["SAKUIN_CLUSTER_INDEX"] = "sakuin-failover"
    errors: list[str] = []
    answered = 0
    stop = threading.Event()

    def searching() -> None:
        nonlocal answered
        engine = open_engine(target)
        while not stop.is_set():
            try:
                engine.search("国防大臣 会談")
                answered += 1
            except Exception as exc:
                errors.append(repr(exc))

    try:
        report: dict[str, object] = {}

        def indexing() -> None:
            try:
                report["value"] = build(target, [docs], shards=3, replicas=1, procs=1)
            except Exception as exc:
                report["error"] = exc

        build(target, [SEEDS], shards=3, replicas=1)  # something to search while the next build runs
        searcher = threading.Thread(target=searching)
        writer = threading.Thread(target=indexing)
        searcher.start()
        writer.start()
        client = open_engine(target).client
        deadline = time.monotonic() + 120
        new = "sakuin-failover-v000002"

        def written() -> int:  # sections already acknowledged in the new version
            if not client.indices.exists(index=new):
                return 0
            return client.count(index=new)["count"] if client.indices.refresh(index=new) else 0

        while written() < 300 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert writer.is_alive(), "the index run ended before the node could be killed"
        cluster("kill", "2")
        writer.join(timeout=600)
        time.sleep(2)
        stop.set()
        searcher.join(timeout=60)
        assert not errors, errors[:3]
        assert answered > 0
        assert "error" not in report, report.get("error")  # the build rode through the lost node
        engine = open_engine(target)
        assert engine.search("会談", filters=["path:k.jsonl"], collapse=False).total == 3000  # nothing lost
        assert engine.stats()["cluster"]["nodes"] == 2
    finally:
        os.environ["SAKUIN_CLUSTER_INDEX"] = "sakuin-test"  # the last test of the module: node 2 stays down
