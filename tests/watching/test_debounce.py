"""When an update is due: the quiet period, the bound under a storm, back-off after failures;
and what counts as a change (the feed's filter) and as a missing folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sakuin.search.watching.debounce import Backoff, Debouncer
from sakuin.search.watching.events import ChangeFeed
from sakuin.search.watching.roots import BACK, MISSING, REPLACED, Root


def test_a_burst_is_one_update_after_the_quiet_period() -> None:
    d = Debouncer(quiet=1.0, max_delay=30.0)
    assert not d.pending and d.due_at() is None and not d.due(100.0)
    for i in range(1000):  # a copy of 1,000 files: an event every 0.5 ms
        d.note(10.0 + i * 0.0005)
    assert not d.due(10.9)
    assert d.due_at() == pytest.approx(10.4995 + 1.0)
    assert d.due(11.5)
    assert d.take() == 1000
    assert not d.pending and not d.due(20.0)


def test_a_storm_that_never_pauses_is_updated_every_max_delay() -> None:
    d = Debouncer(quiet=1.0, max_delay=30.0)
    t = 0.0
    updates = []
    while t < 95.0:  # an event every 0.2 s for 95 s
        d.note(t)
        if d.due(t):
            updates.append(t)
            d.take()
        t += 0.2
    assert len(updates) == 3
    assert all(28.0 <= later - earlier <= 31.0 for earlier, later in zip([0.0, *updates], updates, strict=False))


def test_changes_during_an_update_are_the_next_updates() -> None:
    d = Debouncer(quiet=1.0, max_delay=30.0)
    d.note(0.0)
    assert d.due(1.0)
    d.take()  # the update starts and reads the folders
    d.note(1.5)  # arrives while it runs
    assert d.pending and d.due(2.5)


def test_backoff_doubles_up_to_its_longest_and_resets() -> None:
    b = Backoff(first=2.0, longest=300.0)
    delays = [b.failed(0.0) for _ in range(10)]
    assert delays == [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert b.waiting(299.0) and not b.waiting(300.0)
    b.succeeded()
    assert not b.waiting(0.0) and b.failed(0.0) == 2


def test_the_feed_counts_what_the_indexer_reads(tmp_path: Path) -> None:
    docs, single, index = tmp_path / "docs", tmp_path / "news.jsonl", tmp_path / "docs" / "idx"
    docs.mkdir()
    single.write_text("{}\n")
    feed = ChangeFeed([docs, single], [index])
    sep = os.sep
    assert feed.counts(f"{docs}{sep}a.md")
    assert feed.counts(f"{docs}{sep}sub{sep}b.txt")
    assert feed.counts(str(docs))  # the folder itself (deleted, moved)
    assert feed.counts(str(single))
    assert not feed.counts(f"{tmp_path}{sep}other.jsonl")  # beside the watched file
    assert not feed.counts(f"{docs}{sep}.a.md.swp")  # hidden: the walker skips it
    assert not feed.counts(f"{docs}{sep}.git{sep}index")
    assert not feed.counts(f"{index}{sep}CURRENT")  # the index's own folder
    assert not feed.counts(f"{index}{sep}status{sep}runs.json")
    assert not feed.counts(f"{docs}2{sep}a.md")  # a sibling whose name starts the same


def test_the_feed_ignores_reads_and_folder_modifications(tmp_path: Path) -> None:
    from watchdog.events import (
        DirModifiedEvent,
        EventsLostEvent,
        FileClosedNoWriteEvent,
        FileMovedEvent,
        FileOpenedEvent,
    )

    docs = tmp_path / "docs"
    docs.mkdir()
    feed = ChangeFeed([docs])
    for event in (FileOpenedEvent(str(docs / "a.md")), FileClosedNoWriteEvent(str(docs / "a.md"))):
        feed.dispatch(event)
    feed.dispatch(DirModifiedEvent(str(docs)))
    assert feed.wait(0) == []
    feed.dispatch(FileMovedEvent(str(docs / ".a.md.tmp"), str(docs / "a.md")))  # an editor's atomic save
    feed.dispatch(FileMovedEvent(str(docs / "a.md"), str(tmp_path / "away.md")))  # moved out
    feed.dispatch(EventsLostEvent(str(docs), is_directory=True))
    assert len(feed.wait(0)) == 3


def test_a_root_that_disappears_is_missing_until_it_returns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    root = Root(docs)
    assert root.check() is None and not root.missing
    docs.rename(tmp_path / "away")
    assert root.check() == MISSING and root.why == "gone"
    assert root.check() is None  # said once
    (tmp_path / "away").rename(docs)
    assert root.check() == BACK and not root.missing
    docs.rename(tmp_path / "old")
    docs.mkdir()  # another folder in its place
    assert root.check() == REPLACED and not root.missing

    # An unmounted share leaves its mount point: the same path, on another file system.
    real_stat = os.stat

    def other_device(path: object, *args: object, **kwargs: object) -> os.stat_result:
        info = real_stat(path, *args, **kwargs)  # type: ignore[arg-type]
        if str(path) != str(docs):
            return info
        values = list(info)
        values[2] = info.st_dev + 1
        return os.stat_result(values)

    monkeypatch.setattr(os, "stat", other_device)
    assert root.check() == MISSING and root.why == "other_fs"
    monkeypatch.setattr(os, "stat", real_stat)
    assert root.check() == BACK
