"""Searchers read the mapped segment files in place: another searcher costs no copy of the index."""

from __future__ import annotations

import json
import os
import threading
import tracemalloc
from pathlib import Path
from unittest import mock

import pytest
from whoosh.filedb import compound, structfile

from sakuin.search.embedded.reading import mapped
from sakuin.search.embedded.reading.engine import EmbeddedEngine
from sakuin.search.embedded.reading.mapped import ViewFile, _ViewReader
from sakuin.search.embedded.writing.indexer import build_index


def test_compound_files_open_as_views() -> None:
    assert compound.BufferFile is ViewFile  # installed by search.searcher


def test_view_reader_reads_like_a_file() -> None:
    data = b"first line\nsecond\nlast"
    f = _ViewReader(memoryview(data))
    assert f.read(5) == b"first" and f.tell() == 5
    assert f.readline() == b" line\n"
    assert list(f) == [b"second\n", b"last"]
    assert f.seek(-4, 2) == len(data) - 4 and f.read() == b"last" and f.read(3) == b""
    f.seek(0)
    assert f.read(None) == data


def _growth_of_a_new_thread_searcher(index_dir: Path) -> int:
    """Python memory a second concurrent searcher (opened and used once) allocates."""
    engine = EmbeddedEngine(index_dir)
    engine.search("国防大臣")  # warm: the pool's first searcher has read the index
    done = threading.Event()

    def search() -> None:
        engine.search("国防大臣")
        done.set()

    with engine.pin():  # this thread holds the pool's searcher, so the other thread opens its own
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        t = threading.Thread(target=search)
        t.start()
        done.wait(30)
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
        t.join()
    return sum(s.size_diff for s in after.compare_to(before, "filename") if s.size_diff > 0)


def test_another_thread_searcher_copies_no_index_files(tmp_path: Path) -> None:
    path = tmp_path / "news.jsonl"
    words = ["国防", "大臣", "会談", "電話", "ロシア", "米国", "長官", "報道", "声明", "回避"]
    with path.open("w", encoding="utf-8") as out:
        for i in range(400):
            text = "。".join(f"{words[(i + k) % 10]}{k * i}番目の{words[(i * k) % 10]}について" for k in range(40))
            out.write(json.dumps({"id": f"n{i}", "title": f"記事{i}", "text": text}, ensure_ascii=False) + "\n")
    index_dir = tmp_path / "ix"
    build_index([path], index_dir, procs=1)
    in_place = _growth_of_a_new_thread_searcher(index_dir)
    with mock.patch.object(compound, "BufferFile", structfile.BufferFile):  # Whoosh's own: BytesIO copies
        copied = _growth_of_a_new_thread_searcher(index_dir)
    assert in_place < 0.5 * copied, (in_place, copied)


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="reads Linux's /proc/self/smaps")
@pytest.mark.parametrize("share", [0.0, None])
def test_segment_mappings_of_an_index_larger_than_memory_are_advised_random_access(
    tmp_path: Path, share: float | None
) -> None:
    """Every segment file a searcher maps carries the kernel's random-read flag (``rr`` in
    smaps' VmFlags), so a page fault does not read megabytes ahead, when the version is
    larger than ``RANDOM_ACCESS_SHARE`` of memory (a share of 0: any index is); an index
    that fits (this one, at the default share) is read with readahead."""
    docs, ix = tmp_path / "docs", tmp_path / "ix"
    docs.mkdir()
    for i in range(3):
        (docs / f"{i}.txt").write_text(f"国防と会談の記録{i}。" * 20, encoding="utf-8")
    build_index([docs], ix, procs=1)
    with mock.patch.object(mapped, "RANDOM_ACCESS_SHARE", mapped.RANDOM_ACCESS_SHARE if share is None else share):
        engine = EmbeddedEngine(ix)
        engine.search("国防")
    flags: dict[str, str] = {}
    current = None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5:  # a mapping's header line
            current = fields[5] if len(fields) > 5 and fields[5].startswith(str(ix.resolve())) else None
        elif current and line.startswith("VmFlags:"):
            flags[current] = line
    engine.close()
    segments = [path for path in flags if path.endswith(".seg")]
    assert segments
    advised = [" rr" in flags[path] for path in segments]
    assert all(advised) if share == 0.0 else not any(advised), flags


def test_larger_than_memory_compares_with_the_machines_memory() -> None:
    memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert not mapped.larger_than_memory(int(mapped.RANDOM_ACCESS_SHARE * memory) - 1)
    assert mapped.larger_than_memory(int(mapped.RANDOM_ACCESS_SHARE * memory) + 1)
