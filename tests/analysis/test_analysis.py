"""The analyzer: variants, compounds, function words, offsets, long input, pickling."""

from __future__ import annotations

import pickle

import pytest

from sakuin.search.analysis.chain import SudachiTokenizer, japanese_analyzer
from sakuin.search.analysis.sudachi import MAX_CHUNK_BYTES, SUDACHI_FIELDS, explain, morphemes


def terms(text: str) -> list[str]:
    return [t.text for t in japanese_analyzer()(text)]


def tokens(text: str) -> list[tuple[str, int, int, int]]:
    return [(t.text, t.pos, t.startchar, t.endchar) for t in japanese_analyzer()(text, positions=True, chars=True)]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ｶﾀｶﾅ", "カタカナ"),
        ("ＡＢＣ", "ABC"),
        ("abc", "ABC"),
        ("ＩＰｈｏｎｅ", "iphone"),
        ("サーバ", "サーバー"),
        ("コンピュータ", "コンピューター"),
        ("附属", "付属"),
        ("國", "国"),
    ],
)
def test_variants_share_a_term(a: str, b: str) -> None:
    assert terms(a) == terms(b)
    assert terms(a), f"{a} produced no term"


def test_compound_indexed_with_its_parts() -> None:
    got = terms("関西国際空港")
    assert got[0] == "関西国際空港"
    assert {"関西", "国際", "空港"} <= set(got)


def test_parts_do_not_cross_compound_boundaries() -> None:
    # 東京都 splits as 東京|都, so 京都 is never a term of it.
    assert "京都" not in terms("東京都に住む")
    assert "京都" in terms("京都に住む")


def test_unit_overlays_first_part_position() -> None:
    toks = tokens("関西国際空港へ行く")
    unit = next(t for t in toks if t[0] == "関西国際空港")
    first = next(t for t in toks if t[0] == "関西")
    assert unit[1] == first[1]
    assert [t[1] for t in toks if t[0] in ("関西", "国際", "空港")] == [0, 1, 2]


def test_function_words_and_punctuation_are_not_terms() -> None:
    got = terms("ロシアは、米国と会談した。")
    assert "は" not in got and "と" not in got and "、" not in got and "。" not in got and "た" not in got
    assert {"ロシア", "米国", "会談"} <= set(got)


def test_positions_have_no_gaps_for_dropped_words() -> None:
    toks = tokens("国防大臣が電話で会談した")
    assert [t[1] for t in toks] == list(range(len(toks)))


def test_offsets_point_into_original_half_width_text() -> None:
    text = "ﾛｼｱの ＡＢＣ ｻｰﾊﾞ管理"
    for term, _pos, start, end in tokens(text):
        surface = text[start:end]
        assert surface, term
        assert terms(surface)[0] == term or term in terms(surface)


def test_long_paragraph_is_chunked_with_offsets_carried() -> None:
    sentence = "ロシアの国防大臣が電話会談を行った。"
    text = sentence * (MAX_CHUNK_BYTES // len(sentence.encode()) * 2 + 7)  # > 2 chunks, one paragraph
    assert len(text.encode()) > MAX_CHUNK_BYTES * 2
    ms = morphemes(text)
    assert all(text[m.start : m.end] == m.surface for m in ms)
    assert sum(1 for m in ms if m.surface == "国防") == text.count("国防")
    # Same tokenization as a single short run, repeated.
    assert [m.surface for m in morphemes(sentence)] == [m.surface for m in ms[: len(morphemes(sentence))]]


def test_sentence_longer_than_the_limit_still_tokenizes() -> None:
    text = "あ" * 70_000  # no sentence end anywhere
    ms = morphemes(text)
    assert sum(m.end - m.start for m in ms) == len(text)


def test_analyzer_pickles_without_sudachi_and_rebuilds() -> None:
    analyzer = japanese_analyzer()
    assert terms("国防大臣")  # build Sudachi in this process
    blob = pickle.dumps(analyzer)
    assert b"sudachipy" not in blob
    clone = pickle.loads(blob)
    assert [t.text for t in clone("国防大臣")] == terms("国防大臣")


def test_field_set_does_not_change_tokenization() -> None:
    from sudachipy import Dictionary

    text = "関西国際空港でｶﾀｶﾅのサーバを附属病院の國學院大學に届けた。iPhone 15を買った"
    full = Dictionary(dict="core").tokenizer("C")
    assert [m.surface for m in morphemes(text)] == [m.surface() for m in full.tokenize(text)]
    assert {"surface", "pos", "normalized_form"} <= SUDACHI_FIELDS


def test_tokenizer_equality_for_schema_comparison() -> None:
    assert SudachiTokenizer() == SudachiTokenizer()


def test_explain_reports_terms_parts_and_offsets() -> None:
    rows = explain("関西国際空港へ")
    assert rows[0]["term"] == "関西国際空港"
    assert [p["term"] for p in rows[0]["parts"]] == ["関西", "国際", "空港"]
    assert rows[0]["indexed"] and not rows[1]["indexed"]
    assert (rows[1]["start"], rows[1]["end"]) == (6, 7)


def test_alnum_pattern_is_isalnum_for_every_code_point() -> None:
    """``is_term`` looks for a letter or digit with a regular expression; it must mean ``str.isalnum``."""
    from sakuin.search.analysis.sudachi import _ALNUM

    differ = [c for c in range(0x110000) if (_ALNUM.search(chr(c)) is not None) != chr(c).isalnum()]
    assert differ == []
