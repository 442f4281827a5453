"""What reading a scored term's postings costs: block pickles unpickled against parsed, zlib against ISA-L.

    python bench/decode.py --keep DIR [--size 1000000] [--queries 100]

Runs on an index ``scale.py --keep DIR`` left (``DIR/sections-N/index``, its titles in
``titles.json``), with scale.py's query classes made from the same titles and seed. Each
query runs through ``EmbeddedEngine.search``; every term the engine scores goes through
``sakuin.search.embedded.reading.bagofwords._postings``, which reads the term's blocks
in every segment (``w3blocks.raw_blocks``) and decodes their ids and weights at once.
Wrapped here, each term's blocks are

* read through ``raw_blocks`` twice, its compressed blocks inflated once by
  ``zlib.decompress`` and once by ISA-L's ``isal_zlib.decompress`` (what sakuin uses),
  only the inflating timed, and
* decoded both ways: ``pickle`` (every block unpickled, then ``ids_and_weights``: what
  scoring did before) and ``parse`` (``w3blocks._parse_ids_and_weights``: the ids and
  weights read out of the pickles' bytes with numpy),

each pair in alternating order, and the two answers must be equal. Reported by the
term's postings over all segments (bands), per way: ms p50 / p95 and the summed time,
and per query class the decode time a query spends each way. ``decode_ids_and_weights``
parses from ``NUMPY_MIN_POSTINGS`` postings and unpickles below; the bands show why.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
import zlib
from collections.abc import Callable
from typing import Any

import ceiling
import numpy as np
from harness import add_kept_index_options, arguments, finish, kept_index, log, machine_info, summarize
from isal import isal_zlib
from queries import SCALE_CLASSES as CLASSES
from queries import scale_set

from sakuin.search.embedded.reading import bagofwords
from sakuin.search.embedded.reading.engine import EmbeddedEngine
from sakuin.search.embedded.writing import w3blocks

#: Postings per term, the bands' lower bounds.
BANDS = (0, 1_024, 16_384, 131_072)


def run(args: argparse.Namespace) -> dict[str, Any]:
    here, titles = kept_index(args)
    qs = scale_set(titles, ceiling.sudachi_tokenizer(), args.seed, args.queries, args.warmup, 0.02)
    engine = EmbeddedEngine(here / "index")
    rows: list[tuple[str, int, float, float, float, float]] = []  # class, postings, zlib, isal, pickle, parse
    current = {"class": "warmup"}
    postings = bagofwords._postings

    def both_ways(searcher: Any, fieldname: str, term: str) -> Any:
        leaves = [(searcher, 0)] if searcher.is_atomic() else searcher.subsearchers
        inflate: dict[str, float] = {}

        def timed(name: str, way: Callable[[bytes], bytes]) -> Callable[[bytes], bytes]:
            def inflated(data: bytes) -> bytes:
                t0 = time.perf_counter()
                out = way(data)
                inflate[name] = inflate.get(name, 0.0) + (time.perf_counter() - t0) * 1000
                return out

            return inflated

        ways = (("zlib", zlib.decompress), ("isal", isal_zlib.decompress))
        for name, way in ways[:: 1 if len(rows) % 2 else -1]:  # each way reads the whole list once
            read = [w3blocks.raw_blocks(sub.reader(), fieldname, term, timed(name, way)) for sub, _ in leaves]
        counts = [c for found in read if found is not None for c in found[0]]
        datas = [d for found in read if found is not None for d in found[1]]
        decoded: dict[str, tuple[float, Any]] = {}
        if datas:

            def by_pickle() -> Any:
                return w3blocks.ids_and_weights([pickle.loads(d) for d in datas])

            def by_parse() -> Any:
                return w3blocks._parse_ids_and_weights(np.asarray(counts, np.int64), datas)

            for way in (by_pickle, by_parse) if len(rows) % 2 else (by_parse, by_pickle):
                t0 = time.perf_counter()
                answer = way()
                decoded[way.__name__] = ((time.perf_counter() - t0) * 1000, answer)
            ids, weights = decoded["by_pickle"][1]
            parsed = decoded["by_parse"][1]
            if parsed is None:
                raise AssertionError(f"{fieldname}:{term!r}: a block not of the pattern")
            deltas, parsed_weights = parsed
            if not (
                np.array_equal(w3blocks.running_sums(deltas, np.asarray(counts)), ids)
                and np.array_equal(parsed_weights, weights)
            ):
                raise AssertionError(f"{fieldname}:{term!r}: the two decodings differ")
            rows.append(
                (
                    current["class"],
                    sum(counts),
                    inflate.get("zlib", 0.0),
                    inflate.get("isal", 0.0),
                    decoded["by_pickle"][0],
                    decoded["by_parse"][0],
                )
            )
        return postings(searcher, fieldname, term)

    bagofwords._postings = both_ways  # type: ignore[assignment]
    try:
        for q in qs["warmup"]:
            engine.search(q)
        rows.clear()
        for c in CLASSES:
            current["class"] = c
            for q in qs[c]:
                engine.search(q)
    finally:
        bagofwords._postings = postings  # type: ignore[assignment]
    with engine.live.pin() as pinned:
        sections = pinned.searcher.reader().doc_count_all()
        segments = len(pinned.searcher.reader().leaf_readers())
    engine.close()
    ways = ("zlib", "isal", "pickle", "parse")
    bands = {}
    for lo, hi in zip(BANDS, (*BANDS[1:], None), strict=True):
        mine = [r for r in rows if r[1] >= lo and (hi is None or r[1] < hi)]
        bands[f"{lo}+" if hi is None else f"{lo}-{hi - 1}"] = {
            "terms": len(mine),
            "postings": summarize([r[1] for r in mine]),
            **{f"{w}_ms": summarize([r[2 + i] for r in mine]) for i, w in enumerate(ways)},
            **{f"{w}_total_ms": sum(r[2 + i] for r in mine) for i, w in enumerate(ways)},
        }
    classes = {
        c: {f"{w}_ms_per_query": sum(r[2 + i] for r in rows if r[0] == c) / len(qs[c]) for i, w in enumerate(ways)}
        for c in CLASSES
        if qs[c]
    }
    log(f"{len(rows)} terms decoded both ways, all equal")
    return {
        "machine": machine_info(),
        "index": str(here / "index"),
        "sections": sections,
        "segments": segments,
        "numpy_min_postings": w3blocks.NUMPY_MIN_POSTINGS,
        "bands": bands,
        "classes": classes,
    }


def print_human(r: dict[str, Any]) -> None:
    print(f"# decoding postings  {r['machine']['date']}  {r['sections']:,} sections, {r['segments']} segments")
    print(f"\n{'postings':>15} {'terms':>6} {'zlib ms p50/p95':>17} {'isal':>15} {'pickle':>15} {'parse':>15}")
    for band, x in r["bands"].items():
        if not x["terms"]:
            continue
        cells = " ".join(
            f"{x[f'{w}_ms']['p50']:>6.2f} /{x[f'{w}_ms']['p95']:>7.2f}" for w in ("zlib", "isal", "pickle", "parse")
        )
        print(f"{band:>15} {x['terms']:>6} {cells}")
    print(f"\n{'class':>9}  ms per query: {'zlib':>7} {'isal':>7} {'pickle':>7} {'parse':>7}")
    for c, x in r["classes"].items():
        print(
            f"{c:>9}  {'':>14}"
            + " ".join(f"{x[f'{w}_ms_per_query']:>7.1f}" for w in ("zlib", "isal", "pickle", "parse"))
        )


def main() -> int:
    parser = arguments(__doc__, data=None, limit=False)
    add_kept_index_options(parser)
    args = parser.parse_args()
    return finish(run(args), args, print_human)


if __name__ == "__main__":
    sys.exit(main())
