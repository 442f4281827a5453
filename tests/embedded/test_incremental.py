"""Incremental updates give exactly what a fresh build gives, and cost what changed.

The property test applies random sequences of file and record changes, runs an
incremental update after each, and compares every answer of a query set (total,
order, scores, snippets) with a fresh ``--rebuild`` of the same inputs.
"""

from __future__ import annotations

import gc
import json
import os
import random
import shutil
import tracemalloc
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.corpora import write_jsonl
from support.paths import ROOT

from sakuin.search.documents.metadata import FieldSurvey
from sakuin.search.embedded.reading.engine import EmbeddedEngine
from sakuin.search.embedded.store import DELETED_STATS, IndexStore
from sakuin.search.embedded.writing import compaction
from sakuin.search.embedded.writing.indexer import build_index, optimize_index
from sakuin.search.indexing import ids as id_tables
from sakuin.search.indexing.changes import Pending, Reading
from sakuin.search.indexing.records import DIGEST_BYTES, RecordTable
from sakuin.search.indexing.report import IndexReport

LINES = [
    line.strip()
    for line in (ROOT / "seeds" / "000_bd59ac11d3d57df8.txt").read_text(encoding="utf-8").splitlines()
    if len(line.strip()) >= 8
]
TITLES = ["ロシア国防大臣の電話会談", "ウクライナ情勢", "海軍記念日"]
QUERIES = [
    "ロシア",
    "電話会談",
    "国防 大臣",
    '"電話会談"',
    "ウクライナ -ロシア",
    "title:ウクライナ",
    "ロシアの国防大臣はアメリカの国防長官と何を話したのか",
    "ドローン攻撃で石油精製施設が狙われた",
    "プーチン",
    "國防",
]


def _text(rng: random.Random) -> str:
    return "\n\n".join(rng.choice(LINES) for _ in range(rng.randint(1, 4)))


def _record(rng: random.Random, doc_id: str) -> dict[str, object]:
    # Titles and texts repeat, so equal scores (ties) are common.
    return {"id": doc_id, "title": rng.choice(TITLES), "text": _text(rng)}


class Corpus:
    """Text files and one JSONL file, written to ``root``."""

    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root = root
        self.rng = rng
        self.files: dict[str, str] = {}
        self.records: dict[str, dict[str, object]] = {}
        self.serial = 0
        for _ in range(3):
            self.add_file()
        for _ in range(5):
            self.add_record()

    def _name(self) -> str:
        self.serial += 1
        return f"n{self.serial:03d}"

    def add_file(self) -> None:
        self.files[f"{self._name()}.txt"] = f"{self.rng.choice(TITLES)}\n\n{_text(self.rng)}\n"

    def change_file(self) -> None:
        if self.files:
            name = self.rng.choice(sorted(self.files))
            self.files[name] = f"{self.rng.choice(TITLES)}\n\n{_text(self.rng)}\n"

    def delete_file(self) -> None:
        if len(self.files) > 1:
            del self.files[self.rng.choice(sorted(self.files))]

    def add_record(self) -> None:
        doc_id = self._name()
        self.records[doc_id] = _record(self.rng, doc_id)

    def change_record(self) -> None:
        if self.records:
            doc_id = self.rng.choice(sorted(self.records))
            self.records[doc_id] = _record(self.rng, doc_id)

    def delete_record(self) -> None:
        if len(self.records) > 1:
            del self.records[self.rng.choice(sorted(self.records))]

    def write(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        for name, text in self.files.items():
            (self.root / name).write_text(text, encoding="utf-8")
        lines = [json.dumps(r, ensure_ascii=False) for r in self.records.values()]
        (self.root / "records.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


OPERATIONS = ["add_file", "change_file", "delete_file", "add_record", "change_record", "delete_record"]


def answers(index_dir: Path) -> dict[str, object]:
    engine = EmbeddedEngine(index_dir)
    out: dict[str, object] = {}
    for q in QUERIES:
        result = engine.search(q, per_page=50)
        out[q] = (
            result.total,
            [(h.doc_id, h.ordinal, h.score, h.snippet, h.heading_html) for h in result.hits],
        )
    return out


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 2**32 - 1),
    steps=st.lists(st.lists(st.sampled_from(OPERATIONS), min_size=1, max_size=3), min_size=1, max_size=4),
    # The default policy merges a small index into one segment on every update; a
    # floor of one byte keeps segments with deletions, as in a large index, so the
    # corrected statistics are what is tested; a tier factor of 2 merges often.
    policy=st.sampled_from([(compaction.FLOOR_BYTES, compaction.TIER_FACTOR), (1, compaction.TIER_FACTOR), (1, 2)]),
)
def test_updates_answer_exactly_as_a_fresh_build(
    tmp_path: Path, seed: int, steps: list[list[str]], policy: tuple[int, int]
) -> None:
    work = tmp_path / f"run-{seed}-{len(steps)}-{policy[0]}-{policy[1]}"
    shutil.rmtree(work, ignore_errors=True)  # a replayed example starts clean (segment names repeat with its seed)
    corpus = Corpus(work / "docs", random.Random(seed))
    corpus.write()
    floor, factor = policy
    with mock.patch.object(compaction, "FLOOR_BYTES", floor), mock.patch.object(compaction, "TIER_FACTOR", factor):
        build_index([corpus.root], work / "inc", procs=1)
        for step in steps:
            for operation in step:
                getattr(corpus, operation)()
            corpus.write()
            build_index([corpus.root], work / "inc", procs=1)
            build_index([corpus.root], work / "fresh", rebuild=True, procs=1)
            assert answers(work / "inc") == answers(work / "fresh")
    shutil.rmtree(work)


