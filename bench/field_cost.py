"""What each indexed field costs at index time, per field, in one process.

Times ``field.index(value)`` (analysis + posting encoding, what a writer does per
field before the segment flush) over the same sections for every field of the
schema, so the cost of the relevance fields (``grams``, ``reading``) can be read
against the word field (``content``). Sudachi's per-text cache is cleared before
each field, so every field pays its own analysis; ``reading`` therefore includes
a Sudachi pass it shares with ``content`` in a real build.

Usage: python bench/field_cost.py [--data livedoor_news.jsonl.gz] [--limit 500]
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

from sakuin.search.analysis.sudachi import clear_cache
from sakuin.search.embedded.schema import build_schema
from sakuin.search.indexing.sections import content_text

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "scale" / "livedoor_news.jsonl.gz"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--limit", type=int, default=500)
    args = ap.parse_args()
    if not args.data.exists():
        raise SystemExit(f"corpus not found: {args.data}")
    rows = []
    with gzip.open(args.data, "rt", encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            rows.append((rec["title"], "", rec["text"]))
            if len(rows) >= args.limit:
                break
    schema = build_schema()
    values = {
        "title": [t for t, _, _ in rows],
        "content": [content_text(t, h, b) for t, h, b in rows],
    }
    values["grams"] = values["reading"] = values["content"]
    mb = sum(len(v.encode()) for v in values["content"]) / 1e6
    schema["content"].index(values["content"][0])  # load the dictionary outside the clock
    print(f"{len(rows)} sections, {mb:.2f} MB of content")
    base = None
    for name in ("content", "title", "grams", "reading"):
        clear_cache()
        field = schema[name]
        start = time.perf_counter()
        postings = 0
        for v in values[name]:
            postings += sum(1 for _ in field.index(v))
        seconds = time.perf_counter() - start
        base = base or seconds
        rate = mb / seconds
        print(f"{name:<8} {seconds:6.2f} s  {rate:5.2f} MB/s  {postings:>8} postings  x{seconds / base:.2f} of content")


if __name__ == "__main__":
    main()
