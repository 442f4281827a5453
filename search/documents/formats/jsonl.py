"""JSONL: one document per line, bad lines reported and skipped.

The file is read line by line from a binary stream, so a large dump is never held
as text and a list of lines at the same time, and one broken record costs only
itself. Lines are UTF-8 as JSON requires; a line that is not is given to the
encoding detector, so a Shift_JIS export still loads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sakuin.search.documents.formats.encoding import decode_bytes
from sakuin.search.errors import UnreadableFile

RawSection = tuple[str, str]
RESERVED = frozenset({"id", "title", "text", "sections"})
#: JSON may escape lone UTF-16 surrogates ("\\ud800"); Python keeps them in the str,
#: but they cannot be encoded as UTF-8 (for the index, or for an API response).
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Record:
    """A validated JSONL line, before it becomes a ``Document``."""

    line: int
    doc_id: str
    title: str
    sections: list[RawSection]
    meta: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Problem:
    """A skipped line; ``message`` is ready for the indexing summary."""

    message: str


class _BadRecord(ValueError):
    """Why a line cannot become a document."""


def parse_jsonl(lines: Iterable[bytes], name: str) -> Iterator[Record | Problem]:
    """Yield a Record or a Problem for every non-blank line.

    Raises UnreadableFile("empty file") if there was no non-blank line at all,
    after everything else has been yielded.
    """
    seen_content = False
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        seen_content = True
        try:
            yield _record(_decode_line(raw, number), number)
        except _BadRecord as exc:
            yield Problem(f"{name}:{number}: {exc}, record skipped")
    if not seen_content:
        raise UnreadableFile("empty file")


def _decode_line(raw: bytes, number: int) -> str:
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return decode_bytes(raw)
    except UnreadableFile as exc:
        raise _BadRecord(f"cannot decode line ({exc})") from exc


def _record(line: str, number: int) -> Record:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _BadRecord(f"invalid JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(value, dict):
        raise _BadRecord(f"expected a JSON object, got {_json_type(value)}")
    if _ESCAPED_SURROGATE.search(line):
        if isinstance(value.get("id"), str) and _SURROGATE.search(value["id"]):
            raise _BadRecord('"id" is not valid Unicode (it contains an unpaired surrogate escape)')
        value = _valid_unicode(value)
    doc_id = _doc_id(value)
    sections = _sections(value)
    title = value.get("title")
    title_text = title.strip() if isinstance(title, str) else "" if title is None else str(title)
    meta = {key: item for key, item in value.items() if key not in RESERVED}
    return Record(number, doc_id, title_text or doc_id, sections, meta)


def _valid_unicode(value: Any) -> Any:
    """Unpaired surrogates in every string become U+FFFD, as invalid UTF-8 bytes do."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_valid_unicode(item) for item in value]
    if isinstance(value, dict):
        return {_valid_unicode(key): _valid_unicode(item) for key, item in value.items()}
    return value


def _doc_id(value: dict[str, Any]) -> str:
    """Kept verbatim, since callers look documents up by the id they supplied."""
    if "id" not in value or value["id"] is None:
        raise _BadRecord('missing "id"')
    doc_id = value["id"]
    if isinstance(doc_id, int) and not isinstance(doc_id, bool):
        return str(doc_id)
    if not isinstance(doc_id, str):
        raise _BadRecord(f'"id" must be a string or an integer, got {_json_type(doc_id)}')
    if not doc_id.strip():
        raise _BadRecord('empty "id"')
    return doc_id


def _sections(value: dict[str, Any]) -> list[RawSection]:
    """``text`` becomes a lead section; ``sections`` follow it if both are given."""
    has_text = "text" in value and value["text"] is not None
    has_sections = "sections" in value and value["sections"] is not None
    if not has_text and not has_sections:
        raise _BadRecord('neither "text" nor "sections"')
    sections: list[RawSection] = []
    if has_text:
        if not isinstance(value["text"], str):
            raise _BadRecord(f'"text" must be a string, got {_json_type(value["text"])}')
        sections.append(("", value["text"]))
    if has_sections:
        sections.extend(_section_list(value["sections"]))
    return sections


def _section_list(items: Any) -> list[RawSection]:
    if not isinstance(items, list):
        raise _BadRecord(f'"sections" must be a list, got {_json_type(items)}')
    sections: list[RawSection] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise _BadRecord(f"sections[{index}] must be an object, got {_json_type(item)}")
        heading, text = item.get("heading") or "", item.get("text") or ""
        if not isinstance(heading, str) or not isinstance(text, str):
            raise _BadRecord(f'sections[{index}] "heading" and "text" must be strings')
        sections.append((heading, text))
    return sections


def _json_type(value: Any) -> str:
    """JSON's own type names read better in a summary than Python's."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    if type(value) in names:
        return names[type(value)]
    return "number" if isinstance(value, int | float) else type(value).__name__
