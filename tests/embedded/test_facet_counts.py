"""Facet counts read section by section equal the counts of one pass over a field's postings.

``ValueTable.counts_of`` (the request path) reads each matching section's value ids from
the by-section arrays; ``ValueTable.counts`` (one pass over the value-major arrays, the
arrays filters are read from) is the oracle, and so is a plain Python count. The fields
cover one value per section (``category``, some sections without), several (``tags``,
zero to four, skewed) and ``path`` (a file's folders, several per section), over more
than one segment.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.corpora import write_jsonl

from sakuin.search.embedded.reading.engine import EmbeddedEngine
from sakuin.search.embedded.reading.metatables import ValueTable
from sakuin.search.embedded.writing.indexer import build_index

FIELDS = ("category", "tags", "path")
TOPICS = ["国防", "会談", "選挙", "野球", "予算", "天気"]


def _records(start: int, n: int, rng: random.Random) -> list[dict]:
    out = []
    for i in range(start, start + n):
        record = {"id": f"d{i}", "title": f"記事{i}", "text": f"本日は{rng.choice(TOPICS)}について話した。"}
        if i % 7:
            record["category"] = rng.choice(["政治", "経済", "スポーツ"])
        # Skewed: most sections have no tag or one, a few have four.
        record["tags"] = rng.sample(["a", "b", "c", "d", "e"], min(4, int(rng.expovariate(1.0))))
        out.append(record)
    return out


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedEngine]:
    base = tmp_path_factory.mktemp("facets")
    docs, ix = base / "docs", base / "ix"
    rng = random.Random(5)
    (docs / "x" / "y").mkdir(parents=True)
    (docs / "z").mkdir()
    write_jsonl(docs / "x" / "one.jsonl", _records(0, 120, rng))
    write_jsonl(docs / "z" / "two.jsonl", _records(120, 80, rng))
    declare = [("category", "keyword"), ("tags", "keyword")]
    build_index([docs], ix, procs=1, declare=declare)
    write_jsonl(docs / "x" / "y" / "three.jsonl", _records(200, 90, rng))  # a second segment
    build_index([docs], ix, procs=1)
    engine = EmbeddedEngine(ix)
    yield engine
    engine.close()


def _tables(engine: EmbeddedEngine) -> tuple[dict[str, ValueTable], int]:
    with engine.live.pin() as pinned:
        size = pinned.searcher.reader().doc_count_all()
        return {name: pinned.snapshot.meta.keyword(pinned.searcher, name) for name in FIELDS}, size


def _by_hand(table: ValueTable, docs: np.ndarray) -> np.ndarray:
    wanted = set(docs.tolist())
    seen = Counter(int(v) for d, v in zip(table.docs.tolist(), table.vids.tolist(), strict=True) if d in wanted)
    return np.array([seen[v] for v in range(len(table.values))], np.int64)


def test_the_fields_are_what_the_test_means(engine: EmbeddedEngine) -> None:
    tables, size = _tables(engine)
    assert size == 290
    assert tables["category"].single and not tables["tags"].single and not tables["path"].single
    per_section = np.diff(tables["tags"].by_doc)
    assert per_section.max() >= 3 and (per_section == 0).sum() > 50
    assert set(tables["path"].values) >= {"x/", "x/y/", "z/"}


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_counts_read_by_section_equal_one_pass_over_the_postings(engine: EmbeddedEngine, data: st.DataObject) -> None:
    tables, size = _tables(engine)
    name = data.draw(st.sampled_from(FIELDS))
    if data.draw(st.booleans()):  # a few sections: read section by section
        chosen = data.draw(st.sets(st.integers(0, size - 1), max_size=40))
    else:  # a share of all: with most of a field's postings, one pass over them
        rng = random.Random(data.draw(st.integers(0, 2**32)))
        share = data.draw(st.floats(0.0, 1.0))
        chosen = {d for d in range(size) if rng.random() < share}
    docs = np.array(sorted(chosen), np.int64)
    if data.draw(st.booleans()):
        docs = docs[::-1].copy()  # the order of the matches does not matter
    table = tables[name]
    matched = np.zeros(size, np.bool_)
    matched[docs] = True
    got = table.counts_of(docs)
    assert got.tolist() == table.counts(matched).tolist()
    assert got.tolist() == _by_hand(table, docs).tolist()


def test_facets_of_a_search_count_every_match(engine: EmbeddedEngine) -> None:
    result = engine.search("国防 OR 会談 OR 選挙", facets=list(FIELDS), per_page=10, collapse=False)
    _, size = _tables(engine)
    with engine.live.pin() as pinned:
        stored = [pinned.snapshot.stored_fields(pinned.searcher, d) for d in range(size)]
    matching = [s for s in stored if any(w in s["body"] for w in ("国防", "会談", "選挙"))]
    assert result.total == len(matching) > 10
    expected = {
        "category": Counter(s["meta"]["category"] for s in matching if "category" in s["meta"]),
        "tags": Counter(t for s in matching for t in s["meta"].get("tags", [])),
        "path": Counter(s["path"].split("/")[0] + "/" for s in matching),  # the top folders, unfiltered
    }
    for name in FIELDS:
        assert {v.value: v.count for v in result.facets[name]} == dict(expected[name]), name
