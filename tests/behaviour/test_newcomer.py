"""What a newcomer hits first: flags, the index's own folder, tracebacks, the summary, examples,
install hints, empty sections, and the small things on the pages."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from support.backends import Seed
from support.paths import ROOT
from support.processes import free_port, sakuin, sakuin_cmd

from sakuin.search.documents.files import read_file
from sakuin.search.embedded.writing.indexer import build_index
from sakuin.search.errors import install_hint

# -- 1. a mistyped flag is not query text ---------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--limt", "3"], "sakuin: no such option: --limt; did you mean --limit?"),
        (["--jsn"], "sakuin: no such option: --jsn; did you mean --json?"),
        (
            ["-n", "3"],
            "sakuin: no such option: -n (sakuin search --help lists them; to search for -n, put it after --)",
        ),
    ],
)
def test_an_unknown_option_is_a_usage_error_naming_the_close_one(
    index_dir: Path, args: list[str], expected: str
) -> None:
    out = sakuin("search", "国防", *args, "--index-dir", str(index_dir), check=False)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip().splitlines() == [expected]


def test_words_to_exclude_stay_query_text(index_dir: Path) -> None:
    """-電話 and -NHK are words to exclude, not options; after -- everything is text."""
    where = ["--json", "--index-dir", str(index_dir)]
    for args in (["-電話", "会談", *where], ["会談", "-NHK", *where], ["会談", *where, "--", "-x"]):
        out = sakuin("search", *args, check=False)
        assert out.returncode == 0, out.stderr
        assert '"query":' in out.stdout


# -- 2. the index folder is never input -----------------------------------------------------


def test_indexing_the_folder_that_holds_the_index_leaves_the_index_out(tmp_path: Path) -> None:
    (tmp_path / "note.md").write_text("# 覚え書き\n\n猫の話。\n", encoding="utf-8")
    first = subprocess.run(sakuin_cmd("index", "."), capture_output=True, text=True, cwd=tmp_path)
    assert first.returncode == 0 and first.stderr == "", first.stderr
    second = subprocess.run(sakuin_cmd("index", ".", "--json"), capture_output=True, text=True, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    report = __import__("json").loads(second.stdout)
    assert report["skipped"] == [] and report["changed"] == [] and report["added"] == []
    assert report["documents"] == 1
    third = subprocess.run(sakuin_cmd("index", "."), capture_output=True, text=True, cwd=tmp_path)
    assert "index is up to date (1 file unchanged)" in third.stdout
    search = subprocess.run(sakuin_cmd("search", "CURRENT", "--json"), capture_output=True, text=True, cwd=tmp_path)
    assert '"total": 0' in search.stdout


def test_an_index_folder_elsewhere_or_by_another_name_is_left_out_too(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "a.txt").write_text("犬の話。\n", encoding="utf-8")
    build_index([docs], docs / "sub" / "ix")
    (tmp_path / "link").symlink_to(docs / "sub" / "ix")
    report = build_index([docs], tmp_path / "link")  # the same folder, named through a link
    assert report.skipped == [] and report.up_to_date and report.documents == 1


# -- 5. never a traceback ---------------------------------------------------------------------


@pytest.mark.parametrize("command", [["search", "猫"], ["index", str(ROOT / "seeds")], ["stats"], ["optimize"]])
def test_an_unreachable_cluster_is_one_line(command: list[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    out = sakuin(*command, "--backend", url, check=False, timeout=120)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        f"sakuin: no OpenSearch node answers at {url}: start the cluster, or check --backend (SAKUIN_BACKEND)"
    ]


def test_a_missing_opensearch_extra_is_one_line_naming_the_install(tmp_path: Path) -> None:
    fake = tmp_path / "opensearchpy"
    fake.mkdir()
    (fake / "__init__.py").write_text('raise ImportError("not installed here")\n')
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    for command in (["search", "猫"], ["index", str(ROOT / "seeds")], ["stats"]):
        argv = sakuin_cmd(*command, "--backend", "http://127.0.0.1:9200")
        out = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT)
        assert out.returncode == 1
        assert out.stderr.strip().splitlines() == [
            f"sakuin: the OpenSearch backend needs the opensearch extra: {install_hint('opensearch')}"
        ]


def test_a_closed_pipe_ends_quietly_with_status_0(index_dir: Path) -> None:
    proc = subprocess.Popen(
        sakuin_cmd("search", "国防", "--limit", "100", "--index-dir", str(index_dir)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()  # as `| head -1` does
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""


def test_install_hints_are_one_form_for_this_installation() -> None:
    """An editable checkout is told ``pip install -e 'CHECKOUT[extra]'`` (``.`` inside it)."""
    inside = subprocess.run(
        [sys.executable, "-c", "from sakuin.search.errors import install_hint; print(install_hint('eval'))"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.strip()
    assert inside == "pip install -e '.[eval]'"
    assert install_hint("opensearch") in (f"pip install -e '{ROOT}[opensearch]'", "pip install -e '.[opensearch]'")


# -- 6. the summary ---------------------------------------------------------------------------


def test_the_summary_counts_in_words_and_shares_stay_under_100(tmp_path: Path) -> None:
    (tmp_path / "one.md").write_text("# 一\n\n猫の話。\n", encoding="utf-8")
    out = sakuin("index", str(tmp_path / "one.md"), "--index-dir", str(tmp_path / "ix"))
    assert "1 document, 1 section, 0 skipped" in out.stdout
    share = int(re.search(r"Sudachi's tokenizer took (\d+) % of their CPU time", out.stdout).group(1))  # type: ignore[union-attr]
    assert 0 <= share <= 100
    assert " our " not in out.stdout
    assert "added 1, changed 0, removed 0, unchanged 0 files" in out.stdout
    again = sakuin("index", str(tmp_path / "one.md"), "--index-dir", str(tmp_path / "ix"))
    assert "index is up to date (1 file unchanged)" in again.stdout
    assert "analysed" not in again.stdout  # nothing was: no line about how the time went
    found = sakuin("search", "猫", "--index-dir", str(tmp_path / "ix"))
    assert found.stdout.startswith("1 section matches (")


# -- 4. raw UTF-8 in an address ---------------------------------------------------------------


def _raw_get(port: int, target: bytes) -> tuple[str, str]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head.decode("latin-1").splitlines()[0], body.decode("utf-8", "replace")


def test_raw_utf8_in_the_address_is_answered_as_percent_encoded(index_dir: Path) -> None:
    from support.web import running_server

    with running_server(index_dir) as base:
        port = int(base.rsplit(":", 1)[1])
        status, body = _raw_get(port, "/api/search?q=国防&per_page=1".encode())
        assert status.endswith("200 OK") and '"query":"国防"' in body and '"total":17' in body
        status, body = _raw_get(port, "/search?q=国防".encode())
        assert status.endswith("200 OK") and "国防" in body
        status, body = _raw_get(port, b"/api/search?q=" + "国防".encode("shift_jis"))
        assert status.endswith("400 BAD REQUEST") and '"code":"invalid_encoding"' in body


# -- 7. examples from the index ---------------------------------------------------------------


def test_the_pages_suggest_queries_that_find_something(client: FlaskClient, seed: Seed) -> None:
    engine = seed.engine()
    examples = engine.examples()
    assert len(examples.words) == 3 and examples.question
    home = BeautifulSoup(client.get("/").data, "html.parser")
    shown = [a.get_text() for a in home.select("p.examples a")]
    assert shown[0] == examples.words[0] and examples.question in shown
    for q in shown:
        assert engine.search(q).total > 0, q
    box = home.find("input", id="q")
    assert box is not None and box["placeholder"] == f"例: {examples.words[0]}"
    none = BeautifulSoup(client.get("/search?q=ぬぬぬぬぬぬ").data, "html.parser")
    assert f"{examples.words[0]} OR {examples.words[1]}" in none.get_text()
    assert "国防大臣" not in home.get_text() or "国防大臣" in " ".join(examples.words) + examples.question


def test_examples_come_from_the_collection_not_the_sample_article(make_index: Any) -> None:
    from sakuin.search.backend import open_engine

    docs = {f"{i}.md": f"# 温泉旅行の記録 {i}\n\n温泉と旅館と料理の話。露天風呂が良かった。\n" for i in range(5)}
    docs["x.md"] = "# 料理教室\n\n料理の話。\n"
    examples = open_engine(make_index(docs)).examples()
    assert set(examples.words) == {"温泉", "旅行", "記録"}  # in every title; 料理 in one
    assert examples.question and examples.question.startswith("温泉旅行の記録")


def test_a_declared_facet_gives_the_filter_example(tmp_path: Path) -> None:
    from sakuin.search.backend import open_engine

    lines = [f'{{"id": "{i}", "title": "記事 {i}", "text": "本文", "category": "{c}"}}' for i, c in enumerate("aab")]
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    build_index([tmp_path / "d.jsonl"], tmp_path / "ix", declare=[("category", "keyword")])
    assert open_engine(tmp_path / "ix").examples().filter == "category:a"


# -- 8. small things on the pages -------------------------------------------------------------


def test_the_table_of_contents_counts_from_one_and_keeps_its_anchors(client: FlaskClient) -> None:
    from support.corpora import SEED_ID

    page = BeautifulSoup(client.get(f"/doc/{SEED_ID}").data, "html.parser")
    toc = page.select_one("nav.toc ol")
    assert toc is not None and not toc.get("start") and not toc.select("li[value]")
    assert [a["href"] for a in toc.select("a")][:2] == ["#s-0", "#s-1"]


def test_metadata_labels_chips_and_the_sort_menu_speak_to_people(tmp_path: Path) -> None:
    from sakuin.web import create_app

    records = [
        '{"id": "1", "title": "京都の旅", "text": "京都で紅葉を見た。", "category": "travel", "date": "2012-05-06"}',
        '{"id": "2", "title": "大阪の旅", "text": "大阪で食べた。", "category": "food", "date": "2012-06-01"}',
    ]
    (tmp_path / "d.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")
    build_index([tmp_path / "d.jsonl"], tmp_path / "ix", declare=[("category", "keyword"), ("date", "date")])
    client = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "ix")}).test_client()
    doc = BeautifulSoup(client.get("/doc/1").data, "html.parser")
    assert [dt.get_text() for dt in doc.select("dl.meta dt")] == ["カテゴリ", "日付"]
    page = BeautifulSoup(client.get("/search?q=京都&filter=category:travel").data, "html.parser")
    chip = page.select_one("a.chip")
    assert chip is not None and chip.get_text(" ", strip=True) == "カテゴリ: travel ×"
    assert page.select_one("form.sort-form") is not None
    empty = BeautifulSoup(client.get("/search?q=札幌").data, "html.parser")
    assert empty.select_one("form.sort-form") is None  # nothing to sort
    home = BeautifulSoup(client.get("/").data, "html.parser")
    updated = home.select_one("p.index-stats time")
    assert updated is not None and "+00:00" not in updated.get_text()
    from datetime import datetime

    local = datetime.fromisoformat(updated["datetime"]).astimezone()
    assert updated.get_text() == f"{local:%Y-%m-%d %H:%M} {local.strftime('%Z') or local.strftime('%z')}"


def test_what_was_typed_stays_in_the_box_and_in_completions(client: FlaskClient) -> None:
    page = BeautifulSoup(client.get("/search?q=ｘｙｚ").data, "html.parser")
    assert page.find("input", id="q")["value"] == "ｘｙｚ"
    texts = [s["text"] for s in client.get("/api/suggest?q=ロシ").get_json()["suggestions"] if s["kind"] == "word"]
    assert texts and all(t.startswith("ロシ") for t in texts)


def test_kana_completes_to_the_frequent_words_it_reads_as(make_index: Any) -> None:
    from sakuin.search.backend import open_engine

    docs = {f"{i}.md": f"# 日記 {i}\n\n今日は晴れ。今日も散歩。\n" for i in range(6)}
    docs["odd.md"] = "# メモ\n\nきょうすという語。\n"
    words = [s.text for s in open_engine(make_index(docs)).suggest("きょう") if s.kind == "word"]
    assert words[0] == "今日"


# -- 10. a heading with no text is not a section ----------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "headings"),
    [
        ("a.md", "# タイトル\n\n## 見出し\n\n本文。\n", ["見出し"]),
        (
            "b.md",
            "# 本\n\n## 第1章\n\n### 1.1 はじめに\n\n本文。\n\n### 1.2\n\n続き。\n",
            ["第1章 › 1.1 はじめに", "1.2"],
        ),
        ("c.html", "<title>T</title><h1>T</h1><h2>章</h2><p>本文。</p>", ["章"]),
        ("d.md", "# ただのタイトル\n", ["ただのタイトル"]),
    ],
)
def test_a_heading_without_text_belongs_to_what_follows(
    tmp_path: Path, name: str, text: str, headings: list[str]
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    (document,) = read_file(path, tmp_path).documents
    assert [s.heading for s in document.sections] == headings
    assert [s.ordinal for s in document.sections] == list(range(len(headings)))


def test_a_title_search_finds_sections_with_text_first(tmp_path: Path) -> None:
    from sakuin.search.backend import open_engine

    for i in range(4):
        (tmp_path / f"{i}.md").write_text(f"# 元カレとの縁 {i}\n\n## 近況\n\n元気です。\n", encoding="utf-8")
    build_index([tmp_path], tmp_path / "ix")
    result = open_engine(tmp_path / "ix").search("元カレとの縁")
    assert result.total == 4 and all(h.snippet.text for h in result.hits)


# -- 11. the docs cite only what a clone can reproduce ----------------------------------------


def test_the_docs_cite_no_local_output_and_no_test_count() -> None:
    for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        text = path.read_text(encoding="utf-8")
        assert "bench/out/" not in text or "git-ignored" in text, path
        assert not re.search(r"\b\d[\d,]* tests\b", text), path
