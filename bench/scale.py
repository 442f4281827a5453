"""Scale curve: indexing throughput, memory and query latency from 10k to 1M sections.

    python bench/scale.py [--sizes 10000,100000,1000000] [--seed S] [--json] [--plot FILE.png]
    python bench/scale.py --sizes 2000            # a quick run (under a minute on 2 cores)

The full default run is long: at the README's last full-corpus figure (~38 sections/s
on 2 cores) 10k sections index in about 4-5 minutes, 100k in about 45 minutes and 1M
in about 7 hours, and the 1M corpus and index need several GB of disk (``--tmp``).

Corpus. A deterministic corpus of exactly N sections is made for every size from the
livedoor news articles (``--data``), streamed record by record to JSONL files of at
most ``--file-sections`` sections each (never held in memory):

* first the real paragraphs: each article's text is split on newlines, paragraphs
  under 40 characters are dropped, and every 5 paragraphs of an article make one
  record ``{"id", "title", "sections": [{"heading": "第N段", "text": ...}], url, date,
  category}``; the articles come in an order shuffled with ``random.Random(--seed)``;
* when those run out (about 66k sections), synthetic articles of 5 sections: each
  paragraph is a run of sentences (the articles' text split on 。) drawn from all
  articles, as long as a real paragraph drawn at random; the title is one or two
  clauses of a random sentence; date and category are copied from a random article.

The stream is the same for every size, so a smaller corpus is a prefix of a larger one.

For each size:

(a) ceiling: raw SudachiPy (``Dictionary(dict="core").tokenizer("C", fields={surface,
    pos, normalized_form})``) over the analysed strings (title, heading and body of
    every section) in a pool of ``--procs`` workers, each warmed up before the clock
    starts, measured before and after (b) and averaged. Above ``--ceiling-sample``
    sections it runs on a deterministic sample (every k-th section) and the full
    corpus' ceiling is extrapolated by bytes; the sample size is in the output.
(b) ``sakuin index DIR --rebuild --index-dir IX --procs N`` as a subprocess: wall time
    of the whole process (start-up, reading, analysis, writing, publishing) and the
    peak RSS of its process tree (the CLI and its workers), sampled every 0.2 s from
    /proc with bench/memory.py's sampler (PSS too, which splits the pages forked
    workers share). Linux only.
(c) the index directory's size on disk.
(d) query latency in this process, on a fresh ``EmbeddedEngine``: ``--queries`` deterministic
    queries per class from the corpus titles (content nouns found by the same Sudachi
    tokenizer: POS 名詞 but not 数詞, two characters or more, no number, and in at most
    ``--max-title-share`` of the sampled titles, which stands in for bench_query.py's
    document-frequency band without reading the index's internals):
    ``one_word``; ``two_word`` (two nouns of one title); ``phrase`` (two adjacent nouns of
    a title, quoted); ``question`` (an unspaced title fragment of 8-20 characters, as
    in bench_query.py). After ``--warmup`` untimed queries, each query is timed once
    around ``EmbeddedEngine.search(q, page=1, per_page=10)`` (snippets included), the classes
    interleaved so that a slow spell of the machine does not land on one class.

MB means 10^6 bytes. MB/s is UTF-8 MB of analysed strings per second of wall time;
ratio = index MB/s / ceiling MB/s. Nothing here makes timed assertions.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import (
    REPO,
    add_common_args,
    dir_size,
    iter_records,
    locate_corpus,
    log,
    machine_info,
    mb,
    print_results,
    summarize,
    utf8_len,
)
from memory import Sampler

#: Sudachi as the engine issue specifies it for the ceiling.
SUDACHI_MODE = "C"
SUDACHI_FIELDS = frozenset({"surface", "pos", "normalized_form"})
#: Texts per pool task, as in bench_index.py.
TEXTS_PER_TASK = 48
#: Paragraphs shorter than this (characters) are not sections.
MIN_PARAGRAPH = 40
#: Sections (paragraphs) per record.
SECTIONS_PER_RECORD = 5
#: Sentences shorter than this are not drawn for synthetic paragraphs.
MIN_SENTENCE = 5
#: How often the index process tree's memory is sampled, seconds.
RSS_INTERVAL = 0.2
#: Exit codes of ``sakuin index`` that mean the index was published (3: some files skipped).
INDEX_OK = (0, 3)
CLASSES = ("one_word", "two_word", "phrase", "question")
#: Characters removed from title fragments: blanks split the run, the rest is query syntax (bench_query.py).
_SYNTAX = re.compile(r"[\s\"“”()（）]")
#: Query syntax in a title becomes a blank before its words are picked (bench/load.py).
_SYNTAX_BLANK = str.maketrans({c: " " for c in '"“”„＂«»()（）:：'})
_OPERATORS = frozenset({"OR", "AND", "NOT"})
#: Where a synthetic title is cut into clauses.
_CLAUSE = re.compile(r"[、，,。「」『』（）()【】\[\]！？!?・\s]+")


# -- source and corpus ----------------------------------------------------------------


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
class Corpus:
    folder: Path
    stats: dict[str, Any]
    #: The analysed strings of the sampled sections (title, heading, body of each).
    sample_texts: list[str]
    sample_sections: int
    #: Distinct titles of the sampled sections' records (for the queries).
    titles: list[str]


def write_corpus(src: Source, seed: int, n_sections: int, folder: Path, file_sections: int, sample: int) -> Corpus:
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
    return Corpus(folder, stats, texts, sampled, list(titles))


# -- (a) ceiling: raw SudachiPy in a pool (module level so the workers can use it) ---

_texts: list[str] = []
_barrier: Any = None
_tokenizer: Any = None


def _init_worker(texts: list[str], barrier: Any) -> None:
    """Build this worker's tokenizer once (dictionary loading is not timed)."""
    global _texts, _barrier, _tokenizer
    _texts, _barrier = texts, barrier
    _tokenizer = sudachi_tokenizer()
    _tokenizer.tokenize("辞書を読み込んで準備します。")


