"""The ``sakuin`` command: index, optimize, search, analyze, stats, serve, auth, eval, watch, status.

Every command that prints results can print JSON (``--json``) built from the same
objects the web API returns (``render`` says them in words otherwise). Commands
reach an index only through ``sakuin.search.backend`` (``open_engine``,
``open_indexer``), so none of them knows which backend it talks to.

Expected failures (a bad query, a missing index, a busy writer) are raised as
``SakuinError`` and end here, in ``_Group.invoke``: one line, ``sakuin: …``, and
the exit status of the error's row in ``sakuin.search.errors``; never a traceback.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from sakuin.search.backend import build, open_engine, open_indexer
from sakuin.search.cli import render
from sakuin.search.cli.options import (
    DEFAULT_INDEX,
    QueryCommand,
    backend_option,
    index_dir_option,
    no_wait_option,
    procs_option,
    target,
)
from sakuin.search.cli.progress import ProgressBar
from sakuin.search.cli.watching import status, watch
from sakuin.search.errors import (
    EXIT_INTERRUPTED,
    EXIT_SKIPPED,
    EXIT_USAGE,
    IndexMissing,
    MissingExtra,
    QuerySyntaxError,
    SakuinError,
    install_hint,
)


def _fail(message: str, code: int) -> None:
    click.echo(f"sakuin: {message}", err=True)
    sys.exit(code)


class _Group(click.Group):
    """The command group: turns every ``SakuinError`` into one line and its exit status, and
    a reader that stopped reading (``sakuin search … | head``) into a quiet exit 0, as other
    Unix tools do."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QuerySyntaxError as exc:
            _fail(f"query error: {exc}", exc.exit)
        except SakuinError as exc:
            _fail(str(exc), exc.exit)
        except BrokenPipeError:
            # Python would complain again when it flushes stdout at exit: point it at /dev/null.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)


def _require_text(value: str) -> None:
    """Arguments with bytes that are not UTF-8 arrive as lone surrogates, which no analysis can take."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise QuerySyntaxError("invalid_encoding/cli") from None


def _with_bar(run: Any) -> Any:
    """``run(bar)`` with a progress bar closed whatever happens; Ctrl+C is one line."""
    bar = ProgressBar()
    try:
        return run(bar)
    except KeyboardInterrupt:
        bar.close()
        _fail("interrupted; the previous index is unchanged", EXIT_INTERRUPTED)
    finally:
        bar.close()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sakuin")
def main() -> None:
    """sakuin (索引): Japanese full-text search over your documents, section by section."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_dir_option
@backend_option
@click.option("--shards", type=click.IntRange(1, 256), default=3, show_default=True, help="Cluster only: shards.")
@click.option("--replicas", type=click.IntRange(0, 16), default=1, show_default=True, help="Cluster only: replicas.")
@click.option("--rebuild", is_flag=True, help="Start from scratch instead of updating.")
@procs_option
@no_wait_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--facet", "facets", multiple=True, metavar="FIELD", help="Metadata field to filter and facet by.")
@click.option("--date", "dates", multiple=True, metavar="FIELD", help="ISO-date metadata field (ranges, sorting).")
@click.option("--number", "numbers", multiple=True, metavar="FIELD", help="Numeric metadata field (ranges, sorting).")
@click.option(
    "--synonyms",
    "synonyms",
    multiple=True,
    metavar="sudachi|FILE|none",
    help="Synonyms searched beside each word: Sudachi's synonym dictionary, a file (a, b / a => b), or none.",
)
@click.option(
    "--user-dict",
    "user_dicts",
    multiple=True,
    metavar="CSV|none",
    help="A Sudachi user dictionary (CSV) for index and query analysis, or none.",
)
def index(
    paths: tuple[Path, ...],
    index_dir: Path,
    backend: str | None,
    shards: int,
    replicas: int,
    rebuild: bool,
    procs: int | None,
    no_wait: bool,
    as_json: bool,
    facets: tuple[str, ...],
    dates: tuple[str, ...],
    numbers: tuple[str, ...],
    synonyms: tuple[str, ...],
    user_dicts: tuple[str, ...],
) -> None:
    """Index files and folders (text, Markdown, HTML, JSONL), section by section.

    Re-running updates only what changed; the previous index stays live until the
    new one is complete. Metadata fields declared with --facet, --date and
    --number are remembered by the index, and so are --synonyms and --user-dict
    (repeat either for several; given, they replace what the index remembers).
    Synonyms apply at search time; another user dictionary re-analyses every
    section. Exit status: 0 ok, 2 bad input, 3 finished but some files were skipped.
    """
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        _fail(f"no such file or directory: {', '.join(missing)}", EXIT_USAGE)
    declare = [
        *((f, "keyword") for f in facets),
        *((f, "date") for f in dates),
        *((f, "number") for f in numbers),
    ]
    indexer = open_indexer(target(index_dir, backend), shards=shards, replicas=replicas)
    report = _with_bar(
        lambda bar: indexer.build(
            list(paths),
            rebuild=rebuild,
            procs=procs,
            progress=bar,
            wait=not no_wait,
            declare=declare,
            synonyms=list(synonyms) or None,
            user_dicts=list(user_dicts) or None,
        )
    )
    if as_json:
        render.dump(report.to_dict())
    else:
        render.index_report(report)
    if report.skipped:
        sys.exit(EXIT_SKIPPED)


