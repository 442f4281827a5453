"""The HTML pages: search, document, help, errors, escaping, headers, and serving."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from support.backends import Seed
from support.corpora import SEED_ID
from support.processes import free_port
from support.web import wait_healthy

from sakuin.web import create_app
from sakuin.web.render import page_window, paragraphs
from sakuin.web.security import CONTENT_SECURITY_POLICY
from sakuin.web.server import serve

SEED_TITLE = "ロシア国防大臣がオースティン米国防長官と異例の電話会談"

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOADS = (SCRIPT, IMG)

XSS_MARKDOWN = f"""# 危険なタイトル {SCRIPT} {IMG}

## 見出し {SCRIPT} {IMG}

本文にも {SCRIPT} と {IMG} があるが、国防大臣の会談の話でもある。

二段落目: 警戒 {SCRIPT}
"""
#: Plain text keeps markup verbatim (Markdown drops inline HTML), so the payloads reach the index.
#: Title and heading lines stay under the reader's 60-character heading limit.
XSS_TEXT = f"""題 {SCRIPT} {IMG}

節 {SCRIPT} {IMG}

会談の本文 {SCRIPT} と {IMG} がある。
"""
XSS_JSONL = (
    json.dumps(
        {
            "id": f"evil/{IMG}",
            "title": f"JSONL {SCRIPT}",
            "sections": [{"heading": f"章 {IMG}", "text": f"会談の記録 {SCRIPT} {IMG}"}],
            "source": f"{SCRIPT}",
        },
        ensure_ascii=False,
    )
    + "\n"
)
ODD_IDS = ["a//b", "/leading/slash", "x/../y", "100% sure?#frag", "日本語/文書 名", "tab\tand\nnewline"]
ODD_JSONL = "".join(
    json.dumps({"id": i, "title": f"奇妙な識別子 {n}", "text": f"識別子の試験 {n}"}, ensure_ascii=False) + "\n"
    for n, i in enumerate(ODD_IDS)
)


def soup(html: bytes | str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def assert_security_headers(response) -> None:
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def assert_no_raw_payload(html: str) -> None:
    for payload in PAYLOADS:
        assert payload not in html
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    # Parsed, the only elements are ours: no <img>, and every <script> is our external file.
    page = soup(html)
    assert page.find("img") is None
    assert all(s.get("src", "").startswith("/static/") for s in page.find_all("script"))
    assert not any(attr.startswith("on") for tag in page.find_all(True) for attr in tag.attrs)


@pytest.fixture(scope="module")
def xss_client(make_index: Callable[..., Path]) -> FlaskClient:
    index = make_index({"evil.md": XSS_MARKDOWN, "evil.txt": XSS_TEXT, "evil.jsonl": XSS_JSONL, "odd.jsonl": ODD_JSONL})
    return create_app({"TESTING": True, "INDEX_DIR": str(index)}).test_client()


# -- search page -------------------------------------------------------------------------


def test_home_is_the_empty_search_page(client: FlaskClient) -> None:
    r = client.get("/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = soup(r.data)
    assert page.html["lang"] == "ja"
    box = page.find("input", id="q")
    assert box is not None and box.has_attr("autofocus") and box["name"] == "q"
    assert page.find("label", attrs={"for": "q"}).get_text(strip=True)
    assert page.find("form", role="search")["action"] == "/search"
    assert page.select_one(".empty-state") is not None
    assert page.find("a", href="/help") is not None
    assert page.select(".doc-group") == []
    assert_security_headers(r)


def test_blank_query_is_the_empty_state_not_an_error(client: FlaskClient) -> None:
    for url in ("/search", "/search?q=", "/search?q=%E3%80%80++"):
        r = client.get(url)
        assert r.status_code == 200
        assert soup(r.data).select_one(".empty-state") is not None


def test_search_groups_hits_by_document_with_marks(client: FlaskClient) -> None:
    r = client.get("/search", query_string={"q": "国防大臣"})
    assert r.status_code == 200
    page = soup(r.data)
    groups = page.select(".doc-group")
    assert len(groups) == 1  # one seed document: its title appears once
    assert groups[0].select_one(".doc-title").get_text(strip=True).startswith(SEED_TITLE)
    hits = groups[0].select(".hit")
    assert len(hits) == 10
    assert page.select(".snippet mark"), "snippets highlight the query"
    assert "<mark>国防大臣</mark>" in r.get_data(as_text=True)
    summary = page.select_one(".summary").get_text(" ", strip=True)
    assert "17" in summary and "件" in summary and "秒" in summary
    # The box keeps the query; the page links its JSON twin.
    assert page.find("input", id="q")["value"] == "国防大臣"
    twin = page.find("link", rel="alternate", type="application/json")["href"]
    assert twin == "/api/search?q=" + quote("国防大臣")
    assert page.select_one(".summary a.json-link")["href"] == twin


def test_hit_links_go_to_their_section_with_the_query(client: FlaskClient) -> None:
    page = soup(client.get("/search", query_string={"q": "電話会談"}).data)
    links = [a["href"] for a in page.select(".hit a.hit-heading")]
    first = urlsplit(links[0])
    assert first.path == f"/doc/{SEED_ID}"
    assert first.query == "q=" + quote("電話会談")
    assert first.fragment == "s-1"  # the section "露国防大臣が米国防長官と電話会談"
    doc = client.get(links[0])
    assert doc.status_code == 200
    section = soup(doc.data).find(id="s-1")
    assert section.find("h2").find("mark").get_text() == "電話会談"


def test_pagination_links(client: FlaskClient) -> None:
    page = soup(client.get("/search", query_string={"q": "ロシア"}).data)
    pager = page.select_one("nav.pager")
    assert pager is not None
    assert pager.select_one("[aria-current=page]").get_text() == "1"
    assert pager.find("a", rel="next")["href"] == "/search?q=" + quote("ロシア") + "&page=2"
    page2 = soup(client.get("/search", query_string={"q": "ロシア", "page": 2}).data)
    assert len(page2.select(".hit")) == 7  # 17 sections, 10 per page
    assert page2.select_one("nav.pager a[rel=prev]") is not None
    assert page2.select_one("nav.pager [aria-current=page]").get_text() == "2"
    assert "11〜17" in page2.select_one(".summary").get_text()


def test_page_past_the_end_says_so(client: FlaskClient) -> None:
    r = client.get("/search", query_string={"q": "ロシア", "page": 9})
    assert r.status_code == 200
    assert "ページ目には結果がありません" in r.get_data(as_text=True)


def test_no_results_gives_hints(client: FlaskClient) -> None:
    r = client.get("/search", query_string={"q": "量子コンピュータ"})
    assert r.status_code == 200
    text = soup(r.data).select_one(".notice").get_text(" ", strip=True)
    assert "一致するセクションはありません" in text
    assert "OR" in text and "綴り" in text and "語を減らす" in text


@pytest.mark.parametrize(
    ("q", "message"),
    [
        ('"電話会談', '引用符 " が閉じていません'),
        ("(会談", "括弧 ( が閉じていません"),
        ("-会談", "除外する語（NOT/-）だけでは検索できません"),
        ("会談 OR", "OR の両側"),
        (
            "author:foo",
            "author: というフィールドはありません。使えるのは title:、heading:、path:、type:、modified: です",
        ),
        ("(" * 30 + "会談" + ")" * 30, "括弧の入れ子が深すぎます。20 段まで"),
    ],
)
def test_query_syntax_error_keeps_the_box_filled(client: FlaskClient, q: str, message: str) -> None:
    r = client.get("/search", query_string={"q": q})
    assert r.status_code == 400 and r.mimetype == "text/html"
    page = soup(r.data)
    assert message in page.select_one(".notice-error").get_text()
    assert page.find("input", id="q")["value"] == q
    assert page.select(".doc-group") == []


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "1001", " 2", "１"])
def test_bad_page_number_is_a_400_page(client: FlaskClient, page: str) -> None:
    r = client.get("/search", query_string={"q": "会談", "page": page})
    assert r.status_code == 400
    assert "page は 1〜1000 の整数で指定してください" in r.get_data(as_text=True)
    assert soup(r.data).find("input", id="q")["value"] == "会談"


def test_query_over_1000_chars_is_a_400_page(client: FlaskClient) -> None:
    for q in ("あ" * 1001, "a" * 2000, "国" * 3000):  # one limit in characters, whatever the script
        r = client.get("/search", query_string={"q": q})
        assert r.status_code == 400
        assert "検索語が長すぎます。1,000 文字以内にしてください。" in r.get_data(as_text=True)


# -- document page -------------------------------------------------------------------------


def test_document_page_has_toc_anchors_and_paragraphs(client: FlaskClient) -> None:
    r = client.get(f"/doc/{SEED_ID}")
    assert r.status_code == 200
    page = soup(r.data)
    assert page.find("h1").get_text(strip=True).startswith(SEED_TITLE)
    sections = page.select("section.doc-section")
    assert [s["id"] for s in sections] == [f"s-{i}" for i in range(17)]
    toc = [a["href"] for a in page.select("nav.toc a")]
    assert toc == [f"#s-{i}" for i in range(17)]
    assert page.find(id="s-1").find("h2").get_text(strip=True).endswith("露国防大臣が米国防長官と電話会談")
    # Section 0 has two paragraphs separated by a blank line in the source.
    assert len(page.find(id="s-0").find_all("p")) == 2
    assert page.select("mark") == []  # no query, no highlighting
    twin = page.find("link", rel="alternate", type="application/json")["href"]
    assert twin == f"/api/documents/{SEED_ID}"
    assert page.find("a", class_="json-link")["href"] == twin


def test_document_page_highlights_the_query(client: FlaskClient) -> None:
    page = soup(client.get(f"/doc/{SEED_ID}", query_string={"q": "国防大臣"}).data)
    heading = page.find(id="s-1").find("h2")
    assert [m.get_text() for m in heading.find_all("mark")] == ["国防大臣", "国防"]
    assert page.find(id="s-1").find("p").find("mark").get_text() == "国防大臣"
    assert page.select("nav.toc .badge"), "the table of contents shows where the matches are"
    assert page.select_one(".back a")["href"] == "/search?q=" + quote("国防大臣")


def test_document_page_survives_a_bad_or_long_query(client: FlaskClient) -> None:
    for q, notice in (('"会談', "この検索語は強調表示できません"), ("会" * 1001, "長すぎるため強調表示できません")):
        r = client.get(f"/doc/{SEED_ID}", query_string={"q": q})
        assert r.status_code == 200
        assert notice in soup(r.data).select_one(".notice-error").get_text()
        assert len(soup(r.data).select("section.doc-section")) == 17


def test_unknown_document_is_a_404_page(client: FlaskClient) -> None:
    r = client.get("/doc/no/such/doc.md")
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert "ページが見つかりません" in r.get_data(as_text=True)
    assert "No document has this id" in r.get_data(as_text=True)
    assert_security_headers(r)


@pytest.mark.parametrize(
    "url",
    [
        "/doc/../../../../etc/passwd",
        "/doc/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/doc//etc/passwd",
        "/doc/..%2F..%2F..%2Fetc%2Fpasswd",
        f"/doc/{Path(__file__).resolve()}",
        "/doc/%00",
    ],
)
def test_doc_ids_never_reach_the_filesystem(client: FlaskClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 404
    text = r.get_data(as_text=True)
    assert "root:" not in text and "def test_" not in text


def test_odd_doc_ids_round_trip_through_links(xss_client: FlaskClient) -> None:
    page = soup(xss_client.get("/search", query_string={"q": "識別子"}).data)
    links = {urlsplit(a["href"]).path for a in page.select(".doc-title a")}
    assert len(links) == len(ODD_IDS)
    for link in links:
        r = xss_client.get(link)
        assert r.status_code == 200, link
        assert "奇妙な識別子" in soup(r.data).find("h1").get_text()
    # The generated links keep the characters that matter out of the path's syntax.
    assert "/doc/a//b" in links and "/doc//leading/slash" in links
    assert "/doc/x%2F..%2Fy" in links  # a ".." segment would be resolved away by the browser
    assert "/doc/100%25%20sure%3F%23frag" in links


def test_help_page_explains_the_syntax(client: FlaskClient, seed: Seed) -> None:
    """Every operator, each shown with words the index has, and every example finds something."""
    r = client.get("/help")
    assert r.status_code == 200
    page = soup(r.data)
    text = page.get_text(" ")
    for syntax in ('"', " OR ", " -", "NOT", "title:", "heading:", "("):
        assert syntax in text
    engine = seed.engine()
    shown = [a.get_text() for a in page.select("table.syntax a")]
    assert len(shown) >= 4 and any(engine.examples().words[0] in q for q in shown)
    for q in shown:
        assert engine.search(q).total > 0, q


# -- errors -----------------------------------------------------------------------------


def test_unknown_page_is_html_404(client: FlaskClient) -> None:
    r = client.get("/nope")
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert soup(r.data).find("input", id="q") is not None  # the search box is still there


def test_wrong_method_is_html_405(client: FlaskClient) -> None:
    r = client.post("/search", data={"q": "会談"})
    assert r.status_code == 405 and r.mimetype == "text/html"
    assert "GET" in r.headers["Allow"]
    assert_security_headers(r)


def test_oversized_query_string_is_414(client: FlaskClient) -> None:
    r = client.get("/search?q=" + "a" * 40_001)
    assert r.status_code == 414 and r.mimetype == "text/html"
    assert_security_headers(r)


def test_oversized_body_is_413(client: FlaskClient) -> None:
    r = client.post("/search", data="x" * 20_000, content_type="text/plain")
    assert r.status_code == 413
    assert_security_headers(r)


def test_missing_index_is_a_503_page(tmp_path: Path) -> None:
    app = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "empty")})
    c = app.test_client()
    assert c.get("/").status_code == 200  # nothing to search yet, nothing fails
    for url in ("/search?q=会談", f"/doc/{SEED_ID}"):
        r = c.get(url)
        assert r.status_code == 503 and r.mimetype == "text/html"
        text = r.get_data(as_text=True)
        assert "sakuin index" in text and str(tmp_path) not in text
        assert_security_headers(r)


def test_unexpected_errors_are_a_generic_500(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app({"INDEX_DIR": str(tmp_path)})

    @app.get("/api/boom")
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    c = app.test_client()
    api, page = c.get("/api/boom"), c.get("/boom")
    assert (api.status_code, api.json["error"]["code"]) == (500, "internal_error")
    assert page.status_code == 500 and page.mimetype == "text/html"
    for r in (api, page):
        assert "secret internals" not in r.get_data(as_text=True)
        assert "Traceback" not in r.get_data(as_text=True)
        assert_security_headers(r)
    assert any("unhandled error" in rec.getMessage() for rec in caplog.records)


# -- escaping and headers ---------------------------------------------------------------------


def test_payloads_in_documents_render_as_text(xss_client: FlaskClient) -> None:
    r = xss_client.get("/search", query_string={"q": "会談"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    page = soup(html)
    titles = [a.get_text() for a in page.select(".doc-title a")]
    assert len(titles) == 3  # evil.md, evil.txt, the JSONL record
    assert_no_raw_payload(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    # Escaped, the payload still reads as the original text: in titles, headings and snippets.
    assert f"題 {SCRIPT} {IMG}" in titles and f"JSONL {SCRIPT}" in titles
    assert any(f"節 {SCRIPT} {IMG}" == h.get_text() for h in page.select(".hit-heading"))
    assert any(SCRIPT in p.get_text() and IMG in p.get_text() for p in page.select(".snippet"))
    for link in (a["href"] for a in page.select(".hit-heading")):
        doc = xss_client.get(link)
        assert doc.status_code == 200, link
        assert_no_raw_payload(doc.get_data(as_text=True))
    text_doc = soup(xss_client.get("/doc/evil.txt", query_string={"q": "会談"}).data)
    assert text_doc.find("h1").get_text() == f"題 {SCRIPT} {IMG}"
    assert text_doc.select_one("#s-0 h2").get_text() == f"§節 {SCRIPT} {IMG}"
    assert text_doc.select_one("#s-0 p").get_text() == f"会談の本文 {SCRIPT} と {IMG} がある。"
    assert text_doc.select_one("#s-0 p mark").get_text() == "会談"


def test_document_meta_is_escaped(xss_client: FlaskClient) -> None:
    r = xss_client.get("/doc/" + quote(f"evil/{IMG}", safe="/"))
    assert r.status_code == 200
    assert_no_raw_payload(r.get_data(as_text=True))
    assert soup(r.data).select_one(".meta dd").get_text() == SCRIPT


@pytest.mark.parametrize("q", [*PAYLOADS, f"会談 {SCRIPT}", f'"{IMG}"', f"title:{SCRIPT}"])
def test_payloads_in_queries_render_as_text(client: FlaskClient, q: str) -> None:
    for url in ("/search", f"/doc/{SEED_ID}", "/nope"):
        r = client.get(url, query_string={"q": q})
        assert r.status_code < 500
        assert_no_raw_payload(r.get_data(as_text=True))
        box = soup(r.data).find("input", id="q")
        assert box is not None and box["value"] == q


def test_payload_in_the_path_of_a_404(client: FlaskClient) -> None:
    r = client.get("/doc/" + quote(SCRIPT + IMG))
    assert r.status_code == 404
    assert_no_raw_payload(r.get_data(as_text=True))


@pytest.mark.parametrize(
    "url",
    ["/", "/search?q=会談", f"/doc/{SEED_ID}?q=会談", "/help", "/nope", "/static/style.css", "/static/app.js"],
)
def test_every_response_has_security_headers(client: FlaskClient, url: str) -> None:
    assert_security_headers(client.get(url))


@pytest.mark.parametrize("url", ["/", "/search?q=会談", "/search?q=%22", f"/doc/{SEED_ID}?q=会談", "/help", "/nope"])
def test_pages_need_no_inline_script_or_style(client: FlaskClient, url: str) -> None:
    """The CSP forbids inline code, so any would silently break in the browser."""
    html = client.get(url).get_data(as_text=True)
    page = soup(html)
    assert all(s.get("src") and not s.string for s in page.find_all("script"))
    assert page.find("style") is None
    assert not re.search(r"\sstyle=", html)
    assert not any(attr.startswith("on") for tag in page.find_all(True) for attr in tag.attrs)
    for link in page.find_all("link", rel="stylesheet"):
        assert link["href"].startswith("/static/")


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_colours_meet_wcag_aa(client: FlaskClient) -> None:
    """Every text/background pair the stylesheet uses reaches 4.5:1, in the light and the dark theme."""
    css = client.get("/static/style.css").get_data(as_text=True)
    light_css, _, dark_css = css.partition("@media (prefers-color-scheme: dark)")
    assert dark_css, "the stylesheet has no dark theme"
    light = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", light_css))
    dark = {**light, **dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", dark_css.split("\n}\n", 1)[0]))}
    light["white"] = "#ffffff"
    dark["white"] = dark["bg"]  # the dark theme puts dark text on the accent buttons
    pairs = [
        ("text", "bg"),
        ("text", "mark-bg"),
        ("text", "target-bg"),
        ("text", "error-bg"),
        ("muted", "bg"),
        ("muted", "surface"),
        ("muted", "target-bg"),
        ("link", "bg"),
        ("link", "surface"),
        ("link", "target-bg"),
        ("link", "error-bg"),
        ("link-visited", "bg"),
        ("accent", "bg"),
        ("white", "accent"),
        ("text", "surface"),
    ]
    for name, var in (("light", light), ("dark", dark)):
        for fg, bg in pairs:
            assert contrast(var[fg], var[bg]) >= 4.5, (name, fg, bg, round(contrast(var[fg], var[bg]), 2))
    assert dark["bg"] != light["bg"] and "color-scheme" in client.get("/").get_data(as_text=True)


def test_static_files_are_served(client: FlaskClient) -> None:
    css = client.get("/static/style.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    text = css.get_data(as_text=True)
    assert "Hiragino Sans" in text and "IPAGothic" in text and "line-height: 1.8" in text
    assert ":target" in text and "mark" in text
    js = client.get("/static/app.js")
    assert js.status_code == 200 and "javascript" in js.mimetype


@pytest.mark.parametrize(
    "q",
    [
        "\x00",
        "\u0000会談",
        "(((((",
        ")",
        '"',
        '""',
        "title:",
        'heading:""',
        "OR OR OR",
        "NOT",
        "- -",
        "AND",
        "会談 AND",
        "🙂" * 50,
        "\ufffd\ufeff\u200b",
        "a" * 1000,
        "国" * 1000,
        "ー" * 999,
        "%",
        "\\",
        "title:title:会談",
        "(会談 OR (協議 -電話)) heading:ロシア",
    ],
)
def test_odd_queries_never_fail_the_server(client: FlaskClient, q: str) -> None:
    for url in ("/search", f"/doc/{SEED_ID}", "/api/search"):
        r = client.get(url, query_string={"q": q})
        assert r.status_code in (200, 400), (url, r.status_code)
    assert client.get("/api/analyze", query_string={"text": q}).status_code == 200


def test_invalid_utf8_in_the_query_string(client: FlaskClient) -> None:
    r = client.get("/search?q=%FF%FE%E3%81")
    assert r.status_code in (200, 400)


# -- helpers ------------------------------------------------------------------------------------


def test_paragraphs_split_on_blank_lines_and_shift_spans() -> None:
    text = "一行目\n続き\n\n  二段落目に会談がある\n\u3000\n三段落<目>"
    parts = paragraphs(text, [(15, 17), (27, 28)])
    assert [str(p) for p in parts] == [
        "一行目\n続き",
        "二段落目に<mark>会談</mark>がある",
        "三段落&lt;<mark>目</mark>&gt;",
    ]
    assert paragraphs("") == []


def test_page_window() -> None:
    def show(current: int, last: int) -> str:
        return " ".join(
            "…" if p.number is None else f"[{p.number}]" if p.current else str(p.number)
            for p in page_window(current, last)
        )

    assert show(1, 1) == "[1]"
    assert show(1, 10) == "[1] 2 3 … 10"
    assert show(5, 10) == "1 2 3 4 [5] 6 7 … 10"
    assert show(10, 10) == "1 … 8 9 [10]"


# -- serving ------------------------------------------------------------------------------------


def test_serve_without_an_index_exits_1_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        serve(tmp_path / "nothing", "127.0.0.1", free_port(), 1)
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("sakuin: no index in") and "sakuin index" in err
    assert "Traceback" not in err


def test_serve_on_a_taken_port_exits_1(index_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(SystemExit) as exc:
            serve(index_dir, "127.0.0.1", taken.getsockname()[1], 1)
    assert exc.value.code == 1
    assert "cannot listen on" in capsys.readouterr().err


def test_serve_runs_the_app_under_gunicorn_workers(make_index: Callable[..., Path]) -> None:
    """A real server: the URL is printed, the app answers from two workers, encoded
    slashes in ids survive, each request gets one access-log line, SIGTERM stops it."""
    index = make_index({"odd.jsonl": ODD_JSONL})
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sakuin.web.server", "--index-dir", str(index), "--port", str(port), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert f"at {base}/ with 2 workers" in line
        health = wait_healthy(base + "/healthz", proc, timeout=20)
        assert health["status"] == "ok"
        with urllib.request.urlopen(base + "/doc/x%2F..%2Fy") as r:  # the id "x/../y"
            assert r.status == 200 and r.headers["Server"] == "sakuin"
            assert r.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(base + "/api/search?q=%22")
        assert err.value.code == 400
        with urllib.request.urlopen(base + "/static/style.css") as r:
            css_bytes = len(r.read())
        long_q = quote("あ" * 1000)  # 9 KB percent-encoded: past gunicorn's own request-line limit
        with urllib.request.urlopen(f"{base}/api/search?q={long_q}") as r:
            assert r.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err_text = proc.communicate(timeout=40)
    assert proc.returncode == 0, err_text
    log = [entry for entry in out.splitlines() if '"GET ' in entry]
    assert any('"GET /doc/x%2F..%2Fy HTTP/1.1" 200 ' in entry and entry.endswith("ms") for entry in log), out
    assert any('"GET /api/search?q=%22 HTTP/1.1" 400 ' in entry for entry in log), out
    assert any(f'"GET /static/style.css HTTP/1.1" 200 {css_bytes} ' in entry for entry in log), out
    assert "sakuin: stopped" in out
    assert "Traceback" not in err_text


@pytest.fixture
def plain_app(index_dir: Path) -> Flask:
    return create_app({"INDEX_DIR": str(index_dir)})


def test_app_without_testing_flag_behaves_the_same(plain_app: Flask) -> None:
    """TESTING changes exception propagation in Flask; the real configuration must give the same answers."""
    c = plain_app.test_client()
    assert c.get("/search?q=%22").status_code == 400
    assert c.get("/api/search").status_code == 400
    assert c.get("/api/documents/none").status_code == 404
