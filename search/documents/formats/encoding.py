"""Turn raw bytes into text, telling Japanese legacy encodings apart.

Japanese files in the wild are UTF-8, Shift_JIS/CP932, EUC-JP or ISO-2022-JP.
Statistical detectors guess poorly on short texts (a ten-character cp932
sentence is often reported as euc-jp or a Chinese codec), so the decision is made
mostly by strict decoding plus a plausibility score, and charset-normalizer only
breaks ties or rescues non-Japanese legacy text.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from sakuin.search.errors import UnreadableFile

_JAPANESE = ("cp932", "euc_jp")
_TRIED = "utf-8, cp932, euc-jp, iso-2022-jp"
_SNIFF = 65536
#: Share of control bytes above which data is treated as binary, not text.
_MAX_CONTROL_SHARE = 0.05
#: Every byte except the control bytes that text never contains; deleting these
#: leaves the odd controls to count (ESC is kept for ISO-2022-JP).
_NOT_ODD_CONTROLS = bytes(b for b in range(256) if b >= 0x20 or b in b"\t\n\r\f\v\x1b")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ISO2022_ESCAPES = (b"\x1b$B", b"\x1b$@", b"\x1b(B", b"\x1b(J", b"\x1b(I")
_NEWLINES = re.compile(r"\r\n?")
# Kana, CJK ideographs and Japanese punctuation: what a right guess produces.
_JAPANESE_CHARS = re.compile(r"[\u3000-\u30ff\u4e00-\u9fff\uff01-\uff5e]")
_WESTERN = re.compile(r"[\x00-\x7f\xa0-\xff\u2013-\u2026\u20ac]*")
_KANA = re.compile(r"[\u3041-\u30ff]")
# Half-width kana, private use, C1 controls and rare ideographs: what a wrong
# guess between cp932 and euc-jp produces.
_ODD_CHARS = re.compile(r"[\uff61-\uff9f\ue000-\uf8ff\x80-\x9f\u3400-\u4dbf]")


def decode_bytes(data: bytes, hint: str | None = None) -> str:
    """Decode file content to text with ``\\n`` newlines, or explain why not.

    ``hint`` is an encoding declared by the file itself (an HTML ``<meta
    charset>``); it is trusted only after UTF-8, because pages converted to UTF-8
    often keep a stale ``Shift_JIS`` declaration.
    """
    if not data:
        return ""
    text = _decode_with_bom(data)
    if text is None:
        _reject_binary(data)
        text = _decode_without_bom(data, hint)
    if "\x00" in text:
        raise UnreadableFile("binary file")
    return _NEWLINES.sub("\n", text)


def _decode_with_bom(data: bytes) -> str | None:
    """A BOM is an explicit declaration, so it wins over any guessing."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise UnreadableFile(f"invalid {codec} text after BOM") from exc
    return None


def _reject_binary(data: bytes) -> None:
    """NUL bytes or many control bytes mean an image, archive or executable."""
    sample = data[:_SNIFF]
    if b"\x00" in sample:
        raise UnreadableFile("binary file")
    controls = len(sample.translate(None, _NOT_ODD_CONTROLS))
    if controls > len(sample) * _MAX_CONTROL_SHARE:
        raise UnreadableFile("binary file")


def _decode_without_bom(data: bytes, hint: str | None) -> str:
    """Try the unambiguous encodings first, then weigh cp932 against euc-jp."""
    if data.isascii():
        return _decode_iso2022(data) if _looks_iso2022(data) else data.decode("ascii")
    for codec in ("utf-8", _codec_for_hint(hint)):
        if codec is None:
            continue
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
    guess = _best_japanese(data)
    if guess is None:
        guess = _mixed_lines(data)
    if guess is None:
        guess = _lenient(data)
    return guess if guess is not None else _fallback(data)


def _looks_iso2022(data: bytes) -> bool:
    """ISO-2022-JP is 7-bit, so it is recognisable only by its escapes."""
    return any(escape in data for escape in _ISO2022_ESCAPES)


