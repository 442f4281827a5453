"""The CLI end to end, as a user runs it: index the seed, search it, read the JSON.

Every test runs against the embedded index and against a real 3-node OpenSearch cluster
(``--backend URL``; each test's index is its own alias there).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.backends import BACKENDS
from support.paths import ROOT, SEEDS


@dataclass(frozen=True)
class Where:
    """One index on one backend, as the CLI names it: ``--backend TARGET`` (plus ``env``)."""

    target: str
    env: dict[str, str]

    @property
    def option(self) -> list[str]:
        return ["--backend", self.target]


def sakuin(*args: str, where: Where | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "sakuin", *args, *(where.option if where else [])],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        env={**os.environ, **(where.env if where else {})},
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module", params=BACKENDS)
def fresh(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Where]:
    """``fresh(name)``: where a new, empty index called ``name`` lives on this module's backend."""
    if request.param == "embedded":
        base = tmp_path_factory.mktemp("cli")
        return lambda name: Where(str(base / name), {})
    urls = ",".join(request.getfixturevalue("cluster_urls"))
    return lambda name: Where(urls, {"SAKUIN_CLUSTER_INDEX": f"sakuin-cli-{name}"})


@pytest.fixture(scope="module")
def seed_index(fresh: Callable[[str], Where]) -> Where:
    where = fresh("seed")
    out = sakuin("index", str(SEEDS), where=where)
    assert "1 document, 17 sections, 0 skipped" in out.stdout
    return where


def test_search_json_contract(seed_index: Where) -> None:
    out = sakuin("search", "国防大臣 電話会談", "--json", "--limit", "3", where=seed_index)
    data = json.loads(out.stdout)
    assert set(data) == {
        *("query", "total", "total_relation", "took_ms", "page", "per_page", "last_page", "hits", "notices"),
        *("filters", "sections", "substring_total", "sort", "facets", "did_you_mean", "synonyms", "expansions"),
    }
    assert data["per_page"] == 3 and data["page"] == 1 and data["total"] >= 3
    assert data["total_relation"] == "eq"
    hit = data["hits"][0]
    assert set(hit) == {
        *("doc_id", "title", "title_html", "path", "url", "section", "score", "match", "duplicates", "meta"),
        *("snippet", "type", "modified", "pages", "page"),
    }
    assert hit["type"] == "txt" and hit["pages"] is None and hit["page"] is None
    assert set(hit["section"]) == {"ordinal", "heading", "heading_html"}
    snippet = hit["snippet"]
    assert "<mark>" in snippet["html"]
    for start, end in snippet["highlights"]:
        assert snippet["text"][start:end] in {"国防", "大臣", "国防大臣", "電話", "会談", "電話会談"}
    scores = [h["score"] for h in data["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_text_output_and_paging(seed_index: Where) -> None:
    out = sakuin("search", "ウクライナ", "--limit", "2", "--page", "2", where=seed_index)
    assert "sections match" in out.stdout and "3." in out.stdout


def test_no_hits_is_success_with_empty_list(seed_index: Where) -> None:
    data = json.loads(sakuin("search", "量子コンピュータ", "--json", where=seed_index).stdout)
    assert data["total"] == 0 and data["hits"] == []


def test_malformed_query_exits_2_with_one_line(seed_index: Where) -> None:
    out = sakuin("search", '"国防', where=seed_index, check=False)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "quote" in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_index_is_a_clear_error(fresh: Callable[[str], Where]) -> None:
    out = sakuin("search", "猫", where=fresh("none"), check=False)
    assert out.returncode == 1 and "sakuin index" in out.stderr and "Traceback" not in out.stderr


def test_analyze_and_stats(seed_index: Where) -> None:
    rows = json.loads(sakuin("analyze", "関西国際空港", "--json").stdout)["tokens"]
    assert [p["term"] for p in rows[0]["parts"]] == ["関西", "国際", "空港"]
    stats = json.loads(sakuin("stats", "--json", where=seed_index).stdout)
    assert stats["documents"] == 1 and stats["sections"] == 17


def test_skipped_files_are_named_and_set_exit_status(fresh: Callable[[str], Where], tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ok.md").write_text("# 猫\n\n猫の話。\n", encoding="utf-8")
    (docs / "bad.txt").write_bytes(b"\x00\x01\x02binary\x00" * 100)
    out = sakuin("index", str(docs), where=fresh("skipped"), check=False)
    assert out.returncode == 3
    assert "bad.txt" in out.stderr and "skipped" in out.stderr
    assert "1 document," in out.stdout


def under_way(where: Where) -> bool:
    """An index run is writing: its working directory exists, or (cluster) it holds the lock."""
    if not where.env:
        ix = Path(where.target)
        return ix.is_dir() and any(p.name.startswith(".tmp-") for p in ix.iterdir())
    from sakuin.search.opensearch.client import connect

    state = f"{where.env['SAKUIN_CLUSTER_INDEX']}-state"
    return bool(connect(where.target).exists(index=state, id="lock"))


def test_sigkill_during_build_keeps_previous_index(fresh: Callable[[str], Where], tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    records = [{"id": f"d{i}", "title": "記事", "text": "猫の話です。" * 40} for i in range(300)]
    (docs / "a.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    where = fresh("killed")
    sakuin("index", str(docs), where=where)
    records = [{"id": f"e{i}", "title": "記事", "text": "犬の話です。" * 40} for i in range(3000)]
    (docs / "a.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sakuin", "index", str(docs), *where.option],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, **where.env},
    )
    # Kill once the build is under way.
    deadline = time.time() + 60
    while time.time() < deadline and not under_way(where):
        time.sleep(0.05)
    assert under_way(where), "the index run never started writing"
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # The records share one body: --no-collapse counts every section, not one hit for the text.
    data = json.loads(sakuin("search", "猫", "--json", "--no-collapse", where=where).stdout)
    assert data["total"] == 300
    # The next run takes over what the killed one left (its lock, its half-built index) at once.
    began = time.monotonic()
    sakuin("index", str(docs), where=where)
    assert time.monotonic() - began < 300
    again = json.loads(sakuin("search", "犬", "--json", "--no-collapse", where=where).stdout)
    assert again["total"] == 3000
