"""What each indexed field costs at index time, per field, in one process.

    python bench/field_cost.py [--limit 500] [--json] [--out]
    python bench/field_cost.py --limit 100   # smoke run

Times ``field.index(value)`` (analysis + posting encoding, what a writer does per field
before the segment flush) over the same sections for every analysed field of the
schema, so the cost of the relevance fields (``grams``, ``reading``) can be read against
the word field (``content``). Sudachi's per-text cache is cleared before each field, so
every field pays its own analysis; ``reading`` therefore includes a Sudachi pass it
shares with ``content`` in a real build. One section per livedoor record (title, empty
heading, text).
"""

from __future__ import annotations

import sys
import time
from typing import Any

import corpora
from harness import arguments, finish, machine_info, mb

from sakuin.search.analysis.sudachi import clear_cache
from sakuin.search.embedded.schema import build_schema
from sakuin.search.indexing.sections import content_text

FIELDS = ("content", "title", "grams", "reading")


def print_human(r: dict[str, Any]) -> None:
    print(f"{r['sections']} sections, {r['content_mb']:.2f} MB of content")
    for name, f in r["fields"].items():
        print(
            f"{name:<8} {f['seconds']:6.2f} s  {f['mb_per_s']:5.2f} MB/s  {f['postings']:>8} postings  "
            f"x{f['of_content']:.2f} of content"
        )


def main() -> int:
    parser = arguments(__doc__, limit=500)
    args = parser.parse_args()
    rows = [(rec["title"], "", rec["text"]) for rec in corpora.iter_records(corpora.locate(args.data), args.limit)]
    schema = build_schema()
    values = {"title": [t for t, _, _ in rows], "content": [content_text(t, h, b) for t, h, b in rows]}
    values["grams"] = values["reading"] = values["content"]
    content_mb = mb(sum(map(corpora.utf8_len, values["content"])))
    schema["content"].index(values["content"][0])  # load the dictionary outside the clock
    fields: dict[str, Any] = {}
    for name in FIELDS:
        clear_cache()
        field = schema[name]
        start = time.perf_counter()
        postings = 0
        for v in values[name]:
            postings += sum(1 for _ in field.index(v))
        seconds = time.perf_counter() - start
        fields[name] = {"seconds": seconds, "mb_per_s": content_mb / seconds, "postings": postings}
    for f in fields.values():
        f["of_content"] = f["seconds"] / fields["content"]["seconds"]
    results = {"machine": machine_info(), "sections": len(rows), "content_mb": content_mb, "fields": fields}
    return finish(results, args, print_human)


if __name__ == "__main__":
    sys.exit(main())
