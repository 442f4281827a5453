"""The word query scored term arrays at a time matches exactly what Whoosh's matcher tree
matches, with Whoosh's scores (to 1e-9: sums in query order, not in Whoosh's tree order)."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from support.corpora import write_corpus
from whoosh import query as wq

from sakuin.search.embedded.reading import arrayquery, ranking
from sakuin.search.embedded.reading.emit import compile_query
from sakuin.search.embedded.reading.scoring import AllScores
from sakuin.search.embedded.reading.snapshot import LiveIndex
from sakuin.search.embedded.store import IndexStore
from sakuin.search.embedded.writing import compaction
from sakuin.search.embedded.writing.indexer import build_index

#: Every query form the planner emits a Whoosh query for: keywords (units, parts as a
#: phrase, the AndMaybe of their phrase), phrases, fields, OR, negation, readings.
QUERIES = [
    "国防",
    "國防",
    "国防 大臣",
    "電話 会談",
    '"電話会談"',
    '"国防 大臣"',
    "ロシア -電話",
    "(国防 OR 外相) 会談",
    "title:ロシア",
    "heading:会談",
    "こくぼう",
    "プーチン大統領 ウクライナ",
    "国防省 -(電話 OR 会談)",
    "ニジニ・ノヴゴロド",
    "ノヴゴロド",
    "話 記事",
    "電話会談の話",
]


def _whoosh(searcher, query: wq.Query) -> tuple[np.ndarray, np.ndarray]:
    collector = AllScores()
    searcher.search_with_collector(query, collector)
    pairs = sorted(collector.scored)
    return np.array([d for d, _ in pairs], np.int64), np.array([s for _, s in pairs])


def _assert_same(ix: Path, queries: list[str]) -> int:
    live = LiveIndex(IndexStore(ix))
    compared = 0
    with live.pin() as pinned:
        searcher, snap = pinned.searcher, pinned.snapshot
        for q in queries:
            compiled = compile_query(q, searcher.doc_frequency, searcher.doc_count())
            if compiled.query is None:
                continue
            want_docs, want_scores = _whoosh(searcher, compiled.query)
            docs, scores = arrayquery.evaluate(searcher, snap.scores, compiled.query, lambda: snap.meta.live(searcher))
            assert docs.tolist() == want_docs.tolist(), q
            np.testing.assert_allclose(scores, want_scores, rtol=1e-9, atol=1e-12, err_msg=q)
            compared += 1
    live.close()
    return compared


def test_seed_queries_match_whoosh(index_dir: Path) -> None:
    assert _assert_same(index_dir, QUERIES) >= len(QUERIES) - 1


def test_updated_index_with_deleted_sections_and_several_segments(tmp_path: Path) -> None:
    """Deleted sections and several segments: the postings and the negation's live set."""
    docs, ix = tmp_path / "docs", tmp_path / "ix"
    write_corpus(docs, 0, range(8), per_file=12)
    build_index([docs], ix, procs=1)
    write_corpus(docs, 1, range(1), per_file=12)  # one file changes: deletes + a new segment
    with mock.patch.object(compaction, "plan", return_value=[]):
        build_index([docs], ix, procs=1)  # no merge: both segments stay, the old one with deletions
    with LiveIndex(IndexStore(ix)).pin() as pinned:
        reader = pinned.searcher.reader()
        assert reader.doc_count() < reader.doc_count_all()  # deleted sections are still in a segment
        assert not pinned.searcher.is_atomic()
    assert _assert_same(ix, [*QUERIES, "記事 -話", '"の記事"']) >= len(QUERIES)


