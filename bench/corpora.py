"""Corpora: the livedoor news corpus and the dev set beside the repository, JSON-lines I/O,
corpora split into files and edited for updates, and the generated corpora of the scale curve.

The data is never copied into the repository: the scripts read it from
``<repo>/../shared/data/`` (``--data`` for another copy) and exit with a message that
says where it was expected when it is absent.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import re
import shutil
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
#: The livedoor news corpus: JSON lines ``id, title, text, url, date, category``, gzipped.
LIVEDOOR = SHARED / "scale" / "livedoor_news.jsonl.gz"
#: The relevance dev set: corpus.jsonl, queries.jsonl, qrels.tsv.
DEV = SHARED / "dev"


def locate(path: Path, expected: Path = LIVEDOOR, what: str = "the livedoor news corpus") -> Path:
    """``path`` if it exists, or exit with a message that says where the data was expected."""
    if not path.exists():
        sys.exit(
            f"not found: {path}\n"
            f"The benchmarks expect {what} at {expected} (the repository's "
            f"../shared/data/{expected.relative_to(SHARED)}); pass --data PATH to use another copy."
        )
    return path


def locate_dev(folder: Path) -> Path:
    """The dev-set folder, or exit with a message (it must hold corpus.jsonl)."""
    locate(folder / "corpus.jsonl", DEV / "corpus.jsonl", "the dev set")
    return folder


def iter_records(path: Path, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The records of a JSON-lines file (optionally gzipped) in file order, every field kept."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        n = 0
        for line in fh:
            if limit is not None and n >= limit:
                return
            if line.strip():
                yield json.loads(line)
                n += 1


def write_jsonl(records: Iterable[dict[str, Any]], path: Path) -> int:
    """Write records as JSON lines (UTF-8, not escaped); returns the count.

    The livedoor file is written exactly this way, so a copy is byte for byte the original.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False))
            fh.write("\n")
            n += 1
    return n


def livedoor_jsonl(data: Path, workdir: Path, limit: int | None = None) -> Path:
    """The corpus (its first ``limit`` records) as a plain ``workdir/livedoor_news.jsonl``:
    sakuin reads .jsonl, not .gz."""
    target = workdir / "livedoor_news.jsonl"
    write_jsonl(iter_records(locate(data), limit), target)
    return target


