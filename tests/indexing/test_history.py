"""The run history: every run recorded under the writer lock, failures with their error, bounded,
skipped files per folder with stable codes; and what an index holds by type and folder."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from sakuin.search.config import RUNS_KEPT
from sakuin.search.documents.kinds import REFUSED
from sakuin.search.embedded.status import FileStatusStore
from sakuin.search.embedded.store import IndexStore
from sakuin.search.embedded.writing.indexer import build_index, optimize_index
from sakuin.search.indexing import history
from sakuin.search.indexing.history import read_runs, read_skipped
from sakuin.search.indexing.inventory import OTHER, inventory
from sakuin.search.indexing.report import IndexReport
from sakuin.search.indexing.skips import SKIP_CODES, skip_code


def _docs(root: Path) -> Path:
    docs = root / "docs"
    (docs / "news").mkdir(parents=True)
    (docs / "notes" / "deep").mkdir(parents=True)
    (docs / "news" / "a.md").write_text("# 猫\n\n猫の話。\n", encoding="utf-8")
    (docs / "notes" / "deep" / "b.txt").write_text("犬の話。\n", encoding="utf-8")
    (docs / "top.html").write_text("<title>空港</title><p>空港の話。</p>", encoding="utf-8")
    (docs / "x.zip").write_bytes(b"PK\x03\x04 not text")
    (docs / "empty.txt").write_text("", encoding="utf-8")
    return docs


def test_every_run_is_recorded_with_what_it_changed(tmp_path: Path) -> None:
    docs, ix = _docs(tmp_path), tmp_path / "ix"
    store = FileStatusStore(ix)
    build_index([docs], ix)
    (docs / "news" / "a.md").write_text("# 猫\n\n猫と犬の話。\n", encoding="utf-8")
    (docs / "top.html").unlink()
    build_index([docs], ix)
    build_index([docs], ix)  # nothing changed: kept, since someone asked for it
    build_index([docs], ix, trigger="watch")  # nothing changed, from a watcher: not kept
    optimize_index(ix)
    runs = read_runs(store)
    assert [(r["trigger"], r["outcome"]) for r in runs] == [
        ("optimize", "updated"),
        ("index", "unchanged"),
        ("index", "updated"),
        ("index", "updated"),
    ]
    first, second = runs[3], runs[2]
    assert (first["added"], first["changed"], first["removed"], first["skipped"]) == (3, 0, 0, 2)
    assert (second["added"], second["changed"], second["removed"]) == (0, 1, 1)
    assert second["examples"]["changed"] == [str(docs / "news" / "a.md")]
    assert second["examples"]["removed"] == [str((docs / "top.html").absolute())]
    assert second["documents"] == 2 and second["version"] == "v000002" and runs[0]["version"] == "v000003"
    assert second["paths"] == [str(docs.absolute())] and second["error"] is None
    # The history is beside the versions, never in one.
    assert sorted(p.name for p in (ix / "status").iterdir()) == ["runs.json", "skipped.json"]
    assert not any((v / "runs.json").exists() for v in IndexStore(ix).versions())


def test_a_failed_run_is_recorded_and_the_index_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs, ix = _docs(tmp_path), tmp_path / "ix"
    build_index([docs], ix)
    version = IndexStore(ix).current_name()
    (docs / "new.md").write_text("# 新\n\n新しい話。\n", encoding="utf-8")

    def full(self: IndexStore, tmp: Path, manifest: dict) -> Path:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(IndexStore, "publish", full)
    with pytest.raises(OSError, match="No space left"):
        build_index([docs], ix)
    assert IndexStore(ix).current_name() == version
    assert not [p for p in ix.iterdir() if p.name.startswith(".tmp-")]
    failed = read_runs(FileStatusStore(ix))[0]
    assert failed["outcome"] == "failed" and "No space left on device" in failed["error"]
    assert failed["added"] == 1 and failed["version"] is None and failed["size_bytes"] is None


def test_a_history_that_cannot_be_written_never_fails_a_run(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    docs, ix = _docs(tmp_path), tmp_path / "ix"
    ix.mkdir()
    (ix / "status").write_text("not a folder")
    report = build_index([docs], ix)
    assert report.documents == 3 and IndexStore(ix).current_name()
    assert "run history could not be written" in caplog.text


def test_the_history_is_bounded(tmp_path: Path) -> None:
    store = FileStatusStore(tmp_path)
    for i in range(RUNS_KEPT + 15):
        history.append_run(store, {"n": i})
    runs = store.read(history.RUNS)
    assert len(runs) == RUNS_KEPT and runs[-1] == {"n": RUNS_KEPT + 14}
    assert [r["n"] for r in read_runs(store, 3)] == [RUNS_KEPT + 14, RUNS_KEPT + 13, RUNS_KEPT + 12]


def test_skipped_files_are_kept_per_folder_with_codes(tmp_path: Path) -> None:
    docs, other, ix = _docs(tmp_path), tmp_path / "other", tmp_path / "ix"
    other.mkdir()
    (other / "c.bin").write_bytes(b"\x00\x01")
    (other / "ok.txt").write_text("電車の話。\n", encoding="utf-8")
    build_index([docs], ix)
    build_index([other], ix)  # another folder: the first one's skips stay
    skipped = read_skipped(FileStatusStore(ix))
    assert [(Path(s["path"]).name, s["code"]) for s in skipped] == [
        ("empty.txt", "empty_file"),
        ("x.zip", "unsupported_type"),
        ("c.bin", "unsupported_type"),
    ]
    (docs / "x.zip").unlink()
    build_index([docs], ix)  # this folder's list is replaced by its latest run
    assert [Path(s["path"]).name for s in read_skipped(FileStatusStore(ix))] == ["empty.txt", "c.bin"]


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("unsupported file type .zip", "unsupported_type"),
        ("file too large (31.0 MB; the limit for .txt files is 20 MB): split it or convert it to JSONL", "too_large"),
        ("empty file", "empty_file"),
        ("no text content", "no_text"),
        ("binary file", "binary_file"),
        ("cannot decode text (tried utf-8, cp932, euc-jp, iso-2022-jp)", "undecodable"),
        ("invalid utf-8 text after BOM", "undecodable"),
        ("HTML nested too deeply", "malformed"),
        ("file name is not valid UTF-8: rename the file to index it", "bad_file_name"),
        ("not a regular file (a named pipe)", "not_regular"),
        ("symbolic link loop", "link"),
        ("broken symbolic link", "link"),
        ("symbolic link to a directory, not followed", "link"),
        (os.strerror(errno.EACCES), "unreadable"),
        (os.strerror(errno.EIO), "unreadable"),
        (REFUSED[".doc"], "old_format"),
        (REFUSED[".msg"], "old_format"),
        ("encrypted PDF: it needs a password to open", "encrypted"),
        ("no text: scanned? (3 pages of images; install tesseract-ocr-jpn to read them)", "scanned"),
        ("not a readable PDF (damaged or truncated)", "malformed"),
        ("not a readable DOCX (damaged or truncated zip: bad CRC)", "malformed"),
        ("not an e-mail message", "malformed"),
        ("damaged file (KeyError: 'word/document.xml')", "malformed"),
        ("12,000 pages (limit 5,000, SAKUIN_MAX_PAGES)", "over_limit"),
        ("DOCX would decompress to 900 MB (limit 300 MB, SAKUIN_MAX_UNZIPPED_MB): a zip bomb?", "over_limit"),
        ("took longer than 120 s to read (SAKUIN_MAX_FILE_SECONDS)", "over_limit"),
        ("more than 40 MB of text (SAKUIN_MAX_EXTRACTED_MB): split the document", "over_limit"),
        ("a reason no rule knows yet", "other"),
    ],
)
def test_skip_reasons_have_stable_codes(reason: str, code: str) -> None:
    assert skip_code(reason) == code
    assert code in SKIP_CODES


def test_every_skip_code_is_a_row_of_the_error_table() -> None:
    from sakuin.search.errors import CODES

    assert all(CODES[code].kind == "skip" for code in SKIP_CODES)


def test_inventory_counts_documents_by_type_and_first_folder() -> None:
    files = {
        "/d/news/a.md": {"doc_ids": ["a"]},
        "/d/news/sub/b.md": {"doc_ids": ["b"]},
        "/d/top.txt": {"doc_ids": ["t"]},
        "/d/feed/x.jsonl": {"doc_ids": [f"r{i}" for i in range(5)]},
        "/d/README": {"doc_ids": ["r"]},
        "/d/skipped.txt": {"doc_ids": []},
    }
    held = inventory(files)
    assert held["root"] == "/d"
    assert held["types"] == {"jsonl": 5, "md": 2, "none": 1, "txt": 1}
    assert held["folders"] == {"feed": 5, ".": 2, "news": 2}
    assert inventory({}) == {"types": {}, "folders": {}, "root": ""}
    many = {f"/d/f{i:03d}/a.txt": {"doc_ids": ["x"] * (100 - i)} for i in range(40)}
    folders = inventory(many)["folders"]
    assert len(folders) == 31 and folders[OTHER] == sum(100 - i for i in range(30, 40))


def test_status_documents_are_replaced_whole(tmp_path: Path) -> None:
    store = FileStatusStore(tmp_path)
    store.write("runs", [1, 2])
    (tmp_path / "status" / ".runs.999999999.1.tmp").write_text("[")  # a writer killed mid-write
    store.write("watcher-h-1", {"a": 1})
    assert store.read("runs") == [1, 2] and store.names("watcher-") == ["watcher-h-1"]
    assert not (tmp_path / "status" / ".runs.999999999.1.tmp").exists()
    (tmp_path / "status" / "runs.json").write_text("{broken")
    assert store.read("runs") is None
    store.remove("watcher-h-1")
    assert store.names() == ["runs"]


def test_run_record_of_an_interrupted_run() -> None:
    record = history.run_record(IndexReport(), "index", 0.0, 1.0, None, KeyboardInterrupt())
    assert record["outcome"] == "interrupted" and record["error"] is None
