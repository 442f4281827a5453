"""Synonym recall: a word typed in one form, the sections written in another (Sudachi's synonym dictionary).

    python bench/synonyms.py                       # livedoor, builds an index in a temp dir
    python bench/synonyms.py --index-dir /tmp/kw   # reuse (or build there) an index
    python bench/synonyms.py --per-set 300 --json

The queries come from Sudachi's synonym dictionary as sakuin reads it
(``sakuin.search.analysis.synonyms``) and the livedoor index, deterministically (a
seeded sample): a headword that is one word to Sudachi, whose synonyms (one word each,
another term once normalized) the index has. The sections *in another form* of a
query are those that have one of its synonyms as a word (a search for the synonym
without synonyms) and do not have the query as typed (a search for the query
without synonyms, word and substring matches), so a search without synonyms cannot
find them as such. Two sets:

* ``absent``: the typed form is in no section (a user who types スマホ where the
  collection writes スマートフォン): recall@10 of the sections in another form, with
  synonyms and without;
* ``both``: the typed form is in some sections and another form in others:
  ``typed first`` is the share of queries whose sections with the typed form all
  rank before every section that has only a synonym, and recall@10 counts the
  sections in another form in the ten results after the typed ones.

Every search lists the substring matches too and does not collapse equal texts,
so each section is counted where it ranks.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import corpora
from harness import arguments, ensure_index, finish, log, machine_info

from sakuin.search.analysis.normalize import normalize_term
from sakuin.search.analysis.sudachi import is_content, morphemes
from sakuin.search.analysis.synonyms import sudachi_table
from sakuin.search.embedded.reading.engine import EmbeddedEngine

MAX_HITS = 1000  # sections read per search: a form in more sections says little about recall
SETS = ("absent", "both")

Key = tuple[str, int]


def one_term(text: str) -> str | None:
    """The index term of ``text`` when Sudachi reads it as one content word, else None."""
    words = [m for m in morphemes(text) if is_content(m)]
    return normalize_term(words[0].normalized) if len(words) == 1 else None


def candidates(engine: EmbeddedEngine) -> list[dict[str, Any]]:
    """Every headword with at least one synonym the index has as a word: (query, its term's
    document frequency, the synonyms the index has)."""
    out = []
    with engine.pin() as pinned:
        df = pinned.searcher.doc_frequency
        for key, synonyms in sudachi_table().entries.items():
            term = one_term(key)
            if term is None:
                continue
            found = [s for s in synonyms if (t := one_term(s)) is not None and t != term and df("content", t)]
            if found:
                out.append({"q": key, "df": df("content", term), "synonyms": found})
    return out


def ranked(engine: EmbeddedEngine, q: str, synonyms: bool) -> list[tuple[Key, str]]:
    """Every hit of ``q`` (at most ``MAX_HITS``) as ((doc_id, ordinal), match), in order."""
    hits: list[tuple[Key, str]] = []
    page = 1
    while len(hits) < MAX_HITS:
        result = engine.search(q, page=page, per_page=100, substrings=True, collapse=False, synonyms=synonyms)
        hits += [((h.doc_id, h.ordinal), h.match) for h in result.hits]
        if len(hits) >= result.total or not result.hits:
            break
        page += 1
    return hits


def judge(engine: EmbeddedEngine, item: dict[str, Any]) -> dict[str, Any] | None:
    """One query's figures, or None when no section has only another form."""
    typed = {key for key, _ in ranked(engine, item["q"], synonyms=False)}
    other: set[Key] = set()
    for synonym in item["synonyms"]:
        other |= {key for key, match in ranked(engine, synonym, synonyms=False) if match == "word"}
    other -= typed
    if not other:
        return None
    widened = ranked(engine, item["q"], synonyms=True)
    plain = [key for key, _ in ranked(engine, item["q"], synonyms=False)]
    keys = [key for key, _ in widened]
    cutoff = min(10, len(other))
    after = keys[len(typed) : len(typed) + 10]  # the ten after the typed ones (the first ten when there are none)
    typed_at = [i for i, key in enumerate(keys) if key in typed]
    other_at = [i for i, key in enumerate(keys) if key in other]
    return {
        "recall@10": len(other & set(after)) / cutoff,
        "recall@10_without": len(other & set(plain[len(typed) : len(typed) + 10])) / cutoff,
        "complete": len(other & set(keys)) / len(other),
        "typed_first": float(not typed_at or not other_at or max(typed_at) < min(other_at)),
        "typed_kept": float(set(typed) <= set(keys)),
    }


def evaluate(engine: EmbeddedEngine, items: list[dict[str, Any]], per_set: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    pools = {"absent": [i for i in items if i["df"] == 0], "both": [i for i in items if i["df"] > 0]}
    out: dict[str, Any] = {}
    for name in SETS:
        pool = sorted(pools[name], key=lambda i: i["q"])
        rng.shuffle(pool)
        rows: list[dict[str, Any]] = []
        examples: list[dict[str, Any]] = []
        for item in pool:
            if len(rows) == per_set:
                break
            row = judge(engine, item)
            if row is None:
                continue
            rows.append(row)
            if len(examples) < 5:
                examples.append({"q": item["q"], "synonyms": item["synonyms"], **row})
        out[name] = {
            "queries": len(rows),
            "candidates": len(pool),
            **({k: round(statistics.fmean(r[k] for r in rows), 4) for k in rows[0]} if rows else {}),
            "examples": examples,
        }
    return out


def main() -> int:
    parser = arguments(__doc__, procs=True)
    parser.add_argument("--index-dir", type=Path, default=None, help="reuse/build the index here (default: temp)")
    parser.add_argument("--per-set", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    data = corpora.locate(args.data)
    with tempfile.TemporaryDirectory(prefix="sakuin-syn-") as tmp:
        index_dir, _ = ensure_index(args.index_dir, Path(tmp), data, args.limit, procs=args.procs)
        engine = EmbeddedEngine(index_dir)
        log("finding the synonyms the index has …")
        items = candidates(engine)
        log(f"{len(items)} headwords with synonyms in the index …")
        results = {
            "corpus": str(data),
            "headwords": len(items),
            **evaluate(engine, items, args.per_set, args.seed),
            "machine": machine_info(),
        }
        engine.close()
    return finish(results, args, print_human)


def print_human(results: dict[str, Any]) -> None:
    print(f"{results['headwords']} headwords of Sudachi's synonym dictionary have a synonym in the index")
    print("set      queries  recall@10  without  complete  typed first  typed kept")
    for name in SETS:
        row = results[name]
        if not row.get("queries"):
            print(f"{name:<8} {0:>7}")
            continue
        print(
            f"{name:<8} {row['queries']:>7}  {row['recall@10']:>9.4f}  {row['recall@10_without']:>7.4f}  "
            f"{row['complete']:>8.4f}  {row['typed_first']:>11.4f}  {row['typed_kept']:>10.4f}"
        )
        for ex in row["examples"][:3]:
            print(f"    e.g. {ex['q']} → {', '.join(ex['synonyms'])}")


if __name__ == "__main__":
    sys.exit(main())
