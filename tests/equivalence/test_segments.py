"""The bulk segment writer against Whoosh's own writer: same index, same answers.

The same sections are written twice, once through ``IndexWriter.add_document``
(Whoosh's pool and codec, posting by posting) and once through sakuin's
``search.pipeline`` (bulk analysis and ``SegmentBuilder``). Both indexes must
hold the same terms with the same postings (document, weight, value: the same bytes,
or for word fields the same decoded positions and offsets),
the same field lengths and stored fields, and Whoosh's own searcher must give
the same documents with the same scores for every query.
"""

from __future__ import annotations

import gzip
import json
import pickle
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.paths import LIVEDOOR, SEEDS
from whoosh import index as whoosh_index
from whoosh import scoring
from whoosh.formats import Characters
from whoosh.query import Or, Term

from sakuin.search.analysis import terms as terms_module
from sakuin.search.analysis.chain import reading_analyzer
from sakuin.search.analysis.normalize import gram_texts
from sakuin.search.analysis.terms import analyse_words, section_terms
from sakuin.search.documents.files import iter_input_files, read_file
from sakuin.search.embedded.schema import build_schema
from sakuin.search.embedded.writing.pipeline import build_segments
from sakuin.search.indexing.sections import content_text, section_fields
from sakuin.search.indexing.tasks import DocTask, doc_task


def _tasks(paths: list[Path]) -> list[tuple]:
    tasks = []
    for path, root in iter_input_files(paths):
        tasks.extend(doc_task(d, str(path)) for d in read_file(path, root).documents)
    return tasks


def _whoosh_index(folder: Path, tasks: list[tuple]) -> whoosh_index.Index:
    ix = whoosh_index.create_in(str(folder), build_schema())
    writer = ix.writer()
    for task in tasks:
        for fields in section_fields(task):
            writer.add_document(**fields)
    writer.commit()
    return ix


def _bulk_index(folder: Path, tasks: list[tuple], procs: int, budget: int) -> whoosh_index.Index:
    ix = whoosh_index.create_in(str(folder), build_schema())
    writer = ix.writer()
    stats = build_segments(writer.schema, folder, ((t, 0) for t in tasks), procs, budget=budget)
    writer.commit(mergetype=lambda _w, segments: [*segments, *stats.segments])
    return whoosh_index.open_dir(str(folder))


def _by_key(searcher) -> dict[int, str]:
    return {docnum: fields["key"] for docnum, fields in enumerate(searcher.reader().all_stored_fields())}


def _column(searcher, field: str) -> dict[str, Any]:
    """A column's value for every section, by key (NaN, which is never equal to itself, as a string)."""
    keys = _by_key(searcher)
    column = searcher.reader().column_reader(field)
    return {keys[docnum]: repr(column[docnum]) for docnum in range(searcher.doc_count_all())}


def _postings(ix: whoosh_index.Index) -> dict[tuple[str, bytes], list[tuple[str, float, bytes, int]]]:
    """Every term's statistics and postings, keyed by section key so document numbering does not matter."""
    out = {}
    with ix.searcher() as s:
        reader = s.reader()
        keys = _by_key(s)
        for fieldname, btext in reader.all_terms():
            m = reader.postings(fieldname, btext)
            fmt = reader.schema[fieldname].format
            rows = []
            while m.is_active():
                # Word fields' values are compared decoded: sakuin pickles them without memo.
                value = fmt.decode_characters(m.value()) if isinstance(fmt, Characters) else m.value()
                rows.append((keys[m.id()], m.weight(), value, reader.doc_field_length(m.id(), fieldname)))
                m.next()
            info = reader.term_info(fieldname, btext)
            stats = (info.weight(), info.doc_frequency(), info.min_length(), info.max_length(), info.max_weight())
            out[(fieldname, btext)] = (stats, sorted(rows))
    return out


