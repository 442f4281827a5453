"""E-mail (``.eml``, and ``.mbox`` as one document per message): subject, people, date, text.

The standard library's ``email`` package splits a message into its parts; every
byte that becomes text goes through ``encoding.decode_bytes`` with the declared
charset as a hint, so the charsets Japanese mail really uses are read, including
ISO-2022-JP and Shift_JIS mislabelled as each other (a part declared ISO-2022-JP
that holds 8-bit Shift_JIS, or the reverse) and raw 8-bit headers. Encoded words
in headers (``=?ISO-2022-JP?B?…?=``) are decoded word by word the same way.

A message's body is its text part, or its HTML part as visible text
(``html.html_to_text``) when it has no text part. Its attachments (and attached
messages) are handed back as bytes with their names; ``extract`` makes those
in a known format documents of their own.
"""

from __future__ import annotations

import contextlib
import email
import email.errors
import email.header
import email.utils
import mailbox
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

from sakuin.search.documents.formats.encoding import decode_bytes
from sakuin.search.documents.formats.html import html_to_text
from sakuin.search.documents.limits import Deadline, TextBudget
from sakuin.search.errors import UnreadableFile


@dataclass
class Attachment:
    name: str
    data: bytes


@dataclass
class Mail:
    """One message: subject, body, metadata (``from``, ``to``, ``cc``, ``date``) and attachments."""

    subject: str
    body: str
    meta: dict[str, Any]
    attachments: list[Attachment] = field(default_factory=list)


def read_eml(data: bytes, deadline: Deadline, budget: TextBudget) -> Mail:
    if not data.strip():
        raise UnreadableFile("empty file")
    message = email.message_from_bytes(data)
    if not message.keys() and not message.get_payload():
        raise UnreadableFile("not an e-mail message")
    return _mail(message, deadline, budget)


def iter_mbox(path: Path, deadline_for: Any, budget: TextBudget) -> Iterator[Mail]:
    """The messages of an mbox file in order; ``deadline_for()`` gives each message its deadline."""
    try:
        box = mailbox.mbox(str(path), create=False)
    except (OSError, mailbox.Error) as exc:
        raise UnreadableFile(f"not a readable mbox ({exc})") from None
    try:
        for key in box.iterkeys():
            deadline = deadline_for()
            data = box.get_bytes(key)
            yield _mail(email.message_from_bytes(data), deadline, budget)
    finally:
        box.close()


def _mail(message: Message, deadline: Deadline, budget: TextBudget) -> Mail:
    subject = header_text(message.get("Subject", ""))
    meta: dict[str, Any] = {}
    for name in ("From", "To", "Cc"):
        value = header_text(message.get(name, ""))
        if value:
            meta[name.lower()] = value
    date = message.get("Date")
    if date:
        with contextlib.suppress(TypeError, ValueError, IndexError):
            meta["date"] = email.utils.parsedate_to_datetime(str(date)).isoformat()
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    for part in _parts(message):
        deadline.check()
        name = _filename(part)
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                attachments.append(Attachment(name or f"{_subject_name(inner[0])}.eml", inner[0].as_bytes()))
            continue
        if name or part.get_content_disposition() == "attachment":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and payload:
                attachments.append(Attachment(name or f"attachment{len(attachments) + 1}", payload))
            continue
        if ctype in ("text/plain", "text/html"):
            text = _part_text(part)
            (plain if ctype == "text/plain" else html).append(text)
    body = "\n\n".join(t for t in plain if t.strip())
    if not body.strip():
        body = "\n\n".join(html_to_text(t) for t in html if t.strip())
    return Mail(subject, budget.add(body), meta, attachments)


def _parts(message: Message) -> Iterator[Message]:
    """The leaf parts in order, attached messages as leaves (explicit stack)."""
    stack = [iter([message])]
    while stack:
        part = next(stack[-1], None)
        if part is None:
            stack.pop()
            continue
        if part.is_multipart() and part.get_content_type() != "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.append(iter(payload))
            continue
        yield part


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    try:
        return decode_bytes(payload, part.get_content_charset())
    except UnreadableFile:
        return ""


def header_text(value: Any) -> str:
    """A header's text: encoded words decoded one by one, raw 8-bit bytes guessed (module doc)."""
    if value is None:
        return ""
    if isinstance(value, email.header.Header):
        chunks = email.header.decode_header(value)
    else:
        raw = str(value)
        try:
            chunks = email.header.decode_header(raw)
        except email.errors.HeaderParseError:
            chunks = [(raw, None)]
    out: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            data = chunk.encode("utf-8", "surrogateescape") if charset is None else chunk.encode("utf-8")
            if any(0xDC80 <= ord(c) <= 0xDCFF for c in chunk):
                data = chunk.encode("ascii", "surrogateescape")
            out.append(_decoded(data, None))
        else:
            out.append(_decoded(chunk, charset))
    return " ".join("".join(out).split())


def _decoded(data: bytes, charset: str | None) -> str:
    try:
        return decode_bytes(data, charset)
    except UnreadableFile:
        return data.decode("utf-8", "replace")


def _filename(part: Message) -> str:
    name = part.get_filename()
    if not name:
        return ""
    text = header_text(name) if "=?" in name else name
    if any(0xDC80 <= ord(c) <= 0xDCFF for c in text):
        text = _decoded(text.encode("ascii", "surrogateescape"), None)
    return safe_name(text)


def safe_name(name: str) -> str:
    """An attachment's name as part of a document id: no ``#`` (which joins the parts of an id)
    nor ``/`` (which would read as a folder), no control characters."""
    cleaned = "".join("_" if c in "#/\\" or ord(c) < 0x20 else c for c in name).strip()
    return cleaned or "attachment"


def _subject_name(message: Message) -> str:
    return safe_name(header_text(message.get("Subject", "")) or "message")[:80]


__all__ = ["Attachment", "Mail", "header_text", "iter_mbox", "read_eml", "safe_name"]
