"""``sakuin watch`` as users run it: SIGKILL during an update, two watchers on one index, a
storm of changes during an update, and ``sakuin serve --watch``.

Every test compares the index with a fresh ``sakuin index`` of the same folders
(``support.snapshots``): the watcher must end exactly where a person re-running
``sakuin index`` would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.parse
from pathlib import Path

from support.corpora import write_corpus
from support.paths import ROOT
from support.processes import free_port, http_get, kill_group, sakuin, sakuin_cmd, wait_group_gone
from support.snapshots import leftovers, snapshot

from sakuin.search.embedded.status import FileStatusStore
from sakuin.search.embedded.store import IndexStore
from sakuin.search.watching.state import read_watchers

#: A short quiet period: the tests wait for updates, not for the default second.
ENV = {**os.environ, "SAKUIN_WATCH_QUIET": "0.3", "SAKUIN_WATCH_MAX_DELAY": "10"}


class Watch:
    """``sakuin watch PATH --index-dir IX`` in its own session, its output in a file."""

    def __init__(self, docs: Path, ix: Path, name: str = "watch", *extra: str) -> None:
        self.log = ix.parent / f"{name}.log"
        self._log = open(self.log, "wb")  # noqa: SIM115 — closed in stop()
        self.proc = subprocess.Popen(
            sakuin_cmd("watch", str(docs), "--index-dir", str(ix), *extra),
            cwd=ROOT,
            env=ENV,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, text: str, count: int = 1, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.output().count(text) >= count:
                return
            assert self.proc.poll() is None, self.output()
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} ×{count} in:\n{self.output()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                kill_group(self.proc.pid)
                self.proc.wait()
        self._log.close()


def _wait_until_building(ix: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ix.is_dir() and any(p.name.startswith(".tmp-") for p in ix.iterdir()):
            return
        time.sleep(0.01)
    raise AssertionError("no build started")


def _fresh(docs: Path, ix: Path) -> dict:
    sakuin("index", str(docs), "--index-dir", str(ix))
    return snapshot(ix)


def test_sigkill_during_an_update_keeps_the_index_and_the_next_start_completes(tmp_path: Path) -> None:
    docs, ix = tmp_path / "docs", tmp_path / "ix"
    write_corpus(docs, 0, range(16))
    first = Watch(docs, ix)
    try:
        first.wait_for("watch: updated v000001")
        before = snapshot(ix)
        write_corpus(docs, 1, range(16))  # every record changes: an update of seconds
        _wait_until_building(ix)
        first.proc.send_signal(signal.SIGKILL)  # the main process only, like `kill -9 PID`
        first.proc.wait(30)
        assert not wait_group_gone(first.proc.pid), "analysis workers outlived the killed watcher"
    finally:
        kill_group(first.proc.pid)
        first.stop()
    assert snapshot(ix) == before, "the live index changed under a killed update"
    assert IndexStore(ix).current_name() == "v000001"

    second = Watch(docs, ix, "watch2")
    try:
        second.wait_for("watch: updated v000002")  # the catch-up at start does the killed update's work
    finally:
        second.stop()
    assert leftovers(ix) == []
    assert snapshot(ix) == _fresh(docs, tmp_path / "fresh")
    (gone, stopped) = sorted(read_watchers(FileStatusStore(ix)), key=lambda w: w["state"])
    assert (gone["state"], stopped["state"]) == ("gone", "stopped")  # the killed one, then the second


def test_two_watchers_on_one_index_one_writes_the_other_waits(tmp_path: Path) -> None:
    docs, ix = tmp_path / "docs", tmp_path / "ix"
    write_corpus(docs, 0, range(16))
    a = Watch(docs, ix, "a")
    b = None
    try:
        _wait_until_building(ix)  # a's first build holds the writer lock
        b = Watch(docs, ix, "b")
        b.wait_for("another writer is updating the index; waiting for it")
        assert "updated" not in b.output() and a.proc.poll() is None
        a.wait_for("watch: updated v000001")
        b.wait_for("watch: no change")  # then it runs, and a already did the work
        write_corpus(docs, 2, range(3))  # both notice; whichever takes the lock first writes
        deadline = time.monotonic() + 120
        while "updated v000002" not in a.output() + b.output():
            assert time.monotonic() < deadline, a.output() + b.output()
            time.sleep(0.05)
        _wait_idle(ix, watchers=2)
    finally:
        a.stop()
        if b is not None:
            b.stop()
    assert "update failed" not in a.output() + b.output()
    assert snapshot(ix) == _fresh(docs, tmp_path / "fresh")
    assert len(IndexStore(ix).versions()) <= 2 and leftovers(ix) == []


def _wait_idle(ix: Path, watchers: int = 1, timeout: float = 60) -> None:
    """Until every running watcher of ``ix`` is idle with nothing pending (and stays so for a second)."""
    deadline = time.monotonic() + timeout
    calm_since = None
    while time.monotonic() < deadline:
        states = [w for w in read_watchers(FileStatusStore(ix)) if w["running"]]
        calm = len(states) == watchers and all(w["state"] == "idle" and not w["pending"] for w in states)
        if calm and calm_since is None:
            calm_since = time.monotonic()
        elif not calm:
            calm_since = None
        if calm_since is not None and time.monotonic() - calm_since > 1.0:
            return
        time.sleep(0.1)
    raise AssertionError(f"the watchers never settled: {read_watchers(FileStatusStore(ix))}")


def test_a_storm_during_an_update_is_picked_up_by_the_next(tmp_path: Path) -> None:
    docs, ix = tmp_path / "docs", tmp_path / "ix"
    write_corpus(docs, 0, range(16))
    w = Watch(docs, ix)
    try:
        w.wait_for("watch: updated v000001")
        write_corpus(docs, 1, range(16))
        _wait_until_building(ix)
        for i in range(40):  # while the update runs: new files, rewrites, deletions
            (docs / f"storm-{i:02d}.md").write_text(f"# 嵐 {i}\n\n嵐の記録 {i}。\n", encoding="utf-8")
            if i % 4 == 0:
                write_corpus(docs, 3 + i, range(i // 4, i // 4 + 1))
            if i % 10 == 9:
                (docs / f"storm-{i - 5:02d}.md").unlink()
            time.sleep(0.02)
        _wait_idle(ix, timeout=180)  # every update after the storm done (a failed one retried)
    finally:
        w.stop()
    assert snapshot(ix) == _fresh(docs, tmp_path / "fresh")
    manifest = IndexStore(ix).manifest()["files"]
    assert {Path(k).name for k in manifest} == {p.name for p in docs.iterdir()}


def test_serve_watch_builds_serves_and_follows_the_folders(tmp_path: Path) -> None:
    docs, ix = tmp_path / "docs", tmp_path / "ix"
    (docs).mkdir()
    (docs / "a.md").write_text("# 猫\n\n猫が鳴く。\n", encoding="utf-8")
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            sakuin_cmd("serve", "--watch", str(docs), "--index-dir", str(ix), "--port", str(port), "--workers", "1"),
            cwd=ROOT,
            env=ENV,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:  # no index at start: the watcher builds it first
                assert proc.poll() is None, log.read_text()
                try:
                    if http_get(base + "/healthz", timeout=2)[0] == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.1)
            else:
                raise AssertionError(log.read_text())
            (docs / "b.md").write_text("# 犬\n\n犬が走る。\n", encoding="utf-8")
            saved = time.monotonic()
            query = base + "/api/search?" + urllib.parse.urlencode({"q": "犬"})
            while json.loads(http_get(query)[1])["total"] != 1:
                assert time.monotonic() - saved < 30, log.read_text()
                time.sleep(0.05)
            status = json.loads(http_get(base + "/api/status")[1])
            (watcher,) = status["watchers"]
            assert watcher["running"] and watcher["paths"] == [str(docs)]
            assert status["index"]["documents"] == 2
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            finally:
                kill_group(proc.pid)
    assert not wait_group_gone(proc.pid), "the watcher outlived the server"
    text = log.read_text()
    assert "watch: watching" in text and "watch: updated v000002" in text and "Traceback" not in text
    (watcher,) = read_watchers(FileStatusStore(ix))
    assert watcher["state"] == "stopped"


def test_watch_refuses_a_missing_path(tmp_path: Path) -> None:
    proc = sakuin("watch", str(tmp_path / "nope"), "--index-dir", str(tmp_path / "ix"), check=False, timeout=60)
    assert proc.returncode == 2 and proc.stderr.strip() == f"sakuin: no such file or directory: {tmp_path / 'nope'}"
    proc = sakuin("serve", str(tmp_path), "--index-dir", str(tmp_path / "ix"), check=False, timeout=60)
    assert proc.returncode == 2 and "--watch" in proc.stderr
