"""What the commands print when they do not print JSON: one function per kind of answer.

Every function takes the same object ``--json`` dumps (``to_dict()``) or the web
API returns, so the terminal shows exactly what the other two do, in words.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from sakuin.search.config import TRACK_TOTAL
from sakuin.search.indexing.report import IndexReport
from sakuin.search.results.model import SearchResult

Echo = Callable[..., None]


def dump(data: Any) -> None:
    """``data`` as indented JSON, Japanese kept readable."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a file name that is not UTF-8: \\u-escape it so the JSON stays valid
            text = json.dumps(data, ensure_ascii=True, indent=2)
    click.echo(text)


def count(n: int, noun: str) -> str:
    """``1 section``, ``2 sections``, ``2 processes``."""
    return f"{n} {noun}{'' if n == 1 else 'es' if noun.endswith('s') else 's'}"


def size(n: float) -> str:
    """Bytes for people: ``512 B``, ``271.7 KB``, ``163.8 MB``."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def index_report(report: IndexReport) -> None:
    """The summary of ``sakuin index``: problems and skips on stderr, what changed, the totals."""
    for problem in report.problems:
        click.echo(f"warning: {problem}", err=True)
    for path, reason in report.skipped:
        click.echo(f"skipped: {path}: {reason}", err=True)
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    if report.up_to_date:
        click.echo(f"index is up to date ({count(report.unchanged, 'file')} unchanged)")
    else:
        click.echo(
            f"added {len(report.added)}, changed {len(report.changed)}, removed {len(report.removed)}, "
            f"unchanged {count(report.unchanged, 'file')}"
        )
    for path, counts in report.records.items():
        changes = [f"{count(n, 'record')} {what}" for what, n in counts.items() if n and what != "unchanged"]
        click.echo(f"{', '.join(changes) or 'no record changed'} in {path} ({counts['unchanged']} unchanged)")
    if report.segments_rewritten:
        click.echo(
            f"compacted {count(report.segments_rewritten, 'segment')} "
            f"({count(report.sections_rewritten, 'live section')} re-analysed); {count(report.segments, 'segment')} now"
        )
    click.echo(
        f"{count(report.documents, 'document')}, {count(report.sections, 'section')}, {len(report.skipped)} skipped; "
        f"{report.seconds:.1f} s; index {size(report.size_bytes)} ({report.version})"
    )
    if report.metadata:
        fields = ", ".join(f"{name} ({kind})" for name, kind in report.metadata.items())
        redeclared = "; every section re-derived" if report.redeclared else ""
        click.echo(f"metadata: {fields}{redeclared}")
    if report.suggestions:
        click.echo(f"metadata seen but not declared; to filter and facet by it, add: {' '.join(report.suggestions)}")
    changed = " (changed: searches use them from now on, no section re-analysed)" if report.synonyms_changed else ""
    click.echo(f"synonyms: {', '.join(report.synonyms) or 'none'}{changed}")
    if report.user_dicts or report.reanalysed:
        click.echo(f"user dictionaries: {', '.join(report.user_dicts) or 'none'}")
    for reason in report.reanalysed:
        click.echo(f"{reason}: every section re-derived from its stored text")
    if report.worker_seconds and (report.sections_written or report.sections_rewritten):
        compacted = f" (and {report.sections_rewritten} compacted)" if report.sections_rewritten else ""
        extraction = (
            f"extracting PDF, Office, EPUB and mail files took {100 * report.extraction_share:.0f} %, "
            if report.extract_seconds
            else ""
        )
        click.echo(
            f"analysed {count(report.sections_written, 'section')}{compacted} in "
            f"{count(max(1, report.workers), 'process')}; {extraction}Sudachi's tokenizer took "
            f"{100 * report.sudachi_share:.0f} % of their CPU time, "
            "the rest went to building terms and writing the index"
        )


def optimize_report(report: IndexReport) -> None:
    rewritten = (
        f"{count(report.segments_rewritten, 'segment')} rewritten into {report.segments}; "
        if report.segments_rewritten or report.segments
        else ""
    )
    click.echo(
        f"optimized: {rewritten}{count(report.documents, 'document')}, {count(report.sections, 'section')}; "
        f"{report.seconds:.1f} s; "
        f"index {size(report.size_bytes)} ({report.version})"
    )


def search_result(result: SearchResult) -> None:
    """Hits with their place, score, metadata and snippet (matches in bold yellow), then facets and notes."""
    first = (result.page - 1) * result.per_page
    collapsed = result.sections - result.total
    exact = not result.at_least and result.sections < TRACK_TOTAL
    folded = f", {collapsed} more with the same text folded in" if collapsed > 0 and exact else ""
    counted = f"at least {result.total:,} sections" if result.at_least else count(result.total, "section")
    verb = "matches" if result.total == 1 and not result.at_least else "match"
    click.echo(f"{counted} {verb}{folded} ({result.took_ms:.0f} ms)")
    for name, values in result.facets.items():
        listed = ", ".join(f"{'*' if v.selected else ''}{v.value} {v.count}" for v in values)
        click.echo(f"{name}: {listed or '-'}")
    for i, hit in enumerate(result.hits, start=first + 1):
        heading = f" › {hit.heading}" if hit.heading else ""
        inside = {"substring": "  (inside a longer word)", "synonym": "  (through a synonym)"}.get(hit.match, "")
        click.echo(
            f"\n{i}. {click.style(hit.title + heading, bold=True)}  [{hit.doc_id} #s-{hit.ordinal}]  {hit.score:.2f}"
            + inside
        )
        shown = {k: v for k, v in hit.meta.items() if isinstance(v, (str, int, float)) and k != "url"}
        if hit.url or shown:
            click.echo("   " + "  ".join([*(f"{k}: {v}" for k, v in shown.items()), *([hit.url] if hit.url else [])]))
        click.echo("   " + marked(hit.snippet.text, hit.snippet.highlights))
        if hit.duplicates:
            click.echo(f"   (+{hit.duplicates} more with the same text)")
    listed = result.substrings or any(h.match == "substring" for h in result.hits)
    if result.substring_total and result.total and not listed:
        more = count(result.substring_total, "more section")
        more = f"at least {more}" if result.at_least else more
        click.echo(f"\n{more} have it only inside a longer word: --substring lists them")
    if result.did_you_mean:
        click.echo(f"did you mean: {', '.join(result.did_you_mean)}")
    for notice in result.notices:
        click.echo(f"note: {notice.message}")
    if result.total > first + len(result.hits) or (result.at_least and len(result.hits) == result.per_page):
        click.echo(f"\nmore: --page {result.page + 1}")


def marked(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    """``text`` with each span in bold yellow (plain when the output is not a terminal)."""
    out, pos = [], 0
    for s, e in spans:
        out += [text[pos:s], click.style(text[s:e], fg="yellow", bold=True)]
        pos = e
    out.append(text[pos:])
    return "".join(out)


def tokens(analysis: dict[str, Any]) -> None:
    """``sakuin analyze``: a line per morpheme, its offsets, term, part of speech and parts (and
    whether a user dictionary has it), then the runs that have synonyms."""
    for t in analysis["tokens"]:
        parts = " + ".join(p["term"] for p in t["parts"])
        flag = "" if t["indexed"] else "  (not indexed)"
        user = "  (user dictionary)" if t.get("user_dictionary") else ""
        click.echo(
            f"{t['start']:>4}-{t['end']:<4} {t['surface']}\t→ {t['term']}\t{t['pos']}"
            + (f"\tparts: {parts}" if parts else "")
            + flag
            + user
        )
    for found in analysis.get("synonyms", ()):
        click.echo(f"synonyms of {found['text']}: {', '.join(found['synonyms'])}")


def stats(data: dict[str, Any]) -> None:
    click.echo(f"index:     {data['index_dir']} ({data['version']})")
    click.echo(f"documents: {data['documents']}  sections: {data['sections']}  files: {data['files']}")
    if "cluster" in data:
        click.echo(f"cluster:   {data['cluster']['status']}, {data['cluster']['nodes']} nodes")
        click.echo(f"size:      {size(data['size_bytes'])} (primaries)")
        return
    click.echo("terms:     " + ", ".join(f"{k} {v}" for k, v in data["terms"].items()))
    click.echo(f"size:      {size(data['size_bytes'])} in {data['segments']} segments")
    click.echo(f"synonyms:  {', '.join(data.get('synonyms') or []) or 'none'}")
    if data.get("user_dicts"):
        click.echo(f"user dictionaries: {', '.join(data['user_dicts'])}")


__all__ = ["count", "dump", "index_report", "marked", "optimize_report", "search_result", "size", "stats", "tokens"]
