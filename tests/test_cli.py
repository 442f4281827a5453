"""The CLI end to end, as a user runs it: index the seed, search it, read the JSON."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def sakuin(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "search.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ix = tmp_path_factory.mktemp("cli") / "ix"
    out = sakuin("index", str(SEEDS), "--index-dir", str(ix))
    assert "1 documents, 17 sections, 0 skipped" in out.stdout
    return ix


def test_search_json_contract(seed_index: Path) -> None:
    out = sakuin("search", "国防大臣 電話会談", "--index-dir", str(seed_index), "--json", "--limit", "3")
    data = json.loads(out.stdout)
    assert set(data) == {
        *("query", "total", "took_ms", "page", "per_page", "last_page", "hits", "notices"),
        *("filters", "sections", "sort", "facets", "did_you_mean"),
    }
    assert data["per_page"] == 3 and data["page"] == 1 and data["total"] >= 3
    hit = data["hits"][0]
    assert set(hit) == {"doc_id", "title", "path", "url", "section", "score", "match", "duplicates", "meta", "snippet"}
    assert set(hit["section"]) == {"ordinal", "heading"}
    snippet = hit["snippet"]
    assert "<mark>" in snippet["html"]
    for start, end in snippet["highlights"]:
        assert snippet["text"][start:end] in {"国防", "大臣", "国防大臣", "電話", "会談", "電話会談"}
    scores = [h["score"] for h in data["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_text_output_and_paging(seed_index: Path) -> None:
    out = sakuin("search", "ウクライナ", "--index-dir", str(seed_index), "--limit", "2", "--page", "2")
    assert "sections match" in out.stdout and "3." in out.stdout


def test_no_hits_is_success_with_empty_list(seed_index: Path) -> None:
    data = json.loads(sakuin("search", "量子コンピュータ", "--index-dir", str(seed_index), "--json").stdout)
    assert data["total"] == 0 and data["hits"] == []


def test_malformed_query_exits_2_with_one_line(seed_index: Path) -> None:
    out = sakuin("search", '"国防', "--index-dir", str(seed_index), check=False)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "quote" in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    out = sakuin("search", "猫", "--index-dir", str(tmp_path / "none"), check=False)
    assert out.returncode == 1 and "sakuin index" in out.stderr and "Traceback" not in out.stderr


def test_analyze_and_stats(seed_index: Path) -> None:
    rows = json.loads(sakuin("analyze", "関西国際空港", "--json").stdout)["tokens"]
    assert [p["term"] for p in rows[0]["parts"]] == ["関西", "国際", "空港"]
    stats = json.loads(sakuin("stats", "--index-dir", str(seed_index), "--json").stdout)
    assert stats["documents"] == 1 and stats["sections"] == 17


def test_skipped_files_are_named_and_set_exit_status(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ok.md").write_text("# 猫\n\n猫の話。\n", encoding="utf-8")
    (docs / "bad.txt").write_bytes(b"\x00\x01\x02binary\x00" * 100)
    out = sakuin("index", str(docs), "--index-dir", str(tmp_path / "ix"), check=False)
    assert out.returncode == 3
    assert "bad.txt" in out.stderr and "skipped" in out.stderr
    assert "1 documents" in out.stdout


def test_sigkill_during_build_keeps_previous_index(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    records = [{"id": f"d{i}", "title": "記事", "text": "猫の話です。" * 40} for i in range(300)]
    (docs / "a.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    ix = tmp_path / "ix"
    sakuin("index", str(docs), "--index-dir", str(ix))
    records = [{"id": f"e{i}", "title": "記事", "text": "犬の話です。" * 40} for i in range(3000)]
    (docs / "a.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "search.cli", "index", str(docs), "--index-dir", str(ix)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    # Kill once the build is under way (its working directory exists).
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.name.startswith(".tmp-") for p in ix.iterdir()):
        time.sleep(0.05)
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # The records share one body: --no-collapse counts every section, not one hit for the text.
    data = json.loads(sakuin("search", "猫", "--index-dir", str(ix), "--json", "--no-collapse").stdout)
    assert data["total"] == 300
    sakuin("index", str(docs), "--index-dir", str(ix))
    again = json.loads(sakuin("search", "犬", "--index-dir", str(ix), "--json", "--no-collapse").stdout)
    assert again["total"] == 3000
