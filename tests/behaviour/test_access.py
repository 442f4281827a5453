"""Access rules on both backends: what a signed-in reader sees is only what the rules let them
read (hits, totals, facets, suggestions, "did you mean", documents, originals, stats, examples),
a denied document answers exactly as a missing one, and a changed file applies at once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from support.access import (
    ACCESS_DOCS,
    COMMON,
    bearer,
    readable,
    sign_in,
    write_access,
    write_access_corpus,
)
from support.backends import BACKENDS, Seed, cluster_index

from sakuin.search.access import Rule, Rules
from sakuin.search.backend import build

RULES = [
    {"path": "hr/", "groups": ["hr"]},
    {"category": "法務", "groups": ["legal"]},
    {"path": "pub/", "groups": ["*"]},
]
USERS = {"hana": ["hr"], "ken": ["legal"], "yui": []}


@pytest.fixture(scope="module", params=BACKENDS)
def corpus(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Seed:
    base = tmp_path_factory.mktemp("access")
    docs = write_access_corpus(base / "docs")
    if request.param == "embedded":
        seed = Seed("embedded", str(base / "index"))
    else:
        seed = Seed("opensearch", ",".join(request.getfixturevalue("cluster_urls")), "sakuin-access")
    with cluster_index(seed.alias):
        build(seed.target, [docs], rebuild=True, declare=[("category", "keyword")])
    return seed


@pytest.fixture
def app(corpus: Seed, tmp_path: Path) -> Flask:
    access = write_access(tmp_path / "access.toml", USERS, RULES)
    return corpus.app(AUTH_FILE=str(access), AUTH_RELOAD_SECONDS=0)


def ids(body: dict[str, Any]) -> set[str]:
    return {h["doc_id"] for h in body["hits"]}


@pytest.mark.parametrize("user", sorted(USERS))
def test_hits_totals_and_facets_count_only_what_the_user_may_read(app: Flask, user: str) -> None:
    client = app.test_client()
    allowed = readable(RULES, "deny", USERS[user])
    r = client.get(
        "/api/search", query_string={"q": COMMON, "facets": "category,path", "per_page": 100}, headers=bearer(user)
    )
    body = r.get_json()
    assert r.status_code == 200 and ids(body) == allowed
    assert body["total"] == len(allowed) * 2  # two sections each, different text
    categories = {v["value"]: v["count"] for v in body["facets"]["category"]}
    expected: dict[str, int] = {}
    for doc_id, category, _ in ACCESS_DOCS:
        if doc_id in allowed:
            expected[category] = expected.get(category, 0) + 2
    assert categories == expected
    folders = {v["value"] for v in body["facets"]["path"]}
    assert folders == {d.split("/")[0] + "/" for d in allowed}


def test_a_users_filter_never_widens_what_the_rules_allow(app: Flask) -> None:
    """``path:hr/`` typed by someone who may not read hr/ finds nothing (the rules are not a query
    the user can rewrite), and a facet's own filter does not lift them from its counts."""
    client = app.test_client()
    r = client.get("/api/search", query_string={"q": f"{COMMON} path:hr/", "facets": "path"}, headers=bearer("ken"))
    assert r.get_json()["total"] == 0
    r = client.get(
        "/api/search",
        query_string={"q": COMMON, "filter": "path:hr/", "facets": "path,category"},
        headers=bearer("ken"),
    )
    body = r.get_json()
    assert body["total"] == 0
    assert {v["value"] for v in body["facets"]["path"] if v["count"]} <= {"legal/", "pub/"}


def test_denied_documents_answer_as_missing_ones(app: Flask) -> None:
    client = app.test_client()
    for prefix in ("/api/documents/", "/doc/", "/files/"):
        denied = client.get(prefix + "hr/d1.md", headers=bearer("ken"))
        missing = client.get(prefix + "hr/d9.md", headers=bearer("ken"))
        assert denied.status_code == missing.status_code == 404, prefix
        assert denied.get_data().replace(b"d1", b"d9") == missing.get_data(), prefix
        assert dict(denied.headers) == dict(missing.headers), prefix
        assert client.get(prefix + "hr/d1.md", headers=bearer("hana")).status_code == 200, prefix