def _ready(_: int) -> bool:
    """Returns once every worker has finished its initializer (one task per worker)."""
    _barrier.wait(timeout=300)
    return True


def _tokenize_range(bounds: tuple[int, int]) -> int:
    lo, hi = bounds
    tokenize = _tokenizer.tokenize
    n = 0
    for text in _texts[lo:hi]:
        for _ in tokenize(text):
            n += 1
    return n


def sudachi_tokenizer() -> Any:
    from sudachipy import Dictionary

    return Dictionary(dict="core").tokenizer(SUDACHI_MODE, fields=set(SUDACHI_FIELDS))


def sudachi_ceiling(texts: list[str], procs: int) -> dict[str, Any]:
    """Wall time from first dispatch to last result, workers warmed beforehand (as bench_index.py)."""
    ctx = mp.get_context()
    barrier = ctx.Barrier(procs)
    ranges = [(i, min(i + TEXTS_PER_TASK, len(texts))) for i in range(0, len(texts), TEXTS_PER_TASK)]
    started = time.perf_counter()
    with ctx.Pool(procs, initializer=_init_worker, initargs=(texts, barrier)) as pool:
        pool.map(_ready, range(procs), chunksize=1)
        warm = time.perf_counter() - started
        t0 = time.perf_counter()
        morphs = sum(pool.imap_unordered(_tokenize_range, ranges, chunksize=1))
        seconds = time.perf_counter() - t0
    return {"seconds": seconds, "warmup_seconds": warm, "morphemes": morphs}


def rate(n_bytes: int, sections: int, seconds: float) -> dict[str, float]:
    return {
        "seconds": seconds,
        "mb_per_s": mb(n_bytes) / seconds if seconds else 0.0,
        "sections_per_s": sections / seconds if seconds else 0.0,
    }


