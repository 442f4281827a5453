"""What one file's extraction may cost: pages, decompressed bytes, time and text.

A folder of real documents holds pathological ones: a PDF whose page tree claims
a million pages, a DOCX that inflates to gigabytes, a file that makes a parser
spin. Each reader checks these limits as it goes and raises ``UnreadableFile``
with the reason, so the file is skipped and named in the summary while the rest
of the folder is indexed; nothing hangs the run or breaks its memory bound.

Design decisions:

* **Time is checked cooperatively** (``Deadline.check`` between pages, parts,
  rows) and, in a process's main thread, also by a timer (``SIGALRM``) that
  interrupts a reader stuck inside Python code. A parser stuck inside C code
  returns to Python between pages, where the deadline catches it.
* **Zip sizes come from the archive's directory.** Python's ``zipfile`` never
  returns more bytes for a member than the directory declares, so the declared
  total bounds what any reader built on it can inflate (``check_zip``).
* **Text is budgeted in UTF-8 bytes** (``TextBudget``): the worker holds one file's
  text while it analyses it.
"""

from __future__ import annotations

import signal
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

from sakuin.search.config import MB, document_limits
from sakuin.search.errors import UnreadableFile


@dataclass(frozen=True, slots=True)
class Limits:
    """The per-file limits in force (``sakuin.search.config.document_limits``)."""

    file_bytes: float
    pages: float
    unzipped_bytes: float
    seconds: float
    text_bytes: float

    @classmethod
    def current(cls) -> Limits:
        return cls(**document_limits())


class Deadline:
    """When a file's extraction must end; ``check`` raises ``UnreadableFile`` past it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise UnreadableFile(_too_slow(self.seconds))


def _too_slow(seconds: float) -> str:
    return f"took longer than {seconds:g} s to read (SAKUIN_MAX_FILE_SECONDS)"


class _Interrupted(BaseException):
    """Raised by the timer inside a reader; a BaseException so no reader's ``except
    Exception`` swallows it."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (plus a grace of a tenth) if it is still running
    Python code: the backstop behind ``Deadline.check``. Only in a main thread (signals
    are delivered there); elsewhere the cooperative checks alone hold."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise _Interrupted

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds * 1.1 + 1)
    try:
        yield
    except _Interrupted:
        raise UnreadableFile(_too_slow(seconds)) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class TextBudget:
    """Counts the text a file yields; ``add`` raises ``UnreadableFile`` past the limit."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.used = 0

    def add(self, text: str) -> str:
        self.used += len(text.encode("utf-8", "surrogatepass")) if not text.isascii() else len(text)
        if self.used > self.limit:
            raise UnreadableFile(
                f"more than {self.limit / MB:.0f} MB of text (SAKUIN_MAX_EXTRACTED_MB): split the document"
            )
        return text


def check_zip(archive: zipfile.ZipFile, limit: float, kind: str) -> None:
    """Refuse a zip that declares more decompressed bytes than ``limit`` (module doc)."""
    total = sum(info.file_size for info in archive.infolist())
    if total > limit:
        raise UnreadableFile(
            f"{kind} would decompress to {total / MB:,.0f} MB (limit {limit / MB:.0f} MB, SAKUIN_MAX_UNZIPPED_MB):"
            " a zip bomb?"
        )


__all__ = ["Deadline", "Limits", "TextBudget", "check_zip", "time_limit"]
