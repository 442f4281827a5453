"""Readers: turn input files into ``Document``s.

Format modules only parse text into a title and (heading, text) pairs; this module
owns everything they share (file I/O, decoding, ids, section clean-up) so that
every format obeys the same rules for ids, paths and empty sections.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from search.documents import Document, Section, UnreadableFile
from search.readers.encoding import decode_bytes
from search.readers.html import declared_charset, parse_html
from search.readers.jsonl import Problem, Record, parse_jsonl
from search.readers.markdown import parse_markdown
from search.readers.plaintext import parse_plaintext

__all__ = [
    "ReadResult",
    "UnreadableFile",
    "decode_bytes",
    "doc_id_for",
    "iter_input_files",
    "read_file",
]

Parser = Callable[[str, str], tuple[str, list[tuple[str, str]]]]

_PARSERS: dict[str, Parser] = {
    "": parse_plaintext,
    ".txt": parse_plaintext,
    ".text": parse_plaintext,
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".html": parse_html,
    ".htm": parse_html,
}
_JSONL = frozenset({".jsonl", ".ndjson"})
_SNIFF = 8192


@dataclass
class ReadResult:
    """Documents from one file plus non-fatal problems (e.g. skipped JSONL lines)."""

    documents: list[Document]
    problems: list[str] = field(default_factory=list)


def read_file(path: Path, root: Path) -> ReadResult:
    """Read one file; raise UnreadableFile with a short reason if it yields nothing."""
    suffix = path.suffix.lower()
    if suffix not in _PARSERS and suffix not in _JSONL:
        raise UnreadableFile(f"unsupported file type {suffix}")
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise UnreadableFile("not a regular file")  # a FIFO would block the read
        if suffix in _JSONL:
            return _read_jsonl(path, root)
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(_os_reason(exc)) from exc
    hint = declared_charset(data) if _PARSERS[suffix] is parse_html else None
    text = decode_bytes(data, hint)
    if not text.strip():
        raise UnreadableFile("empty file")
    title, raw_sections = _PARSERS[suffix](text, path.stem)
    rel = doc_id_for(path, root)
    document = _document(rel, title, rel, raw_sections)
    if not document.sections:
        raise UnreadableFile("no text content")
    return ReadResult([document])


def doc_id_for(path: Path, root: Path) -> str:
    """Relative to the indexed root, so re-indexing from elsewhere keeps ids."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return Path(os.path.relpath(path.absolute(), root.absolute())).as_posix()


def iter_input_files(paths: list[Path]) -> Iterator[tuple[Path, Path]]:
    """Yield (file, root) pairs in a deterministic order.

    Every path is checked before anything is yielded, so a typo fails the run
    before any indexing work. Symlinked directories are not followed (no loops);
    symlinked files are, if they point at a regular file.
    """
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise FileNotFoundError(f"no such file or directory: {path}")
        if not path.exists():
            raise FileNotFoundError(f"broken symbolic link: {path}")
    for path in paths:
        if path.is_dir():
            yield from ((file, path) for file in _walk(path))
        else:
            yield path, path.parent


def _walk(top: Path) -> Iterator[Path]:
    """Regular, non-hidden files under ``top``; unreadable directories are skipped."""
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        dirnames[:] = sorted(name for name in dirnames if not name.startswith("."))
        for name in sorted(filenames):
            file = Path(dirpath, name)
            if not name.startswith(".") and file.is_file():
                yield file


def _read_jsonl(path: Path, root: Path) -> ReadResult:
    """Stream records; a later record with the same id replaces the earlier one."""
    rel = doc_id_for(path, root)
    with path.open("rb") as stream:
        if b"\x00" in stream.read(_SNIFF):
            raise UnreadableFile("binary file")
        stream.seek(0)
        return _collect(parse_jsonl(stream, rel), rel)


def _collect(items: Iterable[Record | Problem], rel: str) -> ReadResult:
    documents: dict[str, Document] = {}
    first_line: dict[str, int] = {}
    problems: list[str] = []
    for item in items:
        if isinstance(item, Problem):
            problems.append(item.message)
            continue
        document = _document(item.doc_id, item.title, rel, item.sections, item.meta)
        if not document.sections:
            problems.append(f"{rel}:{item.line}: no text content, record skipped")
            continue
        if item.doc_id in documents:
            problems.append(
                f"{rel}:{item.line}: duplicate id {item.doc_id!r} "
                f"(first at line {first_line[item.doc_id]}), earlier record replaced"
            )
            del documents[item.doc_id]  # keep file order: the survivor moves to the end
        first_line.setdefault(item.doc_id, item.line)
        documents[item.doc_id] = document
    return ReadResult(list(documents.values()), problems)


def _document(
    doc_id: str,
    title: str,
    rel: str,
    raw_sections: Iterable[tuple[str, str]],
    meta: dict[str, Any] | None = None,
) -> Document:
    """Apply the rules shared by all formats: clean text, no empty sections, 0..n-1."""
    cleaned = ((_clean_heading(heading), _clean_text(text)) for heading, text in raw_sections)
    kept = [(heading, text) for heading, text in cleaned if heading or text]
    sections = tuple(Section(ordinal, heading, text) for ordinal, (heading, text) in enumerate(kept))
    title = _clean_heading(title) or Path(rel).stem
    return Document(doc_id=doc_id, title=title, path=rel, sections=sections, meta=meta or {})


def _clean_heading(text: str) -> str:
    return " ".join(text.split())


def _clean_text(text: str) -> str:
    """Trailing whitespace goes (per line too); leading blank lines go."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip("\n").rstrip()


def _os_reason(exc: OSError) -> str:
    """ "Permission denied" reads better in a summary than the full repr."""
    return exc.strerror or str(exc)
