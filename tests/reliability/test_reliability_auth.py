"""Authentication under hostile or careless input: missing, wrong and malformed credentials, tokens
compared in constant time, the session cookie's flags, CSRF, proxy headers from an address that
is not the proxy, revoked tokens, open redirects, and the per-client limit on concurrent searches."""

from __future__ import annotations

import hashlib
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from support.access import (
    COMMON,
    bearer,
    csrf_of,
    sign_in,
    token_of,
    write_access,
    write_access_corpus,
)

from sakuin.search.access.users import add_user
from sakuin.search.embedded.writing.indexer import build_index
from sakuin.web import create_app
from sakuin.web.auth import identity
from sakuin.web.common import ENGINE_KEY

USERS = {"hana": ["hr"], "ken": ["legal"], "sso": ["legal"]}
RULES = [{"path": "hr/", "groups": ["hr"]}, {"path": "legal/", "groups": ["legal"]}]
PROXY = {"addresses": ["10.1.0.0/16"]}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("auth")
    build_index([write_access_corpus(base / "docs")], base / "index", declare=[("category", "keyword")])
    return base / "index"


@pytest.fixture
def access(tmp_path: Path) -> Path:
    return write_access(tmp_path / "access.toml", USERS, RULES, proxy=PROXY)


@pytest.fixture
def app(index: Path, access: Path) -> Flask:
    return create_app({"TESTING": True, "INDEX_DIR": str(index), "AUTH_FILE": str(access), "AUTH_RELOAD_SECONDS": 0})


def _doc_ids(response: Any) -> set[str]:
    return {h["doc_id"] for h in response.get_json()["hits"]}


def test_missing_wrong_and_malformed_credentials_are_401s(app: Flask) -> None:
    client = app.test_client()
    r = client.get("/api/search", query_string={"q": COMMON})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "auth_required"
    assert r.headers["WWW-Authenticate"] == 'Bearer realm="sakuin"'
    for header in (
        "Bearer wrong",
        "Bearer ",
        "Basic aGFuYTp4",
        f"Bearer {token_of('hana')}x",
        "Bearer " + "x" * 100_000,
        f"bearer  {token_of('hana')}  x",
    ):
        r = client.get("/api/search", query_string={"q": COMMON}, headers={"Authorization": header})
        assert r.status_code == 401 and r.get_json()["error"]["code"] == "bad_token", header[:40]
        assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    r = client.get("/api/search", query_string={"q": COMMON}, headers={"Authorization": f"bearer {token_of('hana')}"})
    assert r.status_code == 200  # the scheme is case-insensitive
    assert client.get("/healthz").status_code == 200 and client.get("/api/openapi.json").status_code == 200
    page = client.get("/search", query_string={"q": COMMON})
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=")


def test_tokens_are_compared_in_constant_time_against_every_user(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []
    real = identity.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(identity, "compare_digest", spy)
    client = app.test_client()
    assert client.get("/api/stats", headers=bearer("ken")).status_code == 200
    digest = hashlib.sha256(token_of("ken").encode()).hexdigest()
    assert len(calls) == len(USERS) and all(a == digest for a, _ in calls)  # no early exit
    calls.clear()
    assert client.get("/api/stats", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert len(calls) == len(USERS)
    calls.clear()
    form = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"user": "nobody", "token": "x", "csrf_token": csrf})
    assert r.status_code == 401 and len(calls) == 1  # an unknown name costs the same comparison