def _assert_same(a: whoosh_index.Index, b: whoosh_index.Index, queries: list[tuple[str, str]]) -> None:
    with a.searcher() as sa, b.searcher() as sb:
        assert sa.doc_count() == sb.doc_count()
        ra, rb = sa.reader(), sb.reader()
        for field in ("title", "heading", "content", "grams", "reading"):
            assert ra.field_length(field) == rb.field_length(field), field
            if ra.field_length(field):  # Whoosh cannot take the max of a field no document has
                assert ra.max_field_length(field) == rb.max_field_length(field), field
        stored_a = sorted(sa.reader().all_stored_fields(), key=lambda f: f["key"])
        stored_b = sorted(sb.reader().all_stored_fields(), key=lambda f: f["key"])
        assert stored_a == stored_b
        for field in ra.schema.names():  # every column (key, ordinal, dup, folded, metadata numbers), by key
            if ra.schema[field].column_type:
                assert _column(sa, field) == _column(sb, field), field
        for field in ("content", "title", "grams", "reading", "key"):  # the term tables' position index
            for prefix in ("", "国", "ロ", "1", "ベ"):
                assert list(ra.expand_prefix(field, prefix)) == list(rb.expand_prefix(field, prefix)), field
    pa, pb = _postings(a), _postings(b)
    assert pa.keys() == pb.keys()
    assert pa == pb
    for field, text in queries:
        analyzer = build_schema()[field].analyzer
        terms = [Term(field, t) for t in sorted({tok.text for tok in analyzer(text)})]
        assert terms, text
        q = Or(terms)
        for weighting in (scoring.BM25F(), scoring.TF_IDF()):
            with a.searcher(weighting=weighting) as sa, b.searcher(weighting=weighting) as sb:
                ka, kb = _by_key(sa), _by_key(sb)
                ha = {ka[h.docnum]: round(h.score, 9) for h in sa.search(q, limit=None)}
                hb = {kb[h.docnum]: round(h.score, 9) for h in sb.search(q, limit=None)}
                assert ha == hb, text
                assert ha, text


SEED_QUERIES = [
    ("content", "国防大臣"),
    ("content", "電話会談"),
    ("title", "ロシア"),
    ("heading", "米国防長官"),
    ("grams", "ベロウソ"),
    ("reading", "でんわ"),
]


@pytest.mark.parametrize("procs", [1, 2])
def test_seed_index_equals_whoosh_writer(tmp_path: Path, procs: int) -> None:
    tasks = _tasks([SEEDS])
    (tmp_path / "whoosh").mkdir()
    (tmp_path / "bulk").mkdir()
    reference = _whoosh_index(tmp_path / "whoosh", tasks)
    # A tiny budget forces several segments per worker: segment boundaries must not matter.
    bulk = _bulk_index(tmp_path / "bulk", tasks, procs, budget=200_000)
    with bulk.searcher() as s:
        assert len(s.reader().leaf_readers()) > 1
    _assert_same(reference, bulk, SEED_QUERIES)


