"""Japanese wording for the errors and notices the HTML pages show.

The engine and the API speak English with a stable ``code`` and the values the
message names (``params``); the pages are Japanese, so they say the same thing
in Japanese, looked up by code. A code without an entry falls back to the English
message, so a new error is never hidden, only untranslated.
"""

from __future__ import annotations

from typing import Any

JA: dict[str, str] = {
    # query syntax (search.query.syntax / plan)
    "empty_query": "検索語が空です。調べたい語を入力してください。",
    "query_too_long": "検索語が長すぎます。{limit:,} 文字以内にしてください。",
    "invalid_text": "検索語に文字として読めない部分があります。入力し直してください。",
    "unclosed_quote": '引用符 " が閉じていません。閉じる " を足すか、開く " を消してください。',
    "unbalanced_paren": "閉じ括弧 ) に対応する ( がありません。) を消すか ( を足してください。",
    "unclosed_paren": "括弧 ( が閉じていません。) を足してください。",
    "too_deep": "括弧の入れ子が深すぎます。{limit} 段までにしてください。",
    "dangling_operator": "{operator} の両側（NOT/- は後ろ）に検索語が必要です。例: 会談 OR 協議、会談 -電話",
    "empty_group": "括弧の中が空です。検索語を入れてください。",
    "empty_phrase": '引用符の中が空です。"電話会談" のように語を入れてください。',
    "field_needs_value": '{field}: の直後に語か "フレーズ" を続けてください。例: {field}:会談',
    "unknown_field": (
        "{field}: というフィールドはありません。使えるのは {fields_text} です"
        '（コロンを含む語は "…" で囲んでください）。'
    ),
    "only_negative": "除外する語（NOT/-）だけでは検索できません。探す語を足してください。例: 会談 -電話",
    "unexpected_token": "{token} をここで読み取れません。",
    # metadata (search.query.filters, search.searcher)
    "bad_filter_value": (
        "{field}: の値 {value} を読み取れません。例: {field}:2012-01-05、{field}:2012-01..2012-06、{field}:>=2012"
    ),
    "filter_in_or": "{field}: は絞り込み条件なので OR の中には書けません。OR の外に出してください。",
    "bad_filter": "絞り込み条件は フィールド:値 の形で指定してください（例: category:スポーツ）。",
    "unknown_sort": "{sort} では並べ替えできません。",
    "unknown_facet": "{facet} では絞り込めません。使えるのは {facets_text} です。",
    # request parameters (web.common)
    "missing_parameter": "検索語を入力してください。",
    "bad_parameter": "{name} は {low}〜{high} の整数で指定してください。",
    "invalid_encoding": "検索語が UTF-8 ではありません。UTF-8 で送ってください。",
    # notices (search.results)
    "only_function_words": (
        "「{query}」は助詞・助動詞・記号だけなので検索できません。国防、大臣 のような内容語を入れてください。"
    ),
    "page_past_end": "{page} ページ目はありません。最後のページは {last_page} ページ目です。",
}


def ja(code: str, english: str, params: dict[str, Any] | None = None) -> str:
    """The Japanese message for ``code``, or ``english`` if there is none."""
    template = JA.get(code)
    if template is None:
        return english
    values = dict(params or {})
    if "fields" in values:
        values["fields_text"] = "、".join(f"{f}:" for f in values["fields"])
    if "facets" in values:
        values["facets_text"] = "、".join(values["facets"])
    try:
        return template.format(**values)
    except (KeyError, ValueError, IndexError):
        return english


__all__ = ["JA", "ja"]