def test_every_matching_section_matches_a_phrase_at_consecutive_positions(index_dir: Path) -> None:
    # 電話 and 会談 both occur far more often than side by side: the positions decide.
    live = LiveIndex(IndexStore(index_dir))
    with live.pin() as pinned:
        searcher, snap = pinned.searcher, pinned.snapshot
        both = arrayquery.evaluate(
            searcher, snap.scores, wq.And([wq.Term("content", "電話"), wq.Term("content", "会談")]), lambda: None
        )[0]
        phrase = arrayquery.evaluate(searcher, snap.scores, wq.Phrase("content", ["電話", "会談"]), lambda: None)[0]
        assert 0 < len(phrase) <= len(both)
        assert phrase.tolist() == _whoosh(searcher, wq.Phrase("content", ["電話", "会談"]))[0].tolist()
    live.close()


def test_an_unsupported_node_falls_back_to_whoosh(index_dir: Path) -> None:
    live = LiveIndex(IndexStore(index_dir))
    with live.pin() as pinned:
        q = wq.Prefix("content", "国")
        with pytest.raises(arrayquery.Unsupported):
            arrayquery.evaluate(pinned.searcher, pinned.snapshot.scores, q, lambda: None)
        docs, _ = ranking._word_matches(pinned, q)
        assert len(docs) > 0 and sorted(docs.tolist()) == _whoosh(pinned.searcher, q)[0].tolist()
    live.close()


def test_phrases_with_a_repeated_word_or_a_common_one_match_whoosh(index_dir: Path) -> None:
    """Phrases are checked rarest word first, each word at every place it stands: a word
    that stands twice must be found at both places, as Whoosh's phrase matcher requires."""
    live = LiveIndex(IndexStore(index_dir))
    with live.pin() as pinned:
        searcher, snap = pinned.searcher, pinned.snapshot
        common = [t.decode() for _, t in searcher.reader().most_frequent_terms("content", 12)]
        phrases = [
            ["電話", "会談", "電話"],
            ["の", "記事", "の"],
            ["記事", "の", "記事"],
            ["国防", "大臣"],
            *([common[i], common[j]] for i in range(4) for j in range(4)),
            *([common[i], common[j], common[i]] for i in range(3) for j in range(3)),
        ]
        matched = 0
        for words in phrases:
            q = wq.Phrase("content", words)
            mine = arrayquery.evaluate(searcher, snap.scores, q, lambda: None, snap.occurrences)[0]
            assert mine.tolist() == _whoosh(searcher, q)[0].tolist(), words
            matched += bool(len(mine))
        assert matched >= 3  # not only phrases that match nothing
    live.close()


def test_a_compounds_phrase_reads_positions_only_where_the_other_words_are(index_dir: Path) -> None:
    """``国防大臣 ウクライナ``: the compound is an OR of the word and the phrase of its parts,
    and the phrase is checked only in the sections that have ウクライナ (not in every one
    with 国防 and 大臣); the matches and scores are Whoosh's."""
    live = LiveIndex(IndexStore(index_dir))
    with live.pin() as pinned:
        searcher, snap = pinned.searcher, pinned.snapshot
        compound = wq.Or([wq.Term("content", "国防大臣"), wq.Phrase("content", ["国防", "大臣"])])
        query = wq.And([compound, wq.Term("content", "ウクライナ")])
        other = set(snap.scores.get(searcher, "content", "ウクライナ")[0].tolist())
        parts = set(snap.scores.get(searcher, "content", "国防")[0].tolist()) & set(
            snap.scores.get(searcher, "content", "大臣")[0].tolist()
        )
        assert parts - other and parts & other  # the phrase's words are also where ウクライナ is not
        asked: list[int] = []
        real = snap.occurrences.get

        def spy(searcher_, fieldname, word, docnums=None):  # type: ignore[no-untyped-def]
            asked.extend(docnums or [])
            return real(searcher_, fieldname, word, docnums)

        with mock.patch.object(snap.occurrences, "get", spy):
            docs, scores = arrayquery.evaluate(
                searcher, snap.scores, query, lambda: snap.meta.live(searcher), snap.occurrences
            )
        assert asked and set(asked) <= other
        want_docs, want_scores = _whoosh(searcher, query)
        assert docs.tolist() == want_docs.tolist() and len(docs)
        np.testing.assert_allclose(scores, want_scores, rtol=1e-9, atol=1e-12)
    live.close()