def _records_file(path: Path, n: int, rng: random.Random) -> list[dict[str, object]]:
    records = [_record(rng, f"r{i:04d}") for i in range(n)]
    write_jsonl(path, records)
    return records


def _indexed_records(tmp_path: Path, n: int, seed: int) -> tuple[Path, list[dict[str, object]], Path]:
    """A folder with one JSONL file of ``n`` records, built: (the file, its records, the index)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    path = docs / "news.jsonl"
    records = _records_file(path, n, random.Random(seed))
    ix = tmp_path / "ix"
    build_index([docs], ix, procs=1)
    return path, records, ix


def _manifest_path(ix: Path) -> Path:
    return ix / (ix / "CURRENT").read_text(encoding="utf-8").strip() / "manifest.json"


def _to_earlier_record_form(ix: Path) -> None:
    """Rewrite the live manifest's record tables as an object per record (id → [hex digest,
    sections]), the form indexes were written in before the compact one."""
    path = _manifest_path(ix)
    manifest = json.loads(path.read_text(encoding="utf-8"))
    for entry in manifest["files"].values():
        table = RecordTable.from_entry(entry)
        if table is not None:
            entry["records"] = {
                d: [table.digest_of(d).hex(), n]  # type: ignore[union-attr]
                for d, n in zip(table.doc_ids, table.sections, strict=True)
            }
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize("form", ["compact", "earlier"])
def test_one_changed_record_is_the_only_one_analysed(tmp_path: Path, form: str) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    path = docs / "news.jsonl"
    records = _records_file(path, 40, random.Random(1))
    build_index([docs], tmp_path / "ix", procs=1)
    if form == "earlier":
        _to_earlier_record_form(tmp_path / "ix")
    records[7]["text"] = "北極海の氷が記録的な速さで解けている"
    del records[20]
    records.append({"id": "new", "title": "追加", "text": "新しい記事です"})
    write_jsonl(path, records)

    with mock.patch.object(compaction, "FLOOR_BYTES", 1):  # no small-segment merge, as in a large index
        report = build_index([docs], tmp_path / "ix", procs=1)
    assert report.segments_rewritten == 0

    assert report.records == {str(path): {"added": 1, "changed": 1, "removed": 1, "unchanged": 38}}
    assert report.sections_written == 2  # the changed record and the new one, one section each
    assert report.sections_deleted == 2  # the changed record's old section and the removed one's
    engine = EmbeddedEngine(tmp_path / "ix")
    assert [h.doc_id for h in engine.search("北極海").hits] == ["r0007"]
    assert engine.search("新しい記事").hits[0].doc_id == "new"
    assert engine.document("r0020") is None
    assert report.sections == 40
    entry = json.loads(_manifest_path(tmp_path / "ix").read_text(encoding="utf-8"))["files"][str(path.absolute())]
    assert set(entry["records"]) == {"digests", "sections"}  # written in the compact form
    assert entry["doc_ids"] == [r["id"] for r in records]


def test_a_record_table_keeps_a_digest_and_a_count_per_id_in_order() -> None:
    rng = random.Random(5)
    ids = [f"id-{i}" for i in rng.sample(range(1000), 50)]
    digests = [rng.randbytes(DIGEST_BYTES) for _ in ids]
    counts = [rng.choice([0, 1, 7, 2**32 - 1]) for _ in ids]
    table = RecordTable()
    for d, h, n in zip(ids, digests, counts, strict=True):
        table.add(d, h, n)
    entry = {"doc_ids": ids, "records": table.to_manifest()}
    back = RecordTable.from_entry(json.loads(json.dumps(entry)))
    assert back is not None and back.doc_ids == ids and list(back.sections) == counts
    assert [back.digest_of(d) for d in ids] == digests
    assert back.digest_of("id-missing") is None
    earlier = {"doc_ids": ids, "records": {d: [h.hex(), n] for d, h, n in zip(ids, digests, counts, strict=True)}}
    old = RecordTable.from_entry(earlier)
    assert old is not None and old.doc_ids == ids and bytes(old.digests) == b"".join(digests)
    assert RecordTable.from_entry({"doc_ids": ids}) is None
    with pytest.raises(ValueError):
        RecordTable.from_entry({"doc_ids": ids[:-1], "records": table.to_manifest()})


def test_reading_keeps_little_per_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the main process of a build keeps for each JSONL record it has read (its id in
    the file's ``doc_ids`` and the id table, its digest and count) stays small: at ten
    million sections there are two million records, and an object per record (about
    300 bytes) took the build past its memory bound; a string per id in a list and a
    dictionary (about 120 bytes) still did. The id table is merged every 1,000 ids here
    (every ``MERGE_AT`` in a build), so what is measured is its steady state."""
    path = tmp_path / "many.jsonl"
    n = 5000
    write_jsonl(path, [{"id": f"record-{i:07d}", "title": "題", "text": f"本文 {i}"} for i in range(n)])

    class _NoDeletions:
        def delete(self, **terms: str) -> int:
            return 0

    new_files: dict[str, dict[str, object]] = {}
    pending = [Pending(str(path), path, tmp_path, "digest", None)]
    gc.collect()
    tracemalloc.start()
    try:
        monkeypatch.setattr(id_tables, "MERGE_AT", 1000)
        reading = Reading(pending, new_files, IndexReport(), _NoDeletions(), FieldSurvey())
        for _ in reading.tasks():
            pass
        reading.finish([])
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(new_files[str(path)]["doc_ids"]) == n  # type: ignore[arg-type]
    assert kept / n < 80, f"{kept / n:.0f} bytes kept per record"


