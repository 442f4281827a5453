"""Synonym tables and lookups: Sudachi's format and its flags, the shipped dictionary, Solr's
format both ways and one way, malformed lines named file:line, the longest run of typed words."""

from __future__ import annotations

from pathlib import Path

import pytest

from sakuin.search.analysis.sudachi import morphemes
from sakuin.search.analysis.synonyms import decode, read_solr, read_sudachi, sudachi_table
from sakuin.search.analysis.thesaurus import Sources, Thesaurus, load
from sakuin.search.errors import UserDictionaryError

# Sudachi's format: group, noun/verb, expansion control, lexeme, form, abbreviation, spelling, field, headword.
SUDACHI_SAMPLE = """\
000127,1,0,1,0,0,0,(医療),インフルエンザ,,
000127,1,0,1,0,0,1,(医療),influenza,,
000127,1,0,1,0,2,0,(医療),インフル,,
000127,1,0,2,0,0,0,(医療),流行性感冒,,
000127,1,0,2,0,2,0,(医療),流感,,

000008,1,0,1,0,0,0,(),支払い,,
000008,1,1,1,0,1,0,(),SP,,
000008,1,2,1,0,0,3,(),支払ぃ,,
000008,1,1,3,0,0,0,(),勘定,,

000009,1,0,1,0,0,0,(),特別,,
000009,1,1,1,0,1,0,(),SP,,
"""


def test_a_word_expands_to_the_other_forms_of_its_lexeme_only() -> None:
    table = read_sudachi(SUDACHI_SAMPLE)
    assert table.lookup("インフルエンザ") == ("influenza", "インフル")
    assert table.lookup("インフル") == ("インフルエンザ", "influenza")
    assert table.lookup("流感") == ("流行性感冒",)  # another lexeme of the group: not インフルエンザ


def test_expansion_control_and_ambiguous_headwords() -> None:
    table = read_sudachi(SUDACHI_SAMPLE)
    assert table.lookup("勘定") == ()  # flagged 1: expanded to, never expands
    assert table.lookup("支払ぃ") == ()  # flagged 2: neither
    assert table.lookup("sp") == ()  # flagged 1
    # SP is a headword of two groups: ambiguous, so 支払い does not expand to it.
    assert table.lookup("支払い") == ()


def test_keys_are_nfkc_and_lower_case() -> None:
    table = read_sudachi("000001,1,0,1,0,0,0,(),ＩＴ,,\n000001,1,0,1,0,0,1,(),Information Technology,,\n")
    assert table.lookup("it") == ("Information Technology",)
    assert table.lookup("information technology") == ("ＩＴ",)


@pytest.mark.parametrize(
    ("word", "synonym"),
    [
        ("スマホ", "スマートフォン"),  # an abbreviation, both ways
        ("スマートフォン", "スマホ"),
        ("関空", "関西国際空港"),
        ("関西国際空港", "関空"),
        ("ukraine", "ウクライナ"),  # a translation, both ways
        ("ウクライナ", "Ukraine"),
        ("米国", "アメリカ"),
    ],
)
def test_the_shipped_dictionary(word: str, synonym: str) -> None:
    assert synonym in sudachi_table().lookup(word)


def test_the_shipped_dictionary_does_not_expand_what_it_flags() -> None:
    table = sudachi_table()
    assert "USA" in table.lookup("米国")
    assert table.lookup("usa") == ()  # USA is flagged: it does not expand
    assert table.lookup("resume") == () and "résumé" in table.lookup("レジュメ")


