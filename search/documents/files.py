"""Readers: turn input files into ``Document``s.

Format modules only parse text into a title and (heading, text) pairs; this module
owns everything they share (file I/O, decoding, ids, section clean-up) so that
every format obeys the same rules for ids, paths and empty sections.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from sakuin.search.config import max_file_bytes
from sakuin.search.documents.formats.encoding import decode_bytes
from sakuin.search.documents.formats.filemeta import front_matter, html_metadata
from sakuin.search.documents.formats.html import declared_charset, parse_html
from sakuin.search.documents.formats.jsonl import Problem, Record, parse_jsonl
from sakuin.search.documents.formats.markdown import parse_markdown
from sakuin.search.documents.formats.text import parse_plaintext
from sakuin.search.documents.kinds import REFUSED, file_type, is_extracted, modified_time
from sakuin.search.documents.model import Document
from sakuin.search.documents.sections import has_content, make_document
from sakuin.search.errors import UnreadableFile

__all__ = [
    "DocumentStream",
    "ReadResult",
    "UnreadableFile",
    "decode_bytes",
    "doc_id_for",
    "iter_documents",
    "iter_input_files",
    "open_input",
    "read_file",
    "text_document",
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
_MARKDOWN = frozenset({".md", ".markdown"})
_SNIFF = 8192


@dataclass
class ReadResult:
    """Documents from one file plus non-fatal problems (e.g. skipped JSONL lines)."""

    documents: list[Document]
    problems: list[str] = field(default_factory=list)


@dataclass
class DocumentStream:
    """The documents of one file, read as they are consumed.

    ``documents`` yields (document, input bytes it accounts for), so a caller can
    show progress in bytes; ``problems`` fills in as the stream is read.
    """

    documents: Iterator[tuple[Document, int]]
    problems: list[str]
    size: int


def read_file(path: Path, root: Path) -> ReadResult:
    """Read one file whole; raise UnreadableFile with a short reason if it yields nothing."""
    stream = iter_documents(path, root)
    documents = [document for document, _ in stream.documents]
    return ReadResult(documents, stream.problems)


def iter_documents(path: Path, root: Path) -> DocumentStream:
    """Open one file for streaming its documents.

    Whole-file problems (type, size, encoding, no content) raise UnreadableFile
    here, before anything is yielded. A JSONL file is read twice, never held: a
    first pass finds which line of each id survives (a later record with the same
    id replaces the earlier one) and what is wrong with the others; the second
    yields the surviving documents in file order.
    """
    suffix = path.suffix.lower()
    if suffix in REFUSED:
        raise UnreadableFile(REFUSED[suffix])
    if is_extracted(path):
        _check_name(path)
        from sakuin.search.documents.extract import extract_file  # extract reads text attachments through here

        extraction = extract_file(path, root)
        return DocumentStream(
            iter([(d, extraction.size if i == 0 else 0) for i, d in enumerate(extraction.documents)]),
            extraction.problems,
            extraction.size,
        )
    if suffix not in _PARSERS and suffix not in _JSONL:
        raise UnreadableFile(f"unsupported file type {suffix}")
    _check_name(path)
    try:
        with open_input(path) as stream:
            size = os.fstat(stream.fileno()).st_size
            if suffix in _JSONL:
                return _stream_jsonl(path, root, size)
            limit = max_file_bytes()
            if size > limit:
                raise UnreadableFile(
                    f"file too large ({size / 2**20:.1f} MB; the limit for {suffix or 'text'} files is "
                    f"{limit / 2**20:.0f} MB): split it or convert it to JSONL"
                )
            data = stream.read()
    except OSError as exc:
        raise UnreadableFile(_os_reason(exc)) from exc
    rel = doc_id_for(path, root)
    document = text_document(rel, rel, path.name, data, modified_time(path))
    return DocumentStream(iter([(document, len(data))]), [], len(data))


def is_text(name: str) -> bool:
    """Whether ``name`` is a text, Markdown or HTML file (read whole by ``text_document``)."""
    return Path(name).suffix.lower() in _PARSERS


def text_document(doc_id: str, rel: str, name: str, data: bytes, modified: str | None) -> Document:
    """A text, Markdown or HTML file's bytes as a document (``name`` gives its format and
    fallback title); raises UnreadableFile when nothing of it can be read."""
    suffix = Path(name).suffix.lower()
    parser = _PARSERS[suffix]
    hint = declared_charset(data) if parser is parse_html else None
    text = decode_bytes(data, hint)
    if not text.strip():
        raise UnreadableFile("empty file")
    title, raw_sections = parser(text, Path(name).stem)
    meta = html_metadata(text) if parser is parse_html else front_matter(text) if suffix in _MARKDOWN else {}
    document = make_document(doc_id, title, rel, raw_sections, meta, file_type=file_type(name), modified=modified)
    if not document.sections:
        raise UnreadableFile("no text content")
    return document


def open_input(path: Path) -> BinaryIO:
    """Open an input file for reading, refusing anything but a regular file.

    Opening a named pipe for reading would block until some other process writes
    to it, so the file is opened non-blocking and checked before any read. Every
    refusal is an OSError whose ``strerror`` is a reason fit for the summary.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "symbolic link loop") from exc
        if exc.errno == errno.ENOENT and path.is_symlink():
            raise OSError(errno.ENOENT, "broken symbolic link") from exc
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, _not_regular(mode, path))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _not_regular(mode: int, path: Path) -> str:
    if stat.S_ISDIR(mode):
        return "symbolic link to a directory, not followed" if path.is_symlink() else "a directory"
    kinds = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"))
    kind = next((name for test, name in kinds if test(mode)), "a special file")
    return f"not a regular file ({kind})"