def test_an_update_links_the_live_segments_instead_of_copying(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for i in range(30):  # one file is then well under compaction's deleted share
        (docs / f"f{i}.txt").write_text(f"{TITLES[i % 3]}\n\n{_text(random.Random(i))}\n", encoding="utf-8")
    store = IndexStore(tmp_path / "ix")
    build_index([docs], store.root, procs=1)
    before = {f.name: f.stat().st_ino for f in store.current().iterdir() if f.name.endswith(".seg")}
    (docs / "f0.txt").write_text("海軍記念日\n\n新しい本文\n", encoding="utf-8")
    with mock.patch.object(compaction, "FLOOR_BYTES", 1):  # no small-segment merge, as in a large index
        report = build_index([docs], store.root, procs=1)
    assert report.segments_rewritten == 0
    after = {f.name: f.stat().st_ino for f in store.current().iterdir() if f.name.endswith(".seg")}
    assert before and all(after[name] == inode for name, inode in before.items())  # same files, not copies
    assert len(after) == len(before) + 1  # the update wrote one new segment


@pytest.mark.parametrize("floor", [compaction.FLOOR_BYTES, 1], ids=["small-index", "large-index"])
def test_size_stays_bounded_after_many_updates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, floor: int) -> None:
    """With ``floor=1`` no segment counts as small, as in a large index: then only
    the deleted share, the tiers and the size bound keep the index compact."""
    monkeypatch.setattr(compaction, "FLOOR_BYTES", floor)
    rng = random.Random(5)
    docs = tmp_path / "docs"
    docs.mkdir()
    path = docs / "news.jsonl"
    records = _records_file(path, 60, rng)
    ix = tmp_path / "ix"
    build_index([docs], ix, procs=1)
    for _ in range(20):
        for i in rng.sample(range(len(records)), 6):
            records[i] = _record(rng, str(records[i]["id"]))
        write_jsonl(path, records)
        report = build_index([docs], ix, procs=1)
    updated = IndexStore(ix).size_bytes()
    segments = report.segments
    build_index([docs], tmp_path / "fresh", rebuild=True, procs=1)
    fresh = IndexStore(tmp_path / "fresh").size_bytes()
    assert updated <= 1.3 * fresh, (updated, fresh)
    assert segments < compaction.TIER_FACTOR + 2
    assert answers(ix) == answers(tmp_path / "fresh")


