"""No leak, for random users, rules and queries, on both backends: no response (search JSON and
HTML, facets, suggestions, "did you mean", documents, originals, stats, the status report and page,
the home page's examples)
contains a doc id, title, word, facet value or folder found only in documents the user may not
read, and every document the user may read is found and served.

Each document of the corpus (``support.access.ACCESS_DOCS``) has a word of its own (ゾルバニア…,
all sharing the prefix ゾルバ so completions have something to choose from), in its title and two
sections (so "did you mean" may offer it), a category and a folder; Hypothesis draws the rules
(by folder, by category, or both), the default, the user's groups and the queries, writes the
access file (the app reads it again on the next request), and checks every answer against a
model of the rules written apart from the engine (``support.access.readable``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.access import (
    ACCESS_DOCS,
    CATEGORIES,
    COMMON,
    FOLDERS,
    bearer,
    readable,
    title_of,
    write_access,
    write_access_corpus,
)
from support.backends import BACKENDS, Seed, cluster_index

from sakuin.search.backend import build

GROUPS = ("g1", "g2", "g3")
#: A misspelling of each document's word (one letter off), for "did you mean".
MISSPELLED = {word: word[:-1] + ("オ" if word[-1] != "オ" else "ア") for _, _, word in ACCESS_DOCS}


@pytest.fixture(scope="module", params=BACKENDS)
def leak_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Flask, Path, str]:
    base = tmp_path_factory.mktemp("leaks")
    docs = write_access_corpus(base / "docs")
    if request.param == "embedded":
        seed = Seed("embedded", str(base / "index"))
    else:
        seed = Seed("opensearch", ",".join(request.getfixturevalue("cluster_urls")), "sakuin-leaks")
    with cluster_index(seed.alias):
        build(seed.target, [docs], rebuild=True, declare=[("category", "keyword")])
    access = write_access(base / "access.toml", {"user": []})
    return seed.app(AUTH_FILE=str(access), AUTH_RELOAD_SECONDS=0), access, request.param


def _rule() -> st.SearchStrategy[dict[str, Any]]:
    condition = st.one_of(
        st.fixed_dictionaries({"path": st.sampled_from((*FOLDERS, ""))}),  # "": every document
        st.fixed_dictionaries({"category": st.sampled_from(CATEGORIES)}),
        st.fixed_dictionaries({"path": st.sampled_from(FOLDERS), "category": st.sampled_from(CATEGORIES)}),
        st.fixed_dictionaries({"category": st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=2, unique=True)}),
    )
    groups = st.lists(st.sampled_from((*GROUPS, "*")), min_size=1, max_size=2, unique=True)
    return st.tuples(condition, groups).map(lambda cg: {**cg[0], "groups": cg[1]})


CASES = st.fixed_dictionaries(
    {
        "rules": st.lists(_rule(), max_size=4),
        "default": st.sampled_from(["allow", "deny"]),
        "groups": st.lists(st.sampled_from(GROUPS), max_size=2, unique=True),
        "word": st.sampled_from([w for _, _, w in ACCESS_DOCS]),
    }
)


def _forbidden(allowed: set[str]) -> set[str]:
    """What only denied documents have: their ids, titles and words; categories and folders no
    readable document has."""
    out = set()
    for doc_id, _, word in ACCESS_DOCS:
        if doc_id not in allowed:
            out |= {doc_id, title_of(word), word}
    out |= {c for c in CATEGORIES if not any(cat == c and d in allowed for d, cat, _ in ACCESS_DOCS)}
    out |= {f for f in FOLDERS if not any(d.startswith(f) for d in allowed)}
    return out


def _check(case: dict[str, Any], app: Flask, access: Path) -> None:
    write_access(access, {"user": case["groups"]}, case["rules"], case["default"])
    allowed = readable(case["rules"], case["default"], case["groups"])
    forbidden = _forbidden(allowed)
    client = app.test_client()
    headers = bearer("user")

    def get(url: str, typed: str = "", **params: Any) -> tuple[int, str]:
        r = client.get(url, query_string=params, headers=headers)
        text = r.get_data(as_text=True)
        if r.mimetype == "application/json":
            text = json.dumps(r.get_json(), ensure_ascii=False)  # \\u escapes read as text
        leaked = sorted(f for f in forbidden - {typed} if f in text)
        assert not leaked, f"{url} {params} shows {leaked} to groups {case['groups']} under {case}"
        return r.status_code, text

    word = case["word"]
    owner = next(d for d, _, w in ACCESS_DOCS if w == word)
    status, text = get("/api/search", q=COMMON, facets="category,path", per_page=100)
    hits = {h["doc_id"] for h in json.loads(text)["hits"]}
    assert status == 200 and hits == allowed, case
    status, text = get("/api/search", word, q=word, facets="category")
    assert {h["doc_id"] for h in json.loads(text)["hits"]} == ({owner} & allowed), case
    get("/api/search", q=MISSPELLED[word])
    get("/api/search", q=word[:3], substring="true", facets="path")
    get("/api/suggest", q="ゾルバ")
    get("/api/suggest", q=word[:4])
    get("/search", q=COMMON)
    get("/search", q=MISSPELLED[word])
    get("/")
    get("/help")
    status, text = get("/api/stats")
    assert json.loads(text)["documents"] == len(allowed), case
    status, text = get("/api/status")
    report = json.loads(text)
    assert report["index"]["documents"] == sum(report["index"]["types"].values()) == len(allowed), case
    get("/status")
    missing = client.get("/api/documents/nowhere.md", headers=headers).get_data()
    for doc_id, _, _ in ACCESS_DOCS:
        for prefix in ("/api/documents/", "/doc/", "/files/"):
            r = client.get(prefix + doc_id, headers=headers)
            assert r.status_code == (200 if doc_id in allowed else 404), (prefix, doc_id, case)
            if prefix == "/api/documents/" and doc_id not in allowed:
                assert r.get_data() == missing


def test_no_response_shows_what_the_user_may_not_read(leak_app: tuple[Flask, Path, str]) -> None:
    app, access, backend = leak_app
    examples = 40 if backend == "embedded" else 12  # a cluster case costs a few dozen round trips

    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(case=CASES)
    def check(case: dict[str, Any]) -> None:
        _check(case, app, access)

    check()
