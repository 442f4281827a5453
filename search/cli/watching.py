"""``sakuin watch`` and ``sakuin status``: keeping the index current, and seeing what happened.

``watch`` runs ``sakuin.search.watching.Watcher`` until it is stopped; ``status``
prints the status report (``sakuin.search.watching.status``) in words, or as the
JSON ``GET /api/status`` answers. Both are registered on the command group in
``sakuin.search.cli.main``.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import click

from sakuin.search.backend import open_engine, open_status
from sakuin.search.cli import render
from sakuin.search.cli.options import backend_option, index_dir_option, procs_option, target
from sakuin.search.cli.progress import ProgressBar
from sakuin.search.config import RUNS_KEPT
from sakuin.search.errors import SakuinError, message
from sakuin.search.indexing.skips import SKIP_CODES
from sakuin.search.watching import Watcher, status_report
from sakuin.search.watching.status import DEFAULT_RUNS


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_dir_option
@backend_option
@click.option(
    "--poll",
    type=click.FloatRange(0.1, 3600),
    default=None,
    metavar="SECONDS",
    help="Look for changes every SECONDS instead of asking the operating system (network mounts).",
)
@procs_option
@click.option("--facet", "facets", multiple=True, metavar="FIELD", help="Metadata field to filter and facet by.")
@click.option("--date", "dates", multiple=True, metavar="FIELD", help="ISO-date metadata field (ranges, sorting).")
@click.option("--number", "numbers", multiple=True, metavar="FIELD", help="Numeric metadata field (ranges, sorting).")
@click.option("--parent-pid", type=int, default=None, hidden=True)
def watch(
    paths: tuple[Path, ...],
    index_dir: Path,
    backend: str | None,
    poll: float | None,
    procs: int | None,
    facets: tuple[str, ...],
    dates: tuple[str, ...],
    numbers: tuple[str, ...],
    parent_pid: int | None,
) -> None:
    """Keep the index equal to PATHS: update it whenever files are created, changed, moved or deleted.

    Each update is the incremental update of sakuin index (the same change
    detection, metadata, writer lock and crash safety), run once the folders have
    been quiet for a second (at most 30 s apart under constant changes), and
    logged in one line. A folder that disappears (an unmounted share) keeps its
    documents until it returns; a failed update leaves the index as it was and is
    tried again with back-off. Runs until Ctrl+C or SIGTERM; sakuin status shows
    what it is doing.
    """
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise SakuinError("no_such_path", paths=missing)
    declare = [
        *((f, "keyword") for f in facets),
        *((f, "date") for f in dates),
        *((f, "number") for f in numbers),
    ]
    signal.signal(signal.SIGTERM, _interrupt)
    bar = ProgressBar()
    try:
        watcher = Watcher(
            list(paths),
            target(index_dir, backend),
            poll=poll,
            declare=declare,
            procs=procs,
            progress=bar,
            parent=parent_pid,
        )
        watcher.run()
    finally:
        bar.close()


@click.command()
@index_dir_option
@backend_option
@click.option(
    "--runs",
    type=click.IntRange(0, RUNS_KEPT),
    default=DEFAULT_RUNS,
    show_default=True,
    help="How many of the last runs to list.",
)
@click.option(
    "--reason",
    "reasons",
    multiple=True,
    type=click.Choice(SKIP_CODES),
    help="List only the files skipped for this reason (repeatable).",
)
@click.option(
    "--path", "path", default="", metavar="TEXT", help="List only the skipped files whose path contains TEXT."
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON GET /api/status returns.")
def status(index_dir: Path, backend: str | None, runs: int, reasons: tuple[str, ...], path: str, as_json: bool) -> None:
    """What the index holds and what happened to it: the live version (documents by
    type and folder), the watchers, the last runs and every skipped file with its reason."""
    where = target(index_dir, backend)
    data = status_report(open_engine(where), open_status(where), runs=runs, reasons=reasons, path=path)
    if as_json:
        render.dump(data)
    else:
        show(data)


# -- in words ---------------------------------------------------------------------------------


def _when(iso: str | None) -> str:
    from datetime import datetime

    if not iso:
        return "-"
    try:
        return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso


def _counts(values: dict[str, int]) -> str:
    return ", ".join(f"{name} {n:,}" for name, n in values.items()) or "-"


def show(data: dict[str, Any]) -> None:
    """The status report in words: the index, the watchers, the runs, the skipped files."""
    index = data["index"]
    if index is None:
        click.echo("index:    none yet (sakuin index PATH or sakuin watch PATH builds one)")
    else:
        click.echo(
            f"index:    {index['index_dir']} ({index['version']}): {index['documents']:,} documents, "
            f"{index['sections']:,} sections, {render.size(index['size_bytes'])}; updated {_when(index['updated'])}"
        )
        click.echo(f"types:    {_counts(index['types'])}")
        click.echo(f"folders:  {_counts(index['folders'])}" + (f" (under {index['root']})" if index["root"] else ""))
    watchers = data["watchers"]
    if not watchers:
        click.echo("watcher:  none (sakuin watch PATH keeps the index current)")
    for w in watchers:
        line = f"watcher:  {w['state']}: {', '.join(w['paths'])} ({w['mode']}), pid {w['pid']} on {w['host']}"
        click.echo(line + f", since {_when(w['started'])}; last update {_when(w['last_change'])}")
        for path, why in w["missing"].items():
            click.echo(f"          missing: {path} ({'another file system' if why == 'other_fs' else 'gone'})")
        if w["error"]:
            click.echo(f"          last error: {w['error']}; next attempt {_when(w['retry_at'])}")
    if data["runs"]:
        click.echo("runs:")
    for run in data["runs"]:
        changed = f"+{run['added']} ~{run['changed']} -{run['removed']}"
        version = run["version"] or ""
        click.echo(
            f"  {_when(run['started'])}  {run['trigger']:<8} {run['outcome']:<11} {changed:<14} "
            f"{run['seconds']:>7.1f} s  {version}"
        )
        if run["error"]:
            click.echo(f"      error: {run['error']}")
    skipped = data["skipped"]
    reasons = ", ".join(f"{message(code).en} {n:,}" for code, n in skipped["reasons"].items())
    click.echo(f"skipped:  {skipped['total']:,} files" + (f" ({reasons})" if reasons else ""))
    for s in skipped["files"]:
        click.echo(f"  {s['path']}: {s['reason']}")


__all__ = ["show", "status", "watch"]