def split_files(records: list[dict[str, Any]], folder: Path, parts: int) -> list[list[dict[str, Any]]]:
    """The records as ``parts`` files ``folder/part-NNN.jsonl`` of consecutive records
    (sizes differ by at most one); returns each file's records."""
    n = len(records)
    parts = max(1, min(parts, n))
    out = [records[i * n // parts : (i + 1) * n // parts] for i in range(parts)]
    for i, part in enumerate(out):
        write_jsonl(part, part_path(folder, i))
    return out


def part_path(folder: Path, i: int) -> Path:
    return folder / f"part-{i:03d}.jsonl"


def edited(record: dict[str, Any], note: str) -> dict[str, Any]:
    """The record with ``note`` appended to its text as a new line (an update changes every one it touches)."""
    return {**record, "text": f"{record.get('text') or ''}\n{note}"}


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def dir_size(path: Path) -> int:
    """Bytes of all regular files under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def analysed_strings(jsonl: Path) -> tuple[list[str], int, int]:
    """The strings the indexer analyses (title, heading, body per section), read the way it
    reads them (``read_file``). Returns (non-empty strings, documents, sections)."""
    from sakuin.search.documents.files import read_file

    result = read_file(jsonl, jsonl.parent)
    texts: list[str] = []
    sections = 0
    for doc in result.documents:
        for s in doc.sections:
            sections += 1
            texts.extend(t for t in (doc.title, s.heading, s.text) if t)
    return texts, len(result.documents), sections


# -- the scale curve's generated corpora -------------------------------------------------

#: Paragraphs shorter than this (characters) are not sections.
MIN_PARAGRAPH = 40
#: Sections (paragraphs) per record.
SECTIONS_PER_RECORD = 5
#: Sentences shorter than this are not drawn for synthetic paragraphs.
MIN_SENTENCE = 5
#: Where a synthetic title is cut into clauses.
_CLAUSE = re.compile(r"[、，,。「」『』（）()【】\[\]！？!?・\s]+")


@dataclass
class Source:
    """What the generator draws from: the real articles, split up."""

    #: (id, title, paragraphs of MIN_PARAGRAPH characters or more, url/date/category)
    articles: list[tuple[str, str, list[str], dict[str, Any]]] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    #: Lengths of the real paragraphs, to size the synthetic ones like them.
    lengths: list[int] = field(default_factory=list)
    #: (date, category) of every article.
    metas: list[tuple[Any, Any]] = field(default_factory=list)

    @property
    def paragraphs(self) -> int:
        return len(self.lengths)


def load_source(path: Path, limit: int | None) -> Source:
    src = Source()
    for rec in iter_records(path, limit):
        doc_id = str(rec.get("id") or f"livedoor-{len(src.metas)}")
        # Blanks collapsed as the readers collapse them, so the analysed strings counted here are the indexer's.
        title = " ".join(str(rec.get("title") or "").split()) or doc_id
        paragraphs = [p.strip() for p in re.split(r"\n+", str(rec.get("text") or ""))]
        kept = [p for p in paragraphs if len(p) >= MIN_PARAGRAPH]
        meta = {k: rec[k] for k in ("url", "date", "category") if rec.get(k) is not None}
        src.metas.append((rec.get("date"), rec.get("category")))
        for p in paragraphs:
            for s in p.split("。"):
                s = s.strip()
                if len(s) >= MIN_SENTENCE:
                    src.sentences.append(s + "。")
        if kept:
            src.articles.append((doc_id, title, kept, meta))
            src.lengths.extend(len(p) for p in kept)
    if not src.articles or not src.sentences:
        sys.exit(f"no paragraphs of {MIN_PARAGRAPH}+ characters in {path}")
    return src


def _synthetic_paragraph(rng: random.Random, src: Source) -> str:
    target = max(MIN_PARAGRAPH, rng.choice(src.lengths))
    parts: list[str] = []
    n = 0
    while n < target:
        s = rng.choice(src.sentences)
        parts.append(s)
        n += len(s)
    return "".join(parts)


def _synthetic_title(rng: random.Random, src: Source) -> str:
    def clause() -> str:
        for _ in range(20):
            pieces = [c for c in _CLAUSE.split(rng.choice(src.sentences)) if 4 <= len(c) <= 24]
            if pieces:
                return rng.choice(pieces)
        return rng.choice(src.sentences)[:20]

    title = clause()
    if len(title) < 12 or rng.random() < 0.3:
        title = f"{title}、{clause()}"
    return title


def record_stream(src: Source, seed: int) -> Iterator[dict[str, Any]]:
    """The corpus' records: real paragraphs first, then synthetic articles, without end."""
    rng = random.Random(seed)
    order = list(range(len(src.articles)))
    rng.shuffle(order)
    for i in order:
        doc_id, title, paragraphs, meta = src.articles[i]
        for chunk, start in enumerate(range(0, len(paragraphs), SECTIONS_PER_RECORD), start=1):
            sections = [
                {"heading": f"第{start + j + 1}段", "text": p}
                for j, p in enumerate(paragraphs[start : start + SECTIONS_PER_RECORD])
            ]
            yield {"id": f"{doc_id}-{chunk}", "title": title, "sections": sections, **meta, "source": doc_id}
    n = 0
    while True:
        n += 1
        date, category = rng.choice(src.metas)
        title = _synthetic_title(rng, src)
        sections = [
            {"heading": f"第{j + 1}段", "text": _synthetic_paragraph(rng, src)} for j in range(SECTIONS_PER_RECORD)
        ]
        yield {
            "id": f"synthetic-{n:07d}",
            "title": title,
            "sections": sections,
            "date": date,
            "category": category,
            "synthetic": True,
        }


@dataclass
class Generated:
    folder: Path
    stats: dict[str, Any]
    #: The analysed strings of the sampled sections (title, heading, body of each).
    sample_texts: list[str]
    sample_sections: int
    #: Distinct titles of the sampled sections' records (for the queries).
    titles: list[str]


def write_generated(
    src: Source, seed: int, n_sections: int, folder: Path, file_sections: int, sample: int
) -> Generated:
    """Stream exactly ``n_sections`` sections into JSONL files; sample every k-th section."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    every = max(1, math.ceil(n_sections / max(1, sample)))
    stats = {
        "records": 0,
        "sections": 0,
        "real_sections": 0,
        "synthetic_sections": 0,
        "analysed_strings": 0,
        "analysed_bytes": 0,
        "files": 0,
        "jsonl_bytes": 0,
    }
    texts: list[str] = []
    titles: dict[str, None] = {}
    sampled = 0
    fh = None
    in_file = 0
    try:
        for rec in record_stream(src, seed):
            left = n_sections - stats["sections"]
            if left <= 0:
                break
            if len(rec["sections"]) > left:
                rec["sections"] = rec["sections"][:left]
            n = len(rec["sections"])
            if fh is None or in_file + n > file_sections:
                if fh is not None:
                    fh.close()
                fh = open(folder / f"part-{stats['files']:04d}.jsonl", "wb")  # noqa: SIM115 (one per file)
                stats["files"] += 1
                in_file = 0
            line = (json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8")
            fh.write(line)
            stats["jsonl_bytes"] += len(line)
            in_file += n
            stats["records"] += 1
            stats["synthetic_sections" if rec.get("synthetic") else "real_sections"] += n
            title = rec["title"]
            title_bytes = utf8_len(title)
            for s in rec["sections"]:
                strings = [t for t in (title, s["heading"], s["text"]) if t]
                stats["analysed_strings"] += len(strings)
                stats["analysed_bytes"] += title_bytes + utf8_len(s["heading"]) + utf8_len(s["text"])
                if stats["sections"] % every == 0:
                    texts.extend(strings)
                    titles.setdefault(title)
                    sampled += 1
                stats["sections"] += 1
    finally:
        if fh is not None:
            fh.close()
    return Generated(folder, stats, texts, sampled, list(titles))
