"""The index directory: immutable versions, an atomic pointer, one writer.

Layout of ``index/``::

    CURRENT        name of the live version (replaced atomically with os.replace)
    v000007/       a complete Whoosh index + manifest.json (+ its user dictionaries:
                   userdict-<sha256>.csv and the compiled userdict-<fingerprint>.dic),
                   never modified once live
    .tmp-000008-…  a build in progress (deleted by the next writer if abandoned)
    .lock          held (flock) by the one running writer

A build works on a private copy and only the final ``os.replace`` of CURRENT makes
it visible, so a crash or SIGKILL at any moment leaves the previous version live
and complete, and readers never see a half-written index. ``flock`` locks die with
their process, so a killed writer never leaves a stale lock behind. Processes a
writer forks (Whoosh's parallel workers) close their copy of the lock and die with
the writer, so ``kill -9`` of the main process alone frees the lock too.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sakuin.search.analysis.settings import AnalysisSettings
from sakuin.search.analysis.userdict import UserDictionary, compile_dictionary, compiled
from sakuin.search.config import KEEP_OLD, dictionary_dir
from sakuin.search.errors import IndexBusy, IndexMissing
from sakuin.search.indexing.ids import dump, load

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
LOCK = ".lock"
TMP_PREFIX = ".tmp-"
USER_DICT_PREFIX = "userdict-"


#: Lock descriptors this process holds, so forked children can drop their copies.
_held_locks: set[int] = set()
_forked_by: list[int] = [0]
_PR_SET_PDEATHSIG = 1


def _find_prctl() -> Callable[..., int] | None:
    """Linux's prctl(2), resolved now: a fork hook must not search for libraries."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_prctl = _find_prctl()


def _before_fork() -> None:
    _forked_by[0] = os.getpid()


def _after_fork_in_child() -> None:
    """A child of a writer must neither keep the lock nor outlive the writer.

    A forked child shares the lock's open file description, and ``flock`` locks are
    released only when every copy is closed: if the writer were SIGKILLed, its
    orphaned workers (blocked forever on their job queue) would keep the index
    locked. Closing the copy (never LOCK_UN, which would free the parent's lock)
    and asking the kernel to kill the child with its parent prevents both.
    """
    if not _held_locks:
        return
    for fd in _held_locks:
        with contextlib.suppress(OSError):
            os.close(fd)
    _held_locks.clear()
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != _forked_by[0]:  # the writer died before prctl took effect
            os._exit(1)


os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _fsync_tree(path: Path) -> None:
    for f in path.iterdir():
        if f.is_file():
            fsync_file(f)
    _fsync_dir(path)


#: The deleted sections' statistics (``sakuin.search.embedded.livestats``), beside the TOC.
DELETED_STATS = "deleted.json"
#: Files a build rewrites (the manifest, the deleted sections' statistics,
#: Whoosh's lock file): private copies, never links.
PRIVATE_FILES = frozenset({MANIFEST, DELETED_STATS, "MAIN_WRITELOCK"})


def _link_or_copy(src: str, dst: str) -> None:
    """A private file is copied, every other file (segments, user dictionaries) hard-linked."""
    if Path(src).name in PRIVATE_FILES:
        shutil.copy2(src, dst)
        return
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


