"""The watcher keeps the index equal to its folders: create, change, rename, delete, a bulk copy,
a folder moved in and out, a folder that vanishes and returns, and a failing update.

Each test runs ``Watcher`` in a thread of the test process on real folders and a real
embedded index (inotify), with a short quiet period, and reads the index's manifest and
searches to see what it holds.
"""

from __future__ import annotations

import errno
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sakuin.search.embedded.reading.engine import EmbeddedEngine
from sakuin.search.embedded.status import FileStatusStore
from sakuin.search.embedded.store import IndexStore
from sakuin.search.indexing.history import read_runs
from sakuin.search.watching import Watcher, status_report
from sakuin.search.watching.debounce import Backoff


def wait_for(check: Callable[[], Any], timeout: float = 30, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or check}")


class Running:
    """A ``Watcher`` on ``paths`` in a thread, its log lines collected."""

    def __init__(self, paths: list[Path], ix: Path, *, quiet: float = 0.3, **options: Any) -> None:
        self.ix = ix
        self.lines: list[str] = []
        self.watcher = Watcher(
            paths, ix, quiet=quiet, max_delay=10, echo=lambda line, _: self.lines.append(line), **options
        )
        self.thread = threading.Thread(target=self.watcher.run, daemon=True)

    def __enter__(self) -> Running:
        self.thread.start()
        wait_for(lambda: self.updates(), what="the first update")
        return self

    def __exit__(self, *exc: object) -> None:
        self.watcher.stop()
        self.thread.join(20)
        assert not self.thread.is_alive()

    def updates(self) -> list[str]:
        return [line for line in self.lines if " watch: updated " in line or " watch: no change" in line]

    def files(self) -> set[str]:
        keys = IndexStore(self.ix).manifest().get("files", {})
        return {Path(k).name for k in keys}

    def found(self, q: str) -> int:
        return EmbeddedEngine(self.ix).search(q, snippets=False).total


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_create_change_rename_delete(tmp_path: Path) -> None:
    docs, ix = tmp_path / "docs", tmp_path / "ix"
    _write(docs / "a.md", "# 猫\n\n猫が鳴く。\n")
    with Running([docs], ix) as w:
        assert w.files() == {"a.md"}
        _write(docs / "b.txt", "犬の話\n\n犬が走る。\n")
        wait_for(lambda: w.files() == {"a.md", "b.txt"}, what="created")
        assert w.found("犬") == 1
        _write(docs / "b.txt", "犬の話\n\n犬が温泉に入る。\n")
        wait_for(lambda: w.found("温泉") == 1, what="changed")
        (docs / "b.txt").rename(docs / "c.txt")
        wait_for(lambda: w.files() == {"a.md", "c.txt"}, what="renamed")
        (docs / "a.md").unlink()
        wait_for(lambda: w.files() == {"c.txt"}, what="deleted")
        assert w.found("猫") == 0 and w.found("温泉") == 1
    updates = [line for line in w.updates() if " updated " in line]
    assert 5 <= len(updates) <= 7, w.lines  # the first build and one per change (a write seen half-done: two)
    assert any("1 added (c.txt); 1 removed (b.txt)" in line for line in updates), w.lines  # a rename: one update
    assert w.lines[-1].endswith("watch: stopped")


def test_a_bulk_copy_is_a_few_updates(tmp_path: Path) -> None:
    docs, ix, source = tmp_path / "docs", tmp_path / "ix", tmp_path / "source"
    _write(docs / "a.md", "# 猫\n\n猫が鳴く。\n")
    for i in range(300):
        _write(source / f"d{i // 50}" / f"n{i:03d}.md", f"# 記事 {i}\n\n空港の話 その{i}。\n")
    with Running([docs], ix, quiet=1.0) as w:
        before = len(w.updates())
        shutil.copytree(source, docs / "bulk")
        wait_for(lambda: len(w.files()) == 301, what="the copy indexed")
        time.sleep(1.5)
        copies = len(w.updates()) - before
    assert 1 <= copies <= 2, w.lines
    assert w.found("空港") == 300


def test_a_folder_moved_in_and_out(tmp_path: Path) -> None:
    docs, ix, outside = tmp_path / "docs", tmp_path / "ix", tmp_path / "outside"
    _write(docs / "a.md", "# 猫\n\n猫が鳴く。\n")
    for i in range(5):
        _write(outside / "box" / "inner" / f"m{i}.txt", f"電車の話 {i}\n\n電車が来る。\n")
    with Running([docs], ix) as w:
        (outside / "box").rename(docs / "box")
        wait_for(lambda: len(w.files()) == 6, what="moved in")
        assert w.found("電車") == 5
        (docs / "box").rename(outside / "box2")
        wait_for(lambda: w.files() == {"a.md"}, what="moved out")
        assert w.found("電車") == 0


