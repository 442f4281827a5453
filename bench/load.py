"""Load test: the production server (``sakuin serve``, gunicorn workers) under concurrent clients.

    python bench/load.py --index-dir /tmp/ix   # reuse (or build there) an index; wrk, 32 connections x 30 s
    python bench/load.py --driver python --clients 8 --seconds 10 --json
    python bench/load.py --memory-curve        # also: server PSS over 50k requests and 5 index updates
    python bench/load.py --limit 300 --driver python --clients 4 --seconds 3 --warmup 1   # smoke run
    python bench/load.py --no-throughput --memory-curve --limit 300 --parts 4 --curve 100 --updates 1 \\
        --update-requests 50 --driver python                                              # smoke run, curve

Servers run as subprocesses on 127.0.0.1 and free ports (bench/servers.py). The requests
are a deterministic mix of distinct URLs, one per corpus record whose title has two
content words (bench/queries.py ``mixed_urls``; ``--every N`` takes every N-th record):
the JSON API with one word, two words, an unspaced title read as a question, a quoted
phrase and page 2 of a one-word query; the HTML results page; a document page
(``/doc/<id>``). One request of each kind is sent first (``preflight``).

* Drivers: ``wrk`` (the default when installed): ``--wrk-threads`` threads, ``--clients``
  keep-alive connections, ``--seconds`` long, after ``--warmup`` seconds of unmeasured
  load; a Lua script cycles through the URL list, each wrk thread from its own offset.
  ``python``: ``--clients`` threads of this process, each with a keep-alive connection,
  bounded by ``--seconds`` and ``--max-requests``. An error is a failed connect, read,
  write or a timeout, or any status but 2xx (python: anything but a 200; JSON bodies
  must parse).
* Reference, same run: a minimal Flask app returning a fixed ~2 KB JSON body under
  gunicorn with the same worker class (gthread), workers, threads, keep-alive and access
  log, driven the same way (one URL), before and after sakuin (``--reference-runs``).
  **ratio** = sakuin req/s ÷ the median of the reference runs. A reference run in which
  one worker served every connection (a worker's CPU under a quarter of the other's) is
  measured again, up to twice, and left out of the median (``balanced: false``). Client
  and servers share the cores, so req/s are lower bounds; the ratio is the figure to
  compare. Each run also reports the CPU seconds of each worker and of the client, and
  the load average before it; the server logs' tracebacks and status codes.
* ``--memory-curve``: the corpus is split into ``--parts`` JSONL files and indexed fresh
  in a temp dir; a new server's PSS, USS and RSS (summed over the gunicorn master and its
  workers) are taken once every worker is up, after each ``--curve`` cumulative count of
  requests (python driver, exact counts), then after each of ``--updates`` updates (one
  part file rewritten, ``sakuin index`` run incrementally, ``--update-requests`` requests
  sent). Each row lists the index versions the workers map or hold open and the stale
  files (open, but in no version left on disk).

Linux only (/proc).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import corpora
from harness import arguments, ensure_index, finish, log, machine_info
from processes import client_cpu, sakuin_index, tree_cpu, tree_memory, versions_open
from queries import KINDS, mixed_urls
from servers import WRK, Gunicorn, ReferenceServer, SakuinServer, Wrk, default_workers, preflight, run_clients

#: Extra attempts at a reference run whose connections all landed on one worker.
REFERENCE_RETRIES = 2


class Driver:
    """One way of loading a server: ``measure(server, urls)`` → requests, errors, req/s, latency, CPU."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.wrk = Wrk(workdir, args.wrk_threads, args.clients, args.timeout) if args.driver == "wrk" else None
        self.files: dict[tuple[str, ...], Path] = {}

    def measure(self, server: Gunicorn, urls: list[str]) -> dict[str, Any]:
        """The run, plus the CPU seconds each worker and the client used in it and the load average before.

        The python driver's CPU figures include its warm-up; wrk's cover the measured run only.
        """
        a = self.args
        key = tuple(urls)
        if self.wrk is not None:
            if key not in self.files:
                self.files[key] = self.wrk.url_file(urls)
            if a.warmup >= 1:
                self.wrk.run(server.port, self.files[key], a.warmup)
        loadavg = os.getloadavg()[0]
        workers_before, client_before = tree_cpu(server.proc.pid), client_cpu()
        if self.wrk is None:
            result = run_clients(server.port, urls, a.clients, a.seconds, a.max_requests, a.warmup)
        else:
            result = self.wrk.run(server.port, self.files[key], a.seconds)
        workers_after = tree_cpu(server.proc.pid)
        result["worker_cpu_s"] = sorted(
            (
                round(cpu - workers_before.get(pid, 0.0), 2)
                for pid, cpu in workers_after.items()
                if pid != server.proc.pid
            ),
            reverse=True,
        )
        result["client_cpu_s"] = round(client_cpu() - client_before, 2)
        result["loadavg_1m_before"] = round(loadavg, 2)
        return result


