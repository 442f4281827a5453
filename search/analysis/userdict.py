"""User dictionaries: a Sudachi user-dictionary CSV, compiled against the installed system dictionary.

``sakuin index PATH --user-dict lex.csv`` teaches Sudachi words it does not know
(a product name, a company's jargon): each line of the CSV is one word in Sudachi's
user-dictionary format (surface, connection ids, cost, part of speech, reading,
normalized form, splits; Sudachi's documentation describes the columns). The index
remembers the dictionary; index and query analysis both read text with it
(``sakuin.search.analysis.sudachi.user_dictionaries``).

Design decisions:

* **Compiled by SudachiPy's own builder** (the function behind ``sudachipy
  ubuild``) against the system dictionary that is installed, never shipped
  compiled: SudachiPy 0.7 changed the binary format, and a user dictionary only
  works with the system dictionary it was built against.
* **A compiled dictionary is named by its fingerprint**: the CSV's hash, SudachiPy's
  version and the system dictionary's. The same fingerprint is the same file,
  compiled once; upgrading either gives a new fingerprint, which the next index run
  notices (the sections are derived again from their stored text) and a server
  compiles for itself.
* **The index keeps the CSV's text** (``UserDictionary.store``: a copy in the index
  directory, a document of the cluster's state index), so searching never depends
  on the file staying where it was indexed from, and any process that needs the
  compiled dictionary can make it.
* **A bad line is reported as ``file:line: reason``**, from Sudachi's own message.
  Two cases its builder cannot report (it stops the process with a panic instead)
  are checked before it runs: a file with no word in it, and a line with too few
  columns, which is also a clearer message than the builder's.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sakuin.search.errors import UserDictionaryError

#: Columns of a line of Sudachi's user-dictionary CSV (a 19th, synonym groups, is optional).
MIN_COLUMNS = 18
#: A compiled dictionary's file name is its fingerprint and this.
SUFFIX = ".dic"
#: Sudachi's builder names the bad line: ``…/lex.csv:2<TAB>Field COST did not exist``.
_SUDACHI_LINE = re.compile(r":(\d+)\s+(.+)$", re.S)


@dataclass(frozen=True, slots=True)
class UserDictionary:
    """One user dictionary an index uses: the CSV's path when it was given, its hash, and the
    fingerprint of the compiled dictionary (the hash, SudachiPy's and the system dictionary's versions)."""

    path: str
    sha256: str
    fingerprint: str

    @property
    def name(self) -> str:
        """The CSV's file name, as messages say it."""
        return Path(self.path).name

    def to_manifest(self) -> dict[str, str]:
        return {"path": self.path, "sha256": self.sha256, "fingerprint": self.fingerprint}

    @classmethod
    def from_manifest(cls, data: Any) -> UserDictionary | None:
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("path", "sha256")):
            return None
        return cls(data["path"], data["sha256"], str(data.get("fingerprint") or ""))

    def current(self) -> UserDictionary:
        """The same CSV fingerprinted against what is installed now."""
        return UserDictionary(self.path, self.sha256, fingerprint(self.sha256))


def system_identity() -> str:
    """What a compiled user dictionary depends on besides its CSV: SudachiPy and the system dictionary."""
    return f"sudachipy {importlib.metadata.version('sudachipy')}; sudachidict-core {_core_version()}"


def _core_version() -> str:
    try:
        return importlib.metadata.version("sudachidict-core")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a dependency of sakuin
        return "unknown"


def fingerprint(sha256: str) -> str:
    """The compiled dictionary's name: the CSV's hash with what it was compiled against."""
    return hashlib.sha256(f"{sha256}\n{system_identity()}".encode()).hexdigest()[:32]


def read_csv(path: Path) -> tuple[UserDictionary, bytes]:
    """The dictionary ``path`` holds and its bytes, checked (raises UserDictionaryError)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserDictionaryError("user_dict_missing", path=str(path)) from None
    except OSError as exc:
        raise UserDictionaryError("user_dict_unreadable", path=str(path), reason=exc.strerror or str(exc)) from None
    check(data, path.name)
    digest = hashlib.sha256(data).hexdigest()
    return UserDictionary(str(path.absolute()), digest, fingerprint(digest)), data


def check(data: bytes, name: str) -> None:
    """What Sudachi's builder would stop the process for, or say less clearly: text that is not
    UTF-8, a line with too few columns, no word at all (raises UserDictionaryError)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserDictionaryError("bad_user_dict", file=name, line=line, reason="not UTF-8 text") from None
    words = 0
    for line, row in _rows(text):
        if len(row) < MIN_COLUMNS:
            raise UserDictionaryError(
                "bad_user_dict",
                file=name,
                line=line,
                reason=f"{len(row)} columns; a word has {MIN_COLUMNS} (surface, left id, right id, cost, surface,"
                " six parts of speech, reading, normalized form, dictionary form, split type, A, B and word splits)",
            )
        if row[1].strip() != "-1":  # -1: a word only other words' splits refer to, never looked up
            words += 1
    if not words:
        raise UserDictionaryError("bad_user_dict/empty", file=name)


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, columns) of each line with something on it."""
    reader = csv.reader(io.StringIO(text))
    for row in reader:
        if any(cell.strip() for cell in row):
            yield reader.line_num, row


def compile_dictionary(data: bytes, name: str, out: Path) -> Path:
    """Compile the CSV ``data`` (named ``name`` in messages) into ``out``, atomically; returns ``out``."""
    from sudachipy import sudachipy as native

    from sakuin.search.analysis.sudachi import system_dictionary_path

    check(data, name)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".build-") as tmp:
        source, target = Path(tmp) / "lex.csv", Path(tmp) / "user.dic"
        source.write_bytes(data)
        try:
            native.build_user_dic(system=Path(system_dictionary_path()), lex=[source], output=target, description="")
        except BaseException as exc:  # the builder's panics are BaseExceptions
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            raise _error(name, str(exc)) from None
        os.replace(target, out)
    return out


def _error(name: str, message: str) -> UserDictionaryError:
    found = _SUDACHI_LINE.search(message)
    if found is None:
        return UserDictionaryError("bad_user_dict/whole", file=name, reason=message.strip() or "Sudachi refused it")
    return UserDictionaryError("bad_user_dict", file=name, line=int(found.group(1)), reason=found.group(2).strip())


def compiled(entry: UserDictionary, directory: Path, source: Callable[[], bytes | None]) -> Path | None:
    """The compiled dictionary of ``entry`` in ``directory``, compiled from ``source()`` (the CSV's
    bytes the index kept) when it is not there yet; None when the index has no copy of it."""
    current = entry.current()
    out = directory / f"{current.fingerprint}{SUFFIX}"
    if out.exists():
        return out
    data = source()
    if data is None:
        return None
    return compile_dictionary(data, entry.name, out)


__all__ = ["UserDictionary", "check", "compile_dictionary", "compiled", "fingerprint", "read_csv", "system_identity"]
