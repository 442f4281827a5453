"""The JSON API: results, documents, analysis, stats, health, errors, and the OpenAPI contract.

Every response a test here receives is also validated against ``/api/openapi.json``
(see ``api``), so the published schema cannot drift from what the server sends.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from support.access import sign_in, write_access
from support.backends import Seed
from support.corpora import SEED_ID
from support.web import REGISTRY, SPEC, SPEC_URI, Api, schema_for

from sakuin.search.analysis.sudachi import explain
from sakuin.search.embedded.writing.indexer import build_index
from sakuin.web import create_app
from sakuin.web.limits import LIMIT_KEY
from sakuin.web.security import CONTENT_SECURITY_POLICY


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


@pytest.fixture(scope="module")
def missing_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    app = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path_factory.mktemp("no-index"))})
    yield Api(app.test_client())


# -- search ------------------------------------------------------------------------------


def test_search_returns_exactly_the_result_dict(api: Api, seed: Seed) -> None:
    r, body = api.get("/api/search", query_string={"q": "国防大臣"})
    assert r.status_code == 200
    expected = seed.engine().search("国防大臣").to_dict()
    for timing in (body, expected):
        timing.pop("took_ms")
    assert body == expected
    assert body["per_page"] == 10 and body["page"] == 1 and len(body["hits"]) == 10


def test_search_snippets_mark_the_query(api: Api) -> None:
    _, body = api.get("/api/search", query_string={"q": "国防大臣"})
    assert body["total"] == 17
    top = body["hits"][0]
    assert "<mark>国防大臣</mark>" in top["snippet"]["html"]
    s, e = top["snippet"]["highlights"][0]
    assert top["snippet"]["text"][s:e] == "国防大臣"


def test_search_top_hits_for_a_phone_call_are_the_seed_sections(api: Api) -> None:
    _, body = api.get("/api/search", query_string={"q": "電話会談", "per_page": 3})
    hits = body["hits"]
    assert [h["doc_id"] for h in hits] == [SEED_ID] * 3
    assert hits[0]["section"] == {
        "ordinal": 1,
        "heading": "露国防大臣が米国防長官と電話会談",
        "heading_html": "露国防大臣が米国防長官と<mark>電話会談</mark>",
    }
    assert "電話会談" in hits[1]["section"]["heading"]
    assert all("<mark>電話会談</mark>" in h["snippet"]["html"] for h in hits[:2])


def test_search_pages(api: Api) -> None:
    _, first = api.get("/api/search", query_string={"q": "ロシア", "per_page": 5})
    _, fourth = api.get("/api/search", query_string={"q": "ロシア", "per_page": 5, "page": 4})
    _, all_ = api.get("/api/search", query_string={"q": "ロシア", "per_page": 100})
    assert first["total"] == fourth["total"] == all_["total"] == 17
    assert len(fourth["hits"]) == 2
    keys = [(h["doc_id"], h["section"]["ordinal"]) for h in all_["hits"]]
    assert [(h["doc_id"], h["section"]["ordinal"]) for h in first["hits"]] == keys[:5]
    assert [(h["doc_id"], h["section"]["ordinal"]) for h in fourth["hits"]] == keys[15:]
    _, past = api.get("/api/search", query_string={"q": "ロシア", "page": 1000})
    assert past["hits"] == [] and past["page"] == 1000


def test_search_no_results(api: Api) -> None:
    r, body = api.get("/api/search", query_string={"q": "量子コンピュータ"})
    assert r.status_code == 200 and body["total"] == 0 and body["hits"] == []


def test_full_width_query_finds_the_same(api: Api) -> None:
    _, half = api.get("/api/search", query_string={"q": '"電話会談" OR 協議'})
    _, full = api.get("/api/search", query_string={"q": "＂電話会談＂\u3000OR\u3000協議"})
    assert half["total"] == full["total"] > 0


@pytest.mark.parametrize(
    ("params", "code", "phrase"),
    [
        ({}, "missing_parameter", "q parameter is required"),
        ({"q": ""}, "missing_parameter", "q parameter is required"),
        ({"q": "会談", "page": "abc"}, "bad_parameter", "page must be a whole number from 1 to 1000"),
        ({"q": "会談", "page": "0"}, "bad_parameter", "page must be"),
        ({"q": "会談", "page": "1001"}, "bad_parameter", "page must be"),
        ({"q": "会談", "page": "2.0"}, "bad_parameter", "page must be"),
        ({"q": "会談", "page": "-3"}, "bad_parameter", "page must be"),
        ({"q": "会談", "page": "9" * 30}, "bad_parameter", "page must be"),
        ({"q": "会談", "per_page": "101"}, "bad_parameter", "per_page must be a whole number from 1 to 100"),
        ({"q": "会談", "per_page": "0"}, "bad_parameter", "per_page must be"),
        ({"q": "会談", "per_page": "ten"}, "bad_parameter", "per_page must be"),
        ({"q": "会" * 1001}, "query_too_long", "at most 1000 characters"),
        ({"q": "   "}, "empty_query", "empty query"),
        ({"q": '"電話会談'}, "unclosed_quote", "unclosed quote"),
        ({"q": "会談 OR"}, "dangling_operator", "OR needs a search term"),
        ({"q": "-電話"}, "only_negative", "NOT/- only excludes"),
        ({"q": "(会談"}, "unclosed_paren", "unbalanced '('"),
        ({"q": "会談)"}, "unbalanced_paren", "unbalanced ')'"),
        ({"q": "title:"}, "field_needs_value", "title: needs a word"),
        ({"q": "author:foo"}, "unknown_field", "the fields are title:, heading:"),
        ({"q": "(" * 250 + "a" + ")" * 250}, "too_deep", "at most 20 levels"),
        ({"q": "国" * 1200}, "query_too_long", "at most 1000 characters"),
        ({"q": "a" * 2000}, "query_too_long", "at most 1000 characters"),
    ],
)
def test_search_bad_input_is_400(api: Api, params: dict[str, str], code: str, phrase: str) -> None:
    r, body = api.get("/api/search", query_string=params)
    assert r.status_code == 400
    assert body["error"]["code"] == code
    assert phrase in body["error"]["message"]


def test_a_1000_character_query_is_accepted(api: Api) -> None:
    r, _ = api.get("/api/search", query_string={"q": "会談" * 500})
    assert r.status_code == 200


# -- documents ------------------------------------------------------------------------------


def test_document(api: Api, seed: Seed) -> None:
    r, body = api.get("/api/documents/{doc_id}", f"/api/documents/{SEED_ID}")
    assert r.status_code == 200
    doc = seed.engine().document(SEED_ID)
    assert doc is not None
    assert body["doc_id"] == SEED_ID and body["title"] == doc.title and body["path"] == doc.path
    assert body["meta"] == {}
    assert [s["ordinal"] for s in body["sections"]] == list(range(17))
    assert body["sections"][1]["heading"] == "露国防大臣が米国防長官と電話会談"
    assert body["sections"][1]["text"] == doc.sections[1].text


def test_document_ids_with_slashes_and_meta(make_index: Callable[..., Path]) -> None:
    record = {"id": "年/報告 #1", "title": "年次報告", "text": "本文", "author": "山田", "tags": ["a", "b"]}
    index = make_index({"sub/dir/a.md": "# 副題\n\n本文です。\n", "r.jsonl": json.dumps(record, ensure_ascii=False)})
    api = Api(create_app({"TESTING": True, "INDEX_DIR": str(index)}).test_client())
    r, body = api.get("/api/documents/{doc_id}", "/api/documents/sub/dir/a.md")
    assert r.status_code == 200 and body["doc_id"] == "sub/dir/a.md" and body["title"] == "副題"
    r, body = api.get("/api/documents/{doc_id}", "/api/documents/" + quote(record["id"], safe="/"))
    assert r.status_code == 200
    assert body["meta"] == {"author": "山田", "tags": ["a", "b"]}
    assert body["sections"] == [{"ordinal": 0, "heading": "", "text": "本文", "pages": None}]


@pytest.mark.parametrize(
    "url",
    [
        "/api/documents/nope.md",
        "/api/documents/../../etc/passwd",
        "/api/documents/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/api/documents//etc/passwd",
        f"/api/documents/{SEED_ID}/",
        f"/api/documents/{SEED_ID.upper()}",
    ],
)
def test_unknown_document_is_404(api: Api, url: str) -> None:
    r, body = api.get("/api/documents/{doc_id}", url)
    assert r.status_code == 404
    assert body["error"]["code"] == "document_not_found"
    assert "root:" not in r.get_data(as_text=True)


# -- analyze, stats, health, spec -------------------------------------------------------------


def test_analyze(api: Api) -> None:
    r, body = api.get("/api/analyze", query_string={"text": "関西国際空港で会談した"})
    assert r.status_code == 200
    assert body["text"] == "関西国際空港で会談した" and body["tokens"] == explain("関西国際空港で会談した")
    # The index uses Sudachi's synonym dictionary: the abbreviation is its synonym.
    assert {k: body["synonyms"][0][k] for k in ("text", "start", "end")} == {
        "text": "関西国際空港",
        "start": 0,
        "end": 6,
    }
    assert "関空" in body["synonyms"][0]["synonyms"]
    airport = body["tokens"][0]
    assert airport["surface"] == "関西国際空港" and airport["indexed"]
    assert [p["term"] for p in airport["parts"]] == ["関西", "国際", "空港"]
    assert any(not t["indexed"] for t in body["tokens"])  # で is a function word


@pytest.mark.parametrize(
    ("params", "code"),
    [({}, "missing_parameter"), ({"text": ""}, "missing_parameter"), ({"text": "あ" * 1001}, "text_too_long")],
)
def test_analyze_bad_input(api: Api, params: dict[str, str], code: str) -> None:
    r, body = api.get("/api/analyze", query_string=params)
    assert r.status_code == 400 and body["error"]["code"] == code


def test_analyze_needs_no_index(missing_api: Api) -> None:
    r, _ = missing_api.get("/api/analyze", query_string={"text": "会談"})
    assert r.status_code == 200


def test_stats(api: Api, seed: Seed) -> None:
    r, body = api.get("/api/stats")
    assert r.status_code == 200
    assert body == seed.engine().stats()
    assert (body["documents"], body["sections"], body["files"]) == (1, 17, 1)


def test_health(api: Api, seed: Seed) -> None:
    r, body = api.get("/healthz")
    assert r.status_code == 200
    assert body == {"status": "ok", "version": seed.engine().version}
    assert body["version"]


def test_openapi_document(api: Api) -> None:
    r, body = api.get("/api/openapi.json")
    assert r.status_code == 200 and body == json.loads(json.dumps(SPEC))
    assert body["openapi"].startswith("3.1")
    for schema in SPEC["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)


def test_the_contract_check_catches_drift(api: Api) -> None:
    """The schemas are closed: an extra, missing or retyped field fails validation."""
    _, body = api.get("/api/search", query_string={"q": "会談", "per_page": 1})
    schema = schema_for("/api/search", "get", 200)
    validator = Draft202012Validator(schema, registry=REGISTRY)
    hit = body["hits"][0]
    for broken in (
        {**body, "extra": 1},
        {k: v for k, v in body.items() if k != "total"},
        {**body, "total": "17"},
        {**body, "hits": [{**hit, "section": {"ordinal": "1", "heading": ""}}]},
        {**body, "hits": [{**hit, "snippet": {**hit["snippet"], "highlights": [[1, 2, 3]]}}]},
    ):
        assert not validator.is_valid(broken), broken


def test_openapi_describes_every_route(app: Flask) -> None:
    routes = {
        str(rule.rule).replace("<docid:doc_id>", "{doc_id}")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith(("api.", "health."))
    }
    assert routes == set(SPEC["paths"])
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            assert method == "get" or (path, method) == ("/api/search", "post"), path
            for status in ("405", "413", "414", "500"):
                assert status in operation["responses"], (path, status)
            for param in operation.get("parameters", []):
                Draft202012Validator.check_schema(param["schema"])


# -- errors -----------------------------------------------------------------------------------


def test_unknown_api_route_is_json_404(client: FlaskClient) -> None:
    for url in ("/api/nope", "/api", "/api/", "/api/search/extra", "/api/documents"):
        r = client.get(url)
        assert r.status_code == 404 and r.mimetype == "application/json", url
        error_schema = {"$ref": f"{SPEC_URI}#/components/schemas/Error"}
        Draft202012Validator(error_schema, registry=REGISTRY).validate(r.get_json())
        assert r.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_wrong_method_is_405(api: Api, method: str) -> None:
    r, body = api.call("/api/search", method, "/api/search?q=会談")
    assert r.status_code == 405 and body["error"]["code"] == "method_not_allowed"
    assert "GET" in r.headers["Allow"] and "POST" in r.headers["Allow"]
    r, body = api.call("/api/stats", "post", "/api/stats")
    assert r.status_code == 405 and "POST" not in r.headers["Allow"]


def test_head_and_options_work(client: FlaskClient) -> None:
    assert client.head("/api/search?q=会談").status_code == 200
    assert client.options("/api/search").status_code == 200


def test_oversized_body_is_413(api: Api) -> None:
    r, body = api.call("/api/search", "post", "/api/search?q=会談", data=b"x" * 20_000)
    assert r.status_code == 413 and body["error"]["code"] == "payload_too_large"


def test_oversized_query_string_is_414(api: Api) -> None:
    r, body = api.get("/api/search", "/api/search?q=" + "%E4%BC%9A" * 4500)
    assert r.status_code == 414 and body["error"]["code"] == "uri_too_long"
    assert "1,000 characters" in body["error"]["message"] and "POST" in body["error"]["message"]
    r, body = api.get("/api/documents/{doc_id}", "/api/documents/" + "a" * 2100)
    assert r.status_code == 414


def test_missing_index_is_503(missing_api: Api) -> None:
    for template, url in (
        ("/api/search", "/api/search?q=会談"),
        ("/api/documents/{doc_id}", f"/api/documents/{SEED_ID}"),
        ("/api/stats", "/api/stats"),
    ):
        r, body = missing_api.get(template, url)
        assert r.status_code == 503, url
        assert body["error"]["code"] == "index_missing"
        assert "sakuin index" in body["error"]["message"]
        assert r.headers["Retry-After"]
    r, body = missing_api.get("/healthz")
    assert r.status_code == 503
    assert body["status"] == "unavailable" and body["error"]["code"] == "index_missing"


def test_bad_parameters_win_over_a_missing_index(missing_api: Api) -> None:
    """Validation happens before the index is touched, so the 400 explains the real mistake."""
    r, body = missing_api.get("/api/search", query_string={"q": "会談", "page": "x"})
    assert r.status_code == 400 and body["error"]["code"] == "bad_parameter"


def test_api_responses_carry_security_headers_and_utf8(client: FlaskClient) -> None:
    for url in ("/api/search?q=会談", "/api/nope", "/healthz", "/api/openapi.json"):
        r = client.get(url)
        assert r.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "same-origin"
    assert "会談".encode() in client.get("/api/search?q=会談").data  # readable, not \\u escapes


def test_snippet_html_escapes_document_markup(make_index: Callable[..., Path]) -> None:
    payload = '<script>alert(1)</script> "><img src=x onerror=alert(1)>'
    index = make_index({"x.jsonl": json.dumps({"id": "x", "title": payload, "text": f"会談 {payload}"})})
    api = Api(create_app({"TESTING": True, "INDEX_DIR": str(index)}).test_client())
    _, body = api.get("/api/search", query_string={"q": "会談"})
    hit = body["hits"][0]
    assert hit["title"] == payload and payload in hit["snippet"]["text"]  # JSON carries the raw text
    assert "<script>" not in hit["snippet"]["html"] and "<img" not in hit["snippet"]["html"]
    assert "&lt;script&gt;" in hit["snippet"]["html"]


def test_new_index_versions_are_served_without_a_restart(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# 一\n\n最初の会談。\n", encoding="utf-8")
    build_index([docs], tmp_path / "index")
    api = Api(create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "index")}).test_client())
    _, before = api.get("/api/search", query_string={"q": "会談"})
    _, health = api.get("/healthz")
    (docs / "b.md").write_text("# 二\n\n二回目の会談。\n", encoding="utf-8")
    build_index([docs], tmp_path / "index")
    _, after = api.get("/api/search", query_string={"q": "会談"})
    _, health_after = api.get("/healthz")
    assert (before["total"], after["total"]) == (1, 2)
    assert health["version"] != health_after["version"]


def unreachable_api() -> Api:
    """An app whose cluster does not answer (nothing listens on port 9)."""
    return Api(create_app({"TESTING": True, "BACKEND": "http://127.0.0.1:9"}).test_client())


def _auth_responses(seed: Seed, tmp_path: Path) -> set[tuple[str, str]]:
    """With ``--auth``: 401 wherever credentials are needed, 403 for a cookie POST without its CSRF
    token, 429 for a client whose limit is taken (one request already counted as running)."""
    access = write_access(tmp_path / "access.toml", {"reader": ["all"]}, [{"path": "", "groups": ["all"]}])
    app = seed.app(AUTH_FILE=str(access), CLIENT_CONCURRENCY=1)
    anonymous, signed = Api(app.test_client()), Api(app.test_client())
    seen = set()
    for template in SPEC["paths"]:
        if SPEC["paths"][template]["get"].get("security") == []:
            continue
        r, _ = anonymous.get(template, template.replace("{doc_id}", SEED_ID))
        assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer"), template
        seen.add((template, "401"))
    sign_in(signed.client, "reader")
    r, _ = signed.call("/api/search", "post", "/api/search", json={"q": "会談"})
    assert r.status_code == 403
    seen.add(("/api/search", "403"))
    limits = app.extensions[LIMIT_KEY]
    for template in ("/api/search", "/api/suggest", "/api/documents/{doc_id}"):
        assert limits.enter("user:reader")  # as if a request of this user were running
        try:
            url = {"/api/search": "/api/search?q=会談", "/api/suggest": "/api/suggest?q=会"}.get(template)
            r, _ = signed.get(template, url or f"/api/documents/{SEED_ID}")
        finally:
            limits.leave("user:reader")
        assert r.status_code == 429 and r.headers["Retry-After"] == "1", template
        seen.add((template, "429"))
    return seen


def test_every_documented_response_matches_a_real_one(api: Api, missing_api: Api, seed: Seed, tmp_path: Path) -> None:
    """Each (path, status) the document promises is produced for real and validated."""
    doc = "/api/documents/{doc_id}"
    cases: list[tuple[Api, str, str, int]] = [
        (api, "/api/search", "/api/search?q=会談", 200),
        (api, "/api/search", "/api/search?q=%22", 400),
        (missing_api, "/api/search", "/api/search?q=会談", 503),
        (api, doc, f"/api/documents/{SEED_ID}", 200),
        (api, doc, "/api/documents/none", 404),
        (missing_api, doc, f"/api/documents/{SEED_ID}", 503),
        (api, "/api/suggest", "/api/suggest?q=会", 200),
        (api, "/api/suggest", "/api/suggest?q=会&limit=0", 400),
        (missing_api, "/api/suggest", "/api/suggest?q=会", 503),
        (api, "/api/analyze", "/api/analyze?text=会談", 200),
        (api, "/api/analyze", "/api/analyze", 400),
        (api, "/api/stats", "/api/stats", 200),
        (missing_api, "/api/stats", "/api/stats", 503),
        (api, "/api/openapi.json", "/api/openapi.json", 200),
        (api, "/healthz", "/healthz", 200),
        (missing_api, "/healthz", "/healthz", 503),
        (api, "/api/status", "/api/status", 200),
        (api, "/api/status", "/api/status?reason=nope", 400),
        (missing_api, "/api/status", "/api/status", 200),  # no index yet is a status too
        (unreachable_api(), "/api/status", "/api/status", 503),
    ]
    seen = set()
    for client, template, url, status in cases:
        r, _ = client.get(template, url)
        assert r.status_code == status, url
        seen.add((template, str(status)))
    # Limits and methods are enforced for every address alike.
    for template in SPEC["paths"]:
        url = template.replace("{doc_id}", SEED_ID)
        for status, (method, kwargs) in {
            405: ("put", {}),
            413: ("post", {"data": b"x" * 20_000}),
            414: ("get", {"query_string": {"pad": "x" * 40_001}}),
        }.items():
            r, _ = api.call(template, method, url, **kwargs)
            assert r.status_code == status, (url, method)
            seen.add((template, str(status)))
    for client, body, status in ((api, {"q": "会談"}, 200), (api, {"q": ""}, 400), (missing_api, {"q": "会談"}, 503)):
        r, _ = client.call("/api/search", "post", "/api/search", json=body)
        assert r.status_code == status, body
        seen.add(("/api/search", str(status)))
    seen |= _auth_responses(seed, tmp_path)
    documented = {
        (path, status)
        for path, item in SPEC["paths"].items()
        for operation in item.values()
        for status in operation["responses"]
        if status != "500"  # only a bug gives a 500; test_web proves the handler's shape
    }
    assert documented == seen