def test_vocabulary_turnover_gives_the_same_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A vocabulary replaced in the middle of a build (here every few texts) changes nothing:
    words made with an older one are translated by their terms, never mixed up by id."""

    made: list[object] = []

    class Counted(terms_module.Vocabulary):
        def __init__(self) -> None:
            super().__init__()
            made.append(self)

    monkeypatch.setattr(terms_module, "Vocabulary", Counted)
    monkeypatch.setattr(terms_module, "_vocabulary", None)
    monkeypatch.setattr(terms_module, "MAX_VOCABULARY", 40)
    extra = [
        DocTask(
            "x1",
            "extra",
            "x1.md",
            "ロシア国防省の発表",
            None,
            [(0, "見出し", "国防大臣が電話会談を行った。"), (1, "", "米国防長官")],
        ),
        DocTask("x2", "extra", "x2.md", "電話会談", None, [(0, "ベロウソフ氏", "ベロウソフ国防相と2012年に話した。")]),
    ]
    tasks = _tasks([SEEDS]) + extra
    (tmp_path / "whoosh").mkdir()
    (tmp_path / "bulk").mkdir()
    reference = _whoosh_index(tmp_path / "whoosh", tasks)
    bulk = _bulk_index(tmp_path / "bulk", tasks, 1, budget=200_000)
    assert len(made) >= 3  # the seed alone fills several
    _assert_same(reference, bulk, SEED_QUERIES)


def test_livedoor_sample_equals_whoosh_writer(tmp_path: Path) -> None:
    if not LIVEDOOR.exists():
        pytest.skip(f"livedoor corpus not found at {LIVEDOOR}")
    jsonl = tmp_path / "sample.jsonl"
    with gzip.open(LIVEDOOR, "rt", encoding="utf-8") as src, jsonl.open("w", encoding="utf-8") as out:
        for i, line in enumerate(src):
            if i % 37 == 0:  # 200 articles spread over every category
                out.write(line)
    tasks = _tasks([jsonl])
    assert len(tasks) == 200
    (tmp_path / "whoosh").mkdir()
    (tmp_path / "bulk").mkdir()
    reference = _whoosh_index(tmp_path / "whoosh", tasks)
    bulk = _bulk_index(tmp_path / "bulk", tasks, 2, budget=4_000_000)
    titles = [json.loads(line)["title"] for line in jsonl.open(encoding="utf-8")][:8]
    queries = [("content", t) for t in titles] + [("grams", t) for t in titles[:3]] + [("reading", titles[0])]
    _assert_same(reference, bulk, queries)


def _sections_for_chain() -> list[tuple[str, str, str]]:
    """(title, heading, body) cases: the seed's lines and odd spellings, compounds at the
    edges of the three parts, words seen again and numerals."""
    seed = next(p for p in sorted(SEEDS.iterdir()) if p.is_file()).read_text(encoding="utf-8")
    lines = [line for line in seed.splitlines() if line.strip()]
    odd = "㍻の…「國防」ｶﾀｶﾅ ABC Ｄｅｆ 東京都 関西国際空港、2012年3月15日"
    # Unknown words seen again (read from the cache of unknown words) and numerals,
    # whose reading depends on the digits around them (read again each time).
    again = "ベロウソフ氏　ベロウソフ氏と一人。一つ、15日と15分、25歳と２５歳"
    return [
        (lines[0], lines[1], "\n".join(lines[2:])),
        (lines[0], "", seed),
        ("関西国際空港", "関西国際空港", "関西国際空港に着いた"),
        (odd, "ＩＢＭとibm", odd),
        ("", "", ""),
        ("の", "…...", "の"),
        (again, again, again),
        ("", "見出しだけ", ""),
        # Unknown words: runs of spaces (skipped by the id of their part of speech) between
        # unknown nouns and numerals, which must not be skipped with them.
        ("Xperia  \t S-MAX", "ﾎﾟﾎﾟﾎﾟﾝﾁｮ\u3000\u3000Xperia", "1234  \t5678\u3000\u3000ﾎﾟﾎﾟﾎﾟﾝﾁｮ  Xperia"),
    ]


def test_bulk_terms_equal_the_analyzer_chain() -> None:
    """``sakuin.search.analysis.terms`` is a fast path of the analyzers; it must not be another analysis:
    every field of a section, content and reading over ``content_text``."""
    schema = build_schema()

    def chain(field: str, text: str) -> dict[str, Any]:
        return {w: (f, v) for w, f, _, v in schema[field].format.word_values(text, schema[field].analyzer)}

    for title, heading, body in _sections_for_chain():
        terms = section_terms(title, heading, body)
        content = content_text(title, heading, body)
        fmt = schema["content"].format
        for field, text in (("title", title), ("heading", heading), ("content", content)):
            words = getattr(terms, field).by_term()
            assert {w: (len(o), fmt.encode(o)) for w, o in words.items()} == chain(field, text), (field, text)
        assert dict(terms.reading) == {w: f for w, (f, _) in chain("reading", content).items()}, content
        assert dict(Counter(gram_texts(terms.grams))) == {w: f for w, (f, _) in chain("grams", content).items()}
        # analyse_words is the word analyzer of one text, as the title and heading fields use it.
        words, readings = analyse_words(body, readings=True)
        assert {w: (len(o), fmt.encode(o)) for w, o in words.items()} == chain("title", body)
        assert readings == Counter(t.text for t in reading_analyzer()(body))


def test_postings_docstring_examples() -> None:
    import doctest

    assert doctest.testmod(terms_module).failed == 0


def _presence_reference(docs: list[list[int]], length_bytes: list[int], offset: int, limit: int, level: int):
    """W3 posting lists of a presence field as ``W3PostingsWriter`` lays them out, with ``pickle.dumps``."""
    from pickle import dumps

    from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
    from whoosh.system import pack_int, pack_long

    from sakuin.search.embedded.writing.w3blocks import COMPRESS_MIN_BYTES, compress

    out, infos = [], []
    for ids in docs:
        record = [WHOOSH3_HEADER_MAGIC]
        for lo in range(0, len(ids), limit):
            block = ids[lo : lo + limit]
            deltas = (block[0], *(b - a for a, b in pairwise(block)))
            data = dumps((deltas, None, None), 2)
            comp = 0
            if level and len(data) >= COMPRESS_MIN_BYTES:
                comp, data = level, compress(data, level)
            lbs = [length_bytes[d] for d in block]
            info = dumps((len(block), block[-1], 1.0, comp, min(lbs), max(lbs)), 2)
            last = lo + limit >= len(ids)
            record += [pack_int(-(len(info) + len(data)) if last else len(info) + len(data)), info, data]
        record = b"".join(record)
        lbs = [length_bytes[d] for d in ids]
        term = W3TermInfo._struct.pack(0, float(len(ids)), len(ids), min(lbs), max(lbs), 1.0, ids[0], ids[-1])
        infos.append(term + pack_long(offset) + pack_int(len(record)))
        out.append(record)
        offset += len(record)
    return b"".join(out), infos


@pytest.mark.parametrize("level", [0, 3])
def test_presence_blocks_are_the_pickles_whoosh_writes(level: int) -> None:
    """Every int size (1, 2 and 4 bytes), every tuple form (1, 2, 3, 4+ items), lists of
    one block, of exactly one full block and of several, compressed or not."""
    import random

    from sakuin.search.embedded.writing.w3blocks import encode_postings

    rng = random.Random(7)
    ndocs = 300_000
    docs = []
    for size in [1, 2, 3, 4, 5, 17, 40, 127, 128, 129, 256, 300, 1000]:
        for spread in (1_000, 70_000, ndocs):
            docs.append(sorted(rng.sample(range(spread), size)))
    length_bytes = [rng.randrange(1, 256) for _ in range(ndocs)]
    ends = np.cumsum([len(d) for d in docs])
    flat = np.array([d for ids in docs for d in ids], dtype=np.uint32)
    data, infos = encode_postings(flat, ends, np.array(length_bytes, dtype=np.uint8), 1234, 128, level)
    want_data, want_infos = _presence_reference(docs, length_bytes, 1234, 128, level)
    assert data.tobytes() == want_data
    raw = infos.tobytes()
    assert [raw[i : i + infos.dtype.itemsize] for i in range(0, len(raw), infos.dtype.itemsize)] == want_infos


def _read_postings(data: bytes, info: np.ndarray) -> list[list[tuple[tuple, tuple]]]:
    """Every term's blocks as (block info, (ids, weights, values)), read as ``W3LeafMatcher`` reads them."""
    import io
    import pickle
    import zlib

    from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC

    terms = []
    for offset, length in zip(info["offset"].tolist(), info["length"].tolist(), strict=True):
        record = io.BytesIO(data[offset : offset + length])
        assert record.read(4) == WHOOSH3_HEADER_MAGIC
        blocks = []
        while True:
            size = int.from_bytes(record.read(4), "big", signed=True)
            end = record.tell() + abs(size)
            head = pickle.load(record)
            body = record.read(end - record.tell())
            blocks.append((head, pickle.loads(zlib.decompress(body) if head[3] else body)))
            if size < 0:
                break
        assert record.tell() == length
        terms.append(blocks)
    return terms


