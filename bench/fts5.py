"""sakuin beside SQLite FTS5 (trigram tokenizer) under the same HTTP stack: query latency over HTTP.

    python bench/fts5.py [--index-dir IX] [--rounds 3] [--queries 200] [--json] [--out]
    python bench/fts5.py --limit 500 --rounds 1                    # smoke run

Design decisions:

* **The same sections.** The sakuin index of livedoor is built (or reused with
  ``--index-dir``; bench/harness.py ``ensure_index``), then every live section's stored
  ``title``, ``heading`` and ``body`` are read back from the index
  (``open_engine(...).live.pin()``, ``all_stored_fields``) and inserted, one row per
  section, into ``CREATE VIRTUAL TABLE s USING fts5(title, heading, body,
  tokenize='trigram')`` in a temporary SQLite file. Reading the index rather than
  splitting the corpus again makes the two section sets identical by construction,
  whatever index ``--index-dir`` names. After the inserts the table is merged
  (``INSERT INTO s(s) VALUES('optimize')``) and the file vacuumed, as a finished build.
  The analysed text size is the UTF-8 bytes of those three strings over all sections.
* **The same HTTP stack.** ``sakuin serve`` (bench/servers.py ``SakuinServer``) and a
  minimal Flask app defined here (``create_app``) both run under gunicorn on 127.0.0.1
  with the workers and threads ``sakuin serve`` takes by default (one worker per usable
  core, ``DEFAULT_THREADS`` threads), gthread workers, keep-alive 5 s, ``--preload``
  and an access log to an unlinked temporary file (bench/servers.py ``Gunicorn``), as
  bench/servers.py ``ReferenceServer`` runs the load test's reference. The Flask app
  answers ``GET /api/search?q=`` with the top 10 by ``bm25(s)`` and ``snippet(s, 2,
  '<mark>', '</mark>', '…', 16)`` as JSON; each worker thread opens its own read-only
  connection (SQLite's defaults otherwise). It counts no total; sakuin's answer
  includes one.
* **Query translation.** Each whitespace-separated word, or each quoted phrase, becomes
  one quoted FTS5 string (a substring match; the words are ANDed). A trigram index
  cannot look up a string of fewer than 3 characters, and most Japanese nouns have two:
  such a word is matched by ``LIKE '%word%'`` over the three columns instead. The
  columns are written ``+title`` etc., because SQLite 3.40 hands a plain ``body LIKE
  '%映画%'`` to the trigram index, which then returns no row at all (checked by hand);
  the unary ``+`` makes it a scan of the candidates. A query with at least one long
  word is ``MATCH`` (ranked by bm25) filtered by the ``LIKE`` of its short words; a
  query whose words are all short has nothing to rank by: it is a ``LIKE`` scan in
  rowid order, stopping at the 10th match, with a snippet cut in Python. The answer
  says which (``mode``: ``match``, ``match+like``, ``like``); the counts per class are
  reported, and the figures are given over all queries and over the ``match`` ones
  only (what the trigram index answers by itself).
* **The same queries.** bench/queries.py ``scale_set`` (scale.py's classes: one word,
  two words, a quoted phrase of two adjacent nouns, an unspaced title fragment of 8-20
  characters read as a question), drawn from the indexed sections' titles with a
  fixed seed. The semantics differ: sakuin matches words (and readings, and bigrams
  as a back-up) and ranks with its own scoring; FTS5 matches exact substrings, so a
  question fragment finds only the sections that contain it verbatim. Zero-hit
  queries are counted per arm.
* **Timing.** One client, one keep-alive connection per server, one request at a
  time: the time from sending the request to reading the whole body (the JSON is
  parsed afterwards, untimed). ``--warmup`` untimed queries go through both servers
  first; then ``--rounds`` rounds of bench/harness.py ``interleaved_ms`` over the
  classes interleaved, the two arms alternating which goes first. Per round and
  class: p50 and p95 per arm and the ratio sakuin / FTS5; the summary is the median
  over rounds. Sizes: the sakuin index's live version folder against the SQLite file.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

#: Characters a trigram index needs in a string to look it up.
TRIGRAM = 3
#: Hits per answer, as sakuin's first page.
TOP = 10
#: A query's words and quoted phrases (a quote left open runs to the end).
_TERMS = re.compile(r'"([^"]*)"?|(\S+)')

# -- the FTS5 app (imported by gunicorn: keep it free of the benchmark's imports) --------


def fts5_terms(q: str) -> list[str]:
    """The query's words and phrases, quotes removed, blanks inside a phrase kept."""
    out = []
    for m in _TERMS.finditer(q):
        term = (m.group(1) if m.group(1) is not None else m.group(2)).strip()
        if term:
            out.append(term)
    return out


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


