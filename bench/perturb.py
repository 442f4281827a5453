"""Write a spelling-perturbed copy of a query set, deterministically.

    python bench/perturb.py IN.jsonl OUT.jsonl [--json] [--out]
    python bench/perturb.py ../shared/data/dev/queries.jsonl /tmp/perturbed.jsonl   # the dev set

Users type differently from the documents they search. Each query gets the changes a
real user's input would have, chosen by a hash of its id (so every run writes the same
file):

* katakana words: half-width (ｶﾀｶﾅ), hiragana (かたかな), or long vowel dropped
  (サーバー → サーバ): one of these, or left alone, per word;
* Latin letters and digits: full-width (ＡＢＣ１２３);
* new kanji: replaced by their old forms (国 → 國, 学 → 學, 会 → 會, 体 → 體 …).

baseline_bigram.py --queries OUT.jsonl and ``sakuin eval`` read the result.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path
from typing import Any

import corpora
import jaconv
from harness import arguments, finish, log

OLD_FORMS = str.maketrans(
    "国学会体旧図広仏来浜沢辺竜桜芸対写声変鉄県駅庁気実発権円",
    "國學會體舊圖廣佛來濱澤邊龍櫻藝對寫聲變鐵縣驛廳氣實發權圓",
)
KATAKANA_WORD = re.compile(r"[\u30a1-\u30faー]{2,}")
LATIN = re.compile(r"[A-Za-z0-9]+")


def _choice(key: str, n: int) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % n


def perturb(qid: str, text: str) -> str:
    def katakana(m: re.Match[str]) -> str:
        word = m.group()
        kind = _choice(f"{qid}:{m.start()}", 4)
        if kind == 0:
            return jaconv.z2h(word, kana=True, ascii=False, digit=False)
        if kind == 1:
            return jaconv.kata2hira(word)
        if kind == 2 and word.endswith("ー"):
            return word[:-1]
        if kind == 2:
            return word + "ー" if word[-1] in "タダラサザ" else word
        return word

    text = KATAKANA_WORD.sub(katakana, text)
    text = LATIN.sub(lambda m: jaconv.h2z(m.group(), ascii=True, digit=True), text)
    return text.translate(OLD_FORMS)


def main() -> int:
    parser = arguments(__doc__, data=None, limit=False)
    parser.add_argument("src", type=Path, help="a query set: JSON lines with id and text")
    parser.add_argument("dst", type=Path, help="where the perturbed copy goes")
    args = parser.parse_args()
    rows = list(corpora.iter_records(corpora.locate(args.src, corpora.DEV / "queries.jsonl", "a query set")))
    out = [{**row, "text": perturb(str(row["id"]), row["text"])} for row in rows]
    corpora.write_jsonl(out, args.dst)
    changed = sum(new["text"] != old["text"] for new, old in zip(out, rows, strict=True))
    log(f"wrote {args.dst}")
    results: dict[str, Any] = {"queries": len(rows), "changed": changed, "out": str(args.dst)}
    return finish(results, args, lambda r: print(f"{r['changed']} of {r['queries']} queries changed"))


if __name__ == "__main__":
    sys.exit(main())