def test_word_postings_read_back_as_whoosh_encodes_them() -> None:
    """Weights that vary within a block, are all equal or all 1; Characters values of one
    and of many occurrences (over 255 bytes), negative start deltas (a compound's unit and
    its part), ids of every int size, several blocks per term."""
    import random

    from whoosh.formats import Characters

    from sakuin.search.embedded.writing.w3blocks import characters_values, encode_postings

    rng = random.Random(3)
    fmt = Characters()
    lists = []
    for size, occ in [(1, 1), (2, 3), (3, 1), (5, 2), (130, 1), (300, 4), (129, 40), (40, 1)]:
        docs = sorted(rng.sample(range(200_000), size))
        postings = []
        for doc in docs:
            k = rng.randint(1, occ)
            positions = sorted(rng.sample(range(5_000), k))
            chars = [(p, 10 * p - rng.randint(0, 30), 10 * p + rng.randint(1, 9)) for p in positions]
            postings.append((doc, chars))
        lists.append(postings)
    docs = np.array([d for ps in lists for d, _ in ps], dtype=np.uint32)
    ends = np.cumsum([len(ps) for ps in lists])
    occs = [c for ps in lists for _, cs in ps for c in cs]
    freqs = np.array([len(cs) for ps in lists for _, cs in ps], dtype=np.float64)
    p_start = np.cumsum(np.r_[0, freqs[:-1]]).astype(np.int64)
    values = characters_values(p_start, *(np.array(col, dtype=np.int32) for col in zip(*occs, strict=True)))
    length_bytes = np.array([rng.randrange(1, 256) for _ in range(200_000)], dtype=np.uint8)
    data, info = encode_postings(docs, ends, length_bytes, 0, 128, 3, freqs, values)
    for postings, blocks in zip(lists, _read_postings(data.tobytes(), info), strict=True):
        assert sum(head[0] for head, _ in blocks) == len(postings)
        at = 0
        for head, (ids, weights, vals) in blocks:
            chunk = postings[at : at + head[0]]
            at += head[0]
            want_ids = [chunk[0][0]] + [b[0] - a[0] for a, b in pairwise(chunk)]
            assert list(ids) == want_ids
            ws = [float(len(cs)) for _, cs in chunk]
            want_w = None if set(ws) == {1.0} else ws[0] if len(set(ws)) == 1 else tuple(ws)
            assert weights == want_w
            assert [fmt.decode_characters(v) for v in vals] == [cs for _, cs in chunk]
            assert head[1] == chunk[-1][0] and head[2] == max(ws)
            assert (head[4], head[5]) == (
                min(length_bytes[d] for d, _ in chunk),
                max(length_bytes[d] for d, _ in chunk),
            )