def ceiling_summary(corpus: Corpus, before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    sample_bytes = sum(utf8_len(t) for t in corpus.sample_texts)
    n = corpus.sample_sections
    mean_s = (before["seconds"] + after["seconds"]) / 2
    mean = rate(sample_bytes, n, mean_s)
    full_bytes = corpus.stats["analysed_bytes"]
    return {
        "sample_sections": n,
        "sample_bytes": sample_bytes,
        "extrapolated": n < corpus.stats["sections"],
        "before": {**before, **rate(sample_bytes, n, before["seconds"])},
        "after": {**after, **rate(sample_bytes, n, after["seconds"])},
        "mb_per_s": mean["mb_per_s"],
        "sections_per_s": mean["sections_per_s"],
        "spread": abs(before["seconds"] - after["seconds"]) / mean_s if mean_s else 0.0,
        # The whole corpus at the sample's speed (bytes, not sections, carry the cost).
        "full_corpus_seconds": mb(full_bytes) / mean["mb_per_s"] if mean["mb_per_s"] else None,
    }


# -- (b) index: sakuin index as a subprocess ----------------------------------------------


class IndexFailed(RuntimeError):
    pass


def sakuin_command() -> list[str]:
    """The venv's ``sakuin`` script, or the same CLI through ``python -m``."""
    script = Path(sys.executable).with_name("sakuin")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "sakuin"]


def run_index(corpus_dir: Path, index_dir: Path, procs: int, stderr_path: Path) -> dict[str, Any]:
    cmd = [*sakuin_command(), "index", str(corpus_dir), "--rebuild", "--index-dir", str(index_dir)]
    cmd += ["--procs", str(procs), "--json"]
    with open(stderr_path, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=err)
        sampler = Sampler(proc.pid, interval=RSS_INTERVAL)
        sampler.start()
        out, _ = proc.communicate()
        wall = time.perf_counter() - t0
        sampler.done.set()
        sampler.join()
    if proc.returncode not in INDEX_OK:
        tail = stderr_path.read_text(encoding="utf-8", errors="replace").replace("\r", "\n").strip()
        tail = "\n".join(tail.splitlines()[-15:])
        raise IndexFailed(f"`{' '.join(cmd)}` exited {proc.returncode}:\n{tail}")
    try:
        report = json.loads(out)
    except ValueError:
        report = {"stdout": out.decode("utf-8", "replace")[-2000:]}
    return {
        "wall_seconds": wall,
        "exit_code": proc.returncode,
        "report": report,
        "peak_tree_rss_mb": mb(sampler.peak_rss),
        "peak_tree_pss_mb": mb(sampler.peak_pss),
        "peak_single_process_rss_mb": mb(sampler.peak_one),
        "processes": sampler.max_procs,
    }


# -- (d) queries ------------------------------------------------------------------------


def _query_noun(m: Any) -> bool:
    pos = m.part_of_speech()
    surface = m.surface()
    return (
        pos[0] == "名詞"
        and pos[1] != "数詞"
        and len(surface) > 1
        and any(ch.isalnum() for ch in m.normalized_form())
        and not unicodedata.normalize("NFKC", surface).isdigit()
        and surface.upper() not in _OPERATORS
        and not surface.startswith(("-", "－"))
    )


def title_words(tokenizer: Any, titles: list[str]) -> tuple[list[list[str]], list[str]]:
    """Per title, its distinct query nouns (surfaces); and every pair of adjacent nouns as typed."""
    nouns: list[list[str]] = []
    phrases: list[str] = []
    for raw in titles:
        title = raw.translate(_SYNTAX_BLANK)
        words: list[str] = []
        prev = None
        for m in tokenizer.tokenize(title):
            if not _query_noun(m):
                prev = None
                continue
            if prev is not None:
                phrases.append(title[prev.begin() : m.end()])
            prev = m
            if m.surface() not in words:
                words.append(m.surface())
        nouns.append(words)
    return nouns, list(dict.fromkeys(phrases))


