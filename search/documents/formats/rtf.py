"""RTF: the text of a Rich Text Format file, Shift_JIS escapes included.

Japanese RTF (WordPad, old Word) writes each non-ASCII character as ``\\'xx``
byte escapes in the document's code page (``\\ansicpg932``: Shift_JIS/CP932) or
as ``\\uN`` escapes; striprtf decodes both once given the code page, which is read
from the header here (CP932 when a Japanese font charset, ``\\fcharset128``, is
declared without one). Headings are not marked in RTF's text: the body is one
section, or split at short heading-like lines by the plain-text rules.
"""

from __future__ import annotations

import codecs
import re

from sakuin.search.errors import UnreadableFile

_CODEPAGE = re.compile(rb"\\ansicpg(\d+)")
_TITLE = re.compile(rb"{\\title\s*([^{}]*)}")


def read_rtf(data: bytes) -> tuple[str, str]:
    """(title, text) of an RTF file."""
    from striprtf.striprtf import rtf_to_text

    if not data.lstrip().startswith(b"{\\rtf"):
        raise UnreadableFile("not an RTF file")
    encoding = _encoding(data)
    try:
        text = rtf_to_text(data.decode("latin-1"), encoding=encoding, errors="replace")
    except (ValueError, LookupError, IndexError, RecursionError) as exc:
        raise UnreadableFile(f"not a readable RTF ({exc})") from None
    title = ""
    found = _TITLE.search(data[:65536])
    if found:
        title = rtf_to_text("{\\rtf1 " + found.group(1).decode("latin-1") + "}", encoding=encoding, errors="replace")
    return " ".join(title.split()), text.replace("\r\n", "\n").replace("\r", "\n")


def _encoding(data: bytes) -> str:
    found = _CODEPAGE.search(data[:4096])
    if found:
        name = f"cp{int(found.group(1))}"
        try:
            codecs.lookup(name)
        except LookupError:
            return "cp1252"
        return name
    return "cp932" if b"\\fcharset128" in data[:65536] else "cp1252"


__all__ = ["read_rtf"]