def _raw_blocks(data: bytes, info: np.ndarray) -> list[tuple[list[int], list[bytes]]]:
    """Every term's (block counts, inflated data pickles), as ``raw_blocks`` gives a segment's."""
    return [
        ([head[0] for head, _ in blocks], [pickle.dumps(body, 2) for _, body in blocks])
        for blocks in _read_postings(data, info)
    ]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.sampled_from([1, 2, 3, 4, 5, 127, 128, 129, 300]), min_size=1, max_size=6),
    spread=st.sampled_from([300, 70_000, 2**31 - 1]),
    weights=st.sampled_from(["none", "ones", "equal", "counts", "fractions", "mixed"]),
    values=st.sampled_from(["none", "characters", "fixed"]),
    level=st.sampled_from([0, 3]),
    seed=st.integers(0, 2**32 - 1),
)
def test_block_ids_and_weights_are_read_without_unpickling(
    sizes: list[int], spread: int, weights: str, values: str, level: int, seed: int
) -> None:
    """``decode_ids_and_weights`` reads the ids and weights out of the block pickles'
    bytes: the same arrays as unpickling every block, for every tuple form (1, 2, 3, 4+
    items), id and weight size (1, 2, 4 bytes; floats), weight form (None, one float, a
    tuple of ints or floats), value form and compression, over several terms at once."""
    from sakuin.search.embedded.writing import w3blocks

    rng = np.random.default_rng(seed)
    lists = [np.sort(rng.choice(min(spread, 10 * n + 10_000_000), n, replace=False)) for n in sizes]
    docs = np.concatenate(lists)
    ends = np.cumsum(sizes)
    n = len(docs)
    w = {
        "none": None,
        "ones": np.ones(n),
        "equal": np.full(n, 1.1),  # not a float32: Whoosh keeps a block's one weight as one
        "counts": rng.integers(1, 70_000, n).astype(np.float64),
        "fractions": rng.random(n) * 3,
        "mixed": np.where(rng.random(n) < 0.5, 1.0, rng.integers(2, 4, n)).astype(np.float64),
    }[weights]
    vals = fixed = None
    if values == "characters":
        freqs = rng.integers(1, 4, n)
        p_start = np.cumsum(np.r_[0, freqs[:-1]]).astype(np.int64)
        pos = rng.integers(0, 5_000, int(freqs.sum())).astype(np.int32)
        vals = w3blocks.characters_values(p_start, pos, pos * 2, pos * 2 + 3)
    elif values == "fixed":
        fixed = rng.integers(0, 256, (n, 4)).astype(np.uint8)
    length_bytes = rng.integers(1, 256, int(docs.max()) + 1).astype(np.uint8)
    data, info = w3blocks.encode_postings(docs, ends, length_bytes, 0, 128, level, w, vals, fixed)
    terms = _raw_blocks(data.tobytes(), info)
    counts = [c for cs, _ in terms for c in cs]
    datas = [d for _, ds in terms for d in ds]
    offsets = [7 * i for i in range(len(counts))]
    assert w3blocks._parse_ids_and_weights(np.array(counts), datas) is not None  # not the fallback
    with mock.patch.object(w3blocks, "NUMPY_MIN_POSTINGS", 0):
        got = w3blocks.decode_ids_and_weights(counts, datas, offsets)
    want = w3blocks.ids_and_weights([pickle.loads(d) for d in datas], offsets)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    assert np.array_equal(
        got[0],
        np.concatenate([docs[a:b] for a, b in zip(np.r_[0, ends[:-1]], ends, strict=True)])
        + np.repeat(offsets, counts),
    )