_LIKE_ALL = "(+title LIKE ? ESCAPE '\\' OR +heading LIKE ? ESCAPE '\\' OR +body LIKE ? ESCAPE '\\')"


def plan(q: str) -> tuple[str, str, list[str]]:
    """(mode, SQL, parameters) of a query: ``match``, ``match+like`` or ``like`` (see the docstring)."""
    terms = fts5_terms(q)
    long = [t for t in terms if len(t) >= TRIGRAM]
    short = [t for t in terms if len(t) < TRIGRAM]
    likes = " AND ".join([_LIKE_ALL] * len(short))
    like_params = [p for t in short for p in (_like(t),) * 3]
    if long:
        sql = (
            "SELECT rowid, title, heading, snippet(s, 2, '<mark>', '</mark>', '…', 16), bm25(s) "
            "FROM s WHERE s MATCH ?" + (f" AND {likes}" if likes else "") + f" ORDER BY bm25(s) LIMIT {TOP}"
        )
        return ("match+like" if short else "match"), sql, [" ".join(map(_quoted, long)), *like_params]
    if not short:
        return "empty", "", []
    return "like", f"SELECT rowid, title, heading, body, NULL FROM s WHERE {likes} LIMIT {TOP}", like_params


def _cut(body: str, term: str, context: int = 16) -> str:
    """A snippet for a ``like`` answer: ``context`` characters either side of the first occurrence."""
    at = body.lower().find(term.lower())
    if at < 0:
        return body[: 2 * context]
    start, end = max(0, at - context), at + len(term) + context
    return (
        ("…" if start else "")
        + body[start:at]
        + "<mark>"
        + body[at : at + len(term)]
        + "</mark>"
        + body[at + len(term) : end]
        + ("…" if end < len(body) else "")
    )


def create_app(db: str) -> Any:
    """The minimal Flask app: ``GET /api/search?q=`` over the FTS5 table in ``db``; ``/healthz``."""
    from flask import Flask, jsonify, request

    app = Flask("fts5")
    local = threading.local()

    def connection() -> sqlite3.Connection:
        conn = getattr(local, "conn", None)
        if conn is None:  # per thread, opened after the fork
            conn = local.conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        return conn

    @app.get("/healthz")
    def healthz() -> Any:
        connection().execute("SELECT count(*) FROM s").fetchone()
        return "ok"

    @app.get("/api/search")
    def search() -> Any:
        q = request.args.get("q", "")
        mode, sql, params = plan(q)
        rows = connection().execute(sql, params).fetchall() if sql else []
        short = [t for t in fts5_terms(q) if len(t) < TRIGRAM]
        hits = [
            {
                "rowid": rowid,
                "title": title,
                "heading": heading,
                "snippet": snippet if mode != "like" else _cut(snippet or "", short[0]),
                "score": score,
            }
            for rowid, title, heading, snippet, score in rows
        ]
        return jsonify({"query": q, "mode": mode, "hits": hits})

    return app


# -- the benchmark ----------------------------------------------------------------------


def sections(index_dir: Path) -> tuple[list[tuple[str, str, str]], Path]:
    """(title, heading, body) of every live section, read from the index's stored fields; and
    the live version's folder."""
    from sakuin.search.backend import open_engine

    engine = open_engine(index_dir)
    try:
        with engine.live.pin() as pinned:
            rows = [
                (f.get("title") or "", f.get("heading") or "", f.get("body") or "")
                for f in pinned.searcher.all_stored_fields()
            ]
        version = index_dir / (index_dir / "CURRENT").read_text(encoding="utf-8").strip()
    finally:
        engine.close()
    return rows, version


def build_fts5(rows: list[tuple[str, str, str]], db: Path) -> float:
    """The FTS5 table of the sections in ``db``, merged and vacuumed; returns the seconds."""
    started = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute("CREATE VIRTUAL TABLE s USING fts5(title, heading, body, tokenize='trigram')")
    with conn:
        conn.executemany("INSERT INTO s (title, heading, body) VALUES (?, ?, ?)", rows)
    with conn:
        conn.execute("INSERT INTO s(s) VALUES('optimize')")
    conn.execute("VACUUM")
    conn.close()
    return time.perf_counter() - started


def fts5_server(db: Path, threads: int, workers: int) -> Any:
    """``create_app`` under gunicorn with ``ReferenceServer``'s settings (bench/servers.py)."""
    from servers import Gunicorn, free_port, reference_command

    port = free_port()
    here = Path(__file__).resolve().parent
    app = f"fts5:create_app({str(db)!r})"
    return Gunicorn(reference_command(app, here, port, threads, workers), port, "/healthz", cwd=here)


