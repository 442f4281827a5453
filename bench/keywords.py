"""Keyword recall: proper nouns and name fragments, typed the ways users type them.

    python bench/keywords.py                       # livedoor, builds an index in a temp dir
    python bench/keywords.py --index-dir /tmp/kw   # reuse (or build there) an index
    python bench/keywords.py --per-class 200 --json
    python bench/keywords.py --limit 300 --per-class 10   # smoke run

The set is generated from the corpus, deterministically (a seeded sample):

* ``exact``: a proper noun (Sudachi: 名詞,固有名詞) of two or more characters, as written;
* ``fragment``: a piece of a longer name: the part after ・ (ニジニ・ノヴゴロド →
  ノヴゴロド), or the tail of a name Sudachi reads as one word (ハイスピードエクシリム
  → エクシリム, 石田ゆり子 → ゆり子);
* ``halfwidth``: a katakana name in half-width kana (ﾉｳﾞｺﾞﾛﾄﾞ);
* ``hiragana``: a katakana name in hiragana (のゔごろど);
* ``old_kanji``: a name with a kanji that has an old form, written in the old form (國, 學, 會 …).

The relevant sections of a query are every section whose folded text (title,
heading or body; ``sakuin.search.analysis.normalize.fold``) contains the folded query: what a user
who typed the name means by "find it". The headline table is the names found in at
most ten sections (where every relevant section belongs in the first ten); the
second covers every query with up to 1,000 relevant sections, where word matches
through Sudachi's normalization (エンターテイメント → エンターテインメント, ｻﾝｹｲ → 産経)
also rank first although their text differs. For each query we report recall@10
(relevant sections in the first ten results / min(10, relevant)), complete
recall (relevant sections anywhere in the results / relevant), and whether every
``word`` match ranks before every ``substring`` match (and those before matches
through a kana reading only, and those before matches only through a synonym),
and the substring hits whose text lacks the query (false hits). ``--no-synonyms``
searches without the index's synonyms (a section found only through a synonym
ranks after every word and substring match, so synonyms can only add hits after
the relevant ones). The word-only figures are what the results hold from word
matches alone (without substring matching a word Sudachi does not know finds
nothing).
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import corpora
import jaconv
from harness import arguments, ensure_index, finish, log, machine_info

from sakuin.search.analysis.normalize import KYUJITAI, SHINJITAI, fold
from sakuin.search.analysis.sudachi import dictionary as system_dictionary
from sakuin.search.embedded.reading.engine import EmbeddedEngine

CLASSES = ("exact", "fragment", "halfwidth", "hiragana", "old_kanji")
_KATAKANA = frozenset(chr(c) for c in range(0x30A0, 0x3100))  # the Katakana block, ・ and ー included
_TO_OLD = {new: old for old, new in zip(KYUJITAI, SHINJITAI, strict=True) if old not in "邉"}
MAX_RELEVANT = 1000  # queries matching more sections than this say little about recall
RARE = 10  # names in at most this many sections: every one of them belongs in the first ten


def is_katakana(text: str) -> bool:
    return bool(text) and all(ch in _KATAKANA for ch in text)


def proper_nouns(texts: list[str]) -> list[tuple[str, list[str]]]:
    """(surface, mode-A parts) of every proper noun in ``texts``, in order of first appearance."""
    from sudachipy import SplitMode

    dictionary, _ = system_dictionary()
    tokenizer = dictionary.tokenizer("C")
    seen: dict[str, list[str]] = {}
    for text in texts:
        for m in tokenizer.tokenize(text[:4000]):
            pos = m.part_of_speech()
            if pos[0] == "名詞" and pos[1] == "固有名詞" and len(m.surface()) >= 2 and m.surface() not in seen:
                seen[m.surface()] = [p.surface() for p in m.split(SplitMode.A)]
    return list(seen.items())


def make_queries(names: list[tuple[str, list[str]]], per_class: int, seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    pool: dict[str, list[str]] = defaultdict(list)
    for surface, parts in names:
        pool["exact"].append(surface)
        if "・" in surface:
            tail = surface.rsplit("・", 1)[1]
            if len(tail) >= 2:
                pool["fragment"].append(tail)
        elif len(parts) > 1 and len(parts[-1]) >= 2:
            pool["fragment"].append(parts[-1])
        elif len(surface) >= 6 and is_katakana(surface):
            pool["fragment"].append(surface[len(surface) // 2 :])
        if is_katakana(surface) and len(surface) >= 3:
            pool["halfwidth"].append(jaconv.z2h(surface, kana=True, ascii=False, digit=False))
            pool["hiragana"].append(jaconv.kata2hira(surface))
        old = "".join(_TO_OLD.get(ch, ch) for ch in surface)
        if old != surface:
            pool["old_kanji"].append(old)
    out = []
    for cls in CLASSES:
        candidates = sorted(set(pool[cls]))
        rng.shuffle(candidates)
        out += [{"class": cls, "q": q} for q in candidates[:per_class]]
    return out


def sections(engine: EmbeddedEngine) -> list[tuple[str, int, str]]:
    """(doc_id, ordinal, folded title/heading/body joined by a newline) of every live section."""
    out = []
    with engine.pin() as pinned:
        for fields in pinned.searcher.all_stored_fields():
            text = "\n".join(fold(fields.get(k) or "") for k in ("title", "heading", "body"))
            out.append((fields["doc_id"], fields["ordinal"], text))
    return out


def evaluate(
    engine: EmbeddedEngine,
    queries: list[dict[str, str]],
    corpus: list[tuple[str, int, str]],
    substrings: bool = True,
    synonyms: bool = True,
) -> dict[str, Any]:
    """``substrings``: search as a user who asked for the fragments too (「部分一致も表示」), which
    is what "every section that contains it" means; without it, the default answer, which lists
    sections that have the name only inside a longer word only when none has it as a word."""
    per_class: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    rare_class: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    skipped = 0
    for item in queries:
        needle = fold(item["q"])
        relevant = {(d, o) for d, o, text in corpus if needle in text}
        if not relevant or len(relevant) > MAX_RELEVANT:
            skipped += 1
            continue
        hits: list[tuple[tuple[str, int], str]] = []
        page = 1
        while True:
            result = engine.search(item["q"], page=page, per_page=100, substrings=substrings, synonyms=synonyms)
            hits += [((h.doc_id, h.ordinal), h.match) for h in result.hits]
            if len(hits) >= result.total or not result.hits or len(hits) >= 2 * MAX_RELEVANT:
                break
            page += 1
        top = [key for key, _ in hits[:10]]
        words = [key for key, match in hits if match == "word"]
        found = {key for key, _ in hits}
        cutoff = min(10, len(relevant))
        kinds = [match for _, match in hits]
        for table in (per_class, rare_class) if len(relevant) <= RARE else (per_class,):
            _score(table[item["class"]], relevant, top, words, found, hits, kinds, cutoff)
    return {"classes": _means(per_class), "rare": _means(rare_class), "skipped": skipped}


def _means(per_class: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
    return {
        cls: {"queries": len(v["recall@10"])} | {k: round(statistics.fmean(x), 4) for k, x in v.items()}
        for cls, v in per_class.items()
    }


def _score(
    scores: dict[str, list[float]],
    relevant: set[tuple[str, int]],
    top: list[tuple[str, int]],
    words: list[tuple[str, int]],
    found: set[tuple[str, int]],
    hits: list[tuple[tuple[str, int], str]],
    kinds: list[str],
    cutoff: int,
) -> None:
    scores["recall@10"].append(len(relevant & set(top)) / cutoff)
    scores["complete"].append(len(relevant & found) / len(relevant))
    scores["word_recall@10"].append(len(relevant & set(words[:10])) / cutoff)
    scores["word_complete"].append(len(relevant & set(words)) / len(relevant))
    order = {"word": 0, "substring": 1, "reading": 2, "synonym": 3}
    scores["words_first"].append(float(kinds == sorted(kinds, key=order.__getitem__)))
    substrings = {key for key, match in hits if match == "substring"}
    scores["false_hits"].append(float(len(substrings - relevant)))  # substring hits whose text lacks the query


def main() -> int:
    parser = arguments(__doc__, procs=True)
    parser.add_argument("--index-dir", type=Path, default=None, help="reuse/build the index here (default: temp)")
    parser.add_argument("--per-class", type=int, default=150)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--queries-out", type=Path, default=None, help="write the generated set as JSONL")
    parser.add_argument(
        "--default-answer", action="store_true", help="measure the default answer (fragments not asked for)"
    )
    parser.add_argument("--no-synonyms", action="store_true", help="search without the index's synonyms")
    args = parser.parse_args()
    data = corpora.locate(args.data)
    with tempfile.TemporaryDirectory(prefix="sakuin-kw-") as tmp:
        index_dir, _ = ensure_index(args.index_dir, Path(tmp), data, args.limit, procs=args.procs)
        records = list(corpora.iter_records(data, args.limit))
        engine = EmbeddedEngine(index_dir)
        log("finding proper nouns …")
        names = proper_nouns([f"{r.get('title', '')}\n{r.get('text', '')}" for r in records])
        queries = make_queries(names, args.per_class, args.seed)
        if args.queries_out:
            corpora.write_jsonl(queries, args.queries_out)
        corpus = sections(engine)
        log(f"{len(queries)} queries over {len(corpus)} sections …")
        results = {
            "corpus": str(data),
            "sections": len(corpus),
            "names": len(names),
            "synonyms": not args.no_synonyms,
            **evaluate(engine, queries, corpus, substrings=not args.default_answer, synonyms=not args.no_synonyms),
            "machine": machine_info(),
        }
        engine.close()
    return finish(results, args, print_human)


def print_human(results: dict[str, Any]) -> None:
    print(f"{results['sections']} sections, {results['names']} distinct proper nouns; skipped {results['skipped']}")
    for title, key in ((f"names in at most {RARE} sections", "rare"), ("all queries", "classes")):
        print(f"\n{title}")
        _print_table(results[key])


def _print_table(table: dict[str, Any]) -> None:
    print("class       queries  recall@10  complete  words-first  false hits | word-only recall@10  complete")
    for cls in CLASSES:
        row = table.get(cls)
        if row is None:
            continue
        print(
            f"{cls:<11} {row['queries']:>7}  {row['recall@10']:>9.4f}  {row['complete']:>8.4f}  "
            f"{row['words_first']:>11.4f}  {row['false_hits']:>10.2f} | {row['word_recall@10']:>19.4f}  "
            f"{row['word_complete']:>8.4f}"
        )


if __name__ == "__main__":
    sys.exit(main())
