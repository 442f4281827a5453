"""Index snapshots: one per version, a bounded pool of searchers, released when retired."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
from support.corpora import write_corpus

from sakuin.search.embedded.reading import bagofwords, suggest
from sakuin.search.embedded.reading.emit import compile_query
from sakuin.search.embedded.reading.engine import EmbeddedEngine
from sakuin.search.embedded.reading.occurrences import POSTINGS_PER_ASKED, TermOccurrences, decode, read_some
from sakuin.search.embedded.reading.scoring import AllScores
from sakuin.search.embedded.reading.snapshot import LiveIndex, Snapshot, SnapshotClosed
from sakuin.search.embedded.store import IndexStore
from sakuin.search.embedded.writing import compaction, w3blocks
from sakuin.search.embedded.writing.indexer import build_index


def _open_files_under(folder: Path) -> int:
    """Descriptors and mappings of this process that point into ``folder``."""
    root = str(folder.resolve())
    fds = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds += os.readlink(f"/proc/self/fd/{fd}").startswith(root)
        except OSError:
            continue
    with open("/proc/self/maps", encoding="utf-8") as maps:
        mapped = sum(root in line for line in maps)
    return fds + mapped


def _with_deletions(tmp_path: Path, files: int, changed: int) -> Path:
    """An index of ``files`` corpus files, then ``changed`` of them rewritten with the
    deleted sections kept in place (no compaction): several segments, deletions in them."""
    docs, ix = tmp_path / "docs", tmp_path / "ix"
    write_corpus(docs, 0, range(files), per_file=10)
    build_index([docs], ix, procs=1)
    write_corpus(docs, 1, range(changed), per_file=10)
    with mock.patch.object(compaction, "plan", lambda *args, **kwargs: []):
        build_index([docs], ix, procs=1)
    return ix


def _first_terms(reader: Any, fieldname: str) -> list[str]:
    """The first 300 terms of ``fieldname`` in an index ``_with_deletions`` made, checked to
    have deletions and several segments."""
    assert reader.has_deletions() and len(reader.leaf_readers()) > 1
    return [t.decode() for t in reader.lexicon(fieldname)][:300]


@pytest.fixture()
def corpus(tmp_path: Path) -> tuple[Path, Path]:
    docs, ix = tmp_path / "docs", tmp_path / "ix"
    write_corpus(docs, 0, range(3), per_file=15)
    build_index([docs], ix, procs=1)
    return docs, ix


def test_updates_release_old_versions_files_and_snapshots(corpus: tuple[Path, Path]) -> None:
    docs, ix = corpus
    engine = EmbeddedEngine(ix)
    engine.search("国防")
    seen: list[Snapshot] = [engine.live.snapshot()]
    open_at_start = _open_files_under(ix)
    assert open_at_start > 0
    for generation in range(1, 6):
        write_corpus(docs, generation, range(3), per_file=15)
        build_index([docs], ix, procs=1)
        assert engine.search("国防").total >= 0
        snap = engine.live.snapshot()
        assert snap.name == IndexStore(ix).current_name()  # switched on the next request
        seen.append(snap)
    assert all(s.closed for s in seen[:-1]) and not seen[-1].closed
    assert _open_files_under(ix) <= open_at_start  # five updates, no more open files than one version
    engine.close()
    assert seen[-1].closed and _open_files_under(ix) == 0


def test_a_request_in_flight_keeps_its_version_until_it_ends(corpus: tuple[Path, Path]) -> None:
    docs, ix = corpus
    engine = EmbeddedEngine(ix)
    with engine.pin() as pinned:
        old = pinned.snapshot
        write_corpus(docs, 1, range(3), per_file=15)
        build_index([docs], ix, procs=1)
        with engine.pin() as newer:  # a request that starts now reads the new version
            assert newer.snapshot is not old
        assert old.name != newer.snapshot.name and not old.closed
        assert pinned.searcher.doc_count() > 0  # the old searcher still reads
    assert old.closed  # closed when its last request ended
    with pytest.raises(SnapshotClosed):
        old.borrow()


def test_the_pool_holds_at_most_pool_size_idle_searchers(corpus: tuple[Path, Path]) -> None:
    _, ix = corpus
    live = LiveIndex(IndexStore(ix), pool_size=2)
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def request() -> None:
        try:
            with live.pin() as pinned:
                barrier.wait(10)  # six requests at once: six searchers
                pinned.searcher.doc_count()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=request) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert live.snapshot().open_searchers() == 2
    live.close()


def test_term_score_cache_is_bounded_in_bytes(index_dir: Path) -> None:
    engine = EmbeddedEngine(index_dir)
    with engine.pin() as pinned:
        cache = bagofwords.TermScoreCache(max_bytes=3_000)
        searcher = pinned.searcher
        terms = [t.decode() for t in list(searcher.reader().lexicon("content"))[:200]]
        for term in terms:
            cache.get(searcher, "content", term)
        assert 0 < cache.bytes <= 3_000 and 0 < len(cache) < len(terms)
        cache.clear()
        assert cache.bytes == 0 and len(cache) == 0


def test_term_at_a_time_equals_whooshs_scores(index_dir: Path) -> None:
    engine = EmbeddedEngine(index_dir)
    with engine.pin() as pinned:
        searcher = pinned.searcher
        compiled = compile_query(
            "ベロウソフ国防大臣は誰と電話会談したのか", searcher.doc_frequency, searcher.doc_count()
        )
        assert compiled.bag is not None
        total, ranked = bagofwords.rank(searcher, pinned.snapshot.scores, compiled.bag, 1000, lambda n: n)
        collector = AllScores()
        searcher.search_with_collector(compiled.query, collector)
        whoosh = dict(collector.scored)
        assert total == len(whoosh) > 10
        assert {d for d, _ in ranked} == set(whoosh)
        for docnum, score in ranked:
            assert score == pytest.approx(whoosh[docnum], rel=1e-12)


@pytest.mark.parametrize("fieldname", ["content", "title", "grams"])
def test_cached_term_frequencies_count_the_occurrences(tmp_path: Path, fieldname: str) -> None:
    """What ranking compares instead of decoding positions: per section, a word's frequency is
    the number of its occurrences (deleted sections left out, several segments)."""
    engine = EmbeddedEngine(_with_deletions(tmp_path, 10, 1))
    with engine.pin() as pinned:
        searcher, cache = pinned.searcher, pinned.snapshot.scores
        reader = searcher.reader()
        terms = _first_terms(reader, fieldname)
        repeated = 0
        for term in terms:
            found, counts = cache.frequencies(searcher, fieldname, term)
            if fieldname == "grams":  # a presence field: every frequency is 1
                assert counts.tolist() == [1] * len(found)
                continue
            occurrences = decode(searcher, fieldname, term)  # deleted sections too
            live = [not reader.is_deleted(d) for d in occurrences.docs.tolist()]
            assert found.tolist() == occurrences.docs[live].tolist(), term
            assert counts.tolist() == np.diff(occurrences.bounds)[live].tolist(), term
            repeated += int((counts > 1).any())
        assert fieldname == "grams" or repeated  # some word occurs more than once in a section
    engine.close()


@pytest.mark.parametrize("fieldname", ["content", "grams", "title", "reading"])
def test_bulk_term_scores_are_whooshs_to_the_last_bit(tmp_path: Path, fieldname: str) -> None:
    engine = EmbeddedEngine(_with_deletions(tmp_path, 10, 1))
    with engine.pin() as pinned:
        searcher = pinned.searcher
        terms = _first_terms(searcher.reader(), fieldname)
        assert terms
        lengths: dict = {}
        for term in terms:
            fast = bagofwords._score_postings(searcher, fieldname, term, lengths)
            slow = bagofwords._score_postings_slowly(searcher, fieldname, term)
            assert fast[0].tolist() == slow[0].tolist(), term
            assert fast[1].tolist() == slow[1].tolist(), term  # equal floats, not approximately


@pytest.mark.parametrize("fieldname", ["content", "grams", "title", "reading"])
def test_document_frequencies_learnt_from_postings_equal_the_term_tables(tmp_path: Path, fieldname: str) -> None:
    """Scoring a term caches its live document frequency from the postings it read; that
    number must be the one the term tables give, less the deleted sections' (several
    segments, deletions in place)."""
    engine = EmbeddedEngine(_with_deletions(tmp_path, 10, 1))
    with engine.pin() as pinned:
        searcher, cache = pinned.searcher, pinned.snapshot.scores
        reader = searcher.reader()
        terms = _first_terms(reader, fieldname)
        with_deleted = 0
        for term in terms:
            found, _ = cache.get(searcher, fieldname, term)
            learnt = searcher._frequencies.peek((fieldname, term))
            assert learnt is not None, term  # cached by scoring, before anything asked for it
            assert learnt == searcher._count_live(fieldname, term) == len(found), term
            with_deleted += learnt != reader.doc_frequency(fieldname, term)
        assert with_deleted  # some terms lost sections to the update
    engine.close()


def test_vocabularies_read_from_the_term_tables_equal_whooshs_lexicons(tmp_path: Path) -> None:
    """What did-you-mean is built from: every field's distinct terms over several segments,
    read from the term tables in slices, are the merged lexicon Whoosh lists."""
    engine = EmbeddedEngine(_with_deletions(tmp_path, 6, 2))
    with engine.pin() as pinned:
        reader = pinned.searcher.reader()
        leaves = [leaf for leaf, _ in reader.leaf_readers()]
        assert len(leaves) > 1
        for fieldname in ("content", "grams", "reading", "title", "heading", "key", "doc_id", "nothing"):
            merged = list(reader.lexicon(fieldname)) if fieldname != "nothing" else []
            assert w3blocks.field_vocabulary(leaves, fieldname) == merged, fieldname
            for leaf in leaves:
                raw, starts, ends = w3blocks.field_terms(leaf, fieldname)
                own = [bytes(raw[a:z]) for a, z in zip(starts.tolist(), ends.tolist(), strict=True)]
                assert own == (list(leaf.lexicon(fieldname)) if fieldname != "nothing" else []), fieldname
        words = suggest.spelling_index(pinned).words
        assert list(words) == [w for t in reader.lexicon("content") if 2 <= len(w := t.decode()) <= 30]
    engine.close()


def test_a_long_word_is_read_in_part_first_and_decoded_whole_when_it_comes_back(tmp_path: Path) -> None:
    """Occurrences of a word much longer than a request needs: the first request reads only
    its sections (nothing kept), the second decodes the whole list and keeps it; both give
    the same positions and offsets as decoding everything."""
    docs, ix = tmp_path / "docs", tmp_path / "ix"
    write_corpus(docs, 0, range(30), per_file=10)
    build_index([docs], ix, procs=1)
    write_corpus(docs, 1, range(3), per_file=10)  # a second segment
    with mock.patch.object(compaction, "plan", lambda *args, **kwargs: []):
        build_index([docs], ix, procs=1)
    engine = EmbeddedEngine(ix)
    with engine.pin() as pinned:
        searcher = pinned.searcher
        reader = searcher.reader()
        assert len(reader.leaf_readers()) > 1
        term, df = max(
            ((t.decode(), searcher.doc_frequency("content", t.decode())) for t in reader.lexicon("content")),
            key=lambda pair: pair[1],
        )
        assert df > POSTINGS_PER_ASKED  # one asked section is less than this word's share
        whole = decode(searcher, "content", term)
        wanted = [int(whole.docs[len(whole.docs) // 2])]
        cache = TermOccurrences()

        def rows(found: object) -> list[tuple[list[int], list[int], list[int]]]:
            out = []
            for row in found.rows(wanted):  # type: ignore[attr-defined]
                assert row is not None
                a, b = row
                out.append(
                    (found.positions[a:b].tolist(), found.starts[a:b].tolist(), found.ends[a:b].tolist())  # type: ignore[attr-defined]
                )
            return out

        first = cache.get(searcher, "content", term, wanted)
        assert len(first.docs) == len(wanted) and cache.bytes == 0  # read in part, not kept
        second = cache.get(searcher, "content", term, wanted)
        assert len(second.docs) == len(whole.docs) and cache.bytes > 0  # decoded whole, kept
        assert rows(first) == rows(second) == rows(whole)
        # All, a seventh or one of the word's sections, read from the blocks that hold them:
        # the same occurrences as decoding everything.
        for asked in (whole.docs.tolist(), whole.docs[::7].tolist(), wanted):
            some = read_some(searcher, "content", term, asked)
            assert some.docs.tolist() == asked
            at = np.searchsorted(whole.docs, asked)
            for k, i in enumerate(at.tolist()):
                a, b = whole.bounds[i], whole.bounds[i + 1]
                c, d = some.bounds[k], some.bounds[k + 1]
                for name in ("positions", "starts", "ends"):
                    assert getattr(some, name)[c:d].tolist() == getattr(whole, name)[a:b].tolist()
    engine.close()