class _Segment:
    """What ``compaction.plan`` reads of a Whoosh segment."""

    def __init__(self, docs: int, deleted: int, tokens: int, nbytes: int) -> None:
        self.docs, self.deleted, self._fieldlengths, self.nbytes = docs, deleted, {"content": tokens}, nbytes

    def doc_count_all(self) -> int:
        return self.docs

    def doc_count(self) -> int:
        return self.docs - self.deleted

    def deleted_count(self) -> int:
        return self.deleted


def test_plan_rewrites_everything_once_the_waste_passes_the_size_bound() -> None:
    mb = 1024 * 1024
    # Two large segments with 15 % deleted (under the deleted share), and small
    # segments at 2.5–17.5× the bytes per token, too few per tier for a tier merge.
    big = [_Segment(1000, 150, 100_000, 80 * mb) for _ in range(2)]

    def small(count: int) -> list[_Segment]:
        return [_Segment(10, 0, 1_000, (2 + 3 * i) * mb) for i in range(count)]

    def size(s: _Segment) -> int:
        return s.nbytes

    def chosen(segments: list[_Segment], **kw: bool) -> int:
        return len(compaction.plan(segments, size, **kw))

    with mock.patch.object(compaction, "FLOOR_BYTES", 1):
        within, beyond = [*big, *small(1)], [*big, *small(5)]
        estimate = compaction.fresh_estimate(beyond, size)
        assert estimate == pytest.approx(80 * mb / 100_000 * (2 * 85_000 + 5 * 1_000))  # live tokens, large density
        assert sum(map(size, within)) < compaction.SIZE_LIMIT * compaction.fresh_estimate(within, size)
        assert sum(map(size, beyond)) > compaction.SIZE_LIMIT * estimate
        assert chosen(within) == 0
        assert chosen(beyond) == len(beyond)
        assert chosen(beyond, update=False) < len(beyond)  # a first build is never rewritten whole


def test_optimize_leaves_one_segment_per_worker_and_no_deletions(tmp_path: Path) -> None:
    path, records, ix = _indexed_records(tmp_path, 30, 9)
    records[3]["text"] = "差し替えた本文"
    write_jsonl(path, records)
    build_index([path.parent], ix, procs=1)
    before = answers(ix)
    report = optimize_index(ix, procs=1)
    assert report.segments == 1 and report.sections_rewritten == 30
    assert not (IndexStore(ix).current() / DELETED_STATS).exists()
    assert answers(ix) == before


@pytest.mark.skipif(not hasattr(os, "link"), reason="hard links")
def test_an_update_never_writes_into_the_live_statistics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The statistics file is rewritten by every update: it must be a private copy."""
    monkeypatch.setattr(compaction, "FLOOR_BYTES", 1)  # keep the segments with deletions
    path, records, ix = _indexed_records(tmp_path, 10, 3)
    docs = path.parent
    records[0]["text"] = "一回目の変更"
    write_jsonl(path, records)
    build_index([docs], ix, procs=1)
    live = IndexStore(ix).current() / DELETED_STATS
    content = live.read_bytes()
    records[1]["text"] = "二回目の変更"
    write_jsonl(path, records)
    build_index([docs], ix, procs=1)
    assert live.read_bytes() == content  # the previous version's file was not written through a link


def test_plan_never_merges_full_segments() -> None:
    """A large first build is all segments of the budget's size: merging eight of them
    would only re-analyse them into eight again. Smaller ones still merge by tier."""
    mb = 1024 * 1024
    full = [_Segment(50_000, 0, 5_000_000, (110 + i) * mb) for i in range(40)]

    def size(s: _Segment) -> int:
        return s.nbytes

    assert compaction.plan(full, size, update=False) == []
    assert compaction.plan(full, size) == []
    medium = [_Segment(5_000, 0, 500_000, 20 * mb) for _ in range(compaction.TIER_FACTOR)]
    assert compaction.plan([*full, *medium], size) == medium


def test_record_hash_is_stable() -> None:
    """Each JSONL record's stored hash decides whether an update re-analyses it: a change
    to what is hashed, or how, would re-index every record of every user's files once."""
    from sakuin.search.documents.model import Document, Section
    from sakuin.search.indexing.changes import record_hash

    doc = Document(
        doc_id="a",
        title="題",
        path="x.jsonl",
        sections=(Section(0, "見出し", "本文\ud800"), Section(1, "", "二")),
        meta={"date": "2012-01-01", "tags": ["x", "y"]},
    )
    assert record_hash(doc) == "467506e4cf0cdcc3c5a9242d8642b37b"