def make_queries(
    titles: list[str], tokenizer: Any, seed: int, per_class: int, n_warm: int, max_title_share: float
) -> dict[str, list[str]]:
    """Deterministic queries per class (and a warm-up list), all distinct."""
    rng = random.Random(seed)
    nouns, phrases = title_words(tokenizer, titles)
    # A word in too many titles is stop-word-like; the cut stands in for bench_query's df band.
    counts = Counter(w for ws in nouns for w in ws)
    cap = max(3, math.ceil(max_title_share * len(titles)))
    nouns = [[w for w in ws if counts[w] <= cap] for ws in nouns]
    rich = [ws for ws in nouns if len(ws) >= 2]
    vocab = list(dict.fromkeys(w for ws in nouns for w in ws))
    fragments = [s for s in (_SYNTAX.sub("", t).lstrip("-－") for t in titles) if len(s) >= 8]
    if not vocab:
        sys.exit("no usable title words: is the corpus (or --limit) too small?")

    def one_word() -> str | None:
        return rng.choice(vocab)

    def two_word() -> str | None:
        if not rich:
            return None
        a, b = rng.sample(rng.choice(rich), 2)
        return f"{a} {b}"

    def phrase() -> str | None:
        return f'"{rng.choice(phrases)}"' if phrases else None

    def question() -> str | None:
        if not fragments:
            return None
        s = rng.choice(fragments)
        length = rng.randint(8, min(20, len(s)))
        start = rng.randint(0, len(s) - length)
        return s[start : start + length]

    makers = {"one_word": one_word, "two_word": two_word, "phrase": phrase, "question": question}
    seen: set[str] = set()

    def draw(n: int, make: Any) -> list[str]:
        out: list[str] = []
        for _ in range(n * 50):
            if len(out) == n:
                break
            q = make()
            if q and q not in seen:
                seen.add(q)
                out.append(q)
        return out

    warm = [q for i in range(n_warm) for q in draw(1, makers[CLASSES[i % len(CLASSES)]])]
    queries = {"warmup": warm}
    for c in CLASSES:
        queries[c] = draw(per_class, makers[c])
    return queries


