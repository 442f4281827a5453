"""The status report on both backends: ``GET /api/status`` (validated against the OpenAPI
document), the ``/status`` page drawn from exactly its numbers, ``sakuin status --json``
equal to it, skipped files filterable by reason and path, and the home page's sentence.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from support.backends import Seed
from support.paths import ROOT
from support.web import Api

from sakuin.search.embedded.writing.indexer import build_index
from sakuin.web import create_app
from sakuin.web.security import CONTENT_SECURITY_POLICY


@pytest.fixture
def api(client: FlaskClient) -> Api:
    return Api(client)


def soup(html: bytes) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def page_data(page: BeautifulSoup) -> dict:
    """What the status page shows, read back from its markup."""
    return {
        "version": page.select_one('[data-field="version"]').get_text(strip=True),
        "size_bytes": int(page.select_one('[data-field="size_bytes"]')["data-value"]),
        "types": [(g["data-label"], float(g["data-value"])) for g in page.select("#chart-types .chart-row")],
        "folders": [(g["data-label"], float(g["data-value"])) for g in page.select("#chart-folders .chart-row")],
        "sizes": [float(c["data-value"]) for c in page.select("#chart-sizes .chart-point")],
        "runs": [(tr["data-trigger"], tr["data-outcome"]) for tr in page.select("tr.run")],
        "skipped": [(tr.select_one("td.path").get_text(), tr["data-code"]) for tr in page.select("tr.skip")],
        "watchers": [li["data-state"] for li in page.select("li.watcher")],
    }


def expected_page_data(status: dict) -> dict:
    from sakuin.web.status import folder_label, type_counts

    index = status["index"]
    sized = [r for r in reversed(status["runs"]) if r["size_bytes"] is not None and r["outcome"] != "failed"]
    return {
        "version": index["version"],
        "size_bytes": index["size_bytes"],
        "types": [(label, float(n)) for label, n in type_counts(index)],
        "folders": [(folder_label(name), float(n)) for name, n in index["folders"].items()],
        "sizes": [float(r["size_bytes"]) for r in sized],
        "runs": [(r["trigger"], r["outcome"]) for r in status["runs"]],
        "skipped": [(s["path"], s["code"]) for s in status["skipped"]["files"]],
        "watchers": [w["state"] for w in status["watchers"]],
    }


def test_status_api_reports_the_live_version_and_the_runs(api: Api, seed: Seed) -> None:
    r, body = api.get("/api/status")
    assert r.status_code == 200
    assert body["index"] == seed.engine().stats()
    assert body["index"]["types"] == {"txt": 1} and body["index"]["folders"] == {".": 1}
    assert body["runs"] and body["runs"][0]["trigger"] == "index"
    assert body["runs"][-1]["added"] == 1 and body["runs"][-1]["outcome"] == "updated"
    assert body["watchers"] == [] and body["skipped"]["total"] == 0


def test_status_page_draws_exactly_the_json(client: FlaskClient) -> None:
    r = client.get("/status")
    assert r.status_code == 200 and r.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    page = soup(r.data)
    status = client.get(page.find("link", rel="alternate")["href"]).get_json()
    assert page_data(page) == expected_page_data(status)
    assert page.select_one("table#chart-types svg.chart-track") is not None
    assert page.select_one("#chart-sizes svg.chart-plot") is not None
    assert not page.select("[style]") and not page.select("style") and not page.select("script:not([src])")


def test_status_cli_json_is_the_api_answer(client: FlaskClient, seed: Seed) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sakuin", "status", "--json", *seed.option],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, **seed.env},
    )
    assert proc.returncode == 0, proc.stderr
    printed, answered = json.loads(proc.stdout), client.get("/api/status").get_json()
    if seed.name == "opensearch":
        # A cluster's store size and health change on their own (background merges, shard
        # allocation) between the two calls: they are there, the rest is the same report.
        for report in (printed, answered):
            assert report["index"].pop("size_bytes") > 0 and report["index"].pop("cluster")["nodes"] >= 1
    assert printed == answered
    words = subprocess.run(
        [sys.executable, "-m", "sakuin", "status", *seed.option],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, **seed.env},
    )
    assert words.returncode == 0 and "documents" in words.stdout and "runs:" in words.stdout


def test_status_bad_parameters(api: Api) -> None:
    r, body = api.get("/api/status", query_string={"reason": "nope"})
    assert r.status_code == 400 and body["error"]["code"] == "bad_parameter"
    r, body = api.get("/api/status", query_string={"runs": "9999"})
    assert r.status_code == 400 and body["error"]["code"] == "bad_parameter"
    r, body = api.get("/api/status", query_string={"runs": "0"})
    assert r.status_code == 200 and body["runs"] == []
    for empty in ({"reason": ""}, {"runs": ""}):  # the page's form never sends these empty
        r, body = api.get("/api/status", query_string=empty)
        assert r.status_code == 400 and body["error"]["code"] == "bad_parameter", empty


@pytest.fixture(scope="module")
def skipping(tmp_path_factory: pytest.TempPathFactory) -> tuple[FlaskClient, Path]:
    """An index of a folder with files of every kind of skip, and its client."""
    base = tmp_path_factory.mktemp("skips")
    docs = base / "docs"
    (docs / "news").mkdir(parents=True)
    (docs / "blog").mkdir()
    for i in range(3):
        (docs / "news" / f"n{i}.md").write_text(f"# 記事{i}\n\n猫の話。\n", encoding="utf-8")
    (docs / "blog" / "b.html").write_text("<title>犬</title><p>犬の話。</p>", encoding="utf-8")
    (docs / "blog" / "report.zip").write_bytes(b"PK\x03\x04")
    (docs / "news" / "slides.key").write_bytes(b"PK")
    (docs / "news" / "empty.txt").write_text("", encoding="utf-8")
    (docs / "blog" / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    os.mkfifo(docs / "pipe.txt")
    build_index([docs], base / "ix")
    return create_app({"TESTING": True, "INDEX_DIR": str(base / "ix")}).test_client(), docs


def test_every_skipped_file_is_listed_and_filterable(skipping: tuple[FlaskClient, Path]) -> None:
    client, _ = skipping
    api = Api(client)
    _, body = api.get("/api/status")
    skipped = body["skipped"]
    assert skipped["total"] == 5
    assert skipped["reasons"] == {"unsupported_type": 2, "empty_file": 1, "binary_file": 1, "not_regular": 1}
    assert [Path(s["path"]).name for s in skipped["files"]] == [
        "image.txt",
        "report.zip",
        "empty.txt",
        "slides.key",
        "pipe.txt",
    ]
    _, only = api.get("/api/status", query_string={"reason": ["unsupported_type", "empty_file"], "path": "NEWS/"})
    assert [Path(s["path"]).name for s in only["skipped"]["files"]] == ["empty.txt", "slides.key"]
    assert only["skipped"]["reasons"] == skipped["reasons"]  # counts over all, for the filter's labels
    assert only["skipped"]["filter"] == {"reasons": ["unsupported_type", "empty_file"], "path": "NEWS/"}
    page = soup(client.get("/status?reason=unsupported_type&reason=empty_file&path=NEWS/").data)
    assert page_data(page)["skipped"] == [(s["path"], s["code"]) for s in only["skipped"]["files"]]
    checked = [i["value"] for i in page.select('.skip-filter input[name="reason"][checked]')]
    assert checked == ["unsupported_type", "empty_file"]
    assert page.select_one('.skip-filter input[name="path"]')["value"] == "NEWS/"
    labels = [label.get_text(" ", strip=True) for label in page.select(".reason-choice")]
    assert labels == ["対応していない形式 2", "空のファイル 1", "バイナリ 1", "通常のファイルでない 1"]
    assert page.find("link", rel="alternate")["href"].startswith("/api/status?reason=unsupported_type")


def test_the_home_page_says_what_is_indexed_and_links_to_the_status(
    skipping: tuple[FlaskClient, Path], make_index: Callable[..., Path]
) -> None:
    client, _ = skipping
    home = soup(client.get("/").data)
    sentence = home.select_one("p.index-stats")
    text = sentence.get_text(" ", strip=True)
    assert text.startswith("Markdown 3・HTML 1、計 4 文書（4 セクション）を 2 フォルダから索引しています。最終更新は")
    assert sentence.find("time") is not None
    assert sentence.find("a", href="/status").get_text() == "索引の状況"
    one = make_index({"a.txt": "猫の話。\n", "b.txt": "犬の話。\n"})
    single = soup(create_app({"TESTING": True, "INDEX_DIR": str(one)}).test_client().get("/").data)
    assert (
        single.select_one("p.index-stats")
        .get_text(" ", strip=True)
        .startswith("テキストの 2 文書（2 セクション）を 1 フォルダから索引しています。")
    )


def test_status_without_an_index(tmp_path: Path) -> None:
    client = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "none")}).test_client()
    api = Api(client)
    r, body = api.get("/api/status")
    assert r.status_code == 200 and body["index"] is None and body["runs"] == []
    page = client.get("/status")
    assert page.status_code == 200 and "検索索引はまだありません" in page.get_data(as_text=True)


def test_a_reader_who_may_not_read_everything_sees_only_their_own_counts(tmp_path: Path) -> None:
    """With ``--auth``, the run history, the skipped files and the watchers name files whatever the
    rules say: a reader limited to some folders gets none of them, and counts of what they may read."""
    from support.access import bearer, write_access

    docs = tmp_path / "docs"
    for folder, n in (("hr", 2), ("eng", 3)):
        (docs / folder).mkdir(parents=True)
        for i in range(n):
            (docs / folder / f"{folder}{i}.md").write_text(f"# {folder} {i}\n\n定例の報告。\n", encoding="utf-8")
    (docs / "hr" / "salaries.zip").write_bytes(b"PK\x03\x04")
    build_index([docs], tmp_path / "ix")
    access = write_access(
        tmp_path / "access.toml",
        {"ken": ["eng"], "admin": ["all"]},
        [{"path": "eng/", "groups": ["eng"]}, {"path": "", "groups": ["all"]}],
    )
    client = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "ix"), "AUTH_FILE": str(access)}).test_client()
    full = client.get("/api/status", headers=bearer("admin")).get_json()
    assert full["restricted"] is False and full["runs"] and full["skipped"]["total"] == 1
    assert full["index"]["folders"] == {"eng": 3, "hr": 2}
    limited = client.get("/api/status", headers=bearer("ken")).get_json()
    assert limited["restricted"] is True
    assert (limited["runs"], limited["watchers"], limited["skipped"]["total"]) == ([], [], 0)
    assert limited["index"]["documents"] == 3 and limited["index"]["types"] == {"md": 3}
    assert limited["index"]["size_bytes"] is None
    page = client.get("/status", headers=bearer("ken")).get_data(as_text=True)
    assert "hr" not in page.replace("href", "").replace("https", "") and "salaries" not in page
    assert "すべての文書を読める利用者にだけ" in page
