"""One writer: concurrent ``sakuin index`` runs wait or refuse, never corrupt; a killed
writer's lock is gone at once, even when only its main process was killed."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from support.corpora import write_corpus
from support.paths import ROOT
from support.processes import kill_group, sakuin, sakuin_cmd, wait_group_gone
from support.snapshots import leftovers, snapshot

from sakuin.search.embedded.store import IndexStore


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        sakuin_cmd(*args),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_until_writing(ix: Path, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    """Until ``proc`` holds the lock and has started its build (its .tmp- directory exists)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the writer ended early: {proc.communicate()}"
        if ix.is_dir() and any(p.name.startswith(".tmp-") for p in ix.iterdir()):
            return
        time.sleep(0.02)
    raise AssertionError("the writer never started building")


def test_second_writer_waits_by_default_and_refuses_with_no_wait(tmp_path: Path) -> None:
    a, b, ix = tmp_path / "a", tmp_path / "b", tmp_path / "ix"
    write_corpus(a, 0, range(20))
    write_corpus(b, 5, range(20, 22))
    # What the two runs must add up to, however they interleave: a, then b.
    expected_ix = tmp_path / "expected"
    sakuin("index", str(a), "--index-dir", str(expected_ix))
    sakuin("index", str(b), "--index-dir", str(expected_ix))
    expected = snapshot(expected_ix)

    first = _start("index", str(a), "--index-dir", str(ix))
    try:
        _wait_until_writing(ix, first)
        refused = sakuin("index", str(b), "--index-dir", str(ix), "--no-wait", check=False, timeout=60)
        assert refused.returncode == 1
        assert "another `sakuin index` is writing" in refused.stderr and "Traceback" not in refused.stderr
        assert first.poll() is None, "the refused run must not disturb the running one"

        second = _start("index", str(b), "--index-dir", str(ix))
        time.sleep(0.5)
        assert first.poll() is None and second.poll() is None, "the second run must wait, not fail"
        _, err1 = first.communicate(timeout=300)
        _, err2 = second.communicate(timeout=300)
    finally:
        kill_group(first.pid)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    # The second run read the index the first one published: nothing of `a` was lost.
    assert snapshot(ix) == expected
    assert leftovers(ix) == []


def test_many_concurrent_writers_never_corrupt_the_index(tmp_path: Path) -> None:
    """Four runs on the same index at once (two on each folder): all succeed, in some order."""
    a, b, ix = tmp_path / "a", tmp_path / "b", tmp_path / "ix"
    write_corpus(a, 0, range(4), per_file=20)
    write_corpus(b, 3, range(4, 8), per_file=20)
    expected_ix = tmp_path / "expected"
    sakuin("index", str(a), "--index-dir", str(expected_ix))
    sakuin("index", str(b), "--index-dir", str(expected_ix))
    procs = [_start("index", str(folder), "--index-dir", str(ix)) for folder in (a, b, a, b)]
    try:
        results = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            kill_group(p.pid)
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [err for _, err in results]
    assert snapshot(ix) == snapshot(expected_ix)
    assert len(IndexStore(ix).versions()) <= 2


def test_lock_of_a_sigkilled_writer_is_free_at_once(tmp_path: Path) -> None:
    """SIGKILL of the writer's main process only (as `kill -9 PID` or the OOM killer do):
    its parallel workers must not keep the lock, so a --no-wait run proceeds at once."""
    docs, ix = tmp_path / "docs", tmp_path / "ix"
    write_corpus(docs, 0, range(16))  # >= 400 sections: Whoosh's multi-process writer
    proc = _start("index", str(docs), "--index-dir", str(ix))
    try:
        _wait_until_writing(ix, proc)
        time.sleep(1.0)  # workers are forked once documents are handed out
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        assert not wait_group_gone(proc.pid, timeout=5), "Whoosh workers outlived the killed writer"
    finally:
        kill_group(proc.pid)
        proc.wait()
    assert (ix / ".lock").exists()  # the file stays; the flock on it died with the processes
    started = time.monotonic()
    rerun = sakuin("index", str(docs), "--index-dir", str(ix), "--no-wait", check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert snapshot(ix) is not None and leftovers(ix) == []
    print(f"\nre-run after SIGKILL took {time.monotonic() - started:.1f} s (no lock wait)")


def test_lock_of_a_killed_process_group_is_free_at_once(tmp_path: Path) -> None:
    docs, ix = tmp_path / "docs", tmp_path / "ix"
    write_corpus(docs, 0, range(16))
    proc = _start("index", str(docs), "--index-dir", str(ix))
    try:
        _wait_until_writing(ix, proc)
    finally:
        kill_group(proc.pid)
        proc.wait()
    rerun = sakuin("index", str(docs), "--index-dir", str(ix), "--no-wait", check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert leftovers(ix) == []