def test_the_session_cookie_is_httponly_strict_and_secure_behind_https(app: Flask) -> None:
    client = app.test_client()
    r = sign_in(client, "hana")
    cookie = r.headers["Set-Cookie"]
    assert r.status_code == 302 and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain HTTP: a Secure cookie would never come back
    assert token_of("hana") not in cookie and "hr" not in cookie.split(";")[0]
    behind = app.test_client()
    proxied = {"REMOTE_ADDR": "10.1.2.3"}
    form = behind.get("/login", environ_base=proxied).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    r = behind.post(
        "/login",
        data={"user": "hana", "token": token_of("hana"), "csrf_token": csrf},
        headers={"X-Forwarded-Proto": "https"},
        environ_base=proxied,
    )
    assert r.status_code == 302 and "; Secure" in r.headers["Set-Cookie"]
    spoofed = app.test_client()  # the same header from anyone else is not believed
    r = spoofed.get("/login", headers={"X-Forwarded-Proto": "https"}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert "Secure" not in r.headers["Set-Cookie"]


def test_posts_need_the_csrf_token_unless_a_bearer_token_authenticates_them(app: Flask) -> None:
    client = app.test_client()
    r = client.post("/login", data={"user": "hana", "token": token_of("hana")})
    assert r.status_code == 403 and "sakuin_session=eyJ1c2Vy" not in r.headers.get("Set-Cookie", "")
    sign_in(client, "hana")
    r = client.post("/api/search", json={"q": COMMON})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "csrf_failed"
    r = client.post("/api/search", json={"q": COMMON}, headers={"X-CSRFToken": "forged"})
    assert r.status_code == 403
    r = client.post("/api/search", json={"q": COMMON}, headers={"X-CSRFToken": csrf_of(client)})
    assert r.status_code == 200 and _doc_ids(r) == {"hr/d1.md", "hr/d2.md"}
    assert client.post("/logout").status_code == 403  # a forged sign-out is refused too
    assert client.post("/logout", data={"csrf_token": csrf_of(client)}).status_code == 302
    assert client.get("/api/stats").status_code == 401  # signed out
    r = app.test_client().post("/api/search", json={"q": COMMON}, headers=bearer("ken"))
    assert r.status_code == 200 and _doc_ids(r) == {"legal/d3.md", "legal/d4.md"}


def test_proxy_headers_sign_in_only_from_the_proxy(app: Flask) -> None:
    headers = {"X-Forwarded-User": "mika", "X-Forwarded-Groups": "hr, other"}
    client = app.test_client()
    r = client.get("/api/search", query_string={"q": COMMON}, headers=headers, environ_base={"REMOTE_ADDR": "10.1.0.9"})
    assert r.status_code == 200 and _doc_ids(r) == {"hr/d1.md", "hr/d2.md"}
    for address in ("10.9.9.9", "127.0.0.1", "::1", "10.2.0.1"):
        r = client.get(
            "/api/search", query_string={"q": COMMON}, headers=headers, environ_base={"REMOTE_ADDR": address}
        )
        assert r.status_code == 401, address  # ignored: as if they were not sent
        r = client.get(
            "/api/search",
            query_string={"q": COMMON},
            headers={**headers, **bearer("ken")},
            environ_base={"REMOTE_ADDR": address},
        )
        assert _doc_ids(r) == {"legal/d3.md", "legal/d4.md"}, address  # the token's user, not the header's
    # A user the file knows gets the file's groups too; a name that is not a name is refused.
    r = client.get(
        "/api/search",
        query_string={"q": COMMON},
        headers={"X-Forwarded-User": "sso"},
        environ_base={"REMOTE_ADDR": "10.1.0.9"},
    )
    assert _doc_ids(r) == {"legal/d3.md", "legal/d4.md"}
    r = client.get("/api/stats", headers={"X-Forwarded-User": "<script>"}, environ_base={"REMOTE_ADDR": "10.1.0.9"})
    assert r.status_code == 401


def test_a_new_token_ends_the_old_one_and_its_sessions(app: Flask, access: Path) -> None:
    browser = app.test_client()
    sign_in(browser, "ken")
    assert browser.get("/api/stats").status_code == 200
    assert app.test_client().get("/api/stats", headers=bearer("ken")).status_code == 200
    fresh = add_user(access, "ken", ["legal"], replace=True)
    assert app.test_client().get("/api/stats", headers=bearer("ken")).status_code == 401
    assert browser.get("/api/stats").status_code == 401
    assert app.test_client().get("/api/stats", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200
    assert fresh not in access.read_text(encoding="utf-8")


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"])
def test_sign_in_never_redirects_off_the_site(app: Flask, target: str) -> None:
    r = sign_in(app.test_client(), "hana", next_url=target)
    assert r.status_code == 302 and r.headers["Location"] == "/search"  # home, on this site


def test_one_client_cannot_take_every_thread(index: Path, access: Path) -> None:
    """With a limit of 1, a second search from the same client while its first runs is a 429 at
    once; another client (another user, or without auth another address) is served meanwhile."""
    app = create_app({"TESTING": True, "INDEX_DIR": str(index), "AUTH_FILE": str(access), "CLIENT_CONCURRENCY": 1})
    backend = app.extensions[ENGINE_KEY]
    started, release = threading.Event(), threading.Event()
    real_search = backend.search

    def slow_search(q: str, **options: Any) -> Any:
        if q == "slow":
            started.set()
            release.wait(10)
        return real_search(q, **options)

    backend.search = slow_search
    first: list[int] = []
    worker = threading.Thread(
        target=lambda: first.append(
            app.test_client().get("/api/search", query_string={"q": "slow"}, headers=bearer("hana")).status_code
        )
    )
    worker.start()
    try:
        assert started.wait(10)
        again = app.test_client().get("/api/search", query_string={"q": COMMON}, headers=bearer("hana"))
        assert again.status_code == 429 and again.headers["Retry-After"] == "1"
        assert again.get_json()["error"]["code"] == "too_many_requests"
        other = app.test_client().get("/api/search", query_string={"q": COMMON}, headers=bearer("ken"))
        assert other.status_code == 200
        assert app.test_client().get("/healthz").status_code == 200  # cheap requests are not counted
    finally:
        release.set()
        worker.join(10)
    assert first == [200]
    assert app.test_client().get("/api/search", query_string={"q": COMMON}, headers=bearer("hana")).status_code == 200


def test_a_bad_access_file_is_one_line_at_start(index: Path, tmp_path: Path) -> None:
    from sakuin.search.errors import SakuinError

    bad = tmp_path / "bad.toml"
    for text, code in (
        ("default = [", "bad_auth_file"),
        ('default = "maybe"', "bad_auth_file"),
        ('[users.a]\ntoken_sha256 = "short"', "bad_auth_file"),
        ('[[allow]]\ngroups = ["x"]', "bad_auth_file"),
        ('[[allow]]\npath = "a/"\ngroups = "x"', "bad_auth_file"),
        ('[proxy]\naddresses = ["not an address"]', "bad_auth_file"),
        ("surprise = 1", "bad_auth_file"),
    ):
        bad.write_text(text, encoding="utf-8")
        with pytest.raises(SakuinError) as caught:
            create_app({"TESTING": True, "INDEX_DIR": str(index), "AUTH_FILE": str(bad)})
        assert caught.value.code == code and "\n" not in str(caught.value), text
    with pytest.raises(SakuinError):
        create_app({"TESTING": True, "INDEX_DIR": str(index), "AUTH_FILE": str(tmp_path / "absent.toml")})


def test_thumbnails_and_originals_of_a_denied_pdf_answer_as_missing_ones(tmp_path: Path) -> None:
    from support.documents import PAGES_HTML, chromium_pdf

    docs = tmp_path / "docs"
    (docs / "hr").mkdir(parents=True)
    chromium_pdf(PAGES_HTML, docs / "hr" / "minutes.pdf", outline=False)
    build_index([docs], tmp_path / "index")
    access = write_access(tmp_path / "access.toml", USERS, RULES)
    client = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "index"), "AUTH_FILE": str(access)}).test_client()
    for url in ("/thumbs/1/hr/minutes.pdf?q=予算", "/files/hr/minutes.pdf", "/doc/hr/minutes.pdf?q=予算"):
        allowed = client.get(url, headers=bearer("hana"))
        assert allowed.status_code == 200, url
        denied = client.get(url, headers=bearer("ken"))
        missing = client.get(url.replace("minutes", "absent"), headers=bearer("ken"))
        assert denied.status_code == missing.status_code == 404, url
        assert denied.get_data().replace(b"minutes", b"absent") == missing.get_data(), url
