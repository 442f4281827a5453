"""Hostile files: every entry of a messy folder is indexed or skipped with its name and a
reason, the run finishes, the summary counts them and the exit status says so (3).

The corpus is generated here (no committed binaries). Slow cases (a 50 MB single-line
file, 10,000 tiny files) are marked ``slow``; CI still runs them.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from support.paths import ROOT
from support.processes import sakuin

from sakuin.search.config import MAX_SECTION_CHARS, max_file_bytes
from sakuin.search.embedded.reading.engine import EmbeddedEngine
from sakuin.search.embedded.writing.indexer import build_index

BAD_NAME = os.fsdecode(b"bad-\xff\xfe-name.txt")  # not UTF-8: Python keeps the bytes as surrogates

#: name -> what must happen: ("indexed", doc id or None), ("skipped", words of the reason),
#: or ("either", None) where guessing an encoding may legitimately succeed or fail.
EXPECTED: dict[str, tuple[str, str | None]] = {
    "ok.md": ("indexed", "ok.md"),
    "binary.txt": ("skipped", "binary file"),
    "image.png": ("skipped", "unsupported file type .png"),
    "nul-bytes.txt": ("skipped", "binary file"),
    "invalid-utf8.txt": ("either", None),  # 10 bytes: a legacy-codec guess may "succeed"
    "mostly-utf8.txt": ("indexed", "mostly-utf8.txt"),
    "mixed-utf8-sjis.txt": ("indexed", "mixed-utf8-sjis.txt"),
    "mixed-utf8-eucjp.md": ("indexed", "mixed-utf8-eucjp.md"),
    "empty.txt": ("skipped", "empty file"),
    "blank.md": ("skipped", "empty file"),
    "nested.html": ("indexed", "nested.html"),
    "fifo.txt": ("skipped", "named pipe"),
    "broken-link.txt": ("skipped", "broken symbolic link"),
    "self-loop.txt": ("skipped", "symbolic link loop"),
    "loop-a.txt": ("skipped", "symbolic link loop"),
    "loop-b.txt": ("skipped", "symbolic link loop"),
    "dir-loop": ("skipped", "symbolic link to a directory"),
    "with space.txt": ("indexed", "with space.txt"),
    "日本語の名前.md": ("indexed", "日本語の名前.md"),
    "new\nline.txt": ("indexed", "new\nline.txt"),
    "sub dir/深い/file.txt": ("indexed", "sub dir/深い/file.txt"),
    BAD_NAME: ("skipped", "file name is not valid UTF-8"),
    "records.jsonl": ("indexed", None),
}


def make_hostile_folder(docs: Path) -> None:
    def put(name: str, data: bytes) -> None:
        path = docs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    docs.mkdir(parents=True)
    put("ok.md", "# 普通\n\n普通の猫の話。\n".encode())
    put("binary.txt", bytes(range(256)) * 64)
    put("image.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    put("nul-bytes.txt", "猫\x00の話\x00".encode() * 100)
    put("invalid-utf8.txt", "短い".encode() + b"\xff\xfe\xfd\xfc")
    put("mostly-utf8.txt", ("壊れた文字のある長い猫の文章。" * 200).encode() + b"\xff" + "末尾の犬。".encode())
    put(
        "mixed-utf8-sjis.txt",
        "前半はユーティーエフの猫です。\n".encode() * 3 + "後半はシフトジスの犬です。\n".encode("cp932") * 3,
    )
    put(
        "mixed-utf8-eucjp.md",
        "# 混在\n\nユーティーエフの鳥です。\n".encode() + "イーユーシーの魚です。\n".encode("euc_jp"),
    )
    put("empty.txt", b"")
    put("blank.md", b" \n\t\n\r\n")
    depth = 20_000
    put(
        "nested.html",
        b"<html><body>" + b"<div>" * depth + "深い入れ子の猫".encode() + b"</div>" * depth + b"</body></html>",
    )
    os.mkfifo(docs / "fifo.txt")
    (docs / "broken-link.txt").symlink_to(docs / "nowhere.txt")
    (docs / "self-loop.txt").symlink_to("self-loop.txt")
    (docs / "loop-a.txt").symlink_to("loop-b.txt")
    (docs / "loop-b.txt").symlink_to("loop-a.txt")
    (docs / "dir-loop").symlink_to(docs, target_is_directory=True)
    put("with space.txt", "空白のある名前の猫".encode())
    put("日本語の名前.md", "# 名前\n\n日本語の名前の猫".encode())
    put("new\nline.txt", "改行のある名前の猫".encode())
    put("sub dir/深い/file.txt", "深いフォルダの猫".encode())
    put(BAD_NAME, "名前が壊れた猫".encode())
    records = [
        '{"id": "good", "title": "良い", "text": "良い記録の猫"}',
        '{"id": "lone\\udcffid", "text": "猫"}',  # an id that is not valid Unicode: skipped
        '{"id": "surrogate-text", "title": "題\\ud800", "text": "孤立サロゲートの\\udc00猫"}',
        '{"id": "nul", "text": "NUL\\u0000入りの猫"}',
        "[1, 2, 3]",
        '{"id": "no-text"}',
        "{not json",
        '{"id": 7, "text": "数字IDの猫", "meta": {"\\ud800": ["\\udfff"]}}',
    ]
    put("records.jsonl", ("\n".join(records) + "\n").encode())


def test_every_hostile_file_is_indexed_or_skipped_with_a_reason(tmp_path: Path) -> None:
    docs, ix = tmp_path / "docs", tmp_path / "ix"
    make_hostile_folder(docs)
    out = sakuin("index", str(docs), "--index-dir", str(ix), "--json", check=False)
    assert out.returncode == 3, out.stderr
    assert "Traceback" not in out.stderr
    report = json.loads(out.stdout)  # valid JSON although one file name is not UTF-8
    skipped = {os.path.relpath(s["path"], docs): s["reason"] for s in report["skipped"]}
    added = {os.path.relpath(p, docs) for p in report["added"]}
    # The same run again, as a person reads it: nothing changed, the skipped files are named again.
    human = sakuin("index", str(docs), "--index-dir", str(ix), check=False)
    assert human.returncode == 3 and "index is up to date" in human.stdout
    assert f"{len(skipped)} skipped" in human.stdout

    for name, (outcome, detail) in EXPECTED.items():
        if outcome == "skipped":
            assert name in skipped, f"{name!r} was neither indexed nor reported"
            assert detail in skipped[name], (name, skipped[name])
            # The human summary names it too (non-UTF-8 bytes shown escaped).
            shown = name.encode("utf-8", "backslashreplace").decode("utf-8")
            assert f"skipped: {docs}/{shown}: {skipped[name]}" in human.stderr, name
        elif outcome == "either":
            assert (name in skipped) != (name in added), name
        else:
            assert name in added, (name, sorted(skipped))
    assert set(skipped) | added == set(EXPECTED), "an entry was silently ignored"
    assert report["documents"] == len(added) - 1 + 4  # records.jsonl holds 4 good records

    engine = EmbeddedEngine(ix)

    def ids(q: str) -> set[str]:
        return {h.doc_id for h in engine.search(q, per_page=100).hits}

    assert {"mixed-utf8-sjis.txt"} <= ids("ユーティーエフ") & ids("シフトジス")
    assert "mixed-utf8-eucjp.md" in ids("イーユーシー") & ids("鳥")
    assert "mostly-utf8.txt" in ids("末尾")
    assert "nested.html" in ids("入れ子")
    assert {"good", "surrogate-text", "nul", "7"} <= ids("猫")
    assert {"with space.txt", "new\nline.txt", "日本語の名前.md", "sub dir/深い/file.txt"} <= ids("名前 OR フォルダ")
    problems = "\n".join(report["problems"])
    assert "records.jsonl:2" in problems and "records.jsonl:5" in problems and "records.jsonl:7" in problems

    # Odd ids and texts survive the API (a lone surrogate would make a response unencodable).
    from sakuin.web import create_app

    client = create_app({"TESTING": True, "INDEX_DIR": str(ix)}).test_client()
    for doc_id in ("new\nline.txt", "sub dir/深い/file.txt", "surrogate-text", "with space.txt"):
        response = client.get("/api/documents/" + quote(doc_id, safe="/"))
        assert response.status_code == 200, doc_id
        assert response.get_json()["doc_id"] == doc_id
    assert client.get("/api/search", query_string={"q": "孤立サロゲート"}).status_code == 200
    assert client.get("/search", query_string={"q": "猫"}).status_code == 200


def test_a_named_pipe_given_as_the_path_does_not_hang(tmp_path: Path) -> None:
    """Found: hashing opened the FIFO for reading, which blocks until a writer appears."""
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    (tmp_path / "ok.txt").write_text("猫の話", encoding="utf-8")
    out = sakuin(
        "index", str(fifo), str(tmp_path / "ok.txt"), "--index-dir", str(tmp_path / "ix"), check=False, timeout=60
    )
    assert out.returncode == 3 and "pipe.txt: not a regular file (a named pipe)" in out.stderr


def test_files_that_vanish_mid_run_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sakuin.search.indexing import changes as indexer

    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("a.txt", "gone-before-hash.txt", "gone-before-read.txt"):
        (docs / name).write_text(f"{name} の猫", encoding="utf-8")
    real_hash, real_read = indexer.file_hash, indexer.iter_documents

    def vanishing_hash(path: Path) -> str:
        if path.name == "gone-before-hash.txt":
            path.unlink()
        return real_hash(path)

    def vanishing_read(path: Path, root: Path):  # type: ignore[no-untyped-def]
        if path.name == "gone-before-read.txt":
            path.unlink()
        return real_read(path, root)

    monkeypatch.setattr(indexer, "file_hash", vanishing_hash)
    monkeypatch.setattr(indexer, "iter_documents", vanishing_read)
    report = build_index([docs], tmp_path / "ix")
    reasons = {Path(p).name: r for p, r in report.skipped}
    assert reasons == {
        "gone-before-hash.txt": "No such file or directory",
        "gone-before-read.txt": "No such file or directory",
    }
    assert report.documents == 1


def _unprivileged_user() -> pwd.struct_passwd | None:
    for name in ("nobody", "daemon"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    return None


def test_unreadable_file_is_skipped_with_permission_denied() -> None:
    """chmod 000 blocks reads only for a user without CAP_DAC_OVERRIDE: as root, the run
    itself is done as an unprivileged user."""
    user = _unprivileged_user() if os.geteuid() == 0 else None
    if os.geteuid() == 0 and user is None:
        pytest.skip("running as root and no unprivileged user to run the indexer as")
    base = Path(tempfile.mkdtemp(prefix="sakuin-perm-"))
    try:
        base.chmod(0o777)
        docs = base / "docs"
        docs.mkdir()
        (docs / "ok.txt").write_text("読める猫", encoding="utf-8")
        secret = docs / "secret.txt"
        secret.write_text("読めない猫", encoding="utf-8")
        secret.chmod(0)
        locked = docs / "locked-dir"
        locked.mkdir()
        (locked / "inside.txt").write_text("中の猫", encoding="utf-8")
        locked.chmod(0)
        for p in (docs, docs / "ok.txt"):
            p.chmod(p.stat().st_mode | stat.S_IROTH | stat.S_IXOTH)
        kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
        env = {**os.environ, "HOME": str(base)}
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "sakuin", "index", str(docs), "--index-dir", str(base / "ix")],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=300,
                env=env,
                **kwargs,
            )
        except PermissionError:
            pytest.skip(f"user {user.pw_name if user else '?'} may not execute {sys.executable} (a root-only path)")
        if user and "secret.txt" not in proc.stderr:
            pytest.skip(f"user {user.pw_name} cannot run the project's Python here: {proc.stderr[-300:]}")
        assert proc.returncode == 3, proc.stderr
        assert f"skipped: {secret}: Permission denied" in proc.stderr
        assert "1 document," in proc.stdout
    finally:
        for p in (base / "docs" / "locked-dir", base / "docs" / "secret.txt"):
            if p.exists():
                p.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.slow
def test_50_mb_single_line_file_is_refused_quickly_and_long_lines_are_split(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    line = "猫が好きです。lorem ipsum dolor sit amet, consectetur adipiscing elit. "
    big = docs / "big-line.txt"
    with big.open("w", encoding="utf-8") as fh:
        chunk = line * 10_000
        while fh.tell() < 50 * 2**20:
            fh.write(chunk)
    # Long but under the size limit: one 600,000-character line, indexed in pieces.
    long_line = (line * (600_000 // len(line) + 1))[:600_000] + "最後の単語は終点です"
    (docs / "long-line.txt").write_text(long_line, encoding="utf-8")
    assert big.stat().st_size > max_file_bytes()

    started = time.monotonic()
    out = sakuin("index", str(docs), "--index-dir", str(tmp_path / "ix"), check=False)
    seconds = time.monotonic() - started
    print(f"\n50 MB line + 600k-char line: {seconds:.1f} s")
    assert out.returncode == 3, out.stderr
    assert f"skipped: {big}: file too large (50." in out.stderr
    engine = EmbeddedEngine(tmp_path / "ix")
    doc = engine.document("long-line.txt")
    assert doc is not None and len(doc.sections) == -(-len(long_line) // MAX_SECTION_CHARS)
    assert all(len(s.text) <= MAX_SECTION_CHARS for s in doc.sections)
    assert "".join(s.text for s in doc.sections).replace(" ", "") == long_line.replace(" ", "")
    assert [h.doc_id for h in engine.search("終点").hits] == ["long-line.txt"]

    # The limit is a setting: raised, the same file is read (here only checked to be tried).
    env_out = subprocess.run(
        [sys.executable, "-m", "sakuin", "index", str(big), "--index-dir", str(tmp_path / "ix2")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SAKUIN_MAX_FILE_MB": "0.001"},
    )
    assert "limit for .txt files is 0 MB" in env_out.stderr or "file too large" in env_out.stderr


@pytest.mark.slow
def test_10000_tiny_files(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    topics = ("猫", "犬", "鳥", "魚")
    for i in range(10_000):
        folder = docs / f"d{i // 100:03d}"
        if i % 100 == 0:
            folder.mkdir(parents=True)
        (folder / f"f{i:05d}.txt").write_text(f"{topics[i % 4]}の話 {i}", encoding="utf-8")
    started = time.monotonic()
    out = sakuin("index", str(docs), "--index-dir", str(tmp_path / "ix"), timeout=600)
    first = time.monotonic() - started
    assert "10000 documents, 10000 sections, 0 skipped" in out.stdout
    started = time.monotonic()
    again = sakuin("index", str(docs), "--index-dir", str(tmp_path / "ix"), timeout=600)
    second = time.monotonic() - started
    assert "index is up to date (10000 files unchanged)" in again.stdout
    print(f"\n10,000 files: first run {first:.1f} s, unchanged re-run {second:.1f} s")
    assert EmbeddedEngine(tmp_path / "ix").search("猫", per_page=1).total == 2500
