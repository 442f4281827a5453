"""Reading parts of posting lists gives what reading them whole gives.

* ``w3blocks.block_table`` reads block headers with numpy where ``pickle`` read them:
  the same counts, last ids, compression and data, for every term of every field;
* ``termblocks.TermLists.probe`` scores a term in a few sections from the blocks that
  hold them: the same sections and the same score bits as the term's whole list;
* ``allterms.match_all`` decodes the rarest term and probes the others: the same
  sections and sums as intersecting every whole list in the groups' order.

The index has several segments and deleted sections, and terms from a few sections to
nearly all of them.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.corpora import write_corpus
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC

from sakuin.search.embedded.reading import allterms, termblocks
from sakuin.search.embedded.reading.bagofwords import TermScoreCache
from sakuin.search.embedded.reading.snapshot import LiveIndex, Pinned
from sakuin.search.embedded.store import IndexStore
from sakuin.search.embedded.writing import compaction, w3blocks
from sakuin.search.embedded.writing.indexer import build_index

FIELDS = ("content", "grams", "title")
SLOW = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@pytest.fixture(scope="module")
def pinned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pinned]:
    docs, ix = tmp_path_factory.mktemp("probe-docs"), tmp_path_factory.mktemp("probe-ix")
    write_corpus(docs, 0, range(24), per_file=40)
    build_index([docs], ix, procs=1)
    write_corpus(docs, 1, range(3), per_file=40)  # three files change: deletions and a second segment
    with mock.patch.object(compaction, "plan", return_value=[]):
        build_index([docs], ix, procs=1)
    live = LiveIndex(IndexStore(ix))
    with live.pin() as pinned:
        reader = pinned.searcher.reader()
        assert len(reader.leaf_readers()) > 1 and reader.doc_count() < reader.doc_count_all()
        yield pinned
    live.close()


def _stored(table: w3blocks.BlockTable, block: int) -> bytes:
    """A block's data as the list stores it (compressed or not)."""
    return bytes(table.raw[table.starts[block] : table.ends[block]])


def _terms(pinned: Pinned, fieldname: str) -> list[str]:
    """The field's terms, from the most frequent to the rarest."""
    searcher = pinned.searcher
    terms = {t.decode() for t in searcher.reader().lexicon(fieldname)}
    return sorted(terms, key=lambda t: (-searcher.doc_frequency(fieldname, t), t))


def test_block_headers_read_with_numpy_equal_pickle(pinned: Pinned, monkeypatch: pytest.MonkeyPatch) -> None:
    searcher = pinned.searcher
    read = []
    real = w3blocks._numpy_table

    def spy(*args: object) -> w3blocks.BlockTable | None:
        table = real(*args)  # type: ignore[arg-type]
        read.append(table is not None)
        return table

    monkeypatch.setattr(w3blocks, "_numpy_table", spy)
    compared = several = compressed = 0
    for leaf, _ in searcher.reader().leaf_readers():
        for fieldname in FIELDS:
            for term in _terms(pinned, fieldname):
                info = w3blocks.term_info(leaf, fieldname, term)
                if info is None:
                    continue
                heads, datas = w3blocks.blocks_of(leaf, info)
                monkeypatch.setattr(w3blocks, "NUMPY_MIN_BLOCKS", 1)
                fast = w3blocks.block_table(leaf, info)
                monkeypatch.setattr(w3blocks, "NUMPY_MIN_BLOCKS", 10**9)
                slow = w3blocks.block_table(leaf, info)
                for table in (fast, slow):
                    assert table.counts == [h[0] for h in heads]
                    assert table.lasts == [h[1] for h in heads]
                    assert table.compressed == [bool(h[3]) for h in heads]
                    assert [_stored(table, i) for i in range(len(heads))] == datas
                compared += 1
                several += len(heads) > 1
                compressed += any(fast.compressed)
    assert compared > 1000 and several > 10 and compressed > 10
    assert len(read) == compared and all(read)  # every list's headers were read with numpy once


