"""Concurrent serving: a running ``sakuin serve`` answers without errors while ``sakuin
index`` updates its index, switches to the new version when it is published, and never
shows a half-written state (every total is the old version's or the new one's)."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.corpora import TOPICS, write_corpus, write_markdown
from support.paths import ROOT
from support.processes import Server, http_get, kill_group, sakuin, sakuin_cmd

from sakuin.search.embedded.reading.engine import EmbeddedEngine

QUERIES = (*TOPICS, "猫 OR 犬", "ロシア 国防", '"電話会談"')
CLIENTS = 3
#: The same page size for references and requests (a total must not depend on it, but
#: that is tested in test_reliability_api.py, not here).
PER_PAGE = 5
MAX_REQUESTS = 6000
MAX_SECONDS = 120.0
#: Stats fields that must all come from one version.
STATS_KEYS = ("version", "documents", "sections", "files", "segments", "terms", "size_bytes")


@dataclass
class Answer:
    client: int
    sent: float
    url: str
    status: int
    body: dict[str, Any] | None
    error: str | None = None


def _totals(index_dir: Path) -> tuple[dict[str, int], dict[str, Any]]:
    engine = EmbeddedEngine(index_dir)
    stats = engine.stats()
    return {q: engine.search(q, per_page=PER_PAGE).total for q in QUERIES}, {k: stats[k] for k in STATS_KEYS}


def _client(n: int, base: str, stop: threading.Event, answers: list[Answer], budget: threading.Semaphore) -> None:
    i = n
    while not stop.is_set() and budget.acquire(blocking=False):
        i += 1
        if i % 7 == 0:
            url = f"{base}/api/stats"
        else:
            q = QUERIES[i % len(QUERIES)]
            url = f"{base}/api/search?" + urllib.parse.urlencode({"q": q, "per_page": PER_PAGE})
        sent = time.monotonic()
        try:
            status, raw = http_get(url, timeout=30)
            answers.append(Answer(n, sent, url, status, json.loads(raw)))
        except Exception as exc:  # any failure counts: refused connection, reset, bad JSON
            answers.append(Answer(n, sent, url, -1, None, f"{type(exc).__name__}: {exc}"))


def _classify(answer: Answer, old: tuple[dict, dict], new: tuple[dict, dict]) -> str:
    """'old', 'new' or 'both' (the two versions agree), or a description of what is wrong."""
    if answer.error or answer.status != 200 or answer.body is None:
        return f"error: {answer.status} {answer.error or answer.body}"
    if answer.url.endswith("/api/stats"):
        seen = {k: answer.body[k] for k in STATS_KEYS}
        candidates = {"old": old[1], "new": new[1]}
    else:
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(answer.url).query)["q"][0]
        seen = answer.body["total"]
        candidates = {"old": old[0][q], "new": new[0][q]}
    matches = [name for name, value in candidates.items() if value == seen]
    if not matches:
        return f"mixed state: {answer.url} gave {seen}, expected {candidates}"
    return matches[0] if len(matches) == 1 else "both"


def test_server_answers_through_an_update_and_switches_atomically(tmp_path: Path) -> None:
    docs, ix = tmp_path / "docs", tmp_path / "ix"
    write_corpus(docs, 0, range(20))
    write_markdown(docs, 0)
    sakuin("index", str(docs), "--index-dir", str(ix))
    old = _totals(ix)
    # The update: 8 files change, 2 disappear, 3 appear; every topic's total moves.
    write_corpus(docs, 1, range(8))
    for f in (18, 19):
        (docs / f"part-{f:02d}.jsonl").unlink()
    write_corpus(docs, 1, range(20, 23))
    write_markdown(docs, 1)

    answers: list[Answer] = []
    stop = threading.Event()
    budget = threading.Semaphore(MAX_REQUESTS)
    with Server(ix, threads=4) as server:
        clients = [
            threading.Thread(target=_client, args=(n, server.base, stop, answers, budget), daemon=True)
            for n in range(CLIENTS)
        ]
        for c in clients:
            c.start()
        time.sleep(0.5)  # some answers from before the update
        index_started = time.monotonic()
        indexer = subprocess.Popen(
            sakuin_cmd("index", str(docs), "--index-dir", str(ix)),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            _, err = indexer.communicate(timeout=MAX_SECONDS)
        finally:
            kill_group(indexer.pid)
        index_done = time.monotonic()
        assert indexer.returncode == 0, err
        time.sleep(1.0)  # and some after it
        stop.set()
        for c in clients:
            c.join(60)
        health = json.loads(http_get(server.base + "/healthz")[1])
        log = server.output()
    new = _totals(ix)
    assert old[0] != new[0] and old[1]["version"] != new[1]["version"]
    assert health["version"] == new[1]["version"]

    verdicts = [(a, _classify(a, old, new)) for a in answers]
    problems = [f"{a.url}: {v}" for a, v in verdicts if v not in ("old", "new", "both")]
    during = [a for a in answers if index_started <= a.sent <= index_done]
    print(
        f"\n{len(answers)} requests, {len(during)} during the {index_done - index_started:.1f} s update, "
        f"{len(problems)} errors"
    )
    assert problems == [], problems[:10]
    assert len(during) >= 30, "too few requests overlapped the update to prove anything"
    # Switches when committed: everything sent after the run finished shows the new version...
    after = [v for a, v in verdicts if a.sent > index_done]
    assert after and set(after) <= {"new", "both"}
    # ...and each client, once it saw the new version, never saw the old one again.
    for n in range(CLIENTS):
        seq = [v for a, v in sorted(verdicts, key=lambda av: av[0].sent) if a.client == n and v != "both"]
        assert "old" not in seq[seq.index("new") :] if "new" in seq else True, f"client {n} went back"
    assert "Traceback" not in log and " ERROR " not in log, log[-3000:]


def test_sigterm_lets_requests_in_flight_finish(tmp_path: Path) -> None:
    """Clients keep requesting while the server gets SIGTERM: every response whose
    status line arrived is complete (a whole JSON body), none ends in a reset, and
    the server exits 0 with its "stopped" line."""
    import http.client
    import signal

    docs, ix = tmp_path / "docs", tmp_path / "ix"
    write_corpus(docs, 0, range(6))
    sakuin("index", str(docs), "--index-dir", str(ix))
    results: list[tuple[str, Any]] = []
    stop = threading.Event()
    server = Server(ix, threads=4)

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        i = n
        while not stop.is_set():
            i += 1
            q = urllib.parse.quote(f"{TOPICS[i % len(TOPICS)]}の話はどうなっているのか")
            try:
                conn.request("GET", f"/api/search?q={q}&per_page=20")
                response = conn.getresponse()
            except (ConnectionError, OSError):
                results.append(("refused", None))  # not accepted any more: fine
                return
            try:
                body = response.read()
                results.append(("ok", (response.status, json.loads(body))))
            except Exception as exc:  # headers came but the body was cut: the failure we look for
                results.append(("cut", repr(exc)))
                return
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(6)]
    try:
        for t in threads:
            t.start()
        time.sleep(1.5)
        served_before = sum(1 for kind, _ in results if kind == "ok")
        server.proc.send_signal(signal.SIGTERM)
        code = server.proc.wait(40)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        server.stop()
    assert served_before > 0
    assert code == 0, server.output()
    assert [r for r in results if r[0] == "cut"] == []
    answered = [value for kind, value in results if kind == "ok"]
    assert all(status == 200 and "hits" in body for status, body in answered)
    assert "sakuin: stopped" in server.output()