def balanced(run: dict[str, Any]) -> bool:
    """Whether every worker served: gunicorn hands each keep-alive connection to the
    worker that accepts it first, and now and then one worker takes all of them and the
    other idles, which halves the reference (and doubles the ratio) by chance."""
    cpu = run.get("worker_cpu_s") or []
    return len(cpu) < 2 or min(cpu) >= 0.25 * max(cpu)


def measure_sakuin(args: argparse.Namespace, driver: Driver, mix: list[tuple[str, str]], index_dir: Path) -> dict:
    with SakuinServer(index_dir, args.server_threads, args.workers) as server:
        preflights = preflight(server.port, mix)
        bad = {k: v["status"] for k, v in preflights.items() if v["status"] != 200}
        if bad:
            log(f"warning: not 200 before the load: {bad}")
        log(f"sakuin: {args.driver}, {args.clients} connections, {args.warmup:.0f}+{args.seconds:.0f} s …")
        result = driver.measure(server, [url for _, url in mix])
    return {"sakuin": result, "preflight": preflights, "server_log": server.log_summary()}


def throughput(args: argparse.Namespace, mix: list[tuple[str, str]], index_dir: Path, tmp: Path) -> dict[str, Any]:
    """Reference, sakuin, reference again, each driven the same way."""
    driver = Driver(args, tmp)
    runs: list[dict[str, Any]] = []
    sakuin: dict[str, Any] = {}
    with ReferenceServer(tmp / "reference", args.server_threads, args.workers) as reference:
        for n in range(args.reference_runs):
            if n == 1:  # the second reference run goes after sakuin's
                sakuin = measure_sakuin(args, driver, mix, index_dir)
            log(f"reference run {n + 1} (127.0.0.1:{reference.port}) …")
            for _ in range(1 + REFERENCE_RETRIES):
                run = driver.measure(reference, ["/"])
                run["balanced"] = balanced(run)
                runs.append(run)
                if run["balanced"]:
                    break
                log(f"  every keep-alive connection went to one worker {run['worker_cpu_s']}: measuring again")
        if args.reference_runs < 2:
            sakuin = measure_sakuin(args, driver, mix, index_dir)
    counted = [r for r in runs if r["balanced"]] or runs
    reference_rps = statistics.median(r["throughput_rps"] for r in counted) if counted else None
    rps = sakuin["sakuin"]["throughput_rps"]
    return sakuin | {
        "reference": {
            "runs": runs,
            "median_rps": reference_rps,
            "body_bytes": len(reference.body),
            "server_log": reference.log_summary(),
        },
        "ratio": round(rps / reference_rps, 4) if reference_rps else None,
    }


