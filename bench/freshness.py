"""Freshness: from saving a file to finding it, with ``sakuin serve --watch`` on a livedoor-size index.

    python bench/freshness.py [--limit N] [--saves 40] [--edits 20] [--deletes 20] [--renames 20]
                              [--bulk 1000] [--pause 1.5] [--workers N] [--json] [--out]
    python bench/freshness.py --limit 300 --saves 5 --edits 3 --deletes 3 --renames 3 --bulk 100   # smoke run

Method:

1. The livedoor corpus (7,367 articles) is written as one text file per article in a
   folder per category (``docs/<category>/<id>.txt``: the title, a blank line, the text),
   and ``sakuin index`` builds its index (timed, for reference).
2. ``sakuin serve --watch docs --index-dir ix`` starts (the default quiet period and
   workers); the benchmark waits for the watcher's first check.
3. Each round makes one change and then asks the server, as a user's browser would
   (``GET /api/search``), every 20 ms until the change shows; the time from the moment
   the change is on disk (the file written and closed, deleted or renamed) to the first
   answer that shows it is the round's freshness. Rounds are ``--pause`` seconds (plus
   up to half a second at random) apart, so each change is an update of its own:
   * **save**: a new file with a word of its own (random letters), until it is found;
   * **edit**: a word appended to an existing article, until it is found;
   * **delete**: a file indexed earlier, until its word finds nothing;
   * **rename**: a file indexed earlier renamed, until its word finds it under the new
     name (and only there).
4. **Bulk copy**: ``--bulk`` new articles (distinct livedoor texts, each with a word of
   the batch) copied into the folder at once (``shutil.copytree``); reported are the
   watcher's updates from the copy until every one is searchable (its ``updates``
   counter in ``GET /api/status``, three seconds after the last one is found) and how
   long that took.

The watcher's own update times (the run history's ``seconds``) are reported beside
the freshness figures, to show where the time goes: the quiet period (1 s), the
update, and the server opening the new version on its next request.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import string
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import corpora
from harness import arguments, finish, log, machine_info, summarize
from processes import IndexFailed, sakuin, sakuin_index
from servers import Gunicorn, free_port

POLL = 0.02
TIMEOUT = 60.0


def word(rng: random.Random) -> str:
    """A word of its own: ten lower-case letters (Sudachi reads a run of letters as one word)."""
    return "zq" + "".join(rng.choice(string.ascii_lowercase) for _ in range(8))


class Client:
    """GET JSON from the server."""

    def __init__(self, port: int) -> None:
        self.port = port

    def get(self, path: str, **params: Any) -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", path + ("?" + urllib.parse.urlencode(params, doseq=True) if params else ""))
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def hits(self, q: str) -> list[str]:
        return [h["doc_id"] for h in self.get("/api/search", q=q, per_page=5)["hits"]]


def until(check: Callable[[], bool]) -> float | None:
    """Seconds until ``check()`` is true (polled every 20 ms), or None after ``TIMEOUT``."""
    started = time.perf_counter()
    while time.perf_counter() - started < TIMEOUT:
        if check():
            return time.perf_counter() - started
        time.sleep(POLL)
    return None


def write_articles(records: list[dict[str, Any]], folder: Path) -> int:
    """One text file per article in a folder per category; returns the bytes written."""
    total = 0
    for r in records:
        path = folder / (r.get("category") or "misc") / f"{r['id']}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = f"{r['title']}\n\n{r['text']}\n".encode()
        path.write_bytes(data)
        total += len(data)
    return total


def article(record: dict[str, Any], extra: str) -> str:
    return f"{record['title']}\n\n{record['text']}\n\n{extra}\n"


def rounds(
    name: str,
    n: int,
    change: Callable[[int], Callable[[], bool]],
    pause: float,
    rng: random.Random,
) -> dict[str, Any]:
    """``n`` rounds of ``change(i)`` (which makes the change and returns its check)."""
    times: list[float] = []
    missed = 0
    for i in range(n):
        time.sleep(pause + rng.random() * 0.5)
        check = change(i)
        seconds = until(check)
        if seconds is None:
            missed += 1
        else:
            times.append(seconds)
        log(f"  {name} {i + 1}/{n}: {'missed' if seconds is None else f'{seconds:.2f} s'}")
    return {**summarize(times), "missed": missed}


def main() -> int:
    parser = arguments(__doc__, tmp=True)
    parser.add_argument("--saves", type=int, default=40, help="new files (default 40)")
    parser.add_argument("--edits", type=int, default=20, help="articles changed (default 20)")
    parser.add_argument("--deletes", type=int, default=20, help="files deleted (default 20)")
    parser.add_argument("--renames", type=int, default=20, help="files renamed (default 20)")
    parser.add_argument("--bulk", type=int, default=1000, help="files of the bulk copy (default 1000)")
    parser.add_argument("--pause", type=float, default=1.5, help="seconds between rounds (default 1.5)")
    parser.add_argument("--workers", type=int, default=None, help="server workers (default: sakuin serve's)")
    args = parser.parse_args()

    rng = random.Random(7)
    records = list(corpora.iter_records(corpora.locate(args.data)))
    corpus = records[: args.limit] if args.limit else records
    spare = records[len(corpus) :] or records  # the bulk copy's articles: not in the index if possible
    work = Path(tempfile.mkdtemp(prefix="sakuin-fresh-", dir=args.tmp))
    docs, ix, staging = work / "docs", work / "ix", work / "staging"
    results: dict[str, Any] = {"machine": machine_info()}
    try:
        log(f"writing {len(corpus):,} articles as files …")
        written = write_articles(corpus, docs)
        log("building the index …")
        try:
            built = sakuin_index([docs], ix)
        except IndexFailed as exc:
            raise SystemExit(str(exc)) from None
        results["corpus"] = {
            "files": len(corpus),
            "bytes": written,
            "folders": len({r.get("category") or "misc" for r in corpus}),
            "build_seconds": built["wall_seconds"],
            "documents": built["report"]["documents"],
            "sections": built["report"]["sections"],
            "index_bytes": built["report"]["size_bytes"],
        }
        port = free_port()
        command = sakuin(
            "serve", "--watch", str(docs), "--index-dir", str(ix), "--host", "127.0.0.1", "--port", str(port),
            *(["--workers", str(args.workers)] if args.workers else []),
        )  # fmt: skip
        with Gunicorn(command, port, "/healthz", timeout=600) as server:
            client = Client(port)

            def watcher() -> dict[str, Any]:
                found = client.get("/api/status", runs=0)["watchers"]
                return found[0] if found else {}

            until(lambda: bool(watcher().get("last_check")))
            fresh = docs / "fresh"
            fresh.mkdir()
            pool = iter(rng.sample(corpus, len(corpus)))

            def save(i: int) -> Callable[[], bool]:
                w = word(rng)
                (fresh / f"save-{i:03d}.txt").write_text(article(next(pool), w), encoding="utf-8")
                return lambda: bool(client.hits(w))

            def edit(i: int) -> Callable[[], bool]:
                w = word(rng)
                record = next(pool)
                path = docs / (record.get("category") or "misc") / f"{record['id']}.txt"
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write(f"\n{w}\n")
                return lambda: bool(client.hits(w))

            def prepared(prefix: str, n: int) -> list[tuple[Path, str]]:
                """``n`` files with words of their own, written at once and waited for."""
                out = []
                for i in range(n):
                    w = word(rng)
                    path = fresh / f"{prefix}-{i:03d}.txt"
                    path.write_text(article(next(pool), w), encoding="utf-8")
                    out.append((path, w))
                if out and until(lambda: bool(client.hits(out[-1][1]))) is None:
                    raise SystemExit(f"the {prefix} files were never indexed")
                return out

            log("saves …")
            results["save"] = rounds("save", args.saves, save, args.pause, rng)
            log("edits …")
            results["edit"] = rounds("edit", args.edits, edit, args.pause, rng)
            doomed = prepared("delete", args.deletes)

            def delete(i: int) -> Callable[[], bool]:
                path, w = doomed[i]
                path.unlink()
                return lambda: not client.hits(w)

            log("deletes …")
            results["delete"] = rounds("delete", args.deletes, delete, args.pause, rng)
            moving = prepared("rename", args.renames)

            def rename(i: int) -> Callable[[], bool]:
                path, w = moving[i]
                target = path.with_name(f"renamed-{i:03d}.txt")
                path.rename(target)
                new_id = target.relative_to(docs).as_posix()
                return lambda: client.hits(w) == [new_id]

            log("renames …")
            results["rename"] = rounds("rename", args.renames, rename, args.pause, rng)

            if args.bulk:
                log(f"bulk copy of {args.bulk:,} files …")
                batch = word(rng)
                chosen = rng.sample(spare, min(args.bulk, len(spare)))
                for i, record in enumerate(chosen):
                    path = staging / f"b{i // 100:02d}" / f"bulk-{i:04d}.txt"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(article(record, f"{batch} {word(rng)}"), encoding="utf-8")
                time.sleep(args.pause + 1)
                before = watcher()["updates"]
                documents = client.get("/api/stats")["documents"]
                started = time.perf_counter()
                shutil.copytree(staging, docs / "bulk")
                copied = time.perf_counter() - started
                seconds = until(lambda: client.get("/api/stats")["documents"] == documents + len(chosen))
                time.sleep(3)
                results["bulk"] = {
                    "files": len(chosen),
                    "copy_seconds": copied,
                    "searchable_seconds": seconds,
                    "updates": watcher()["updates"] - before,
                    "found": client.get("/api/search", q=batch, per_page=1)["total"],
                }
            runs = client.get("/api/status", runs=200)["runs"]
            results["update_seconds"] = summarize([r["seconds"] for r in runs if r["trigger"] == "watch"])
            results["server_log"] = server.log_summary()
            results["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return finish(results, args, show)


def show(results: dict[str, Any]) -> None:
    c = results["corpus"]
    print(
        f"corpus: {c['files']:,} files in {c['folders']} folders ({c['bytes'] / 1e6:.1f} MB); "
        f"index {c['documents']:,} documents, {c['sections']:,} sections, {c['index_bytes'] / 1e6:.0f} MB, "
        f"built in {c['build_seconds']:.1f} s"
    )
    print(f"{'change':<8} {'n':>4} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'missed':>7}")
    for kind in ("save", "edit", "delete", "rename"):
        r = results.get(kind, {})
        if r.get("n"):
            print(f"{kind:<8} {r['n']:>4} {r['p50']:>7.2f} {r['p95']:>7.2f} {r['max']:>7.2f} {r['missed']:>7}")
    u = results["update_seconds"]
    if u.get("n"):
        print(f"the watcher's updates: p50 {u['p50']:.2f} s, p95 {u['p95']:.2f} s over {u['n']}")
    b = results.get("bulk")
    if b:
        print(
            f"bulk copy of {b['files']:,} files ({b['copy_seconds']:.2f} s to copy): {b['updates']} update(s), "
            f"all searchable after {b['searchable_seconds']:.1f} s ({b['found']:,} found)"
        )
    print(f"server log: {results['server_log']}")
    print(f"load average (1 min): {results['machine']['loadavg_1m']} before, {results['loadavg_1m_after']} after")


if __name__ == "__main__":
    raise SystemExit(main())
