"""Where an index's bytes go: per file kind and per field, against the analysed text.

    python bench/index_bytes.py [--index-dir IX] [--json] [--out]
    python bench/index_bytes.py --limit 300   # smoke run

Builds (or reuses, ``--index-dir``) the livedoor index and reads its live version:

* **per file kind**: every segment's compound file is opened (``whoosh.filedb.compound``)
  and its member files summed by kind: ``pst`` (posting blocks), ``trm`` (the term
  table), ``_stored.col`` (stored fields), ``folded.col`` and the other columns;
* **per field**: for each indexed field, its terms and postings (from the term infos),
  its posting-block bytes (the term infos' extents, exact), and its share of the term
  table: each term's record (key and value lengths, the two-byte field number, the term,
  the 35-byte term info) exactly, plus the position index entry and two 12-byte hash
  slots every term has (``sakuin.search.embedded.writing.segments``), so the fields' term-table
  bytes add up to the ``trm`` files but for their headers;
* **the analysed text**: the UTF-8 bytes of every live section's stored title, heading
  and body (what ``sakuin index`` analyses), the figure the index size is compared to.

MB means 10^6 bytes.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from harness import arguments, ensure_index, finish, log, machine_info, mb

#: Bytes a term takes in the term table besides its record: a position index entry and
#: two hash slots (``!Iq``, the table is twice the terms).
_TERM_OVERHEAD = 4 + 2 * 12
#: A term-table record's fixed part: key and value lengths, the field number.
_RECORD_FIXED = 8 + 2


def measure(index_dir: Path) -> dict[str, Any]:
    from whoosh.filedb.compound import CompoundStorage
    from whoosh.index import open_dir

    version = index_dir / (index_dir / "CURRENT").read_text().strip()
    ix = open_dir(str(version))
    kinds: Counter[str] = Counter()
    fields: defaultdict[str, Counter[str]] = defaultdict(Counter)
    text_bytes = sections = segments = 0
    with ix.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            segments += 1
            segment = leaf._segment
            compound = CompoundStorage(
                ix.storage.open_file(segment.make_filename(segment.COMPOUND_EXT)), use_mmap=False
            )
            for name in compound.list():
                kinds[name.split(".", 1)[1]] += compound.file_length(name)
            compound.close()
            for fieldname in leaf.indexed_field_names():
                f = fields[fieldname]
                for tbytes in leaf.lexicon(fieldname):
                    info = leaf.term_info(fieldname, tbytes)
                    length = info._length[0] if isinstance(info._length, tuple) else info._length
                    f["terms"] += 1
                    f["postings"] += info.doc_frequency()
                    f["posting_bytes"] += 0 if info.is_inlined() else length
                    f["term_bytes"] += _RECORD_FIXED + len(tbytes) + 35 + _TERM_OVERHEAD
            for docnum in range(leaf.doc_count_all()):
                if leaf.is_deleted(docnum):
                    continue
                stored = leaf.stored_fields(docnum)
                sections += 1
                text_bytes += sum(len((stored.get(k) or "").encode("utf-8")) for k in ("title", "heading", "body"))
    total = sum(kinds.values())
    return {
        "version": str(version),
        "sections": sections,
        "analysed_bytes": text_bytes,
        "segments": segments,
        "index_bytes": total,
        "times_text": total / text_bytes if text_bytes else None,
        "kinds": dict(kinds.most_common()),
        "fields": {name: dict(c) for name, c in sorted(fields.items(), key=lambda kv: -sum_bytes(kv[1]))},
    }


def sum_bytes(c: Counter[str]) -> int:
    return c["posting_bytes"] + c["term_bytes"]


def print_human(r: dict[str, Any]) -> None:
    m = r["measured"]
    print(f"# index bytes  {r['machine']['date']}  {m['version']}")
    print(
        f"{m['sections']:,} sections in {m['segments']} segments, {mb(m['analysed_bytes']):.1f} MB analysed text, "
        f"index {mb(m['index_bytes']):.1f} MB = {m['times_text']:.2f}× the text"
    )
    print("\nper file kind")
    for kind, n in m["kinds"].items():
        print(f"  {kind:<20} {mb(n):9.2f} MB  {100 * n / m['index_bytes']:5.1f} %")
    print("\nper field (posting blocks + term table)")
    print(f"  {'field':<10} {'terms':>10} {'postings':>12} {'blocks MB':>10} {'terms MB':>9} {'of index':>9}")
    for name, f in m["fields"].items():
        share = 100 * sum_bytes(Counter(f)) / m["index_bytes"]
        print(
            f"  {name:<10} {f['terms']:>10,} {f['postings']:>12,} {mb(f['posting_bytes']):10.2f} "
            f"{mb(f['term_bytes']):9.2f} {share:8.1f} %"
        )


def main() -> int:
    parser = arguments(__doc__, limit=None, tmp=True)
    parser.add_argument("--index-dir", type=Path, default=None, help="reuse (or build and keep) the index here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sakuin-bytes-", dir=args.tmp) as tmp:
        index_dir, built = ensure_index(args.index_dir, Path(tmp), args.data, args.limit)
        log(f"measuring {index_dir} …")
        results = {"machine": machine_info(), "index": built, "measured": measure(index_dir)}
    return finish(results, args, print_human)


if __name__ == "__main__":
    sys.exit(main())