def test_solr_format_both_ways_and_one_way() -> None:
    table = read_solr(
        "# company words\n\nスマホ, スマートフォン, 携帯端末\n中計 => 中期経営計画\nA\\,B, C\n", "syn.txt"
    )
    assert table.lookup("スマホ") == ("スマートフォン", "携帯端末")
    assert table.lookup("携帯端末") == ("スマホ", "スマートフォン")
    assert table.lookup("中計") == ("中期経営計画",)
    assert table.lookup("中期経営計画") == ()  # => maps one way
    assert table.lookup("a,b") == ("C",)


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("スマホ, スマートフォン\nスマホ\n", 2, "one word alone"),
        ("a => b => c\n", 1, "more than one =>"),
        ("# c\n=> b\n", 2, "nothing on one side of =>"),
        ("a =>\n", 1, "nothing on one side of =>"),
        ("a,,b\n", 1, "an empty synonym between commas"),
    ],
)
def test_a_malformed_line_is_named_file_line_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(UserDictionaryError) as caught:
        read_solr(text, "syn.txt")
    assert caught.value.code == "bad_synonyms" and caught.value.exit == 2
    assert str(caught.value).startswith(f"syn.txt:{line}: {reason}")


def test_text_that_is_not_utf8_is_named_by_its_line() -> None:
    with pytest.raises(UserDictionaryError, match=r"^syn\.txt:2: not UTF-8 text$"):
        decode(b"a, b\n" + "スマホ, x\n".encode("shift_jis"), "syn.txt")


def test_a_missing_file_is_an_error_with_a_code(tmp_path: Path) -> None:
    with pytest.raises(UserDictionaryError) as caught:
        load(str(tmp_path / "gone.txt"))
    assert caught.value.code == "synonyms_missing"


def test_the_longest_run_of_typed_words_is_looked_up() -> None:
    thesaurus = Thesaurus([read_solr("中期 経営 計画, 中計\n経営, マネジメント\n", "syn.txt")])
    text = "中期 経営 計画の経営"
    found = thesaurus.find(text, morphemes(text))
    assert [(f.typed, f.synonyms) for f in found] == [("中期 経営 計画", ("中計",)), ("経営", ("マネジメント",))]


def test_a_word_is_also_looked_up_by_its_normalized_form() -> None:
    thesaurus = Thesaurus([read_solr("サーバー, 計算機\n", "syn.txt")])
    found = thesaurus.find("サーバ", morphemes("サーバ"))  # Sudachi normalizes サーバ to サーバー
    assert [f.synonyms for f in found] == [("計算機",)]


def test_a_changed_file_is_read_again_and_a_broken_one_keeps_the_last(tmp_path: Path) -> None:
    path = tmp_path / "syn.txt"
    path.write_text("スマホ, スマートフォン\n", encoding="utf-8")
    sources = Sources([str(path)])
    assert sources.thesaurus().lookup("スマホ") == ("スマートフォン",)
    path.write_text("スマホ, 携帯\n", encoding="utf-8")
    assert sources.thesaurus().lookup("スマホ") == ("携帯",)
    path.write_text("スマホ\n", encoding="utf-8")  # malformed: searches keep what they had
    assert sources.thesaurus().lookup("スマホ") == ("携帯",)
    path.unlink()
    assert sources.thesaurus().lookup("スマホ") == ("携帯",)


def test_a_synonym_scores_no_rarer_than_the_typed_word() -> None:
    """ロシア in every other section, Russia in two: Russia's terms weigh the synonym share cut by
    the ratio of ロシア's inverse document frequency to Russia's, so a section that also writes
    the rare synonym does not outrank those that write the typed word more often. A typed word
    the index lacks leaves its synonym its own rarity."""
    from sakuin.search.config import SYNONYM_WEIGHT
    from sakuin.search.query.plan import Planner
    from sakuin.search.query.syntax import parse

    thesaurus = Thesaurus([read_solr("ロシア, Russia\n露国, Moscovia\n", "syn.txt")])
    frequencies = {"ロシア": 500, "russia": 2, "モスコビア": 2}  # Moscovia as Sudachi normalizes it

    def synonym_weights(q: str) -> list[float]:
        planner = Planner(lambda f, t: frequencies.get(t, 0) if f == "content" else 0, 1000, thesaurus=thesaurus)
        plan = planner.plan(parse(q))
        return [t.weight for e in plan.expansions for s in e.synonyms for t in s.sequence()]

    (capped,) = synonym_weights("ロシア")
    assert 0 < capped < SYNONYM_WEIGHT / 4
    (own,) = synonym_weights("露国")  # not in the index: the synonym is all there is
    assert own == pytest.approx(SYNONYM_WEIGHT)
