"""Indexing: the seed's sections, incremental updates, atomic publication."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from support.corpora import write_jsonl
from support.paths import SEEDS

from sakuin.search.embedded.reading.engine import EmbeddedEngine
from sakuin.search.embedded.store import IndexStore
from sakuin.search.embedded.writing.indexer import build_index
from sakuin.search.errors import IndexBusy, IndexMissing


def hit_ids(engine: EmbeddedEngine, q: str) -> list[str]:
    return [h.doc_id for h in engine.search(q, per_page=100).hits]


def test_seed_indexes_as_its_17_sections(tmp_path: Path) -> None:
    report = build_index([SEEDS], tmp_path / "ix")
    assert (report.documents, report.sections) == (1, 17)
    engine = EmbeddedEngine(tmp_path / "ix")
    doc = engine.document(next(iter(SEEDS.glob("*.txt"))).name)
    assert doc is not None and len(doc.sections) == 17
    assert doc.sections[1].heading == "露国防大臣が米国防長官と電話会談"
    top = engine.search("ベロウソフ国防大臣は誰と電話会談したのか").hits[0]
    assert top.ordinal == 1
    assert "<mark>" in top.snippet.html


def test_incremental_change_delete_add(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# 会議\n\n## 予算\n\n東京都の予算について話し合った。\n", encoding="utf-8")
    (docs / "b.md").write_text("# 旅行\n\n## 空港\n\n関西国際空港から出発した。\n", encoding="utf-8")
    ix = tmp_path / "ix"
    first = build_index([docs], ix)
    assert sorted(first.added) == sorted(str(docs / n) for n in ("a.md", "b.md"))
    engine = EmbeddedEngine(ix)
    assert hit_ids(engine, "空港") == ["b.md"]

    again = build_index([docs], ix)
    assert again.up_to_date and again.unchanged == 2
    assert again.version == first.version  # nothing republished

    (docs / "a.md").write_text("# 会議\n\n## 予算\n\n空港の予算について話し合った。\n", encoding="utf-8")
    (docs / "b.md").unlink()
    (docs / "c.txt").write_text("温泉\n\n箱根の温泉に行った。\n", encoding="utf-8")
    third = build_index([docs], ix)
    assert third.changed == [str(docs / "a.md")]
    assert third.removed == [str(docs / "b.md")]
    assert third.added == [str(docs / "c.txt")]
    assert third.unchanged == 0
    assert hit_ids(engine, "空港") == ["a.md"]  # the same EmbeddedEngine sees the new version
    assert hit_ids(engine, "東京都") == []
    assert hit_ids(engine, "温泉") == ["c.txt"]
    assert engine.stats()["sections"] == third.sections


def test_rebuild_starts_from_scratch(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    write_jsonl(docs / "d.jsonl", [{"id": "x1", "title": "猫", "text": "猫が好き"}])
    ix = tmp_path / "ix"
    build_index([docs], ix)
    report = build_index([docs], ix, rebuild=True)
    assert report.rebuilt and report.added == [str(docs / "d.jsonl")]
    assert hit_ids(EmbeddedEngine(ix), "猫") == ["x1"]


def test_other_paths_are_kept_when_indexing_one_folder(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    write_jsonl(a / "a.jsonl", [{"id": "a1", "title": "猫", "text": "猫の話"}])
    write_jsonl(b / "b.jsonl", [{"id": "b1", "title": "犬", "text": "犬の話"}])
    ix = tmp_path / "ix"
    build_index([a], ix)
    build_index([b], ix)
    engine = EmbeddedEngine(ix)
    assert hit_ids(engine, "猫") == ["a1"] and hit_ids(engine, "犬") == ["b1"]


def test_duplicate_ids_are_reported_not_merged(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    write_jsonl(docs / "1.jsonl", [{"id": "same", "title": "猫", "text": "猫"}])
    write_jsonl(docs / "2.jsonl", [{"id": "same", "title": "犬", "text": "犬"}])
    report = build_index([docs], tmp_path / "ix")
    assert report.documents == 1
    assert any("duplicate document id 'same'" in p for p in report.problems)


def test_interrupted_build_leaves_previous_index_searchable(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    write_jsonl(docs / "d.jsonl", [{"id": f"n{i}", "title": "ニュース", "text": f"記事{i}は猫の話"} for i in range(50)])
    ix = tmp_path / "ix"
    build_index([docs], ix)
    before = hit_ids(EmbeddedEngine(ix), "猫")
    write_jsonl(docs / "d.jsonl", [{"id": f"m{i}", "title": "ニュース", "text": f"記事{i}は犬の話"} for i in range(50)])

    class Crash:
        def start(self, total_bytes: int) -> None:
            pass

        def update(self, nbytes: int, sections: int, documents: int) -> None:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index([docs], ix, progress=Crash())
    engine = EmbeddedEngine(ix)
    assert hit_ids(engine, "猫") == before and hit_ids(engine, "犬") == []
    assert not [p for p in ix.iterdir() if p.name.startswith(".tmp-")], "abandoned build left behind"
    # Re-running completes the update.
    build_index([docs], ix)
    assert hit_ids(engine, "猫") == [] and len(hit_ids(engine, "犬")) == 50


def test_abandoned_build_directory_is_cleaned_by_next_writer(tmp_path: Path) -> None:
    ix = tmp_path / "ix"
    build_index([SEEDS], ix)
    junk = ix / ".tmp-000099-12345"
    shutil.copytree(IndexStore(ix).current(), junk)
    build_index([SEEDS], ix, rebuild=True)
    assert not junk.exists()


def test_second_writer_is_refused_while_the_lock_is_held(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "ix")
    with store.writer_lock(), pytest.raises(IndexBusy):
        build_index([SEEDS], tmp_path / "ix", wait=False)


def test_missing_index_tells_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(IndexMissing, match="sakuin index"):
        EmbeddedEngine(tmp_path / "nothing").search("猫")


@pytest.mark.slow
def test_one_megabyte_single_paragraph_file_indexes(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    sentence = "ロシアの国防大臣が米国防長官と電話会談を行ったと報じられている。"
    text = sentence * (2**20 // len(sentence.encode()) + 1) + "最後に終点駅へ着いた。"
    assert len(text.encode()) > 2**20 and "\n" not in text
    (docs / "big.txt").write_text(text, encoding="utf-8")
    report = build_index([docs], tmp_path / "ix")
    assert report.skipped == [] and report.documents == 1
    engine = EmbeddedEngine(tmp_path / "ix")
    hits = engine.search("終点駅").hits
    assert [h.doc_id for h in hits] == ["big.txt"]
    assert "<mark>終点</mark>" in hits[0].snippet.html or "<mark>終点駅</mark>" in hits[0].snippet.html


@pytest.mark.parametrize("procs", [1, 2])
def test_progress_counts_bytes_and_records_and_ends_with_the_work(tmp_path: Path, procs: int) -> None:
    path = tmp_path / "news.jsonl"
    write_jsonl(path, [{"id": f"n{i}", "title": "ニュース", "text": f"記事{i}は猫の話。" * 400} for i in range(300)])

    class Record:
        """One phase per ``start`` (indexing, then perhaps compacting): [label, total, done, documents, sections]."""

        def __init__(self) -> None:
            self.phases: list[list] = []

        def start(self, total_bytes: int, label: str = "indexing") -> None:
            self.phases.append([label, total_bytes, 0, 0, 0])

        def update(self, nbytes: int, sections: int, documents: int) -> None:
            phase = self.phases[-1]
            assert phase[2] < phase[1], "progress reached its end before the work did"
            phase[2] += nbytes
            phase[3] += documents
            phase[4] += sections

    seen = Record()
    report = build_index([path], tmp_path / "ix", progress=seen, procs=procs)
    label, total, done, documents, sections = seen.phases[0]
    assert label == "indexing" and total == path.stat().st_size == done
    assert documents == 300 == report.documents
    assert sections == report.sections_written == 300
    for label, total, done, _, sections in seen.phases[1:]:  # two small worker segments merged into one
        assert label == "compacting" and total == done == sections == report.sections_rewritten


def test_an_interrupted_parallel_build_exits_instead_of_hanging(tmp_path: Path) -> None:
    """Ctrl+C while workers still have batches queued: the process must exit (it hung before)."""
    import subprocess
    import sys

    path = tmp_path / "news.jsonl"
    write_jsonl(path, [{"id": f"n{i}", "title": "ニュース", "text": f"記事{i}は猫の話。" * 400} for i in range(600)])
    script = f"""
from pathlib import Path
from sakuin.search.embedded.writing.indexer import build_index

class Interrupt:
    def start(self, total_bytes, label="indexing"):
        pass

    def update(self, nbytes, sections, documents):
        raise KeyboardInterrupt

try:
    build_index([Path({str(path)!r})], Path({str(tmp_path / "ix")!r}), progress=Interrupt(), procs=2)
except KeyboardInterrupt:
    print("interrupted")
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "interrupted", proc.stderr