def test_headers_of_another_shape_are_read_with_pickle(monkeypatch: pytest.MonkeyPatch) -> None:
    """A list whose headers are not the pattern (here the max weight pickled as an int) is
    read with ``pickle``: the same counts, last ids, compression and data."""
    heads = [(3, 10, 2, 0, 5, 9), (2, 300, 1, 1, 4, 8), (128, 70_000, 7, 0, 1, 2)]
    datas = [b"abc", b"zz", b"a longer block"]
    blocks = [pickle.dumps(h, 2) + d for h, d in zip(heads, datas, strict=True)]
    sizes = [len(b) if i < len(blocks) - 1 else -len(b) for i, b in enumerate(blocks)]
    raw = WHOOSH3_HEADER_MAGIC + b"".join(
        n.to_bytes(4, "big", signed=True) + b for n, b in zip(sizes, blocks, strict=True)
    )
    info = mock.Mock(is_inlined=lambda: False, extent=lambda: (0, len(raw)))
    reader = mock.Mock(_terms=mock.Mock(_postfile=mock.Mock(_buf=memoryview(raw))))
    monkeypatch.setattr(w3blocks, "NUMPY_MIN_BLOCKS", 1)
    table = w3blocks.block_table(reader, info)
    assert table.counts == [3, 2, 128] and table.lasts == [10, 300, 70_000]
    assert table.compressed == [False, True, False]
    assert [_stored(table, i) for i in range(3)] == datas
    assert w3blocks.blocks_of(reader, info) == (heads, datas)


@settings(max_examples=60, deadline=None, suppress_health_check=SLOW)
@given(data=st.data())
def test_a_probe_gives_the_whole_lists_sections_and_scores(pinned: Pinned, data: st.DataObject) -> None:
    searcher = pinned.searcher
    fieldname = data.draw(st.sampled_from(FIELDS))
    terms = _terms(pinned, fieldname)
    term = data.draw(st.sampled_from(terms[:20] + terms[-20:]))
    size = searcher.reader().doc_count_all()
    share = data.draw(st.sampled_from([0.001, 0.01, 0.2, 1.0]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    wanted = np.flatnonzero(rng.random(size) < share) if share < 1.0 else np.arange(size)
    live = pinned.snapshot.meta.live(searcher)
    wanted = wanted[live[wanted]]  # callers ask about live sections
    whole_docs, whole_scores = TermScoreCache().get(searcher, fieldname, term)
    found, scores = termblocks.TermLists(searcher, TermScoreCache(), fieldname, term).probe(wanted)
    has = np.isin(wanted, whole_docs)
    assert found.tolist() == has.tolist()
    expected = whole_scores[np.searchsorted(whole_docs, wanted[has])]
    assert scores[has].tobytes() == expected.tobytes()  # the same bits
    assert not scores[~has].any()


def _intersected(pinned: Pinned, groups: tuple[tuple[str, ...], ...]) -> tuple[np.ndarray, np.ndarray]:
    """Every whole list, intersected and summed term by term in the groups' order."""
    cache = TermScoreCache()
    docs: np.ndarray | None = None
    total = np.empty(0)
    for term in (t for group in groups for t in group):
        tdocs, tscores = cache.get(pinned.searcher, "grams", term)
        if docs is None:
            docs, total = tdocs.astype(np.int64), tscores.copy()
        else:
            docs, left, right = np.intersect1d(docs, tdocs, assume_unique=True, return_indices=True)
            total = total[left] + tscores[right]
    assert docs is not None
    return docs, total


@pytest.mark.parametrize("block", [allterms.BLOCK, 1])
@settings(max_examples=40, deadline=None, suppress_health_check=SLOW)
@given(data=st.data())
def test_rarest_first_with_probes_equals_intersecting_whole_lists(
    pinned: Pinned, block: int, data: st.DataObject
) -> None:
    """Common and rare bigrams mixed, repeats included; ``block`` 1 probes every term the
    candidates are fewer than."""
    grams = _terms(pinned, "grams")
    pool = st.sampled_from(grams[:15] + grams[len(grams) // 2 : len(grams) // 2 + 10] + grams[-15:] + ["存在しない"])
    groups = data.draw(st.lists(st.lists(pool, min_size=1, max_size=4).map(tuple), min_size=1, max_size=3).map(tuple))
    want_docs, want_scores = _intersected(pinned, groups)
    probed = []
    real = termblocks.TermLists.probe

    def spy(self: termblocks.TermLists, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        probed.append(len(wanted))
        return real(self, wanted)

    with mock.patch.object(allterms, "BLOCK", block), mock.patch.object(termblocks.TermLists, "probe", spy):
        docs, scores = allterms.match_all(pinned.searcher, TermScoreCache(), groups)
    assert docs.tolist() == want_docs.tolist()
    assert scores.tobytes() == want_scores.tobytes()
    if block == 1 and len({t for g in groups for t in g}) > 1 and len(want_docs):
        assert probed  # the other terms were probed, not decoded whole