def _decode_iso2022(data: bytes) -> str:
    """Plain iso2022_jp first; the extended variants cover kana and JIS X 0212."""
    for codec in ("iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2", "iso2022_jp_2004"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("invalid iso-2022-jp text")


def _codec_for_hint(hint: str | None) -> str | None:
    """Map a declared charset to the codec that real files in it need."""
    if not hint:
        return None
    try:
        name = codecs.lookup(hint).name
    except LookupError:
        return None
    # Files labelled Shift_JIS are written by Windows tools: CP932 is the superset.
    return "cp932" if name == "shift_jis" else name


def _best_japanese(data: bytes) -> str | None:
    """Strictly decode as cp932 and euc-jp; if both work, pick the more Japanese."""
    decoded = {codec: _strict(data, codec) for codec in _JAPANESE}
    valid = {codec: text for codec, text in decoded.items() if text is not None}
    if not valid:
        return None
    if len(valid) == 1:
        return next(iter(valid.values()))
    scores = {codec: _plausibility(text) for codec, text in valid.items()}
    if scores["cp932"] != scores["euc_jp"]:
        return valid[max(scores, key=lambda codec: scores[codec])]
    return valid[_tie_break(data)]


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _plausibility(text: str) -> int:
    """Japanese characters count for, and the debris of a wrong guess against."""
    return len(_JAPANESE_CHARS.findall(text)) - 3 * len(_ODD_CHARS.findall(text))


def _tie_break(data: bytes) -> str:
    """Ask the statistical detector only to choose between the two candidates."""
    best = from_bytes(data, cp_isolation=list(_JAPANESE)).best()
    if best is not None and best.encoding in _JAPANESE:
        return best.encoding
    return "cp932"


def _mixed_lines(data: bytes) -> str | None:
    """A file pieced together from UTF-8 and legacy Japanese text (concatenated logs,
    appended exports): decode it line by line. Accepted only if some lines are
    non-ASCII UTF-8, and every other line is plausible cp932 or euc-jp Japanese."""
    out: list[str] = []
    utf8 = legacy = 0
    for line in data.split(b"\n"):
        try:
            out.append(line.decode("utf-8"))
            utf8 += not line.isascii()
            continue
        except UnicodeDecodeError:
            pass
        text = _best_japanese(line)
        if text is None or _kana_share(text) < 0.2:
            return None
        out.append(text)
        legacy += 1
    return "\n".join(out) if utf8 and legacy else None


def _lenient(data: bytes) -> str | None:
    """Accept a file damaged in a few places (e.g. cut mid-character) rather
    than lose it; kana are required for the legacy codecs because cp932 decodes
    most latin-1 text with few errors."""
    allowed = max(1, len(data) // 1000)
    for codec in ("utf-8", *_JAPANESE):
        text = data.decode(codec, errors="replace")
        if text.count("\ufffd") > allowed:
            continue
        if codec == "utf-8" or _kana_share(text) >= 0.2:
            return text
    return None


def _kana_share(text: str) -> float:
    non_ascii = sum(1 for char in text if not char.isascii())
    return len(_KANA.findall(text)) / non_ascii if non_ascii else 0.0


def _looks_western(text: str) -> bool:
    """Mostly ASCII letters with accents; Cyrillic in cp1251 is almost all high bytes."""
    if not _WESTERN.fullmatch(text):
        return False
    letters = sum(1 for char in text if char.isalpha())
    accented = sum(1 for char in text if char.isalpha() and not char.isascii())
    return accented * 2 <= letters


def _fallback(data: bytes) -> str:
    """Non-Japanese legacy text: Western European first, since detectors often
    mistake short cp1252 text for cp1250 ("crème" read as "crčme")."""
    western = _strict(data, "cp1252")
    if western is not None and _looks_western(western):
        return western
    best = from_bytes(data).best()
    if best is not None and best.chaos < 0.2:
        return str(best)
    raise UnreadableFile(f"cannot decode text (tried {_TRIED})")
