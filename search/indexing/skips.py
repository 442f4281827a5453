"""Why a file was skipped, as a stable code the status page filters by.

A run reports each skipped file with a sentence (``unsupported file type .pdf``,
``file too large (31.0 MB; …)``, ``Permission denied``): that sentence is what a
person reads. Programs and the status page's filter need a code that does not
change when the wording does, so ``skip_code`` reads the code from the sentence.

Design decisions:

* **Read from the reason, not carried beside it.** The readers raise
  ``UnreadableFile(reason)`` in a dozen places across the format modules, and new
  readers add their own; a code derived here needs none of them to change, and a
  reason no rule knows is ``other`` (shown, counted, never lost) until a rule is
  added.
* **Rules by the start of the sentence**, in order, because the readers' reasons
  start with what went wrong and go on with details (sizes, codecs, file names).
* Operating-system errors arrive as their ``strerror`` (``Permission denied``,
  ``Input/output error``): every text ``os.strerror`` gives is ``unreadable``.
* The codes and their English and Japanese labels are rows of kind ``skip`` in
  ``sakuin.search.errors``, so docs/errors.md lists them with every other code.
"""

from __future__ import annotations

import errno
import os

#: (start of the reason, lower-cased) → code, tried in order.
RULES: tuple[tuple[str, str], ...] = (
    ("unsupported file type", "unsupported_type"),
    ("file too large", "too_large"),
    ("empty file", "empty_file"),
    ("no text content", "no_text"),
    ("binary file", "binary_file"),
    ("cannot decode", "undecodable"),
    ("invalid ", "undecodable"),  # invalid utf-8 text after BOM, invalid iso-2022-jp text
    ("html nested too deeply", "malformed"),
    ("nested too deeply", "malformed"),
    ("not a readable", "malformed"),
    ("not an ", "malformed"),  # not an RTF file, not an e-mail message
    ("damaged", "malformed"),
    ("a pdf with no pages", "malformed"),
    ("too large to read", "too_large"),
    ("old binary", "old_format"),
    ("outlook .msg", "old_format"),
    ("encrypted", "encrypted"),
    ("no text: scanned?", "scanned"),
    ("file name is not valid utf-8", "bad_file_name"),
    ("not a regular file", "not_regular"),
    ("a directory", "not_regular"),
    ("symbolic link", "link"),
    ("broken symbolic link", "link"),
)

#: A reason naming one of the per-file limits' variables (pages, decompressed bytes, time,
#: extracted text) is ``over_limit``, wherever the name is: their sentences start with numbers.
LIMIT_MARK = "sakuin_max_"

#: Every code ``skip_code`` gives, in the order the status page lists them.
SKIP_CODES: tuple[str, ...] = (
    "unsupported_type",
    "too_large",
    "empty_file",
    "no_text",
    "scanned",
    "encrypted",
    "old_format",
    "over_limit",
    "binary_file",
    "undecodable",
    "malformed",
    "bad_file_name",
    "not_regular",
    "link",
    "unreadable",
    "other",
)

_OS_ERRORS = frozenset(os.strerror(n).lower() for n in errno.errorcode)


def skip_code(reason: str) -> str:
    """The stable code of a skip reason (``SKIP_CODES``); ``other`` when no rule knows it."""
    text = reason.strip().lower()
    for start, code in RULES:
        if text.startswith(start):
            return code
    if LIMIT_MARK in text:
        return "over_limit"
    if text in _OS_ERRORS:
        return "unreadable"
    return "other"


__all__ = ["LIMIT_MARK", "RULES", "SKIP_CODES", "skip_code"]
