"""Equal scores rank in section-key order: each section's place in that order, read from
the key columns as byte matrices, is the order of the keys as strings (code point order,
which UTF-8 bytes keep), over several segments with deleted sections and keys of many
lengths and scripts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import numpy as np
import pytest

from sakuin.search.embedded.reading import metatables
from sakuin.search.embedded.reading.snapshot import LiveIndex
from sakuin.search.embedded.store import IndexStore
from sakuin.search.embedded.writing import compaction
from sakuin.search.embedded.writing.indexer import build_index

NAMES = [
    "a.txt",
    "b/長い名前の文書ファイル.md",
    "ｚ.txt",
    "é.txt",
    "A.txt",
    "b/短.txt",
    "日本語/会議録.txt",
    "10.txt",
    "9.txt",
]


def _write(docs: Path, names: list[str], generation: int) -> None:
    for i, name in enumerate(names):
        path = docs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        body = "\n\n".join(f"## 第{k}節\n\n会議{generation}の記録{i}と予算の話。" for k in range(1 + i % 3))
        path.write_text(f"# {name}\n\n{body}\n", encoding="utf-8")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveIndex]:
    docs, ix = tmp_path_factory.mktemp("key-docs"), tmp_path_factory.mktemp("key-ix")
    _write(docs, NAMES[:5], 0)
    build_index([docs], ix, procs=1)
    _write(docs, NAMES[3:], 1)  # two files change (deletions), four are new: a second segment
    with mock.patch.object(compaction, "plan", return_value=[]):
        build_index([docs], ix, procs=1)
    index = LiveIndex(IndexStore(ix))
    yield index
    index.close()


def _by_strings(searcher: object) -> np.ndarray:
    keys = list(searcher.reader().column_reader("key"))  # type: ignore[attr-defined]
    ranks = np.empty(len(keys), np.int64)
    ranks[sorted(range(len(keys)), key=lambda i: (keys[i], i))] = np.arange(len(keys))
    return ranks


def test_key_ranks_are_the_order_of_the_keys(live: LiveIndex) -> None:
    with live.pin() as pinned:
        searcher = pinned.searcher
        reader = searcher.reader()
        assert len(reader.leaf_readers()) > 1 and reader.doc_count() < reader.doc_count_all()
        keys = list(reader.column_reader("key"))
        assert len({len(k.encode()) for k in keys}) > 3 and any(ord(c) > 0x3000 for k in keys for c in k)
        assert metatables._key_ranks(searcher).tolist() == _by_strings(searcher).tolist()


def test_another_column_type_is_read_key_by_key(live: LiveIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    with live.pin() as pinned:
        searcher = pinned.searcher
        leaf_type = type(searcher.reader().leaf_readers()[0][0])
        real = leaf_type.column_reader

        def opaque(self: object, name: str, *args: object, **kwargs: object) -> object:
            column = real(self, name, *args, **kwargs)
            return (
                mock.Mock(wraps=column, spec=["__getitem__", "__iter__", "__len__"])
                if name == "key" and kwargs.get("translate") is False
                else column
            )

        monkeypatch.setattr(leaf_type, "column_reader", opaque)
        assert metatables._key_ranks(searcher).tolist() == _by_strings(searcher).tolist()