def memory_curve(args: argparse.Namespace, corpus: Path, mix: list[tuple[str, str]], tmp: Path) -> dict[str, Any]:
    """Server PSS at start, after each --curve count of requests, and after each index update."""
    folder, index_dir = tmp / "curve-corpus", tmp / "curve-index"
    parts = corpora.split_files(list(corpora.iter_records(corpus)), folder, args.parts)
    log(f"memory curve: indexing {len(parts)} part files into {index_dir} …")
    build_s = sakuin_index([folder], index_dir)["wall_seconds"]
    urls = [url for _, url in mix]
    rows: list[dict[str, Any]] = []
    sent = 0
    with SakuinServer(index_dir, args.server_threads, args.workers) as server:
        root = server.proc.pid

        def send(count: int) -> dict[str, Any]:
            nonlocal sent
            load = run_clients(server.port, urls, args.clients, 24 * 3600, count)
            sent += load["requests"]
            return load

        def row(stage: str, load: dict[str, Any] | None = None, **extra: Any) -> None:
            nonlocal cpu
            mem, now = tree_memory(root), tree_cpu(root)
            worker_cpu = [round(t - cpu.get(pid, 0.0), 2) for pid, t in now.items() if pid != root]
            cpu = now
            rows.append(
                {"stage": stage, "requests": sent, **mem, **versions_open(root, index_dir)}
                | ({"errors": load["errors"], "rps": load["throughput_rps"]} if load else {"errors": 0, "rps": None})
                | {"worker_cpu_s": worker_cpu}  # since the previous row: shows whether every worker served
                | extra
            )
            log(f"  {stage}: {sent} requests, PSS {mem['pss_mb']} MB")

        server.wait_for_workers(args.workers)
        cpu = tree_cpu(root)
        row("start")
        for target in args.curve:
            if target > sent:
                row(f"{target:,} requests", send(target - sent))
        for update in range(1, args.updates + 1):
            k = (update - 1) * len(parts) // max(args.updates, 1)
            note = f"（更新 {update}）この記事は負荷試験のために書き換えられました。"
            parts[k] = [corpora.edited(r, note) for r in parts[k]]
            corpora.write_jsonl(parts[k], corpora.part_path(folder, k))
            ix = sakuin_index([folder], index_dir)
            load = send(args.update_requests)
            row(
                f"update {update}",
                load,
                part=corpora.part_path(folder, k).name,
                records_changed=len(parts[k]),
                index_s=round(ix["wall_seconds"], 2),
                index_summary={key: ix["report"].get(key) for key in ("sections_written", "segments", "size_bytes")},
                version=(index_dir / "CURRENT").read_text().strip(),
            )
    return {
        "parts": len(parts),
        "build_s": round(build_s, 1),
        "clients": args.clients,
        "rows": rows,
        "server_log": server.log_summary(),
    }


def _run_line(name: str, r: dict[str, Any]) -> str:
    lat = r["latency_ms"]
    line = (
        f"{name}: {r['requests']} requests in {r['seconds']:.0f} s, {r['throughput_rps']} req/s, "
        f"{r['errors']} errors; latency ms p50 {lat['p50']} p95 {lat['p95']} p99 {lat['p99']} max {lat['max']}"
    )
    line += f"; CPU s: workers {' + '.join(map(str, r['worker_cpu_s']))}, client {r['client_cpu_s']}"
    return line + (f"; errors: {r['error_kinds']}" if r["error_kinds"] else "")


def print_human(result: dict[str, Any]) -> None:
    s = result["setup"]
    print(
        f"{s['distinct_requests']} distinct requests ({', '.join(f'{k} {n}' for k, n in s['kinds'].items())}); "
        f"server {s['workers']} workers × {s['threads']} threads (gthread)"
        + (f"; driver {s['driver']}, {s['clients']} connections" if "sakuin" in result else "")
        + (f", {s['wrk_threads']} wrk threads" if "sakuin" in result and s["driver"] == "wrk" else "")
    )
    if "sakuin" in result:
        print(_run_line("sakuin", result["sakuin"]))
        ref = result["reference"]
        for n, r in enumerate(ref["runs"], 1):
            note = "" if r.get("balanced", True) else ", one worker served: not counted"
            print(_run_line(f"reference {n} ({ref['body_bytes']} B JSON{note})", r))
        print(f"ratio sakuin ÷ reference (median {ref['median_rps']} req/s): {result['ratio']}")
        log_ = result["server_log"]
        print(f"sakuin log: {log_['tracebacks']} tracebacks, statuses {log_['statuses']}")
        bad = {k: v["status"] for k, v in result["preflight"].items() if v["status"] != 200}
        if bad:
            print(f"not 200 before the load: {bad}")
    curve = result.get("memory_curve")
    if curve:
        print(
            f"\nmemory curve ({curve['parts']} part files, built in {curve['build_s']} s; "
            f"python driver, {curve['clients']} clients):"
        )
        print(
            f"{'stage':<16} {'requests':>8} {'PSS MB':>7} {'USS MB':>7} {'RSS MB':>7} {'procs':>5} {'errors':>6}"
            "  versions open"
        )
        for r in curve["rows"]:
            print(
                f"{r['stage']:<16} {r['requests']:>8} {r['pss_mb']:>7} {r['uss_mb']:>7} {r['rss_mb']:>7} "
                f"{r['processes']:>5} {r['errors']:>6}  {','.join(r['versions_open']) or '-'}"
                + (f" (stale: {r['stale_files']} files of {','.join(r['stale_versions'])})" if r["stale_files"] else "")
                + (f"  ({r['part']}, {r['records_changed']} records, index {r['index_s']} s)" if "part" in r else "")
            )
        log_ = curve["server_log"]
        print(f"curve server log: {log_['tracebacks']} tracebacks, statuses {log_['statuses']}")