class IndexStore:
    """Versioned storage for one index directory."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    # -- reading ---------------------------------------------------------------

    def current_name(self) -> str | None:
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def current(self) -> Path:
        """The live version's directory; raises IndexMissing with what to do."""
        name = self.current_name()
        if name is None or not (self.root / name).is_dir():
            raise IndexMissing("index_missing", index_dir=self.root)
        return self.root / name

    def manifest(self) -> dict[str, Any]:
        """What the live version was built from (files, hashes, doc ids)."""
        try:
            path = self.current() / MANIFEST
        except IndexMissing:
            return {}
        return load(path.read_text(encoding="utf-8"))

    def versions(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if p.is_dir() and p.name.startswith("v"))

    # -- writing ---------------------------------------------------------------

    @contextlib.contextmanager
    def writer_lock(self, wait: bool = True, on_wait: Callable[[], None] | None = None) -> Iterator[None]:
        """Hold the single-writer lock for the duration of a build."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if not wait:
                    raise IndexBusy("index_busy", index_dir=self.root) from None
                if on_wait:
                    on_wait()
                fcntl.flock(fd, fcntl.LOCK_EX)
            _held_locks.add(fd)
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
            self._remove_abandoned()
            yield
        finally:
            _held_locks.discard(fd)
            os.close(fd)

    def _remove_abandoned(self) -> None:
        """Delete what a killed writer left behind (we hold the lock, so none of it is live):
        build directories and the temporary CURRENT pointer of an unfinished swap."""
        for p in self.root.iterdir():
            if p.name.startswith(TMP_PREFIX):
                shutil.rmtree(p, ignore_errors=True)
            elif p.name.startswith(f"{CURRENT}.") and p.name.endswith(".tmp"):
                with contextlib.suppress(OSError):
                    p.unlink()

    def _next_generation(self) -> int:
        gens = [int(p.name[1:]) for p in self.versions() if p.name[1:].isdigit()]
        return max(gens, default=0) + 1

    def start_version(self, copy_current: bool) -> Path:
        """A private working directory for a build, optionally seeded with the live index.

        The live version's files are hard-linked, not copied: Whoosh never writes
        into an existing segment or TOC file (an update adds new segments and a new
        TOC, and records deletions in the TOC), so the build shares them safely
        and an update costs what it adds. Only the files a build rewrites
        (``PRIVATE_FILES``) are private copies.
        """
        tmp = self.root / f"{TMP_PREFIX}{self._next_generation():06d}-{os.getpid()}"
        if copy_current and self.current_name():
            shutil.copytree(self.current(), tmp, copy_function=_link_or_copy)
        else:
            tmp.mkdir(parents=True)
        return tmp

    def publish(self, tmp: Path, manifest: dict[str, Any]) -> Path:
        """Make a finished build live: durable files first, then the pointer swap."""
        manifest = {**manifest, "published": datetime.now(UTC).isoformat(timespec="seconds")}
        with open(tmp / MANIFEST, "w", encoding="utf-8") as fh:
            dump(manifest, fh)
        _fsync_tree(tmp)
        previous = self.current_name()
        final = self.root / f"v{self._next_generation():06d}"
        tmp.rename(final)
        pointer = self.root / f"{CURRENT}.{os.getpid()}.tmp"
        with open(pointer, "w", encoding="utf-8") as fh:
            fh.write(final.name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(pointer, self.root / CURRENT)
        _fsync_dir(self.root)
        self._prune(final, previous)
        return final

    def _prune(self, live: Path, previous: str | None) -> None:
        """Delete old versions, keeping the one that was live until now (a server may be
        mid-request on it). Choosing it by name, not as the newest other directory,
        matters after a crash between rename and swap left a never-live version behind."""
        keep = [live.name]
        if KEEP_OLD and previous:
            keep.append(previous)
        for p in self.versions():
            if p.name not in keep:
                shutil.rmtree(p, ignore_errors=True)

    def size_bytes(self, version: Path | None = None) -> int:
        """Bytes of ``version`` (a version folder; the live one by default)."""
        if version is None:
            try:
                version = self.current()
            except IndexMissing:
                return 0
        return sum(f.stat().st_size for f in version.iterdir() if f.is_file())


# -- user dictionaries ----------------------------------------------------------------


def dictionary_files(folder: Path, entry: UserDictionary) -> tuple[Path, Path]:
    """A version's copy of a user dictionary's CSV, and the dictionary compiled from it for the
    SudachiPy and system dictionary installed now."""
    return (
        folder / f"{USER_DICT_PREFIX}{entry.sha256}.csv",
        folder / f"{USER_DICT_PREFIX}{entry.current().fingerprint}.dic",
    )


def install_dictionaries(
    folder: Path, settings: AnalysisSettings, csv: dict[str, bytes], live: Path | None = None
) -> tuple[str, ...]:
    """Give a build's ``folder`` its user dictionaries (the CSV's copy, compiled), and only those;
    ``csv``: the CSV text this run read; a dictionary whose file is gone comes from the ``live``
    version (an update has linked it in already). Returns the compiled dictionaries' paths, in order."""
    keep: set[str] = set()
    out: list[str] = []
    for entry in settings.user_dicts:
        source, target = dictionary_files(folder, entry)
        if not source.exists():
            kept = dictionary_files(live, entry)[0] if live is not None else None
            source.write_bytes(csv[entry.sha256] if entry.sha256 in csv or kept is None else kept.read_bytes())
        if not target.exists():
            compile_dictionary(source.read_bytes(), entry.name, target)
        keep |= {source.name, target.name}
        out.append(str(target))
    for p in folder.glob(f"{USER_DICT_PREFIX}*"):
        if p.name not in keep:
            p.unlink()
    return tuple(out)


def version_dictionaries(folder: Path, settings: AnalysisSettings) -> tuple[str, ...]:
    """The compiled user dictionaries of a published version. A version is never written again:
    one a newer SudachiPy needs compiled anew is compiled into ``DICTIONARY_DIR``."""
    out: list[str] = []
    for entry in settings.user_dicts:
        source, target = dictionary_files(folder, entry)
        if target.exists():
            out.append(str(target))
            continue
        made = compiled(entry, dictionary_dir(), lambda s=source: s.read_bytes() if s.exists() else None)
        if made is not None:
            out.append(str(made))
    return tuple(out)
