"""Indexing a folder of PDF and Office files: MB/s, files/s, and where the workers' time goes.

    python bench/bench_formats.py [--limit 600] [--procs N] [--rounds 3] [--json] [--out] [--tmp DIR]

Generates, once per run, a folder from livedoor news articles (``--limit`` of them):

* PDFs printed by Debian's chromium (``/usr/bin/chromium``, the IPA Gothic font) from
  Japanese HTML, 20 articles a file, an ``<h1>`` per article (so an outline), a page
  break between articles;
* DOCX (python-docx: a heading and paragraphs per article), PPTX (python-pptx: a slide per
  article, its title and text) and XLSX (XlsxWriter: a row per article, a sheet per
  category), 20 articles a file.

Then builds the embedded index of the folder ``--rounds`` times (``build_index``,
``rebuild=True``, ``--procs`` workers) and reports the median round: wall seconds, input
MB/s (file bytes on disk) and files/s, text MB/s (UTF-8 bytes of the sections indexed),
and the workers' CPU time split into extraction (``IndexReport.extract_seconds``),
Sudachi's tokenizer (``sudachi_seconds``) and the rest (building terms and writing
segments).
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import corpora
from harness import arguments, finish, log, machine_info, mb

from sakuin.search.embedded.writing.indexer import build_index

CHROMIUM = Path("/usr/bin/chromium")
PER_FILE = 20


def _articles(data: Path, limit: int) -> list[dict[str, Any]]:
    return [r for r in corpora.iter_records(corpora.locate(data), limit) if r.get("text")]


def _html(articles: list[dict[str, Any]]) -> str:
    from html import escape

    parts = [
        '<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>記事集</title>'
        '<style>body{font-family:"IPAGothic",sans-serif;font-size:11pt} h1{break-before:page;font-size:15pt}'
        "h1:first-of-type{break-before:auto}</style></head><body>"
    ]
    for a in articles:
        parts.append(f"<h1>{escape(a['title'])}</h1>")
        parts += [f"<p>{escape(p)}</p>" for p in a["text"].split("\n") if p.strip()]
    parts.append("</body></html>")
    return "".join(parts)


def _pdf(articles: list[dict[str, Any]], out: Path) -> None:
    source = out.with_suffix(".html")
    source.write_text(_html(articles), encoding="utf-8")
    subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-pdf-header-footer",
            "--generate-pdf-document-outline",
            f"--print-to-pdf={out}",
            source.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    source.unlink()


def _docx(articles: list[dict[str, Any]], out: Path) -> None:
    import docx

    document = docx.Document()
    for a in articles:
        document.add_heading(a["title"], level=1)
        for p in a["text"].split("\n"):
            if p.strip():
                document.add_paragraph(p)
    document.save(out)


def _pptx(articles: list[dict[str, Any]], out: Path) -> None:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    for a in articles:
        slide = deck.slides.add_slide(deck.slide_layouts[5])
        slide.shapes.title.text = a["title"]
        box = slide.shapes.add_textbox(Inches(0.5), Inches(1.5), Inches(9), Inches(5))
        box.text_frame.text = a["text"][:1500]
    deck.save(out)


def _xlsx(articles: list[dict[str, Any]], out: Path) -> None:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(out))
    sheets: dict[str, Any] = {}
    rows: dict[str, int] = {}
    for a in articles:
        name = str(a.get("category") or "記事")[:31]
        if name not in sheets:
            sheets[name] = book.add_worksheet(name)
            rows[name] = 0
        sheet = sheets[name]
        sheet.write_row(rows[name], 0, [a["title"], a.get("date") or "", a["text"][:2000]])
        rows[name] += 1
    book.close()


def generate(articles: list[dict[str, Any]], folder: Path) -> dict[str, int]:
    """Write the folder (module doc); returns the files written per format."""
    writers = (("pdf", _pdf), ("docx", _docx), ("pptx", _pptx), ("xlsx", _xlsx))
    counts = {kind: 0 for kind, _ in writers}
    chunks = [articles[i : i + PER_FILE] for i in range(0, len(articles), PER_FILE)]
    for n, chunk in enumerate(chunks):
        kind, write = writers[n % len(writers)]
        if kind == "pdf" and not CHROMIUM.exists():
            kind, write = "docx", _docx
        write(chunk, folder / f"{n:04d}.{kind}")
        counts[kind] += 1
    return counts


def main() -> int:
    parser = arguments(__doc__, limit=600, procs=True, tmp=True)
    parser.add_argument("--rounds", type=int, default=3, help="index builds; the median is reported (default: 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        log(f"generating files from {args.limit} articles …")
        started = time.perf_counter()
        counts = generate(_articles(args.data, args.limit), folder)
        log(f"  {sum(counts.values())} files in {time.perf_counter() - started:.0f} s: {counts}")
        files = sorted(folder.iterdir())
        input_bytes = sum(f.stat().st_size for f in files)
        rounds = []
        for i in range(args.rounds):
            index = Path(tmp) / f"index{i}"
            started = time.perf_counter()
            report = build_index([folder], index, rebuild=True, procs=args.procs)
            seconds = time.perf_counter() - started
            text_bytes = _text_bytes(index)
            rounds.append(
                {
                    "seconds": seconds,
                    "files": len(report.added),
                    "skipped": len(report.skipped),
                    "documents": report.documents,
                    "sections": report.sections,
                    "text_mb": mb(text_bytes),
                    "worker_cpu_s": report.worker_seconds,
                    "extract_share": report.extraction_share,
                    "sudachi_share": report.sudachi_share,
                }
            )
            log(f"  round {i + 1}: {seconds:.1f} s, {report.documents} documents, {report.sections} sections")
        best = sorted(rounds, key=lambda r: r["seconds"])[len(rounds) // 2]
        results = {
            "machine": machine_info(),
            "articles": args.limit,
            "procs": args.procs,
            "files": counts,
            "input_mb": mb(input_bytes),
            "rounds": rounds,
            "median": {
                **best,
                "input_mb_s": mb(input_bytes) / best["seconds"],
                "files_s": best["files"] / best["seconds"],
                "text_mb_s": best["text_mb"] / best["seconds"],
                "rest_share": max(0.0, 1 - best["extract_share"] - best["sudachi_share"]),
            },
            "seconds_all": statistics.median(r["seconds"] for r in rounds),
        }
    return finish(results, args, _print)


def _text_bytes(index: Path) -> int:
    """UTF-8 bytes of every section's title, heading and body in the index."""
    from sakuin.search.backend import open_engine

    engine = open_engine(index)
    try:
        total = 0
        with engine.live.pin() as pinned:
            for fields in pinned.searcher.all_stored_fields():
                for name in ("title", "heading", "body"):
                    total += len((fields.get(name) or "").encode("utf-8"))
        return total
    finally:
        engine.close()


def _print(r: dict[str, Any]) -> None:
    m = r["median"]
    print(f"{sum(r['files'].values())} files ({r['files']}), {r['input_mb']:.1f} MB on disk, {r['procs']} workers")
    print(
        f"median of {len(r['rounds'])}: {m['seconds']:.1f} s; {m['input_mb_s']:.2f} MB/s of files, "
        f"{m['files_s']:.1f} files/s, {m['text_mb_s']:.2f} MB/s of text; "
        f"{m['documents']} documents, {m['sections']} sections"
    )
    print(
        f"workers' CPU: extraction {100 * m['extract_share']:.0f} %, Sudachi {100 * m['sudachi_share']:.0f} %, "
        f"terms and segments {100 * m['rest_share']:.0f} %"
    )


if __name__ == "__main__":
    raise SystemExit(main())