def test_suggestions_and_did_you_mean_offer_only_readable_words(app: Flask) -> None:
    client = app.test_client()
    typed = client.get("/api/suggest", query_string={"q": "ゾルバ"}, headers=bearer("ken")).get_json()
    shown = json.dumps(typed, ensure_ascii=False)
    assert "ゾルバリン" in shown or "ゾルバペラ" in shown  # ken reads legal/d3 (法務) and pub/
    assert "ゾルバニア" not in shown and "ゾルバトス" not in shown and "ゾルバミロ" not in shown
    misspelled = {"q": "ゾルバニオ"}  # one letter from ゾルバニア, which only hr/d1.md has
    assert client.get("/api/search", query_string=misspelled, headers=bearer("ken")).get_json()["did_you_mean"] == []
    hana = client.get("/api/search", query_string=misspelled, headers=bearer("hana")).get_json()
    assert hana["did_you_mean"] == ["ゾルバニア"]


def test_stats_and_home_page_show_only_what_the_user_may_read(app: Flask) -> None:
    client = app.test_client()
    stats = client.get("/api/stats", headers=bearer("yui")).get_json()
    assert (stats["documents"], stats["sections"], stats["files"]) == (2, 4, 2)  # pub/ only
    assert stats["terms"] == {} and stats["size_bytes"] is None
    home = client.get("/", headers=bearer("yui")).get_data(as_text=True)
    assert "ゾルバペラ" in home or "ゾルバジュ" in home  # the examples come from what yui reads
    for doc_id, _, word in ACCESS_DOCS:
        assert doc_id.startswith("pub/") or word not in home, word


def test_changed_rules_apply_without_a_restart_or_a_re_index(corpus: Seed, tmp_path: Path) -> None:
    access = write_access(tmp_path / "access.toml", USERS, RULES)
    app = corpus.app(AUTH_FILE=str(access), AUTH_RELOAD_SECONDS=0)
    client = app.test_client()
    before = client.get("/api/search", query_string={"q": COMMON, "per_page": 100}, headers=bearer("yui"))
    assert ids(before.get_json()) == {"pub/d7.md", "pub/d8.md"}
    write_access(access, USERS, [*RULES, {"path": "sales/", "groups": ["*"]}])
    after = client.get("/api/search", query_string={"q": COMMON, "per_page": 100}, headers=bearer("yui"))
    assert ids(after.get_json()) == {"pub/d7.md", "pub/d8.md", "sales/d5.md", "sales/d6.md"}
    access.write_text("default = [not toml", encoding="utf-8")  # a typo keeps the last good rules
    again = client.get("/api/search", query_string={"q": COMMON, "per_page": 100}, headers=bearer("yui"))
    assert ids(again.get_json()) == ids(after.get_json())


def test_pages_signed_in_by_cookie_see_the_same_as_the_api(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/search", query_string={"q": COMMON}).status_code == 302  # to the sign-in page
    assert sign_in(client, "hana").status_code == 302
    page = client.get("/search", query_string={"q": COMMON}).get_data(as_text=True)
    assert "ゾルバニア" in page and "ゾルバリン" not in page and "ゾルバペラ" in page


@pytest.mark.parametrize("default", ["allow", "deny"])
def test_the_engine_takes_the_access_filter_directly(corpus: Seed, default: str) -> None:
    """The same filter through ``SearchBackend`` (what the CLI or another front end would pass)."""
    rules = Rules((Rule((("path", ("hr/",)),), frozenset({"hr"})),), default)  # type: ignore[arg-type]
    engine = corpus.engine()
    try:
        for groups in (set(), {"hr"}):
            access = rules.access_for(groups)
            found = {h.doc_id for h in engine.search(COMMON, per_page=100, access=access).hits}
            expected = readable([{"path": "hr/", "groups": ["hr"]}], default, groups)
            assert found == expected, (default, groups)
            assert {d for d, _, _ in ACCESS_DOCS if engine.document(d, access=access)} == expected
            assert engine.stats(access=access)["documents"] == len(expected)
    finally:
        engine.close()
