"""Finding a document's original from the manifest: by the files' own ids, not a table of every id."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sakuin.search.documents.originals import Original, Originals
from sakuin.search.indexing.ids import IdList


def _reference(files: dict[str, dict[str, object]], doc_id: str) -> tuple[str, tuple[str, ...]] | None:
    """The rule written out: the file listing the id whose path in its folder is the id or
    the id's part before a ``#`` (the shortest such part first)."""
    parts = doc_id.split("#")
    for n in range(1, len(parts) + 1):
        own = "#".join(parts[:n])
        for key, entry in files.items():
            root = entry.get("root")
            if root and key == str(Path(str(root)) / own) and doc_id in entry["doc_ids"]:  # type: ignore[operator]
                return key, tuple(parts[n:])
    return None


_NAME = st.text(alphabet="ab#.", min_size=1, max_size=5).filter(lambda s: s not in {".", ".."})


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_the_original_found_is_the_file_whose_own_id_leads_the_id(
    tmp_path_factory: object, data: st.DataObject
) -> None:
    root = Path(str(tmp_path_factory.mktemp("docs")))  # type: ignore[attr-defined]
    names = data.draw(st.lists(_NAME, min_size=1, max_size=5, unique=True))
    files: dict[str, dict[str, object]] = {}
    for name in names:
        (root / name).write_bytes(b"x")
        inner = data.draw(st.lists(st.text(alphabet="ab#1", min_size=1, max_size=3), max_size=3))
        ids = [name, *(f"{name}#{i}" for i in inner)] if data.draw(st.booleans()) else ["record-" + name]
        files[str(root / name)] = {"root": str(root), "doc_ids": IdList(ids) if data.draw(st.booleans()) else ids}
    originals = Originals(files)  # type: ignore[arg-type]
    asked = [d for entry in files.values() for d in entry["doc_ids"]] + data.draw(  # type: ignore[attr-defined]
        st.lists(st.text(alphabet="ab#.1", max_size=6), max_size=5)
    )
    for doc_id in asked:
        found = originals.find(doc_id)
        expected = _reference(files, doc_id)
        if expected is None:
            assert found is None
        else:
            key, inner = expected
            assert found == Original(doc_id, Path(key), root, inner)


def test_a_collection_of_records_costs_nothing_to_look_up() -> None:
    """A JSONL file's records are never served, so two hundred thousand of them add nothing."""
    files = {
        f"/data/part-{f}.jsonl": {
            "root": "/data",
            "doc_ids": IdList(f"it-life-hack-{f}-{i:07d}" for i in range(20_000)),
        }
        for f in range(10)
    }
    tracemalloc.start()
    try:
        originals = Originals(files)  # type: ignore[arg-type]
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert kept < 20_000, f"{kept} bytes for 10 files"
    assert originals.find("it-life-hack-3-0000042") is None
    assert originals.find("part-3.jsonl") is None  # the file's own id, but not one of its documents