def time_queries(index_dir: Path, queries: dict[str, list[str]]) -> dict[str, Any]:
    from sakuin.search.embedded.reading.engine import EmbeddedEngine

    engine = EmbeddedEngine(index_dir)
    errors: list[str] = []

    def one(q: str) -> tuple[float, int] | None:
        t0 = time.perf_counter()
        try:
            result = engine.search(q, page=1, per_page=10)
        except Exception as exc:  # a query the engine rejects is counted, not fatal
            errors.append(f"{q}: {type(exc).__name__}: {exc}")
            return None
        return (time.perf_counter() - t0) * 1000, result.total

    for q in queries["warmup"]:
        one(q)
    errors.clear()
    ms: dict[str, list[float]] = {c: [] for c in CLASSES}
    hits: dict[str, list[int]] = {c: [] for c in CLASSES}
    failed: dict[str, int] = dict.fromkeys(CLASSES, 0)
    # Round-robin over the classes, so a slow spell of the machine is shared between them.
    for i in range(max(len(queries[c]) for c in CLASSES)):
        for c in CLASSES:
            if i < len(queries[c]):
                r = one(queries[c][i])
                if r is None:
                    failed[c] += 1
                else:
                    ms[c].append(r[0])
                    hits[c].append(r[1])
    classes = {}
    for c in CLASSES:
        h = hits[c]
        classes[c] = {
            "queries": len(queries[c]),
            "ms": summarize(ms[c]),
            "hits_per_query": sum(h) / len(h) if h else 0.0,
            "median_hits": sorted(h)[len(h) // 2] if h else 0,
            "zero_hit_queries": sum(1 for x in h if x == 0),
            "errors": failed[c],
            "examples": queries[c][:3],
        }
    return {"warmup": len(queries["warmup"]), "classes": classes, "errors": errors[:10]}


# -- one size ---------------------------------------------------------------------------

_query_tokenizer: Any = None


def run_size(args: argparse.Namespace, src: Source, n_sections: int, work: Path) -> dict[str, Any]:
    global _query_tokenizer
    here = work / f"sections-{n_sections}"
    here.mkdir(parents=True, exist_ok=True)
    procs = max(1, args.procs)
    log(f"[{n_sections} sections] writing the corpus into {here / 'corpus'} …")
    t0 = time.perf_counter()
    corpus = write_corpus(src, args.seed, n_sections, here / "corpus", args.file_sections, args.ceiling_sample)
    st = corpus.stats
    out: dict[str, Any] = {"target_sections": n_sections, "corpus": {**st, "seconds": time.perf_counter() - t0}}
    log(
        f"[{n_sections}] {st['records']} records, {st['sections']} sections ({st['real_sections']} real, "
        f"{st['synthetic_sections']} synthetic), {mb(st['analysed_bytes']):.1f} MB analysed, {st['files']} files"
    )
    log(f"[{n_sections}] (a) ceiling: raw SudachiPy on {corpus.sample_sections} sections, {procs} procs …")
    before = sudachi_ceiling(corpus.sample_texts, procs)
    index_dir = here / "index"
    log(f"[{n_sections}] (b) sakuin index --rebuild into {index_dir} …")
    try:
        ix = run_index(corpus.folder, index_dir, procs, here / "index.stderr.log")
    except IndexFailed as exc:
        log(f"[{n_sections}] FAILED: {exc}")
        out["error"] = str(exc)
        return out
    log(f"[{n_sections}] (a) ceiling again, after the build …")
    after = sudachi_ceiling(corpus.sample_texts, procs)
    ceiling = ceiling_summary(corpus, before, after)
    report = ix["report"]
    index = {
        **rate(st["analysed_bytes"], st["sections"], ix["wall_seconds"]),
        **{k: v for k, v in ix.items() if k not in ("report", "wall_seconds")},
        "documents": report.get("documents"),
        "sections": report.get("sections"),
        "report_seconds": report.get("seconds"),
        "report_size_bytes": report.get("size_bytes"),
        "size_bytes": dir_size(index_dir),
        "problems": (report.get("problems") or [])[:10],
        "skipped": (report.get("skipped") or [])[:10],
    }
    out.update(ceiling=ceiling, index=index, ratio=index["mb_per_s"] / ceiling["mb_per_s"])
    log(
        f"[{n_sections}] indexed in {index['seconds']:.1f} s ({index['mb_per_s']:.3f} MB/s, ratio "
        f"{out['ratio']:.3f}), {mb(index['size_bytes']):.1f} MB, peak RSS {index['peak_tree_rss_mb']:.0f} MB"
    )

    if _query_tokenizer is None:
        _query_tokenizer = sudachi_tokenizer()
    queries = make_queries(corpus.titles, _query_tokenizer, args.seed, args.queries, args.warmup, args.max_title_share)
    counts = ", ".join(f"{len(queries[c])} {c}" for c in CLASSES)
    log(f"[{n_sections}] (d) queries from {len(corpus.titles)} titles: {len(queries['warmup'])} warm-up, {counts} …")
    out["queries"] = {"titles": len(corpus.titles), **time_queries(index_dir, queries)}
    return out


# -- output -----------------------------------------------------------------------------


def print_human(r: dict[str, Any]) -> None:
    m, s = r["machine"], r["source"]
    print(
        f"# scale  {m['date']}  {m['cpus']} cpus  python {m['python']}  "
        f"sudachipy {m['sudachipy']}  whoosh {m['whoosh']}"
    )
    print(
        f"source: {s['articles']} articles, {s['paragraphs']} paragraphs of {MIN_PARAGRAPH}+ chars, "
        f"{s['sentences']} sentences; seed {r['seed']}, procs {r['procs']}"
    )
    runs = r["runs"]
    print("\nindexing (sakuin index --rebuild, whole process; ceiling = raw SudachiPy, mean of before/after)")
    head = (
        f"{'sections':>9} {'docs':>7} {'anal. MB':>8} {'index s':>8} {'MB/s':>6} {'sect/s':>7} "
        f"{'ceil MB/s':>9} {'sample':>6} {'spread':>6} {'ratio':>6} {'index MB':>8} {'RSS MB':>7} {'PSS MB':>7}"
    )
    print(head)
    for x in runs:
        st = x["corpus"]
        if "error" in x:
            print(f"{st['sections']:>9} {st['records']:>7} {mb(st['analysed_bytes']):8.1f}  index FAILED (see JSON)")
            continue
        ix, ce = x["index"], x["ceiling"]
        print(
            f"{st['sections']:>9} {ix['documents'] or 0:>7} {mb(st['analysed_bytes']):8.1f} {ix['seconds']:8.1f} "
            f"{ix['mb_per_s']:6.3f} {ix['sections_per_s']:7.1f} {ce['mb_per_s']:9.3f} {ce['sample_sections']:>6} "
            f"{100 * ce['spread']:5.0f}% {x['ratio']:6.3f} {mb(ix['size_bytes']):8.1f} "
            f"{ix['peak_tree_rss_mb']:7.0f} {ix['peak_tree_pss_mb']:7.0f}"
        )
    print("\nqueries (EmbeddedEngine.search page 1, 10 per page, snippets; ms p50 / p95; hits/query)")
    print(f"{'sections':>9} " + " ".join(f"{c:>22}" for c in CLASSES))
    for x in runs:
        if "queries" not in x:
            continue
        cells = []
        for c in CLASSES:
            q = x["queries"]["classes"][c]
            if q["ms"].get("n"):
                cells.append(f"{q['ms']['p50']:6.1f} /{q['ms']['p95']:6.1f} {q['hits_per_query']:7.0f}")
            else:
                cells.append(f"{'no queries':>22}")
        print(f"{x['corpus']['sections']:>9} " + " ".join(f"{cell:>22}" for cell in cells))
    for x in runs:
        if "queries" in x:
            n = {c: x["queries"]["classes"][c]["queries"] for c in CLASSES}
            bad = sum(x["queries"]["classes"][c]["errors"] for c in CLASSES)
            zero = {c: x["queries"]["classes"][c]["zero_hit_queries"] for c in CLASSES}
            print(
                f"  {x['corpus']['sections']} sections: queries per class {n}, zero-hit {zero}, errors {bad}; "
                f"ceiling {'extrapolated from' if x['ceiling']['extrapolated'] else 'on all'} "
                f"{x['ceiling']['sample_sections']} sections"
            )


def plot(r: dict[str, Any], path: Path) -> None:
    """Log-x curves: index and ceiling MB/s with the ratio; query p95 per class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    runs = [x for x in r["runs"] if "index" in x]
    if not runs:
        log("nothing to plot: no size was indexed")
        return
    xs = [x["corpus"]["sections"] for x in runs]
    fig, (ax, aq) = plt.subplots(1, 2, figsize=(12, 4.8))
    ax.plot(xs, [x["index"]["mb_per_s"] for x in runs], "o-", label="sakuin index MB/s")
    ax.plot(xs, [x["ceiling"]["mb_per_s"] for x in runs], "s--", label="raw SudachiPy ceiling MB/s")
    ax.set_xscale("log")
    ax.set_xlabel("sections")
    ax.set_ylabel("MB/s of analysed text")
    ax.set_ylim(bottom=0)
    ax.grid(True, which="both", alpha=0.3)
    ar = ax.twinx()
    ar.plot(xs, [x["ratio"] for x in runs], "^:", color="C2", label="ratio index / ceiling")
    ar.set_ylabel("ratio")
    ar.set_ylim(0, max(0.6, 1.1 * max(x["ratio"] for x in runs)))
    lines = ax.get_legend_handles_labels()
    more = ar.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="best", fontsize="small")
    ax.set_title("indexing throughput")
    for c in CLASSES:
        pts = [(x["corpus"]["sections"], x["queries"]["classes"][c]["ms"].get("p95")) for x in runs if "queries" in x]
        pts = [(a, b) for a, b in pts if b is not None]
        if pts:
            aq.plot([a for a, _ in pts], [b for _, b in pts], "o-", label=c)
    aq.set_xscale("log")
    aq.set_yscale("log")
    aq.set_xlabel("sections")
    aq.set_ylabel("EmbeddedEngine.search p95 ms")
    aq.grid(True, which="both", alpha=0.3)
    aq.legend(loc="best", fontsize="small")
    aq.set_title("query latency (page 1, 10 per page, snippets)")
    for a in (ax, aq):
        # Plain numbers at the measured sizes read better than 2x10^3 on a log axis.
        a.set_xticks(xs, [f"{x:,}" for x in xs])
        a.xaxis.set_minor_formatter(NullFormatter())
    aq.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    aq.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    aq.yaxis.set_minor_formatter(NullFormatter())
    fig.suptitle(f"sakuin scale curve ({r['machine']['date']}, {r['procs']} procs)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    log(f"wrote {path}")


# -- main -------------------------------------------------------------------------------


def parse_sizes(text: str) -> list[int]:
    """``10000,100k,1M`` -> [10000, 100000, 1000000]."""
    sizes = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        if not part:
            continue
        scale = {"k": 1_000, "m": 1_000_000}.get(part[-1], 1)
        try:
            n = int(float(part[:-1] if scale > 1 else part) * scale)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a size: {part!r}") from None
        if n < 1:
            raise argparse.ArgumentTypeError(f"sizes must be positive: {part!r}")
        sizes.append(n)
    if not sizes:
        raise argparse.ArgumentTypeError("no sizes given")
    return sizes


def run(args: argparse.Namespace) -> dict[str, Any]:
    data = locate_corpus(args.data)
    log(f"reading {data} …")
    src = load_source(data, args.limit)
    results: dict[str, Any] = {
        "machine": machine_info(),
        "procs": max(1, args.procs),
        "seed": args.seed,
        "sizes": args.sizes,
        "sudachi": {"mode": SUDACHI_MODE, "fields": sorted(SUDACHI_FIELDS)},
        "source": {
            "path": str(data),
            "articles": len(src.articles),
            "paragraphs": src.paragraphs,
            "sentences": len(src.sentences),
        },
        "settings": {
            "sections_per_record": SECTIONS_PER_RECORD,
            "min_paragraph_chars": MIN_PARAGRAPH,
            "file_sections": args.file_sections,
            "ceiling_sample": args.ceiling_sample,
            "queries_per_class": args.queries,
            "warmup": args.warmup,
            "max_title_share": args.max_title_share,
            "rss_interval_s": RSS_INTERVAL,
        },
        "runs": [],
    }
    log(f"{len(src.articles)} articles, {src.paragraphs} paragraphs, {len(src.sentences)} sentences")
    with tempfile.TemporaryDirectory(prefix="sakuin-scale-", dir=args.tmp) as tmp:
        work = args.keep.resolve() if args.keep else Path(tmp)
        for n in args.sizes:
            results["runs"].append(run_size(args, src, n, work))
            if not args.keep:
                shutil.rmtree(work / f"sections-{n}", ignore_errors=True)
    if args.keep:
        results["kept"] = str(args.keep.resolve())
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(parser)
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=parse_sizes("10000,100000,1000000"),
        help="comma-separated corpus sizes in sections; k and M suffixes allowed (default: 10000,100000,1000000)",
    )
    parser.add_argument("--seed", type=int, default=20261202, help="seed of the corpus generator and query sampler")
    parser.add_argument("--queries", type=int, default=200, help="timed queries per class")
    parser.add_argument("--warmup", type=int, default=10, help="untimed warm-up queries")
    parser.add_argument(
        "--ceiling-sample",
        type=int,
        default=20000,
        metavar="N",
        help="sections the raw-Sudachi ceiling runs on; larger corpora are sampled and extrapolated by bytes",
    )
    parser.add_argument(
        "--file-sections", type=int, default=50000, metavar="N", help="at most N sections per corpus JSONL file"
    )
    parser.add_argument(
        "--max-title-share",
        type=float,
        default=0.02,
        help="query words found in more of the sampled titles than this share are not used (default 0.02)",
    )
    parser.add_argument("--plot", type=Path, default=None, metavar="FILE.png", help="write a figure (needs matplotlib)")
    parser.add_argument("--tmp", type=Path, default=None, help="where the temporary corpora and indexes go")
    parser.add_argument(
        "--keep", type=Path, default=None, metavar="DIR", help="write corpora and indexes under DIR and keep them"
    )
    args = parser.parse_args(argv)
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib (a bench-only dependency): pip install matplotlib")
    started = time.perf_counter()
    results = run(args)
    results["total_seconds"] = time.perf_counter() - started
    if args.plot:
        plot(results, args.plot)
    print_results(results, args.json, print_human)
    return 0


if __name__ == "__main__":
    sys.exit(main())
