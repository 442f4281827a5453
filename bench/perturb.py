"""Write a spelling-perturbed copy of a query set, deterministically.

Users type differently from the documents they search. Each query gets the
changes a real user's input would have, chosen by a hash of its id (so every run
produces the same file):

* katakana words: half-width (ｶﾀｶﾅ), hiragana (かたかな), or long vowel dropped
  (サーバー → サーバ) — one of these, or left alone, per word;
* Latin letters and digits: full-width (ＡＢＣ１２３);
* new kanji: replaced by their old forms (国 → 國, 学 → 學, 会 → 會, 体 → 體 …).

Usage: python bench/perturb.py IN.jsonl OUT.jsonl
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import jaconv

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


def main(src: Path, dst: Path) -> None:
    changed = total = 0
    with open(src, encoding="utf-8") as fin, open(dst, "w", encoding="utf-8") as fout:
        for line in fin:
            if not line.strip():
                continue
            row = json.loads(line)
            new = perturb(str(row["id"]), row["text"])
            total += 1
            changed += new != row["text"]
            fout.write(json.dumps({**row, "text": new}, ensure_ascii=False) + "\n")
    print(f"{changed} of {total} queries changed -> {dst}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
