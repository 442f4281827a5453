"""Crash safety: SIGKILL ``sakuin index`` anywhere; the index stays the last completed run's.

Kill points are spread over a whole run (fractions of a measured unkilled run) and,
for the commit and publish steps that take milliseconds, hit exactly by a hook that
SIGKILLs the process at that step. After every kill the index must open and give
exactly the result sets and counts of the last completed run; re-running the same
command must then complete the update and leave nothing behind.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from support.corpora import write_corpus, write_markdown
from support.paths import ROOT
from support.processes import kill_group, sakuin, sakuin_cmd, wait_group_gone
from support.snapshots import leftovers, snapshot

from sakuin.search.embedded.store import IndexStore

#: Kill points as fractions of an unkilled run's duration; the last ones land in or
#: after the commit and publish phase.
FRACTIONS = (0.05, 0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85, 0.92, 0.97, 1.0, 1.05)


def _update(docs: Path) -> None:
    """Generation 1 of the corpus: 8 files change, 2 disappear, 3 appear (>= 400 new sections)."""
    write_corpus(docs, 1, range(8))
    for f in (18, 19):
        (docs / f"part-{f:02d}.jsonl").unlink()
    write_corpus(docs, 1, range(20, 23))
    write_markdown(docs, 1)


def _timed_kill(args: list[str], delay: float, whole_group: bool) -> tuple[int | None, float]:
    """Start ``sakuin index``, SIGKILL it after ``delay`` s; returns (exit code, seconds it ran)."""
    started = time.monotonic()
    proc = subprocess.Popen(
        sakuin_cmd(*args), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        try:
            proc.wait(delay)
        except subprocess.TimeoutExpired:
            if whole_group:
                kill_group(proc.pid)
            else:
                proc.send_signal(signal.SIGKILL)  # the main process only, like `kill -9 PID`
        code = proc.wait(60)
        ran = time.monotonic() - started
        # Whoosh's worker processes must die with the main process, whichever was killed.
        assert not wait_group_gone(proc.pid), "worker processes outlived the killed indexer"
    finally:
        kill_group(proc.pid)
        proc.wait()
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    assert code in (0, -signal.SIGKILL), f"exit {code}: {err}"
    return code, ran


def test_sigkill_at_many_points_of_an_incremental_update(tmp_path: Path) -> None:
    docs, ix, pristine = tmp_path / "docs", tmp_path / "ix", tmp_path / "pristine"
    write_corpus(docs, 0, range(20))
    write_markdown(docs, 0)
    sakuin("index", str(docs), "--index-dir", str(ix))
    before = snapshot(ix)
    assert before is not None
    shutil.copytree(ix, pristine)

    _update(docs)
    # The reference: the same update, unkilled, from a copy of the same index.
    reference = tmp_path / "reference"
    shutil.copytree(pristine, reference)
    started = time.monotonic()
    # Two analysis workers, as on a real corpus (a small update would run in-process).
    sakuin("index", str(docs), "--index-dir", str(reference), "--procs", "2")
    duration = time.monotonic() - started
    after = snapshot(reference)
    assert after is not None and after != before
    assert after["stats"] != before["stats"]

    outcomes = []
    for n, fraction in enumerate(FRACTIONS):
        for _attempt in range(3):
            args = ["index", str(docs), "--index-dir", str(ix), "--procs", "2"]
            code, ran = _timed_kill(args, fraction * duration, n % 2 == 0)
            state = snapshot(ix)
            assert state in (before, after), f"kill at {fraction:.0%} ({ran:.2f} s) left an index of neither run"
            if code == 0:
                assert state == after, "a run that exited 0 must have published"
            if state == after:  # it committed: start the next kill from the old index again
                shutil.rmtree(ix)
                shutil.copytree(pristine, ix)
            if code == 0 and fraction < 1:
                # The machine is shared and run times vary: this run beat the estimate, so
                # aim the remaining points at its duration and try this fraction again.
                duration = min(duration, ran)
                continue
            break
        outcomes.append((fraction, code, "old" if state == before else "new"))
    print(f"\nupdate {duration:.2f} s; kill outcomes:", outcomes)
    # Publication is the last step, so the first half of the run never shows the new index...
    assert all(state == "old" for fraction, _, state in outcomes if fraction <= 0.5)
    # ...and the kill points below 100% really killed a run in progress.
    assert sum(code is not None and code < 0 for _, code, _ in outcomes) >= 10, outcomes

    # Re-running the command completes the update and cleans up after the killed runs.
    sakuin("index", str(docs), "--index-dir", str(ix))
    assert snapshot(ix) == after
    assert leftovers(ix) == []


def test_sigkill_during_a_first_build_leaves_no_index_then_rerun_builds_it(tmp_path: Path) -> None:
    docs, ix, reference = tmp_path / "docs", tmp_path / "ix", tmp_path / "reference"
    write_corpus(docs, 0, range(12))
    write_markdown(docs, 0)
    started = time.monotonic()
    sakuin("index", str(docs), "--index-dir", str(reference))
    duration = time.monotonic() - started
    built = snapshot(reference)
    for fraction in (0.15, 0.5, 0.85):
        _timed_kill(["index", str(docs), "--index-dir", str(ix)], fraction * duration, True)
        state = snapshot(ix)
        assert state in (None, built), f"kill at {fraction:.0%} left a partial index"
        if state == built:
            shutil.rmtree(ix)
    sakuin("index", str(docs), "--index-dir", str(ix))
    assert snapshot(ix) == built
    assert leftovers(ix) == []


#: Runs ``sakuin`` with a SIGKILL hooked onto one step of the commit/publish sequence.
KILL_RUNNER = r"""
import os, pathlib, signal, sys
from sakuin.search.embedded.writing import compaction
from sakuin.search.embedded import livestats
from sakuin.search.embedded.writing import segments
from sakuin.search.embedded import store
import whoosh.writing as writing