class Client:
    """One keep-alive connection; keeps the last body per query for checking after the rounds."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.bodies: dict[str, bytes] = {}
        self.failures: list[str] = []

    def __call__(self, q: str) -> None:
        url = "/api/search?" + urllib.parse.urlencode({"q": q})
        try:
            self.conn.request("GET", url)
            response = self.conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.failures.append(f"{q}: {type(exc).__name__}: {exc}")
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            return
        if response.status != 200:
            self.failures.append(f"{q}: HTTP {response.status}")
        self.bodies[q] = body

    def close(self) -> None:
        self.conn.close()


def hit_counts(client: Client, sakuin_answers: bool) -> dict[str, int]:
    """Per query of the last round: sakuin's ``total``, or the number of FTS5 hits (at most 10)."""
    out = {}
    for q, body in client.bodies.items():
        try:
            answer = json.loads(body)
        except ValueError:
            continue
        out[q] = answer.get("total", 0) if sakuin_answers else len(answer.get("hits", []))
    return out


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    import ceiling
    import corpora
    from harness import ensure_index, interleaved_ms, log, machine_info, mb, percentile
    from queries import SCALE_CLASSES, scale_set
    from servers import SakuinServer, default_workers

    from sakuin.search.config import DEFAULT_THREADS

    index_dir, built = ensure_index(args.index_dir, work, args.data, args.limit)
    rows, version = sections(index_dir)
    text_bytes = sum(corpora.utf8_len(t) for row in rows for t in row)
    db = work / "fts5.sqlite"
    log(f"{len(rows)} sections, {mb(text_bytes):.1f} MB analysed; building the FTS5 table …")
    fts5_seconds = build_fts5(rows, db)
    titles = list(dict.fromkeys(r[0] for r in rows if r[0]))
    qs = scale_set(titles, ceiling.sudachi_tokenizer(), args.seed, args.queries, args.warmup, args.max_title_share)
    n_sections = len(rows)
    del rows
    modes = {q: plan(q)[0] for c in SCALE_CLASSES for q in qs[c]}
    # The classes interleaved, so that a slow spell of the machine is shared between them.
    items = [
        (c, qs[c][i]) for i in range(max(len(qs[c]) for c in SCALE_CLASSES)) for c in SCALE_CLASSES if i < len(qs[c])
    ]
    workers, threads = default_workers(), DEFAULT_THREADS
    log(f"{len(items)} queries; serving both with {workers} workers × {threads} threads …")
    per_round: list[dict[str, Any]] = []
    with SakuinServer(index_dir, threads, workers) as sk, fts5_server(db, threads, workers) as ft:
        sk.wait_for_workers(workers)
        ft.wait_for_workers(workers)
        clients = {"sakuin": Client(sk.port), "fts5": Client(ft.port)}
        arms = {name: (lambda item, c=client: c(item[1])) for name, client in clients.items()}
        for q in qs["warmup"]:
            for client in clients.values():
                client(q)
        for client in clients.values():
            client.failures.clear()
        for r in range(args.rounds):
            log(f"round {r + 1}/{args.rounds} …")
            times = interleaved_ms(arms, items, r)
            per_round.append(summarise_round(items, times, modes, percentile))
        totals = {name: hit_counts(client, name == "sakuin") for name, client in clients.items()}
        failures = {name: client.failures[:10] for name, client in clients.items()}
        failure_counts = {name: len(client.failures) for name, client in clients.items()}
        for client in clients.values():
            client.close()
        logs = {"sakuin": sk.log_summary(), "fts5": ft.log_summary()}

    classes: dict[str, Any] = {}
    for c in SCALE_CLASSES:
        row: dict[str, Any] = {
            "queries": len(qs[c]),
            "modes": {m: sum(1 for q in qs[c] if modes[q] == m) for m in ("match", "match+like", "like", "empty")},
            "zero_hits": {name: sum(1 for q in qs[c] if totals[name].get(q, 0) == 0) for name in totals},
            "examples": qs[c][:3],
        }
        for subset in ("all", "match"):
            rounds = [r[c][subset] for r in per_round if r[c].get(subset)]
            if not rounds:
                continue
            row[subset] = {
                key: statistics.median(x[key] for x in rounds)
                for key in ("n", "sakuin_p50", "sakuin_p95", "fts5_p50", "fts5_p95", "ratio_p50", "ratio_p95")
            }
        classes[c] = row
    return {
        "machine": machine_info(),
        "index": built,
        "sections": n_sections,
        "servers": {"workers": workers, "threads": threads},
        "rounds": args.rounds,
        "warmup": len(qs["warmup"]),
        "analysed_bytes": text_bytes,
        "sakuin_index_bytes": corpora.dir_size(version),
        "fts5_file_bytes": db.stat().st_size,
        "fts5_build_seconds": fts5_seconds,
        "sqlite": sqlite3.sqlite_version,
        "classes": classes,
        "per_round": per_round,
        "failures": failure_counts,
        "failure_examples": failures,
        "server_logs": logs,
    }