def _check_name(path: Path) -> None:
    """File names are bytes on Linux; one that is not UTF-8 cannot become an id or a URL."""
    try:
        str(path.absolute()).encode("utf-8")
    except UnicodeEncodeError:
        raise UnreadableFile("file name is not valid UTF-8: rename the file to index it") from None


def doc_id_for(path: Path, root: Path) -> str:
    """Relative to the indexed root, so re-indexing from elsewhere keeps ids."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return Path(os.path.relpath(path.absolute(), root.absolute())).as_posix()


def iter_input_files(
    paths: list[Path], skipped: list[tuple[str, str]] | None = None, exclude: Iterable[Path] = ()
) -> Iterator[tuple[Path, Path]]:
    """Yield (file, root) pairs in a deterministic order.

    Every path is checked before anything is yielded, so a typo fails the run
    before any indexing work. Symlinked directories are not followed (no loops);
    symlinked files are, if they point at a regular file. Entries of a walked
    directory that cannot be read (named pipes, sockets, broken links, link loops,
    links to directories) are not yielded; if ``skipped`` is given, each is
    appended to it as (path, reason), so a run reports them instead of hiding them.
    The ``exclude`` folders (the index being written, wherever it is) are never
    input: ``sakuin index .`` must not index its own index.
    """
    for path in paths:
        if not path.exists() and not path.is_symlink():
            raise FileNotFoundError(f"no such file or directory: {path}")
        if not path.exists():
            raise FileNotFoundError(f"broken symbolic link: {path}")
    excluded = _Excluded(exclude)
    for path in paths:
        if excluded.covers(path):
            continue
        if path.is_dir():
            yield from ((file, path) for file in _walk(path, skipped, excluded))
        else:
            yield path, path.parent


class _Excluded:
    """Folders that are never input, recognised by identity (device and inode) or by path,
    so a symlink or a relative spelling of the index folder is recognised too."""

    def __init__(self, folders: Iterable[Path]) -> None:
        self.paths = [Path(os.path.realpath(f)) for f in folders]
        self.ids = set()
        for folder in self.paths:
            try:
                info = folder.stat()
            except OSError:
                continue  # not made yet: nothing in it to skip
            self.ids.add((info.st_dev, info.st_ino))

    def covers(self, path: Path) -> bool:
        if not self.paths:
            return False
        real = Path(os.path.realpath(path))
        return any(real == p or p in real.parents for p in self.paths)

    def is_one(self, folder: str) -> bool:
        if not self.ids:
            return False
        try:
            info = os.stat(folder)
        except OSError:
            return False
        return (info.st_dev, info.st_ino) in self.ids


def _walk(top: Path, skipped: list[tuple[str, str]] | None, excluded: _Excluded) -> Iterator[Path]:
    """Regular, non-hidden files under ``top``; unreadable and excluded directories are skipped."""
    for dirpath, dirnames, filenames in os.walk(top, followlinks=False):
        links = [name for name in dirnames if os.path.islink(os.path.join(dirpath, name))]
        dirnames[:] = sorted(
            name
            for name in dirnames
            if not name.startswith(".") and name not in links and not excluded.is_one(os.path.join(dirpath, name))
        )
        for name in sorted([*filenames, *links]):
            if name.startswith("."):
                continue
            file = Path(dirpath, name)
            problem = _entry_problem(file)
            if problem is None:
                yield file
            elif skipped is not None:
                skipped.append((str(file), problem))


def _entry_problem(path: Path) -> str | None:
    """Why a directory entry is not a readable regular file, or None if it is."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        if exc.errno == errno.ENOENT and path.is_symlink():
            return "broken symbolic link"
        return _os_reason(exc)
    return None if stat.S_ISREG(mode) else _not_regular(mode, path)


