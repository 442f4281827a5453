"""A document's original, to serve it read-only: found through the index, confined to its folder.

The web app serves ``/files/<doc_id>`` and the page thumbnails of a PDF from the
original files. What may be served is decided here, from the live version's
manifest only (``files``: each file's absolute path, its documents and the
folder it was indexed from), never from a path in the request:

* a document id the manifest does not list is unknown, whatever it spells
  (``../../etc/passwd``, ``/etc/passwd`` and their encodings are just ids);
* the file's real path (symbolic links resolved) must lie inside the real path
  of the folder it was indexed from, so a link in the folder that points out of
  it is indexed but never served;
* it must still be a regular file.

Anything else is "not found", exactly like a document that does not exist: a
denied file and a missing one answer the same. A document inside another file
(an attachment ``mail.eml#report.pdf``, a message ``box.mbox#3``) is served as
the bytes it was read from, found again in its container.
"""

from __future__ import annotations

import mailbox
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sakuin.search.documents.formats.mail import read_eml
from sakuin.search.documents.kinds import MEDIA_TYPES, file_type
from sakuin.search.documents.limits import Deadline, TextBudget


@dataclass(frozen=True, slots=True)
class Original:
    """Where a document's original is: the indexed file, and the document's place inside it."""

    doc_id: str
    #: The indexed file (its manifest key) and the folder it was indexed from.
    file: Path
    root: Path
    #: The id parts after the file's own id (``["report.pdf"]`` for ``mail.eml#report.pdf``).
    inner: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The original's file name (an attachment's own name)."""
        return self.inner[-1] if self.inner and not self.inner[-1].isdigit() else self.file.name

    @property
    def file_type(self) -> str:
        if self.inner and self.inner[-1].isdigit():
            return "eml"  # a message of an mbox
        return file_type(self.name)

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES.get(self.file_type, "application/octet-stream")


class Originals:
    """Document id → its original, for one manifest (built once per index version).

    Only a file's own documents can be served: its own id (its path in its folder) or an
    id that starts with it and ``#``. So the table is keyed by the files' own ids, one
    entry per file, and a document id is looked up by its prefixes up to each ``#``,
    then confirmed in the file's ``doc_ids``; a JSONL file's records, whose ids are their
    own, are never in it. A table of every document id would be two million entries for
    a collection of ten million sections, in every server process."""

    def __init__(self, files: dict[str, dict[str, Any]]) -> None:
        self.files = files
        #: A file's own id → the keys of the files with that id (in different folders), in order.
        self.by_own: dict[str, list[str]] = {}
        for key, entry in files.items():
            root = entry.get("root")
            if not root:
                continue  # written before roots were kept: never served
            try:
                own = Path(key).relative_to(Path(root)).as_posix()
            except ValueError:
                continue
            self.by_own.setdefault(own, []).append(key)

    def find(self, doc_id: str) -> Original | None:
        """The document's original if it may be served (module doc), else None."""
        parts = doc_id.split("#")
        for n in range(1, len(parts) + 1):
            own = "#".join(parts[:n])
            for key in self.by_own.get(own, ()):
                entry = self.files[key]
                if doc_id in entry.get("doc_ids", ()):
                    original = Original(doc_id, Path(key), Path(entry["root"]), tuple(parts[n:]))
                    return original if confined(original) is not None else None
        return None


def confined(original: Original) -> Path | None:
    """The file's real path when it lies in its folder and is a regular file, else None."""
    try:
        real = Path(os.path.realpath(original.file))
        folder = Path(os.path.realpath(original.root))
        if real != folder and folder not in real.parents:
            return None
        if not stat.S_ISREG(os.stat(real).st_mode):
            return None
    except (OSError, ValueError):
        return None
    return real


def read_original(original: Original, limit: int) -> bytes | None:
    """The original's bytes (at most ``limit``; None: gone, too large or not found inside its container)."""
    real = confined(original)
    if real is None:
        return None
    try:
        if real.stat().st_size > limit:
            return None
        if not original.inner:
            return real.read_bytes()
        return _inner(real, original.inner, limit)
    except OSError:
        return None


def _inner(path: Path, parts: tuple[str, ...], limit: int) -> bytes | None:
    """An attachment or message inside a mail file, found the way ``extract`` named it."""
    data: bytes | None
    name = path.name
    if name.lower().endswith(".mbox"):
        if not parts[0].isdigit():
            return None
        box = mailbox.mbox(str(path), create=False)
        try:
            keys = list(box.iterkeys())
            number = int(parts[0])
            if not 1 <= number <= len(keys):
                return None
            data = box.get_bytes(keys[number - 1])
        finally:
            box.close()
        name, parts = "message.eml", parts[1:]
    else:
        data = path.read_bytes()
    for part in parts:
        if not name.lower().endswith(".eml"):
            return None
        mail = read_eml(data, Deadline(60), TextBudget(limit))
        found = _attachment(mail.attachments, part)
        if found is None:
            return None
        name, data = part, found
    return data if data is not None and len(data) <= limit else None


def _attachment(attachments: list[Any], wanted: str) -> bytes | None:
    """The attachment ``extract`` named ``wanted`` (the second of a name is ``name-2.ext``)."""
    seen: dict[str, int] = {}
    for attachment in attachments:
        name = attachment.name
        count = seen.get(name, 0) + 1
        seen[name] = count
        if count > 1:
            stem, dot, ext = name.rpartition(".")
            name = f"{stem}-{count}.{ext}" if dot else f"{name}-{count}"
        if name == wanted:
            return bytes(attachment.data)
    return None


__all__ = ["Original", "Originals", "confined", "read_original"]
