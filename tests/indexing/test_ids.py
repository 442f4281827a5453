"""A build's document ids: a file's ids packed in one byte string, and the table of which file owns an id."""

from __future__ import annotations

import json
import sys
import tracemalloc
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sakuin.search.indexing import ids as ids_module
from sakuin.search.indexing.ids import IdList, IdOwners, dump, jsonable, load

#: Ids that share prefixes and suffixes (so a byte match inside another id is likely),
#: with non-ASCII text and lone surrogates, which JSON allows.
_ID = st.one_of(
    st.text(alphabet="ab#-", max_size=4),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=6),
    st.sampled_from(["\ud800", "a\udfff", "記事-1", "記事-12"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_ID, max_size=30), _ID)
def test_an_id_list_reads_back_what_was_appended(ids: list[str], other: str) -> None:
    packed = IdList(ids)
    assert len(packed) == len(ids)
    assert list(packed) == ids
    assert [packed[i] for i in range(len(ids))] == ids
    assert [packed[-i] for i in range(1, len(ids) + 1)] == [ids[-i] for i in range(1, len(ids) + 1)]
    assert packed[1:4] == ids[1:4]
    assert packed == ids and ids == packed and packed == IdList(ids)
    for doc_id in [*ids, other]:
        assert (doc_id in packed) == (doc_id in ids)
    assert json.loads(json.dumps({"doc_ids": packed}, default=jsonable)) == {"doc_ids": ids}


def test_an_id_inside_others_bytes_is_not_an_id() -> None:
    packed = IdList(["ab", "cd", "abc"])
    assert "bc" not in packed  # bytes across two ids
    assert "b" not in packed and "c" not in packed  # inside one id
    assert "" not in packed and "" in IdList(["x", ""])
    assert 3 not in packed  # type: ignore[comparison-overlap]
    with pytest.raises(IndexError):
        packed[3]
    with pytest.raises(TypeError):
        json.dumps({1})  # the default is only for IdList
    with pytest.raises(TypeError):
        jsonable({1})


def test_an_id_list_is_smaller_than_a_list_of_strings() -> None:
    """What the packing is for: an id costs its bytes and an offset, not a string object and a slot."""
    ids = [f"it-life-hack-{i:07d}-1" for i in range(10_000)]
    packed = IdList(ids)
    as_list = sys.getsizeof(ids) + sum(sys.getsizeof(d) for d in ids)
    as_packed = sys.getsizeof(packed._data) + sys.getsizeof(packed._ends)
    assert as_packed < as_list / 2


def test_owners_find_the_first_file_of_an_id() -> None:
    kept = {"a.jsonl": {"doc_ids": ["x", "y"]}, "b.pdf": {"doc_ids": ["b.pdf"]}}
    owners = IdOwners(kept)
    assert owners.owner("x") == "a.jsonl" and owners.owner("b.pdf") == "b.pdf"
    assert owners.owner("z") is None
    ids = IdList()
    n = owners.file("c.jsonl", ids)
    for doc_id in ["z", "w"]:
        assert owners.owner(doc_id) is None
        owners.add(doc_id, n)
        ids.append(doc_id)
    owners.name("d.docx", "d.docx")
    assert [owners.owner(d) for d in ["x", "y", "z", "w", "d.docx", "v"]] == [
        "a.jsonl",
        "a.jsonl",
        "c.jsonl",
        "c.jsonl",
        "d.docx",
        None,
    ]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.text(alphabet="abc", max_size=3), max_size=12), max_size=6), st.data())
def test_owners_agree_with_a_dictionary(files: list[list[str]], data: st.DataObject) -> None:
    """Reading files one after another (some kept from before, some read now, merges at any
    point): the owner of every id is what a plain id → first file dictionary says."""
    merge_at = data.draw(st.integers(1, 5))
    kept_count = data.draw(st.integers(0, len(files)))
    expected: dict[str, str] = {}
    kept = {}
    for f, ids in enumerate(files[:kept_count]):
        unique = [d for d in dict.fromkeys(ids) if d not in expected]
        kept[f"kept{f}"] = {"doc_ids": unique}
        expected.update(dict.fromkeys(unique, f"kept{f}"))
    with mock.patch.object(ids_module, "MERGE_AT", merge_at):
        owners = IdOwners(kept)
        for f, ids in enumerate(files[kept_count:]):
            key, packed = f"new{f}", IdList()
            n = owners.file(key, packed)
            for doc_id in ids:
                first = owners.owner(doc_id)
                assert first == expected.get(doc_id)
                if first is None:
                    owners.add(doc_id, n)
                    packed.append(doc_id)
                    expected[doc_id] = key
    for doc_id in {d for ids in files for d in ids} | {"zz"}:
        assert owners.owner(doc_id) == expected.get(doc_id)


def test_a_hash_collision_is_not_a_duplicate() -> None:
    """Two ids with the same hash are both kept, each with its own file."""
    with mock.patch.object(ids_module, "hash", lambda _s: 7, create=True):
        owners = IdOwners({"a": {"doc_ids": ["one"]}})
        ids = IdList()
        n = owners.file("b", ids)
        assert owners.owner("two") is None  # same hash as "one", another id
        owners.add("two", n)
        ids.append("two")
        assert owners.owner("three") is None
        owners.add("three", n)  # the same hash again before a merge
        ids.append("three")
        assert [owners.owner(d) for d in ["one", "two", "three", "four"]] == ["a", "b", "b", None]


def test_a_manifest_is_written_piece_by_piece(tmp_path: Path) -> None:
    """The manifest file reads back as the document it was made from, and writing it never holds
    the whole JSON text: at ten million sections it is 96 MB, and its bytes as many again."""
    files = {
        f"part-{f:04d}.jsonl": {
            "hash": "h",
            "doc_ids": IdList(f"記事-{f}-{i:06d}" for i in range(400)),
            "sections": 9,
        }
        for f in range(100)
    }
    manifest = {"schema_version": 3, "files": files, "metadata": {"category": "keyword"}}
    path = tmp_path / "manifest.json"
    tracemalloc.start()
    try:
        with open(path, "w", encoding="utf-8") as fh:
            dump(manifest, fh)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == json.loads(json.dumps(manifest, ensure_ascii=False, default=jsonable))
    assert peak < len(text.encode()) / 5, f"peak {peak} bytes for {len(text.encode())} bytes of JSON"


def test_a_loaded_manifest_holds_packed_ids() -> None:
    text = json.dumps(
        {
            "files": {
                "a.jsonl": {"doc_ids": ["x", "記事"], "records": {"digests": "", "sections": ""}},
                "b.pdf": {"doc_ids": ["b.pdf"], "sections": 2},
            },
            "metadata": {"category": "keyword"},
        }
    )
    loaded = load(text)
    assert loaded == json.loads(text)
    assert all(isinstance(entry["doc_ids"], IdList) for entry in loaded["files"].values())
    assert list(loaded["files"]["a.jsonl"]["doc_ids"]) == ["x", "記事"]