def counts(text: str) -> list[int]:
    return sorted(int(x.replace("_", "")) for x in text.split(",") if x.strip())


def main() -> int:
    parser = arguments(__doc__)
    parser.add_argument("--index-dir", type=Path, default=None, help="reuse/build the index here (default: temp)")
    parser.add_argument(
        "--driver",
        choices=("wrk", "python"),
        default="wrk" if Path(WRK).is_file() else "python",
        help="load generator (default: wrk if installed)",
    )
    parser.add_argument("--clients", type=int, default=32, help="connections (wrk -c) or client threads")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--timeout", type=float, default=10.0, help="wrk --timeout, seconds")
    parser.add_argument("--seconds", type=float, default=None, help="measured seconds (default: 30; 60 with python)")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of load before measuring")
    parser.add_argument("--max-requests", type=int, default=500_000, help="python driver: hard bound on requests")
    parser.add_argument("--every", type=int, default=1, help="derive requests from every N-th record")
    parser.add_argument("--reference-runs", type=int, default=2, help="0, 1 (before sakuin) or 2 (before and after)")
    parser.add_argument("--no-throughput", action="store_true", help="skip the throughput runs")
    parser.add_argument("--memory-curve", action="store_true", help="measure server PSS over requests and updates")
    parser.add_argument(
        "--curve", type=counts, default=[1000, 10_000, 50_000], help="cumulative request counts (1000,10000,50000)"
    )
    parser.add_argument("--parts", type=int, default=20, help="memory curve: corpus split into N JSONL files")
    parser.add_argument("--updates", type=int, default=5, help="memory curve: index updates")
    parser.add_argument("--update-requests", type=int, default=1000, help="memory curve: requests after each update")
    parser.add_argument("--server-threads", type=int, default=2, help="threads per worker (sakuin serve --threads)")
    parser.add_argument("--server-workers", type=int, default=None, help="sakuin serve --workers (default: per core)")
    args = parser.parse_args()
    corpora.locate(args.data)
    if args.driver == "wrk" and not Path(WRK).is_file():
        parser.error(f"wrk not found at {WRK} (apt-get install wrk, or --driver python)")
    if args.no_throughput and not args.memory_curve:
        parser.error("--no-throughput leaves nothing to measure without --memory-curve")
    if args.seconds is None:
        args.seconds = 30.0 if args.driver == "wrk" else 60.0
    args.workers = args.server_workers or default_workers()

    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="sakuin-load-") as tmp_name:
        tmp = Path(tmp_name)
        corpus = corpora.livedoor_jsonl(args.data, tmp, args.limit)
        mix = mixed_urls(corpus, args.every)
        kinds = Counter(kind for kind, _ in mix)
        result["setup"] = {
            "driver": args.driver,
            "clients": args.clients,
            **({"wrk_threads": args.wrk_threads, "timeout_s": args.timeout} if args.driver == "wrk" else {}),
            "seconds": args.seconds,
            "warmup_s": args.warmup,
            "workers": args.workers,
            "threads": args.server_threads,
            "worker_class": "gthread",
            "records": len(corpus.read_text(encoding="utf-8").splitlines()),
            "distinct_requests": len(mix),
            "kinds": {k: kinds[k] for k in KINDS},
        }
        log(f"{len(mix)} distinct requests ({dict(kinds)})")
        if not args.no_throughput:
            index_dir, _ = ensure_index(args.index_dir, tmp, args.data, args.limit)
            result |= throughput(args, mix, index_dir, tmp)
        if args.memory_curve:
            result["memory_curve"] = memory_curve(args, corpus, mix, tmp)
    result["machine"] = machine_info()
    return finish(result, args, print_human)


if __name__ == "__main__":
    sys.exit(main())
