"""The ``sakuin`` command: index, search, analyze, stats, serve.

Every command that prints results can print JSON (``--json``) built from the same
objects the web API returns. Expected failures (a bad query, a missing index)
print one line saying what to do and exit non-zero; they never show a traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from sakuin.search.embedded.store import IndexBusy, IndexMissing
from sakuin.search.query import QuerySyntaxError

DEFAULT_INDEX = Path("index")

#: Exit codes (documented in the README).
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3

index_dir_option = click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_INDEX,
    show_default=True,
    envvar="SAKUIN_INDEX_DIR",
    help="Where the index lives.",
)


backend_option = click.option(
    "--backend",
    default=None,
    envvar="SAKUIN_BACKEND",
    metavar="PATH|URL",
    help="An index directory (the embedded index, as --index-dir) or OpenSearch node URLs, comma-separated.",
)


def _target(index_dir: Path, backend: str | None) -> Any:
    """Where a command reads or writes: ``--backend`` if given, else ``--index-dir``."""
    return backend or index_dir


def _fail(message: str, code: int = EXIT_FAILED) -> None:
    click.echo(f"sakuin: {message}", err=True)
    sys.exit(code)


def _require_text(value: str) -> None:
    """Arguments with bytes that are not UTF-8 arrive as lone surrogates, which no analysis can take."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        _fail("query error: the text is not valid UTF-8 (check the terminal's encoding)", EXIT_USAGE)


def _dump(data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a file name that is not UTF-8: \u-escape it so the JSON stays valid
            text = json.dumps(data, ensure_ascii=True, indent=2)
    click.echo(text)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sakuin")
def main() -> None:
    """sakuin (索引): Japanese full-text search over your documents, section by section."""


class _Bar:
    """Adapts tqdm to the indexer's Progress protocol: input bytes analysed, MB/s and ETA.

    Beside the bytes it counts documents (a file, or one record of a JSONL file)
    and sections, so a long JSONL file shows its records going by.
    """

    def __init__(self) -> None:
        self.bar: Any = None
        self.sections = 0
        self.documents = 0
        self.in_bytes = True

    def start(self, total_bytes: int, label: str = "indexing") -> None:
        """A bar per phase: input bytes while indexing, sections while compacting."""
        from tqdm import tqdm

        self.close()
        self.sections = self.documents = 0
        in_bytes = label == "indexing"
        self.bar = tqdm(
            total=total_bytes,
            unit="B" if in_bytes else " sections",
            unit_scale=in_bytes,
            unit_divisor=1024,
            dynamic_ncols=True,
            file=sys.stderr,
            disable=None,
            desc=label,
        )
        self.in_bytes = in_bytes

    def update(self, nbytes: int, sections: int, documents: int) -> None:
        if self.bar is None:
            return
        self.sections += sections
        self.documents += documents
        self.bar.update(nbytes)
        if self.in_bytes:
            self.bar.set_postfix(documents=self.documents, sections=self.sections, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _with_bar(run: Any) -> Any:
    """``run(bar)`` with a progress bar closed whatever happens; expected failures become one line."""
    bar = _Bar()
    try:
        return run(bar)
    except (IndexBusy, IndexMissing) as exc:
        bar.close()
        _fail(str(exc))
    except KeyboardInterrupt:
        bar.close()
        _fail("interrupted; the previous index is unchanged", 130)
    finally:
        bar.close()


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@index_dir_option
@backend_option
@click.option("--shards", type=click.IntRange(1, 256), default=3, show_default=True, help="Cluster only: shards.")
@click.option("--replicas", type=click.IntRange(0, 16), default=1, show_default=True, help="Cluster only: replicas.")
@click.option("--rebuild", is_flag=True, help="Start from scratch instead of updating.")
@click.option("--procs", type=click.IntRange(1, 64), default=None, help="Worker processes (default: all cores).")
@click.option("--no-wait", is_flag=True, help="Exit instead of waiting if another index run holds the lock.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--facet", "facets", multiple=True, metavar="FIELD", help="Metadata field to filter and facet by.")
@click.option("--date", "dates", multiple=True, metavar="FIELD", help="ISO-date metadata field (ranges, sorting).")
@click.option("--number", "numbers", multiple=True, metavar="FIELD", help="Numeric metadata field (ranges, sorting).")
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
) -> None:
    """Index files and folders (text, Markdown, HTML, JSONL), section by section.

    Re-running updates only what changed; the previous index stays live until the
    new one is complete. Metadata fields declared with --facet, --date and
    --number are remembered by the index. Exit status: 0 ok, 3 finished but some
    files were skipped.
    """
    from sakuin.search.backend import build
    from sakuin.search.documents.metadata import MetadataError
    from sakuin.search.opensearch.client import ClusterUnavailable, is_cluster

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        _fail(f"no such file or directory: {', '.join(missing)}", EXIT_USAGE)
    declare = [
        *((f, "keyword") for f in facets),
        *((f, "date") for f in dates),
        *((f, "number") for f in numbers),
    ]
    target = _target(index_dir, backend)
    options: dict[str, Any] = {"rebuild": rebuild, "procs": procs, "wait": not no_wait, "declare": declare}
    if is_cluster(str(target)):
        options.update(shards=shards, replicas=replicas)
    try:
        report = _with_bar(lambda bar: build(target, list(paths), progress=bar, **options))
    except MetadataError as exc:
        _fail(str(exc), EXIT_USAGE)
    except ClusterUnavailable as exc:
        _fail(str(exc))
    if as_json:
        _dump(report.to_dict())
    else:
        _print_report(report)
    if report.skipped:
        sys.exit(EXIT_SKIPPED)


@main.command()
@index_dir_option
@backend_option
@click.option("--procs", type=click.IntRange(1, 64), default=None, help="Worker processes (default: all cores).")
@click.option("--no-wait", is_flag=True, help="Exit instead of waiting if another index run holds the lock.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def optimize(index_dir: Path, backend: str | None, procs: int | None, no_wait: bool, as_json: bool) -> None:
    """Rewrite the index into fresh segments with no deleted sections left.

    Searches answer the same before and after; only size and segment count change.
    Every section is re-analysed from its stored text, so this takes about as
    long as a fresh build. Updates compact on their own; this is for a final
    squeeze (e.g. before copying an index elsewhere).
    """
    from sakuin.search.embedded.writing.indexer import optimize_index
    from sakuin.search.opensearch.client import is_cluster

    target = _target(index_dir, backend)
    if is_cluster(str(target)):
        from sakuin.search.opensearch.indexer import optimize_cluster_index

        optimize_cluster_index(str(target), wait=not no_wait)
        click.echo("optimized: the live version's segments merged into one per shard (_forcemerge)")
        return
    report = _with_bar(lambda bar: optimize_index(index_dir, procs=procs, progress=bar, wait=not no_wait))
    if as_json:
        _dump(report.to_dict())
        return
    click.echo(
        f"optimized: {_count(report.segments_rewritten, 'segment')} rewritten into {report.segments}; "
        f"{report.documents} documents, {report.sections} sections; {report.seconds:.1f} s; "
        f"index {_size(report.size_bytes)} ({report.version})"
    )


def _print_report(report: Any) -> None:
    for problem in report.problems:
        click.echo(f"warning: {problem}", err=True)
    for path, reason in report.skipped:
        click.echo(f"skipped: {path}: {reason}", err=True)
    if report.up_to_date:
        click.echo(f"index is up to date ({report.unchanged} files unchanged)")
    else:
        click.echo(
            f"added {len(report.added)}, changed {len(report.changed)}, removed {len(report.removed)}, "
            f"unchanged {report.unchanged} files"
        )
    for path, counts in report.records.items():
        changes = [f"{_count(n, 'record')} {what}" for what, n in counts.items() if n and what != "unchanged"]
        click.echo(f"{', '.join(changes) or 'no record changed'} in {path} ({counts['unchanged']} unchanged)")
    if report.segments_rewritten:
        click.echo(
            f"compacted {_count(report.segments_rewritten, 'segment')} "
            f"({report.sections_rewritten} live sections re-analysed); {_count(report.segments, 'segment')} now"
        )
    click.echo(
        f"{report.documents} documents, {report.sections} sections, {len(report.skipped)} skipped; "
        f"{report.seconds:.1f} s; index {_size(report.size_bytes)} ({report.version})"
    )
    if report.metadata:
        fields = ", ".join(f"{name} ({kind})" for name, kind in report.metadata.items())
        redeclared = "; every section re-derived" if report.redeclared else ""
        click.echo(f"metadata: {fields}{redeclared}")
    if report.suggestions:
        click.echo(f"metadata seen but not declared; to filter and facet by it, add: {' '.join(report.suggestions)}")
    if report.worker_seconds:
        compacted = f" (and {report.sections_rewritten} compacted)" if report.sections_rewritten else ""
        click.echo(
            f"analysed {_count(report.sections_written, 'section')}{compacted} in "
            f"{_count(max(1, report.workers), 'process')}; {100 * report.sudachi_share:.0f}% of their CPU time "
            "was Sudachi's tokenizer, the rest our analysis and segment writing"
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 'es' if noun.endswith('s') else 's'}"


def _engine(target: Any) -> Any:
    from sakuin.search.backend import open_engine

    return open_engine(target)


class _QueryCommand(click.Command):
    """A command whose QUERY may start with "-" (``sakuin search '-電話 会談'``).

    Click would read such an argument as an unknown option. Any argument that is
    not one of the command's own options is taken as query text instead; ``--``
    still works as usual.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        params = self.get_params(ctx)  # with --help
        known = {name for p in params for name in (*p.opts, *p.secondary_opts)}
        flags = {name for p in params if getattr(p, "is_flag", False) for name in (*p.opts, *p.secondary_opts)}
        out: list[str] = []
        text: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            if arg == "--":
                text += args[i + 1 :]
                break
            name = arg.split("=", 1)[0]
            if name in known:
                out.append(arg)
                if "=" not in arg and name not in flags and i + 1 < len(args):
                    out.append(args[i + 1])
                    i += 1
            else:
                text.append(arg)
            i += 1
        return super().parse_args(ctx, [*out, "--", *text] if text else out)


def _query_error(exc: QuerySyntaxError, as_json: bool) -> None:
    """A query error in the API's shape with --json, else one line; exit 2 either way."""
    if as_json:
        _dump({"error": {"code": exc.code, "message": exc.message}})
        sys.exit(EXIT_USAGE)
    _fail(f"query error: {exc}", EXIT_USAGE)


@main.command(cls=_QueryCommand)
@click.argument("query", nargs=-1, required=True)
@index_dir_option
@backend_option
@click.option("--limit", "per_page", type=click.IntRange(1, 100), default=10, show_default=True, help="Hits per page.")
@click.option("--page", type=click.IntRange(1, 1000), default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON the API returns.")
@click.option("--facet", "facets", multiple=True, metavar="FIELD", help="Count the values of a metadata field.")
@click.option("--filter", "filters", multiple=True, metavar="FIELD:VALUE", help="Only hits with this metadata.")
@click.option(
    "--sort", default=None, metavar="[-]FIELD", help="relevance (default), or a date/number field; -: descending."
)
@click.option("--no-collapse", is_flag=True, help="Show sections with the same text one by one.")
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
) -> None:
    """Search the index; QUERY supports "phrases", OR, NOT/-word, title:, heading:,
    and metadata filters (category:スポーツ, date:2012-01..2012-06, path:docs/).

    QUERY may be several arguments (they are joined with spaces) and may start
    with "-": sakuin search -電話 会談.
    """
    text = " ".join(query)
    _require_text(text)
    for f in filters:
        _require_text(f)
    try:
        result = _engine(_target(index_dir, backend)).search(
            text,
            page=page,
            per_page=per_page,
            sort=sort,
            facets=[f for raw in facets for f in raw.split(",")],
            filters=filters,
            collapse=not no_collapse,
        )
    except QuerySyntaxError as exc:
        _query_error(exc, as_json)
    except IndexMissing as exc:
        _fail(str(exc))
    if as_json:
        _dump(result.to_dict())
        return
    first = (result.page - 1) * result.per_page
    collapsed = result.sections - result.total
    folded = f", {collapsed} more with the same text folded in" if collapsed > 0 else ""
    click.echo(f"{result.total} sections match{folded} ({result.took_ms:.0f} ms)")
    for name, values in result.facets.items():
        listed = ", ".join(f"{'*' if v.selected else ''}{v.value} {v.count}" for v in values)
        click.echo(f"{name}: {listed or '-'}")
    for i, hit in enumerate(result.hits, start=first + 1):
        heading = f" › {hit.heading}" if hit.heading else ""
        click.echo(
            f"\n{i}. {click.style(hit.title + heading, bold=True)}  [{hit.doc_id} #s-{hit.ordinal}]  {hit.score:.2f}"
        )
        shown = {k: v for k, v in hit.meta.items() if isinstance(v, (str, int, float)) and k != "url"}
        if hit.url or shown:
            click.echo("   " + "  ".join([*(f"{k}: {v}" for k, v in shown.items()), *([hit.url] if hit.url else [])]))
        click.echo("   " + _ansi_marks(hit.snippet.text, hit.snippet.highlights))
        if hit.duplicates:
            click.echo(f"   (+{hit.duplicates} more with the same text)")
    if result.did_you_mean:
        click.echo(f"did you mean: {', '.join(result.did_you_mean)}")
    for notice in result.notices:
        click.echo(f"note: {notice.message}")
    if result.total > first + len(result.hits):
        click.echo(f"\nmore: --page {result.page + 1}")


def _ansi_marks(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    out, pos = [], 0
    for s, e in spans:
        out += [text[pos:s], click.style(text[s:e], fg="yellow", bold=True)]
        pos = e
    out.append(text[pos:])
    return "".join(out)


@main.command()
@click.argument("text")
@click.option("--json", "as_json", is_flag=True)
def analyze(text: str, as_json: bool) -> None:
    """Show how TEXT is tokenized and normalized (like Elasticsearch's _analyze)."""
    from sakuin.search.analysis.sudachi import explain

    _require_text(text)
    tokens = explain(text)
    if as_json:
        _dump({"text": text, "tokens": tokens})
        return
    for t in tokens:
        parts = " + ".join(p["term"] for p in t["parts"])
        flag = "" if t["indexed"] else "  (not indexed)"
        click.echo(
            f"{t['start']:>4}-{t['end']:<4} {t['surface']}\t→ {t['term']}\t{t['pos']}"
            + (f"\tparts: {parts}" if parts else "")
            + flag
        )


@main.command()
@index_dir_option
@backend_option
@click.option("--json", "as_json", is_flag=True)
def stats(index_dir: Path, backend: str | None, as_json: bool) -> None:
    """Counts and sizes of the index."""
    try:
        data = _engine(_target(index_dir, backend)).stats()
    except IndexMissing as exc:
        _fail(str(exc))
    if as_json:
        _dump(data)
        return
    click.echo(f"index:     {data['index_dir']} ({data['version']})")
    click.echo(f"documents: {data['documents']}  sections: {data['sections']}  files: {data['files']}")
    if "cluster" in data:
        click.echo(f"cluster:   {data['cluster']['status']}, {data['cluster']['nodes']} nodes")
        click.echo(f"size:      {_size(data['size_bytes'])} (primaries)")
        return
    click.echo("terms:     " + ", ".join(f"{k} {v}" for k, v in data["terms"].items()))
    click.echo(f"size:      {_size(data['size_bytes'])} in {data['segments']} segments")


@main.command()
@index_dir_option
@backend_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=5000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes (default: one per core).",
)
@click.option("--threads", type=click.IntRange(1, 64), default=2, show_default=True, help="Threads per worker.")
def serve(index_dir: Path, backend: str | None, host: str, port: int, workers: int | None, threads: int) -> None:
    """Serve the search pages and JSON API at http://HOST:PORT/ (gunicorn, Unix).

    Every worker follows the index: a new ``sakuin index`` run is served from
    the next request on, without a restart. One access-log line per request on
    stdout. SIGTERM lets in-flight requests finish; Ctrl+C stops at once.
    """
    from sakuin.web.serve import serve as run

    run(_target(index_dir, backend), host, port, threads, workers)


@main.command(name="eval")
@click.option("--corpus", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--queries", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--qrels", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Index for the corpus (default: index/eval-<corpus name>); built or updated as needed.",
)
@backend_option
@click.option("--run-out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write a TREC run file.")
@click.option("--k", type=click.IntRange(1, 100), default=100, show_default=True, help="Results per query.")
@click.option("--json", "as_json", is_flag=True)
def eval_command(
    corpus: Path,
    queries: Path,
    qrels: Path,
    index_dir: Path | None,
    backend: str | None,
    run_out: Path | None,
    k: int,
    as_json: bool,
) -> None:
    """Score ranking on a query set: nDCG@10, MRR@10, Recall@10, Recall@100."""
    try:
        from sakuin.search.evaluation import evaluate, read_queries, write_trec
    except ModuleNotFoundError as exc:
        _fail(f"sakuin eval needs {exc.name}: pip install 'sakuin[eval]'")
    from sakuin.search.backend import build, open_engine

    target = _target(index_dir or DEFAULT_INDEX / f"eval-{corpus.stem}", backend)
    report = build(target, [corpus])
    if not report.up_to_date:
        click.echo(f"indexed {report.sections} sections in {report.seconds:.1f} s", err=True)
    result, run = evaluate(open_engine(target), read_queries(queries), qrels, k=k)
    if run_out:
        write_trec(run, run_out)
    summary = {
        "queries": result.queries,
        "seconds": round(result.seconds, 2),
        **{m: round(v, 4) for m, v in result.metrics.items()},
    }
    if as_json:
        _dump(summary)
        return
    for name, value in result.metrics.items():
        click.echo(f"{name:<11} {value:.4f}")
    per_query = result.seconds / max(1, result.queries) * 1000
    click.echo(f"{result.queries} queries in {result.seconds:.1f} s ({per_query:.1f} ms/query)")


if __name__ == "__main__":  # pragma: no cover
    main()