@main.command()
@index_dir_option
@backend_option
@procs_option
@no_wait_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def optimize(index_dir: Path, backend: str | None, procs: int | None, no_wait: bool, as_json: bool) -> None:
    """Rewrite the index into fresh segments with no deleted sections left.

    Searches answer the same before and after; only size and segment count change.
    Every section is re-analysed from its stored text, so this takes about as
    long as a fresh build. Updates compact on their own; this is for a final
    squeeze (e.g. before copying an index elsewhere).
    """
    indexer = open_indexer(target(index_dir, backend))
    report = _with_bar(lambda bar: indexer.optimize(procs=procs, progress=bar, wait=not no_wait))
    if as_json:
        render.dump(report.to_dict())
    else:
        render.optimize_report(report)


@main.command(cls=QueryCommand)
@click.argument("query", nargs=-1, required=True)
@index_dir_option
@backend_option
@click.option("--limit", "per_page", type=click.IntRange(1, 100), default=10, show_default=True, help="Hits per page.")
@click.option("--page", type=click.IntRange(1, 1000), default=1, show_default=True, help="Which page of hits.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON the API returns.")
@click.option("--facet", "facets", multiple=True, metavar="FIELD", help="Count the values of a metadata field.")
@click.option("--filter", "filters", multiple=True, metavar="FIELD:VALUE", help="Only hits with this metadata.")
@click.option(
    "--sort", default=None, metavar="[-]FIELD", help="relevance (default), or a date/number field; -: descending."
)
@click.option("--no-collapse", is_flag=True, help="Show sections with the same text one by one.")
@click.option(
    "--substring",
    "substrings",
    is_flag=True,
    help="Also list sections that have the words only inside longer words (京都 in 東京都).",
)
@click.option("--no-synonyms", is_flag=True, help="Search only the words typed, not their synonyms.")
def search(
    query: tuple[str, ...],
    index_dir: Path,
    backend: str | None,
    per_page: int,
    page: int,
    as_json: bool,
    facets: tuple[str, ...],
    filters: tuple[str, ...],
    sort: str | None,
    no_collapse: bool,
    substrings: bool,
    no_synonyms: bool,
) -> None:
    """Search the index; QUERY supports "phrases", OR, NOT/-word, title:, heading:,
    and metadata filters (category:スポーツ, date:2012-01..2012-06, path:docs/).

    QUERY may be several arguments (they are joined with spaces) and may start
    with "-": sakuin search -電話 会談.
    """
    text = " ".join(query)
    try:
        _require_text(text)
        for f in filters:
            _require_text(f)
        result = open_engine(target(index_dir, backend)).search(
            text,
            page=page,
            per_page=per_page,
            sort=sort,
            facets=[f for raw in facets for f in raw.split(",")],
            filters=filters,
            collapse=not no_collapse,
            substrings=substrings,
            synonyms=not no_synonyms,
        )
    except QuerySyntaxError as exc:
        if not as_json:
            raise
        render.dump({"error": {"code": exc.code, "message": exc.message}})  # the API's shape
        sys.exit(exc.exit)
    if as_json:
        render.dump(result.to_dict())
    else:
        render.search_result(result)


@main.command()
@click.argument("text")
@index_dir_option
@backend_option
@click.option("--json", "as_json", is_flag=True, help="Print the JSON /api/analyze returns.")
def analyze(text: str, index_dir: Path, backend: str | None, as_json: bool) -> None:
    """Show how TEXT is tokenized and normalized (like Elasticsearch's _analyze), with the
    index's user dictionaries and synonyms; without an index, by Sudachi's dictionary alone."""
    from sakuin.search.analysis.thesaurus import NO_SYNONYMS, explain

    _require_text(text)
    try:
        analysis = open_engine(target(index_dir, backend)).analyze(text)
    except IndexMissing:
        analysis = explain(text, NO_SYNONYMS)
        if not as_json:
            click.echo("note: no index here: Sudachi's dictionary alone, no synonyms", err=True)
    if as_json:
        render.dump(analysis)
    else:
        render.tokens(analysis)


@main.command()
@index_dir_option
@backend_option
@click.option("--json", "as_json", is_flag=True, help="Print the JSON /api/stats returns.")
def stats(index_dir: Path, backend: str | None, as_json: bool) -> None:
    """Counts and sizes of the index."""
    data = open_engine(target(index_dir, backend)).stats()
    if as_json:
        render.dump(data)
    else:
        render.stats(data)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@index_dir_option
