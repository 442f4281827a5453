"""Corpora the tests write and record sets several test files share.

* ``write_corpus`` / ``write_markdown``: deterministic generations of a JSONL and a
  Markdown corpus (a new generation moves every record to another topic);
* ``write_jsonl``: records as a JSONL file;
* ``RECORDS``: the metadata corpus (category, date, price, tags), whose expected counts
  are computed from the records themselves (``record_words``).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from support.paths import SEEDS

#: The one document of ``seeds/``.
SEED_ID = "000_bd59ac11d3d57df8.txt"

#: A word per topic; every generated record is about one of them.
TOPICS = ("猫", "犬", "空港", "温泉", "予算", "選挙", "野球", "音楽", "料理", "電車")


def _paragraphs() -> list[str]:
    text = next(SEEDS.glob("*.txt")).read_text(encoding="utf-8")
    return [line for line in text.split("\n") if len(line) > 30]


def write_corpus(docs: Path, generation: int, files: range, per_file: int = 40) -> None:
    """Deterministic JSONL files ``part-NN.jsonl`` whose content depends on ``generation``.

    Record i of file f is about TOPICS[(f * 7 + i + generation) % 10], so a new
    generation moves every record to another topic and result sets change.
    """
    paras = _paragraphs()
    docs.mkdir(parents=True, exist_ok=True)
    for f in files:
        lines = []
        for i in range(per_file):
            topic = TOPICS[(f * 7 + i + generation) % len(TOPICS)]
            body = "\n\n".join(paras[(f + i + k) % len(paras)] for k in range(3))
            record = {"id": f"f{f:02d}-{i:03d}", "title": f"{topic}の記事 {f}-{i}", "text": f"{body}\n\n{topic}の話。"}
            lines.append(json.dumps(record, ensure_ascii=False))
        (docs / f"part-{f:02d}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_markdown(docs: Path, generation: int, count: int = 3) -> None:
    """A few multi-section Markdown files, so the non-JSONL readers are exercised too."""
    docs.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        topic = TOPICS[(n + generation) % len(TOPICS)]
        sections = "\n\n".join(
            f"## 第{k}節 {TOPICS[(n + k) % len(TOPICS)]}\n\n{topic}と電話会談の話。" for k in range(4)
        )
        (docs / f"note-{n}.md").write_text(f"# {topic}のノート\n\n{sections}\n", encoding="utf-8")


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")


# -- the metadata corpus -------------------------------------------------------------------

CATEGORIES = ["政治", "経済", "スポーツ", "IT ニュース"]
WORDS = ["国防", "会談", "選挙", "野球", "予算"]
BOILERPLATE = (
    "この記事は編集部が執筆しました。ご意見ご感想はお問い合わせフォームからお寄せください。よろしくお願いいたします。"
)


def _records() -> list[dict[str, Any]]:
    rng = random.Random(7)
    out = []
    for i in range(80):
        words = rng.sample(WORDS, rng.randint(1, 3))
        record: dict[str, Any] = {
            "id": f"r{i:03d}",
            "title": f"記事{i}",
            "text": "。".join(f"本日は{w}について話した" for w in words) + "。",
            "category": CATEGORIES[i % 4],
            "price": i * 10,
            "tags": [f"t{i % 3}", f"t{i % 5}"],
        }
        month, day = 1 + i % 12, 1 + i % 27
        year = 2011 + i % 3
        if i % 10 == 9:
            pass  # no date
        elif i % 3 == 0:
            record["date"] = f"{year}-{month:02d}-{day:02d}"
        else:
            record["date"] = f"{year}-{month:02d}-{day:02d}T{i % 24:02d}:30:00+0900"
        out.append(record)
    for i in (80, 81):  # the same body in two documents: collapsed into one hit
        out.append({"id": f"r{i}", "title": f"告知{i}", "text": BOILERPLATE, "category": "経済", "price": 5})
    # Just after midnight in Tokyo: 1 January on its own clock, 31 December in UTC.
    out.append(
        {"id": "tz", "title": "時差", "text": "時差の確認。", "category": "政治", "date": "2013-01-01T00:30+09:00"}
    )
    return out


#: 80 generated records (r000–r079), two with the same body (r80, r81) and one just after midnight in Tokyo.
RECORDS = _records()


def record_words(record: dict[str, Any]) -> set[str]:
    """Which of ``WORDS`` a record's text contains."""
    return {w for w in WORDS if w in record["text"]}