def summarise_round(
    items: list[tuple[str, str]], times: dict[str, list[float]], modes: dict[str, str], percentile: Any
) -> dict[str, Any]:
    """Per class, over all its queries and over the ``match`` ones: p50/p95 per arm and their ratios."""
    out: dict[str, Any] = {}
    for c in dict.fromkeys(cls for cls, _ in items):
        out[c] = {}
        for subset in ("all", "match"):
            idx = [i for i, (cls, q) in enumerate(items) if cls == c and (subset == "all" or modes[q] == "match")]
            if not idx:
                continue
            sk = [times["sakuin"][i] for i in idx]
            ft = [times["fts5"][i] for i in idx]
            stats = {
                "n": len(idx),
                "sakuin_p50": percentile(sk, 50),
                "sakuin_p95": percentile(sk, 95),
                "fts5_p50": percentile(ft, 50),
                "fts5_p95": percentile(ft, 95),
            }
            stats["ratio_p50"] = stats["sakuin_p50"] / stats["fts5_p50"]
            stats["ratio_p95"] = stats["sakuin_p95"] / stats["fts5_p95"]
            out[c][subset] = stats
    return out


def print_human(r: dict[str, Any]) -> None:
    from harness import mb

    m = r["machine"]
    print(
        f"{r['sections']} sections, {mb(r['analysed_bytes']):.1f} MB analysed; {r['servers']['workers']} workers × "
        f"{r['servers']['threads']} threads each; {m['cpus']} cpus, load {m['loadavg_1m']}; SQLite {r['sqlite']}"
    )
    print(
        f"index: sakuin {mb(r['sakuin_index_bytes']):.1f} MB, FTS5 {mb(r['fts5_file_bytes']):.1f} MB "
        f"({r['fts5_build_seconds']:.1f} s to build the table)"
    )
    print(f"medians over {r['rounds']} rounds, one request at a time over HTTP, ms")
    print(
        f"{'class':<9} {'subset':<6} {'n':>4}  {'sakuin p50':>10} {'p95':>7}  {'FTS5 p50':>8} {'p95':>7}  "
        f"{'ratio p50':>9} {'p95':>6}"
    )
    for c, row in r["classes"].items():
        for subset in ("all", "match"):
            x = row.get(subset)
            if x:
                print(
                    f"{c:<9} {subset:<6} {x['n']:>4.0f}  {x['sakuin_p50']:>10.1f} {x['sakuin_p95']:>7.1f}  "
                    f"{x['fts5_p50']:>8.1f} {x['fts5_p95']:>7.1f}  {x['ratio_p50']:>9.2f} {x['ratio_p95']:>6.2f}"
                )
    print("FTS5 query plans per class (match / match+like / like) and zero-hit queries (sakuin / FTS5):")
    for c, row in r["classes"].items():
        md, z = row["modes"], row["zero_hits"]
        print(f"  {c:<9} {md['match']} / {md['match+like']} / {md['like']}; zero hits {z['sakuin']} / {z['fts5']}")
    print(f"failures: {r['failures']}; server logs: {r['server_logs']}")


def main() -> int:
    from harness import arguments, finish

    parser = arguments(__doc__)
    parser.add_argument("--index-dir", type=Path, default=None, help="reuse (or build and keep) the sakuin index here")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queries", type=int, default=200, help="queries per class")
    parser.add_argument("--warmup", type=int, default=20, help="untimed warm-up queries")
    parser.add_argument("--seed", type=int, default=20261202, help="seed of the query sampler")
    parser.add_argument(
        "--max-title-share",
        type=float,
        default=0.02,
        help="query words found in more of the titles than this share are not used (default 0.02)",
    )
    parser.add_argument("--tmp", type=Path, default=None, help="where the temporary index and SQLite file go")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sakuin-fts5-", dir=args.tmp) as tmp:
        results = run(args, Path(tmp))
    return finish(results, args, print_human)


if __name__ == "__main__":
    sys.exit(main())