class _Counted:
    """Lines of a binary stream, counting the bytes handed out."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.nbytes = 0

    def __iter__(self) -> Iterator[bytes]:
        for line in self.stream:
            self.nbytes += len(line)
            yield line


def _stream_jsonl(path: Path, root: Path, size: int) -> DocumentStream:
    rel = doc_id_for(path, root)
    with open_input(path) as stream:
        if b"\x00" in stream.read(_SNIFF):
            raise UnreadableFile("binary file")
        stream.seek(0)
        survivors, problems = _survivors(parse_jsonl(stream, rel), rel)
    return DocumentStream(_surviving_documents(path, rel, survivors, modified_time(path)), problems, size)


def _survivors(items: Iterable[Record | Problem], rel: str) -> tuple[dict[str, int], list[str]]:
    """The first pass over a JSONL file: id → the line whose record is kept, and the problems."""
    survivors: dict[str, int] = {}
    first_line: dict[str, int] = {}
    problems: list[str] = []
    for item in items:
        if isinstance(item, Problem):
            problems.append(item.message)
            continue
        if not has_content(item.sections):
            problems.append(f"{rel}:{item.line}: no text content, record skipped")
            continue
        if item.doc_id in survivors:
            problems.append(
                f"{rel}:{item.line}: duplicate id {item.doc_id!r} "
                f"(first at line {first_line[item.doc_id]}), earlier record replaced"
            )
        first_line.setdefault(item.doc_id, item.line)
        survivors[item.doc_id] = item.line
    return survivors, problems


def _surviving_documents(
    path: Path, rel: str, survivors: dict[str, int], modified: str | None
) -> Iterator[tuple[Document, int]]:
    """The second pass: each kept record as a Document, with the bytes read since the last one."""
    with open_input(path) as stream:
        lines = _Counted(stream)
        reported = 0
        for item in parse_jsonl(lines, rel):
            if isinstance(item, Record) and survivors.get(item.doc_id) == item.line:
                document = make_document(
                    item.doc_id, item.title, rel, item.sections, item.meta, file_type="jsonl", modified=modified
                )
                yield document, lines.nbytes - reported
                reported = lines.nbytes


def _os_reason(exc: OSError) -> str:
    """ "Permission denied" reads better in a summary than the full repr."""
    return exc.strerror or str(exc)