MAIN = os.getpid()

def die():
    # In an analysis worker, SIGKILL the indexer itself (the worker dies with it).
    os.kill(MAIN, signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)

def wrap(owner, name, after=False, when=lambda *a, **k: True):
    real = getattr(owner, name)
    def hooked(*args, **kwargs):
        hit = when(*args, **kwargs)
        if hit and not after:
            die()
        result = real(*args, **kwargs)
        if hit and after:
            die()
        return result
    setattr(owner, name, hooked)

def to_current(src, dst, *a, **k):
    return str(dst).endswith("CURRENT")

def tmp_dir(path, *a, **k):
    return path.name.startswith(".tmp-")

point = sys.argv.pop(1)
{
    "after-link": lambda: wrap(store.IndexStore, "start_version", after=True),
    "segment-write": lambda: wrap(segments.SegmentBuilder, "_write_terms"),
    "after-segment-write": lambda: wrap(segments.SegmentBuilder, "write", after=True),
    "compacting": lambda: wrap(compaction, "live_tasks"),
    "after-deleted-stats": lambda: wrap(livestats.DeletedStats, "save", after=True),
    "whoosh-before-toc": lambda: wrap(writing.SegmentWriter, "_commit_toc"),
    "whoosh-after-toc": lambda: wrap(writing.SegmentWriter, "_commit_toc", after=True),
    "before-fsync": lambda: wrap(store, "_fsync_tree"),
    "after-rename": lambda: wrap(pathlib.Path, "rename", after=True, when=tmp_dir),
    "before-swap": lambda: wrap(store.os, "replace", when=to_current),
    "after-swap": lambda: wrap(store.os, "replace", after=True, when=to_current),
    "before-prune": lambda: wrap(store.IndexStore, "_prune"),
}[point]()
from sakuin.search.cli.main import main
sys.argv[0] = "sakuin"
main()
"""

PUBLISH_STEPS = {
    # step: whether the new version is committed when the process dies there
    "after-link": False,
    "segment-write": False,
    "after-segment-write": False,
    "compacting": False,
    "after-deleted-stats": False,
    "whoosh-before-toc": False,
    "whoosh-after-toc": False,
    "before-fsync": False,
    "after-rename": False,
    "before-swap": False,
    "after-swap": True,
    "before-prune": True,
}


@pytest.fixture(scope="module")
def small_update(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict, dict]:
    """An index of generation 0 (pristine copy) and docs at generation 1, with both references."""
    base = tmp_path_factory.mktemp("publish")
    docs, pristine, reference = base / "docs", base / "pristine", base / "reference"
    write_corpus(docs, 0, range(6), per_file=20)
    write_markdown(docs, 0)
    sakuin("index", str(docs), "--index-dir", str(pristine))
    write_corpus(docs, 1, range(3), per_file=20)
    (docs / "part-05.jsonl").unlink()
    write_markdown(docs, 1)
    shutil.copytree(pristine, reference)
    sakuin("index", str(docs), "--index-dir", str(reference))
    before, after = snapshot(pristine), snapshot(reference)
    assert before is not None and after is not None and before != after
    return docs, pristine, before, after


@pytest.mark.parametrize("step", list(PUBLISH_STEPS))
def test_sigkill_at_each_commit_and_publish_step(
    step: str, small_update: tuple[Path, Path, dict, dict], tmp_path: Path
) -> None:
    docs, pristine, before, after = small_update
    ix = tmp_path / "ix"
    shutil.copytree(pristine, ix)
    old_version = IndexStore(ix).current_name()
    # Two workers, so the segment-writing steps are hit inside an analysis worker.
    proc = subprocess.run(
        [*sakuin_cmd()[:1], "-c", KILL_RUNNER, step, "index", str(docs), "--index-dir", str(ix), "--procs", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, f"the hook did not fire: {proc.stderr}"
    assert snapshot(ix) == (after if PUBLISH_STEPS[step] else before)

    sakuin("index", str(docs), "--index-dir", str(ix))
    assert snapshot(ix) == after
    assert leftovers(ix) == []
    store = IndexStore(ix)
    # The version that was live before the update is kept for servers mid-request;
    # a version that was renamed but never made live does not survive the next run.
    versions = sorted(p.name for p in store.versions())
    assert versions == sorted({old_version, store.current_name()}), versions