def test_blocks_pickled_by_pickle_are_parsed() -> None:
    """``pickle.dumps(block, 2)`` of tuples without repeated objects has the shape
    ``encode_postings`` writes: parsed, negative BININTs included."""
    from sakuin.search.embedded.writing import w3blocks

    blocks = [
        ((5, 1, 2, 300), (-1, 2, 70_000, -(2**31)), None),
        ((9,), 1.1, None),
        ((9,), (1.1,), None),
        ((1, 2), (0.5, -2.25), None),
        ((1, 2, 3), 1.1, (b"a", b"b", b"c")),
    ]
    datas = [pickle.dumps(b, 2) for b in blocks]
    counts = [len(b[0]) for b in blocks]
    assert w3blocks._parse_ids_and_weights(np.array(counts), datas) is not None
    with mock.patch.object(w3blocks, "NUMPY_MIN_POSTINGS", 0):
        got = w3blocks.decode_ids_and_weights(counts, datas)
    want = w3blocks.ids_and_weights(blocks)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_blocks_of_another_writer_are_unpickled() -> None:
    """A block pickled another way (a memo, a list, a long) is not parsed but unpickled:
    the same ids and weights either way."""
    from sakuin.search.embedded.writing import w3blocks

    blocks = [((5, 1, 2, 300), (1.5, 2.0, 2.0, 1.0), None), ((70_000, 3), [2, 2], None), ((2**40,), None, None)]
    for block in blocks:
        datas = [pickle.dumps(block, 4)]
        counts = [len(block[0])]
        assert w3blocks._parse_ids_and_weights(np.array(counts), datas) is None
        got = w3blocks.decode_ids_and_weights(counts, datas)
        want = w3blocks.ids_and_weights([block])
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_ints_are_written_as_pickle_writes_them() -> None:
    """Each int's opcode and bytes, for every size class and sign (Characters values have
    negative start deltas where a compound's parts overlap it)."""
    import pickle

    from sakuin.search.embedded.writing.w3blocks import _int_sizes, _put_ints

    edges = [0, 1, 255, 256, 65535, 65536, 2**31 - 1, -1, -255, -256, -65536, -(2**31)]
    ints = np.array(edges + np.random.default_rng(3).integers(-(2**31), 2**31, 2000).tolist(), dtype=np.int64)
    sizes = _int_sizes(ints)
    at = np.cumsum(sizes) - sizes
    out = np.zeros(int(sizes.sum()), dtype=np.uint8)
    _put_ints(out, at, ints, sizes)
    # protocol 2: PROTO 2, the int, STOP
    assert out.tobytes() == b"".join(pickle.dumps(int(i), 2)[2:-1] for i in ints)


def _term_table(tmp_path: Path, keys: list[bytes]) -> Any:
    from whoosh.filedb.filestore import FileStorage
    from whoosh.filedb.filetables import OrderedHashReader, OrderedHashWriter

    from sakuin.search.embedded.writing.segments import _BulkHashWriter

    storage = FileStorage(str(tmp_path))
    writer = OrderedHashWriter(storage.create_file("terms"))
    writer.__class__ = _BulkHashWriter
    writer.adopt()
    # The keys that start with b"a" as that prefix and their rests (as a field's terms
    # are added), the others whole.
    split = sum(k.startswith(b"a") for k in keys)
    assert all(k.startswith(b"a") for k in keys[:split])
    writer.add_sorted([k[1:] for k in keys[:split]], [k[::-1] for k in keys[:split]], prefix=b"a")
    writer.add_sorted(keys[split:], [k[::-1] for k in keys[split:]])
    length = writer.close()
    reader = OrderedHashReader(storage.open_file("terms"), length)
    assert reader.hashtype == 1  # CRC-32, as the header says
    return reader