def test_a_vanished_folder_keeps_its_documents_until_it_returns(tmp_path: Path) -> None:
    docs, notes, ix = tmp_path / "docs", tmp_path / "notes", tmp_path / "ix"
    _write(docs / "a.md", "# 猫\n\n猫が鳴く。\n")
    _write(notes / "n.md", "# 野球\n\n野球の話。\n")
    with Running([docs, notes], ix) as w:
        assert w.files() == {"a.md", "n.md"}
        notes.rename(tmp_path / "unmounted")
        wait_for(lambda: any("notes is missing" in line or "is missing;" in line for line in w.lines), what="missing")
        _write(docs / "b.md", "# 犬\n\n犬の話。\n")  # the other folder is still watched
        wait_for(lambda: "b.md" in w.files(), what="the other folder's change")
        assert "n.md" in w.files() and w.found("野球") == 1  # kept while it is away
        report = status_report(EmbeddedEngine(ix), FileStatusStore(ix))
        (watcher,) = report["watchers"]
        assert watcher["running"] and watcher["missing"] == {str(notes): "gone"}
        (tmp_path / "unmounted").rename(notes)
        wait_for(lambda: any("is back" in line for line in w.lines), what="back")
        _write(notes / "m.md", "# 選挙\n\n選挙の話。\n")  # watched again
        wait_for(lambda: "m.md" in w.files(), what="a change in the returned folder")
        assert w.files() == {"a.md", "b.md", "n.md", "m.md"}


def test_a_failing_update_keeps_the_index_and_retries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk: publishing fails twice; the live version serves on, the watcher says so,
    retries with back-off, and the third attempt publishes."""
    docs, ix = tmp_path / "docs", tmp_path / "ix"
    _write(docs / "a.md", "# 猫\n\n猫が鳴く。\n")
    real_publish = IndexStore.publish
    failures = [0]

    def full_disk(self: IndexStore, tmp: Path, manifest: dict) -> Path:
        if failures[0] < 2:
            failures[0] += 1
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_publish(self, tmp, manifest)

    with Running([docs], ix) as w:
        w.watcher.backoff = Backoff(0.3, 1.0)
        version = IndexStore(ix).current_name()
        monkeypatch.setattr(IndexStore, "publish", full_disk)
        _write(docs / "b.md", "# 犬\n\n犬の話。\n")
        wait_for(lambda: sum("update failed" in line for line in w.lines) >= 1, what="a failure")
        assert IndexStore(ix).current_name() == version and w.found("猫") == 1  # still serving
        state = FileStatusStore(ix).read(w.watcher.writer.state.id)
        assert state["failures"] >= 1 and "No space left" in state["error"]
        assert state["state"] in ("retrying", "updating")  # (the retry may have started already)
        wait_for(lambda: "b.md" in w.files(), what="the retry that succeeds")
    failed = [line for line in w.lines if "update failed" in line]
    assert len(failed) == 2 and "the index is unchanged; trying again in" in failed[0]
    runs = read_runs(FileStatusStore(ix))
    assert [r["outcome"] for r in runs[:3]] == ["updated", "failed", "failed"]
    assert not [p for p in ix.iterdir() if p.name.startswith(".tmp-")]


def test_the_status_report_shows_the_watcher(tmp_path: Path) -> None:
    docs, ix = tmp_path / "docs", tmp_path / "ix"
    _write(docs / "a.md", "# 猫\n\n猫が鳴く。\n")
    (docs / "skip.zip").write_bytes(b"PK\x03\x04")
    with Running([docs], ix):
        report = status_report(EmbeddedEngine(ix), FileStatusStore(ix))
        (watcher,) = report["watchers"]
        assert watcher["running"] and watcher["state"] in ("idle", "pending") and watcher["paths"] == [str(docs)]
        assert watcher["mode"] == "inotify" and watcher["updates"] >= 1 and watcher["last_check"]
        assert report["index"]["documents"] == 1 and report["index"]["types"] == {"md": 1}
        assert [r["trigger"] for r in report["runs"]] == ["watch"]
        assert report["skipped"]["reasons"] == {"unsupported_type": 1}
    (watcher,) = status_report(EmbeddedEngine(ix), FileStatusStore(ix))["watchers"]
    assert watcher["state"] == "stopped" and not watcher["running"]


def test_polling_for_network_mounts(tmp_path: Path) -> None:
    docs, ix = tmp_path / "docs", tmp_path / "ix"
    _write(docs / "a.md", "# 猫\n\n猫が鳴く。\n")
    with Running([docs], ix, poll=0.2) as w:
        assert w.watcher.observers.mode == "polling every 0.2 s"
        _write(docs / "sub" / "b.md", "# 犬\n\n犬の話。\n")
        wait_for(lambda: w.files() == {"a.md", "b.md"}, what="created, seen by polling")
        (docs / "a.md").unlink()
        wait_for(lambda: w.files() == {"b.md"}, what="deleted, seen by polling")


def test_a_folder_that_cannot_be_watched_natively_is_polled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """inotify's watch limit reached (ENOSPC from inotify_add_watch): poll that folder, and say so."""
    from watchdog.observers.inotify import InotifyObserver

    def limit(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(InotifyObserver, "schedule", limit)
    docs, ix = tmp_path / "docs", tmp_path / "ix"
    _write(docs / "a.md", "# 猫\n\n猫が鳴く。\n")
    with Running([docs], ix) as w:
        assert any("polled every 5 s instead" in line for line in w.lines), w.lines
        assert "some folders polled" in w.watcher.observers.mode
        _write(docs / "b.md", "# 犬\n\n犬の話。\n")
        wait_for(lambda: "b.md" in w.files(), timeout=30, what="a change seen by the fallback poll")