@backend_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=5000,
    show_default=True,
    help="Port to listen on (0: any free one).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes (default: one per core).",
)
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True, help="Threads per worker.")
@click.option("--watch", "watching", is_flag=True, help="Run sakuin watch on PATHS beside the server.")
@click.option(
    "--poll",
    type=click.FloatRange(0.1, 3600),
    default=None,
    metavar="SECONDS",
    help="With --watch: as sakuin watch --poll.",
)
@click.option(
    "--auth",
    "auth_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Access file (TOML): users, their tokens and what each may read (docs/access.md). Without it every "
    "document is public.",
)
def serve(
    paths: tuple[Path, ...],
    index_dir: Path,
    backend: str | None,
    host: str,
    port: int,
    workers: int | None,
    threads: int,
    watching: bool,
    poll: float | None,
    auth_file: Path | None,
) -> None:
    """Serve the search pages and JSON API at http://HOST:PORT/ (gunicorn, Unix).

    Every worker follows the index: a new ``sakuin index`` run is served from
    the next request on, without a restart. One access-log line per request on
    stdout. SIGTERM lets in-flight requests finish; Ctrl+C stops at once.
    With --watch PATH..., a sakuin watch of PATHS runs beside the server and
    stops with it (the index is built first if there is none yet).
    With --auth FILE, readers sign in (a bearer token, the sign-in page, or an
    SSO proxy) and see only what the file's rules allow them; the file is read
    again when it changes.
    """
    from sakuin.web import serve as run

    if paths and not watching:
        raise SakuinError("paths_need_watch", paths=[str(p) for p in paths])
    if watching and not paths:
        raise SakuinError("watch_needs_paths")
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise SakuinError("no_such_path", paths=missing)
    run(target(index_dir, backend), host, port, threads, workers, auth_file, watch=list(paths), poll=poll)


@main.group()
def auth() -> None:
    """Manage the access file of ``sakuin serve --auth``."""


@auth.command(name="add-user")
@click.argument("name")
@click.option("--group", "groups", multiple=True, help="A group the user belongs to (repeat for more).")
@click.option(
    "--auth",
    "auth_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("access.toml"),
    show_default=True,
    help="The access file (created if missing, deny by default).",
)
@click.option("--replace", is_flag=True, help="The user exists: give it a new token (its old one stops working).")
def add_user(name: str, groups: tuple[str, ...], auth_file: Path, replace: bool) -> None:
    """Add user NAME to the access file and print its token, once.

    The file keeps only the token's SHA-256: store the token now (the user signs
    in with it, or sends it as Authorization: Bearer TOKEN). A running server
    picks the user up on its next request.
    """
    from sakuin.search.access.users import add_user as add

    token = add(auth_file, name, groups, replace=replace)
    click.echo(token)
    shown = ", ".join(groups) if groups else "none"
    click.echo(f"sakuin: {name} (groups: {shown}) written to {auth_file}; the token above is not kept", err=True)


@main.command(name="eval")
@click.option(
    "--corpus",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The documents, JSONL ({id, title, text} per line).",
)
@click.option(
    "--queries",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="The questions, JSONL ({id, text} per line).",
)
@click.option(
    "--qrels",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Judgments: query_id TAB doc_id TAB relevance per line.",
)
@click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Index for the corpus (default: index/eval-<corpus name>); built or updated as needed.",
)
@backend_option
@click.option("--run-out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write a TREC run file.")
@click.option("--k", type=click.IntRange(1, 100), default=100, show_default=True, help="Results per query.")
@click.option("--no-synonyms", is_flag=True, help="Search only the words of each query, not their synonyms.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def eval_command(
    corpus: Path,
    queries: Path,
    qrels: Path,
    index_dir: Path | None,
    backend: str | None,
    run_out: Path | None,
    k: int,
    no_synonyms: bool,
    as_json: bool,
) -> None:
    """Score ranking on a query set: nDCG@10, MRR@10, Recall@10, Recall@100."""
    try:
        from sakuin.search.evaluation import evaluate, read_queries, write_trec
    except ModuleNotFoundError as exc:
        raise MissingExtra("missing_extra/eval", module=exc.name, install=install_hint("eval")) from None
    where = target(index_dir or DEFAULT_INDEX / f"eval-{corpus.stem}", backend)
    report = build(where, [corpus])
    if not report.up_to_date:
        click.echo(f"indexed {render.count(report.sections, 'section')} in {report.seconds:.1f} s", err=True)
    result, run = evaluate(open_engine(where), read_queries(queries), qrels, k=k, synonyms=not no_synonyms)
    if run_out:
        write_trec(run, run_out)
    summary = {
        "queries": result.queries,
        "seconds": round(result.seconds, 2),
        **{m: round(v, 4) for m, v in result.metrics.items()},
    }
    if as_json:
        render.dump(summary)
        return
    for name, value in result.metrics.items():
        click.echo(f"{name:<11} {value:.4f}")
    per_query = result.seconds / max(1, result.queries) * 1000
    click.echo(f"{result.queries} queries in {result.seconds:.1f} s ({per_query:.1f} ms/query)")


# -- sakuin watch, sakuin status (sakuin.search.cli.watching) ---------------------------------
main.add_command(watch)
main.add_command(status)

__all__ = ["main"]
