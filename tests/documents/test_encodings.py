"""Encoding detection: Japanese legacy encodings must round-trip, even when short."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.paths import SEEDS

from sakuin.search.documents.files import read_file
from sakuin.search.documents.formats.encoding import decode_bytes
from sakuin.search.errors import UnreadableFile

SHORT = "今日は良い天気です。"  # ten characters: where statistical detectors fail
WORD = "全文検索"
LONG = (
    "ロシアのアンドレイ・ベロウソフ国防大臣が海軍記念日に先立ってアメリカの"
    "ロイド・オースティン国防長官と電話会談を行い、紛争のエスカレーションに"
    "ついて話し合ったという。\n詳細は不明だが、「一定の影響を与えたはずだ」と語っている。"
)
MIXED = "Python で全文検索エンジンを作る (SudachiPy + Whoosh)"
CODECS = ["utf-8", "utf-8-sig", "cp932", "shift_jis", "euc_jp", "iso2022_jp"]


@pytest.mark.parametrize("codec", CODECS)
@pytest.mark.parametrize("text", [SHORT, WORD, LONG, MIXED, "カタカナ", "ひらがな", "漢字"])
def test_japanese_round_trips(codec: str, text: str) -> None:
    assert decode_bytes(text.encode(codec)) == text


@pytest.mark.parametrize("codec", ["cp932", "euc_jp"])
def test_short_fragments_of_the_seed_round_trip(codec: str) -> None:
    seed = next(SEEDS.glob("*.txt")).read_text("utf-8")
    chars = "".join(seed.split())
    for start in range(0, len(chars) - 10, 37):
        fragment = chars[start : start + 10]
        assert decode_bytes(fragment.encode(codec)) == fragment


def test_utf8_bom_is_stripped() -> None:
    assert decode_bytes("\ufeff見出し".encode()) == "見出し"
    assert decode_bytes(("見出し").encode("utf-8-sig")) == "見出し"


def test_utf16_with_bom() -> None:
    assert decode_bytes("メモ帳\r\nで保存".encode("utf-16")) == "メモ帳\nで保存"


def test_cp932_specific_characters() -> None:
    """NEC/IBM extensions exist only in cp932, not in plain Shift_JIS."""
    text = "①髙橋さん㈱"
    assert decode_bytes(text.encode("cp932")) == text


def test_declared_shift_jis_hint_decodes_as_cp932() -> None:
    text = "①番の見出し"
    assert decode_bytes(text.encode("cp932"), hint="Shift_JIS") == text


def test_utf8_beats_a_stale_hint() -> None:
    assert decode_bytes(SHORT.encode("utf-8"), hint="shift_jis") == SHORT


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_newlines_are_normalised(newline: str) -> None:
    data = newline.join(["一行目", "二行目", ""]).encode("cp932")
    assert decode_bytes(data) == "一行目\n二行目\n"


def test_western_legacy_text_falls_back() -> None:
    text = "Café crème brûlée, déjà vu — 5 €"
    assert decode_bytes(text.encode("cp1252")) == text


def test_truncated_multibyte_character_is_tolerated() -> None:
    """A file cut mid-character keeps its text rather than being rejected."""
    data = (LONG + "終わり").encode("utf-8")[:-1]
    assert decode_bytes(data).startswith(LONG)


def test_empty_bytes_give_empty_text() -> None:
    assert decode_bytes(b"") == ""


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "テキスト".encode() + b"\x00" + "の途中".encode(),
        bytes(range(32)) * 20,
    ],
    ids=["png", "nul-byte", "control-chars"],
)
def test_binary_data_is_rejected(data: bytes) -> None:
    with pytest.raises(UnreadableFile, match="binary"):
        decode_bytes(data)


def test_random_bytes_are_rejected() -> None:
    with pytest.raises(UnreadableFile):
        decode_bytes(os.urandom(4096))


def test_undecodable_text_names_the_encodings_tried() -> None:
    data = bytes([0x81, 0x20, 0xFF, 0x20, 0x8F, 0x20]) * 50 + b"\x1b"
    with pytest.raises(UnreadableFile, match="cannot decode text"):
        decode_bytes(data)


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "cp932", "euc_jp", "iso2022_jp"])
def test_read_file_decodes_each_encoding(tmp_path: Path, codec: str) -> None:
    path = tmp_path / f"{codec}.txt"
    path.write_bytes(f"天気\n\n{SHORT}\n".encode(codec))
    document = read_file(path, tmp_path).documents[0]
    assert document.title == "天気"
    assert document.sections[0].text == SHORT


def test_read_file_honours_html_meta_charset(tmp_path: Path) -> None:
    html = '<html><head><meta charset="Shift_JIS"><title>題名</title></head><body><p>①本文</p></body></html>'
    path = tmp_path / "page.html"
    path.write_bytes(html.encode("cp932"))
    document = read_file(path, tmp_path).documents[0]
    assert document.title == "題名"
    assert document.sections[0].text == "①本文"