def test_term_table_finds_every_key(tmp_path: Path) -> None:
    """Records, order index and hash tables as Whoosh's reader reads them, including
    hash tables whose probing runs past their end and wraps around."""
    import random

    from whoosh.filedb.filetables import crc_hash

    rng = random.Random(5)
    keys = sorted({b"a" + rng.randbytes(rng.randint(1, 12)) for _ in range(20_000)})
    keys = [key for key in keys if crc_hash(key) & 255]  # bucket 0 is for the crowd
    # Fifty keys of one hash table (bucket 0, so 100 slots) whose home slots are all in
    # its last fifth: the linear probing must wrap to the start of the table.
    crowded: list[bytes] = []
    n = 0
    while len(crowded) < 50:
        key = b"crowd%d" % n
        n += 1
        h = crc_hash(key)
        if h & 255 == 0 and (h >> 8) % 100 >= 80:
            crowded.append(key)
    keys = sorted(set(keys) | set(crowded))
    reader = _term_table(tmp_path, keys)
    for key in keys:
        assert reader[key] == key[::-1]
    assert list(reader.keys()) == keys
    assert reader.closest_key(keys[100][:-1] + b"\x00") is not None
    assert b"no such key" not in reader


@pytest.mark.parametrize("top", [1, 50, 2**37, 2**62])
def teststable_order_is_a_stable_argsort(top: int) -> None:
    from sakuin.search.embedded.writing.segments import stable_order

    keys = np.random.default_rng(top % 1000).integers(0, top, 10_000, dtype=np.uint64)
    assert (stable_order(keys) == np.argsort(keys, kind="stable")).all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    postings=st.lists(
        st.tuples(
            st.lists(
                st.tuples(st.integers(0, 70_000), st.integers(-300, 2**31 - 2**20), st.integers(0, 70_000)),
                min_size=1,
                max_size=40,
            ),
            st.sampled_from(["ours", "whoosh"]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_characters_values_are_read_as_pickle_reads_them(
    postings: list[tuple[list[tuple[int, int, int]], str]],
) -> None:
    """Values of one to forty occurrences (past ``STEPPED_OCCURRENCES_MAX``), ints of every
    size, negative start deltas, written by ``characters_values`` or by Whoosh's
    ``Characters.encode`` (memoized: another shape), mixed: the counts and deltas equal
    ``pickle.loads`` of each value."""
    from whoosh.formats import Characters

    from sakuin.search.embedded.writing import w3blocks

    values = []
    for occurrences, writer in postings:
        pos = np.cumsum([p for p, _, _ in occurrences]).astype(np.int64)
        start, end = [], []
        last_end = 0
        for _, ds, length in occurrences:
            start.append(last_end + ds)
            end.append(last_end + ds + length)
            last_end = end[-1]
        if writer == "whoosh":
            values.append(Characters().encode(list(zip(pos.tolist(), start, end, strict=True))))
            continue
        encoded = w3blocks.characters_values(
            np.array([0]), pos.astype(np.int32), np.array(start, np.int64), np.array(end, np.int64)
        )
        out = np.zeros(int(encoded.sizes.sum()), np.uint8)
        encoded.write(out, np.array([0]))
        values.append(out.tobytes())
    with mock.patch.object(w3blocks.pickle, "loads", wraps=pickle.loads) as unpickled:
        counts, deltas = w3blocks.characters_deltas(values)
    other = sum(w == "whoosh" or len(o) > w3blocks.STEPPED_OCCURRENCES_MAX for o, w in postings)
    assert unpickled.call_count == other  # ours, up to the limit, are read with numpy
    want = [pickle.loads(v[4:]) for v in values]
    assert counts.tolist() == [len(w) for w in want]
    assert [tuple(d) for d in deltas.tolist()] == [tuple(c) for w in want for c in w]
