"""The same behaviour from both backends: every test here runs on the embedded index and on a
real 3-node OpenSearch cluster (``cluster_urls``), over the seed.

What users rely on whichever backend answers: query errors and their codes, notices,
every query form finding the seed's sections, the JSON contract of the API (validated
against the OpenAPI document), the pages, and the CLI's ``--json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.backends import BACKENDS
from support.paths import SEEDS
from support.web import Api

from sakuin.search.backend import build, is_cluster, open_engine
from sakuin.search.cli import render
from sakuin.search.errors import QuerySyntaxError
from sakuin.search.opensearch import engine as cluster_engine
from sakuin.web import create_app

ALIAS = "sakuin-backends"


@pytest.fixture(scope="module", params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "embedded":
        path = tmp_path_factory.mktemp("backends") / "index"
        build(path, [SEEDS])
        yield str(path)
        return
    urls = ",".join(request.getfixturevalue("cluster_urls"))
    os.environ["SAKUIN_CLUSTER_INDEX"] = ALIAS
    try:
        build(urls, [SEEDS], rebuild=True, shards=3, replicas=1)
        yield urls
    finally:
        os.environ.pop("SAKUIN_CLUSTER_INDEX", None)


@pytest.fixture(scope="module")
def engine(target: str) -> Any:
    return open_engine(target)


@pytest.mark.parametrize(
    ("q", "code"),
    [
        ('"国防', "unclosed_quote"),
        ("(国防", "unclosed_paren"),
        ("国防)", "unbalanced_paren"),
        ("OR 国防", "dangling_operator"),
        ("-電話", "only_negative"),
        ("author:x", "unknown_field"),
        ("(" * 30 + "国防" + ")" * 30, "too_deep"),
        ("国防 OR category:x", "unknown_field"),
        ("x" * 1001, "query_too_long"),
    ],
)
def test_query_errors_have_the_same_codes(engine: Any, q: str, code: str) -> None:
    with pytest.raises(QuerySyntaxError) as err:
        engine.search(q)
    assert err.value.code == code


@pytest.mark.parametrize(
    ("q", "at_least"),
    [
        ("国防大臣", 17),
        ('"電話会談"', 1),
        ("会談 OR 協議", 1),
        ("heading:会談", 1),
        ("title:ロシア", 17),
        ("ベロウソフ国防大臣は誰と電話会談したのか", 17),
        ("こっかきみつ", 1),
        ("ノヴゴロド", 1),
        ("國防", 17),
    ],
)
def test_every_query_form_finds_the_seed(engine: Any, q: str, at_least: int) -> None:
    result = engine.search(q)
    assert result.total >= at_least and result.hits
    assert all(h.doc_id == "000_bd59ac11d3d57df8.txt" for h in result.hits)


def test_notices(engine: Any) -> None:
    particles = engine.search("の")
    assert particles.total == 0 and [n.code for n in particles.notices] == ["only_function_words"]
    past = engine.search("国防大臣", page=50)
    assert not past.hits and [n.code for n in past.notices] == ["page_past_end"]


@pytest.mark.parametrize(("q", "suggested"), [("国坊", ["国防"]), ("ウクライノ", ["ウクライナ"]), ("国防", [])])
def test_did_you_mean(engine: Any, q: str, suggested: list[str]) -> None:
    assert engine.search(q).did_you_mean == suggested


def test_suggestions_complete_the_last_word_most_frequent_first(engine: Any) -> None:
    words = [s.text for s in engine.suggest("国") if s.kind == "word"]
    assert words == ["国防", "国務", "国家", "国防総省"]
    assert [s.text for s in engine.suggest("電話 会") if s.kind == "word"] == ["電話 会談", "電話 会見"]
    assert any(s.kind == "title" for s in engine.suggest("ロシア"))


def test_pages_group_hits_by_document(engine: Any) -> None:
    result = engine.search("国防大臣", per_page=10)
    groups = result.groups()
    assert len(groups) == 1 and len(groups[0].hits) == 10
    second = engine.search("国防大臣", page=2, per_page=10)
    assert {h.ordinal for h in second.hits}.isdisjoint({h.ordinal for h in result.hits})
    assert len(second.hits) == 7


def test_totals_past_the_threshold_are_lower_bounds(
    engine: Any, target: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """More hits than ``TRACK_TOTAL`` on the cluster: "at least that many" (``gte``) in the result,
    the JSON API (valid against the OpenAPI document), the page and the CLI; the hits are
    unchanged. Without collapsing, the cluster's own count (``track_total_hits``) gives the
    relation. The embedded index scores every match, so its count stays exact (``eq``)."""
    exact = engine.search("国防大臣")
    exact_two = engine.search("国防大臣", page=2)
    uncollapsed = engine.search("国防大臣", collapse=False)
    assert (exact.total, exact.total_relation, exact.sections) == (17, "eq", 17)
    assert exact.to_dict()["total_relation"] == "eq"
    monkeypatch.setattr(cluster_engine, "TRACK_TOTAL", 5)
    monkeypatch.setattr(render, "TRACK_TOTAL", 5)
    cluster = is_cluster(target)
    counted, relation = (5, "gte") if cluster else (17, "eq")
    result = engine.search("国防大臣")
    assert (result.total, result.total_relation, result.sections) == (counted, relation, counted)
    assert [(h.ordinal, h.score) for h in result.hits] == [(h.ordinal, h.score) for h in exact.hits]
    assert len(result.hits) == 10 and result.to_dict()["total_relation"] == relation and not result.notices
    second = engine.search("国防大臣", page=2)
    assert [h.ordinal for h in second.hits] == [h.ordinal for h in exact_two.hits] and not second.notices
    flat = engine.search("国防大臣", collapse=False)
    assert (flat.total, flat.total_relation, flat.sections) == (counted, relation, counted)
    assert [h.ordinal for h in flat.hits] == [h.ordinal for h in uncollapsed.hits]
    api = Api(create_app({"TESTING": True, "BACKEND": target}).test_client())
    r, body = api.get("/api/search", "/api/search?q=%E5%9B%BD%E9%98%B2%E5%A4%A7%E8%87%A3&per_page=3")
    assert r.status_code == 200 and (body["total"], body["total_relation"]) == (counted, relation)
    page = api.client.get("/search?q=国防大臣").get_data(as_text=True)
    render.search_result(result)
    line = capsys.readouterr().out.splitlines()[0]
    if cluster:
        assert "<strong>5</strong> 件以上" in page
        assert line.startswith("at least 5 sections match")
    else:
        assert "件以上" not in page and line.startswith("17 sections match")


def test_api_responses_match_the_openapi_document(target: str) -> None:
    api = Api(create_app({"TESTING": True, "BACKEND": target}).test_client())
    r, body = api.get("/api/search", "/api/search?q=%E5%9B%BD%E9%98%B2%E5%A4%A7%E8%87%A3&per_page=3")
    assert r.status_code == 200 and body["total"] == 17 and "<mark>" in body["hits"][0]["snippet"]["html"]
    r, _ = api.get("/api/search", "/api/search?q=%22")
    assert r.status_code == 400
    r, stats = api.get("/api/stats")
    assert r.status_code == 200 and stats["sections"] == 17
    r, doc = api.get("/api/documents/{doc_id}", "/api/documents/000_bd59ac11d3d57df8.txt")
    assert r.status_code == 200 and len(doc["sections"]) == 17
    r, _ = api.get("/healthz")
    assert r.status_code == 200
    r, _ = api.get("/api/suggest", "/api/suggest?q=%E3%83%AD%E3%82%B7%E3%82%A2")
    assert r.status_code == 200
    page = api.client.get("/doc/000_bd59ac11d3d57df8.txt?q=%E5%9B%BD%E9%98%B2")
    assert page.status_code == 200 and "<mark>国防</mark>" in page.get_data(as_text=True)


def test_cli_json_is_the_api_object(target: str) -> None:
    script = Path(sys.executable).parent / "sakuin"
    env = {**os.environ, "SAKUIN_CLUSTER_INDEX": ALIAS}
    out = subprocess.run(
        [str(script), "search", "国防大臣", "--backend", target, "--json", "--limit", "3"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["total"] == 17 and len(data["hits"]) == 3
    bad = subprocess.run(
        [str(script), "search", '"国防', "--backend", target, "--json"], capture_output=True, text=True, env=env
    )
    assert bad.returncode == 2 and json.loads(bad.stdout)["error"]["code"] == "unclosed_quote"
