"""Helpers shared by the tests/test_reliability_*.py files (this module holds no tests).

The reliability tests run ``sakuin`` the way users do, as separate processes, and
compare whole result sets: every (doc id, section) that several queries return,
plus the index statistics. ``snapshot`` computes that comparison key.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sakuin.search.config import MAX_PER_PAGE
from sakuin.search.embedded.reading.engine import EmbeddedEngine
from sakuin.search.errors import IndexMissing

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"

#: A word per topic; every generated record is about one of them.
TOPICS = ("猫", "犬", "空港", "温泉", "予算", "選挙", "野球", "音楽", "料理", "電車")
#: Queries whose full result sets are compared: words, a phrase, OR, NOT, a field.
QUERIES = (*TOPICS, '"電話会談"', "猫 OR 犬", "温泉 -予算", "title:空港", "ロシア 国防")


def sakuin_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "sakuin", *args]


def sakuin(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(sakuin_cmd(*args), capture_output=True, text=True, cwd=ROOT, timeout=timeout)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def _paragraphs() -> list[str]:
    text = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")
    return [line for line in text.split("\n") if len(line) > 30]


def write_corpus(docs: Path, generation: int, files: range, per_file: int = 40) -> None:
    """Deterministic JSONL files ``part-NN.jsonl`` whose content depends on ``generation``.

    Record i of file f is about TOPICS[(f * 7 + i + generation) % 10], so a new
    generation moves every record to another topic and result sets change.
    """
    paras = _paragraphs()
    docs.mkdir(parents=True, exist_ok=True)
    for f in files:
        lines = []
        for i in range(per_file):
            topic = TOPICS[(f * 7 + i + generation) % len(TOPICS)]
            body = "\n\n".join(paras[(f + i + k) % len(paras)] for k in range(3))
            record = {"id": f"f{f:02d}-{i:03d}", "title": f"{topic}の記事 {f}-{i}", "text": f"{body}\n\n{topic}の話。"}
            lines.append(json.dumps(record, ensure_ascii=False))
        (docs / f"part-{f:02d}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_markdown(docs: Path, generation: int, count: int = 3) -> None:
    """A few multi-section Markdown files, so the non-JSONL readers are exercised too."""
    docs.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        topic = TOPICS[(n + generation) % len(TOPICS)]
        sections = "\n\n".join(
            f"## 第{k}節 {TOPICS[(n + k) % len(TOPICS)]}\n\n{topic}と電話会談の話。" for k in range(4)
        )
        (docs / f"note-{n}.md").write_text(f"# {topic}のノート\n\n{sections}\n", encoding="utf-8")


def all_hits(engine: EmbeddedEngine, q: str) -> tuple[int, list[tuple[str, int]] | None]:
    """(total, every (doc_id, ordinal) sorted) for ``q``, through EmbeddedEngine.search only.

    The whole set is read in one request of MAX_PER_PAGE hits; a query with more
    matches is compared by its total only, because paging can legitimately order
    equal scores differently in two physically different (but equivalent) indexes.
    """
    result = engine.search(q, per_page=MAX_PER_PAGE, snippets=False)
    if result.total > MAX_PER_PAGE:
        return result.total, None
    found = sorted((h.doc_id, h.ordinal) for h in result.hits)
    assert len(found) == len(set(found)) == result.total, (q, len(found), result.total)
    return result.total, found


def snapshot(index_dir: Path) -> dict[str, Any] | None:
    """What a user can observe of an index: full result sets and counts; None if there is none."""
    engine = EmbeddedEngine(index_dir)
    try:
        stats = engine.stats()
    except IndexMissing:
        return None
    return {
        "hits": {q: all_hits(engine, q) for q in QUERIES},
        "stats": {k: stats[k] for k in ("documents", "sections", "files")},
    }


def leftovers(index_dir: Path) -> list[str]:
    """Files a finished run must not leave: build directories and temporary pointers."""
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith((".tmp-", "CURRENT.")))


def group_alive(pgid: int) -> list[int]:
    """Pids of live (non-zombie) processes in process group ``pgid``, read from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


def wait_group_gone(pgid: int, timeout: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while (alive := group_alive(pgid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Server:
    """``sakuin serve`` as a subprocess on 127.0.0.1 and a free port."""

    def __init__(self, index_dir: Path, threads: int = 8) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = index_dir.parent / f"serve-{self.port}.log"
        self._log = open(self.log, "wb")  # noqa: SIM115 — closed in stop()
        self.proc = subprocess.Popen(
            sakuin_cmd("serve", "--index-dir", str(index_dir), "--port", str(self.port), "--threads", str(threads)),
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                if http_get(self.base + "/healthz", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError("server did not become ready: " + self.output())

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                kill_group(self.proc.pid)
                self.proc.wait()
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def iter_lines(path: Path) -> Iterator[str]:
    yield from path.read_text(encoding="utf-8", errors="replace").splitlines()
