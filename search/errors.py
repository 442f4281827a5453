"""Every error and notice sakuin reports, in one table, and the exceptions that carry them.

One row per message (``Message``): the stable ``code`` programs read (the API's
``error.code``), the HTTP status of the API, the exit status of the CLI, and the
English and Japanese texts. Everything a user sees of an error is produced from
this table: the API's JSON errors and the CLI's one-line messages (English), the
Japanese pages, the OpenAPI description of the error responses and the error list
in ``docs/errors.md`` (``tests/house/test_errors.py`` fails when a code that is raised
is missing here or there).

Design decisions:

* **A row per message, a code per meaning.** Some codes have several messages
  (``dangling_operator`` for OR, AND and NOT): the row's key is
  ``code/variant`` and ``SakuinError.code`` is the part before the slash, so
  programs match one code while people read the sentence that fits.
* **Templates, not sentences at raise sites.** A raise names its row and the
  values the message needs (``params``), which stay on the exception so a UI can
  say the same thing in its own language. Templates are ``str.format`` with five
  list formats: ``{x:list}`` (``a, b``), ``{x:colons}`` (``a:, b:``), their
  Japanese twins ``{x:ja_list}`` (``a、b``), ``{x:ja_colons}``, and
  ``{x:ja_quoted}`` (``「a」「b」``).
* **Constructing an unknown key raises ``KeyError``**, so a message missing from
  the table fails the first test that reaches it rather than showing nothing.
* Exceptions that never reach a user (a query node the array evaluator leaves to
  Whoosh, a snapshot closed under a borrower, a JSONL line being skipped) stay
  private to their modules.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

#: CLI exit statuses (``sakuin --help`` and docs/cli.md list them).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3
EXIT_INTERRUPTED = 130


@dataclass(frozen=True, slots=True)
class Message:
    """One row of the table: ``key`` is ``code`` or ``code/variant``."""

    key: str
    #: HTTP status when the API answers with it (0: never an API answer; 200: a notice).
    status: int
    #: CLI exit status when a command stops with it (0: not a CLI error).
    exit: int
    en: str
    ja: str
    #: Where it comes from: query, metadata, parameter, request, index, backend, dictionary, usage,
    #: setting, warning, notice, watch; ``skip`` rows name why a file was skipped (never raised).
    kind: str

    @property
    def code(self) -> str:
        return self.key.partition("/")[0]

    def english(self, params: dict[str, Any]) -> str:
        return _render(self.en, params)

    def japanese(self, params: dict[str, Any]) -> str:
        return _render(self.ja, params)


class _Formatter(string.Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec in _LISTS:
            prefix, sep, suffix = _LISTS[format_spec]
            return sep.join(f"{prefix}{v}{suffix}" for v in value)
        return super().format_field(value, format_spec)


#: List formats: (before each, between, after each).
_LISTS = {
    "list": ("", ", ", ""),
    "colons": ("", ", ", ":"),
    "ja_list": ("", "、", ""),
    "ja_colons": ("", "、", ":"),
    "ja_quoted": ("「", "", "」"),
}
_FORMAT = _Formatter()


def _render(template: str, params: dict[str, Any]) -> str:
    return _FORMAT.format(template, **params)


def _rows(kind: str, status: int, exit: int, *rows: tuple[str, str, str]) -> list[Message]:
    return [Message(key, status, exit, en, ja, kind) for key, en, ja in rows]


_QUERY_EXAMPLE = "例: 会談 OR 協議、会談 -電話"
_DANGLING_JA = "{operator} の両側（NOT/- は後ろ）に検索語が必要です。" + _QUERY_EXAMPLE

MESSAGES: tuple[Message, ...] = (
    *_rows(
        "query",
        400,
        EXIT_USAGE,
        ("empty_query", "empty query: type a word to search for", "検索語が空です。調べたい語を入力してください。"),
        (
            "query_too_long",
            "query too long: at most {limit} characters",
            "検索語が長すぎます。{limit:,} 文字以内にしてください。",
        ),
        (
            "query_too_long/parameter",
            "{name} is too long: at most {limit} characters",
            "検索語が長すぎます。{limit:,} 文字以内にしてください。",
        ),
        (
            "invalid_text",
            "the query is not valid text (it contains a lone surrogate)",
            "検索語に文字として読めない部分があります。入力し直してください。",
        ),
        (
            "unclosed_quote",
            'unclosed quote: add the closing " or remove the opening one',
            '引用符 " が閉じていません。閉じる " を足すか、開く " を消してください。',
        ),
        (
            "unbalanced_paren",
            "unbalanced ')': remove it or add a matching '('",
            "閉じ括弧 ) に対応する ( がありません。) を消すか ( を足してください。",
        ),
        ("unclosed_paren", "unbalanced '(': add the closing ')'", "括弧 ( が閉じていません。) を足してください。"),
        (
            "too_deep",
            "parentheses nested too deep: at most {limit} levels",
            "括弧の入れ子が深すぎます。{limit} 段までにしてください。",
        ),
        ("dangling_operator", "OR needs a search term on each side, e.g. 会談 OR 協議", _DANGLING_JA),
        ("dangling_operator/and", "AND needs a search term on each side", _DANGLING_JA),
        ("dangling_operator/not", "NOT/- needs a term after it, e.g. 会談 -電話", _DANGLING_JA),
        (
            "empty_group",
            "empty group: put a search term inside the parentheses",
            "括弧の中が空です。検索語を入れてください。",
        ),
        (
            "empty_phrase",
            'empty phrase "": put words between the quotes',
            '引用符の中が空です。"電話会談" のように語を入れてください。',
        ),
        (
            "field_needs_value",
            '{field}: needs a word or "phrase" right after it, e.g. {field}:会談',
            '{field}: の直後に語か "フレーズ" を続けてください。例: {field}:会談',
        ),
        (
            "unknown_field",
            'unknown field "{field}:"; the fields are {fields:colons} (quote text with a colon to search it)',
            "{field}: というフィールドはありません。使えるのは {fields:ja_colons} です"
            '（コロンを含む語は "…" で囲んでください）。',
        ),
        (
            "only_negative",
            "nothing to search for: NOT/- only excludes; add a word, e.g. 会談 -電話",
            "除外する語（NOT/-）だけでは検索できません。探す語を足してください。例: 会談 -電話",
        ),
        ("unexpected_token", "unexpected {token!r}", "{token} をここで読み取れません。"),
        (
            "invalid_encoding/cli",
            "the text is not valid UTF-8 (check the terminal's encoding)",
            "検索語が UTF-8 ではありません。端末の文字コードを確かめてください。",
        ),
    ),
    *_rows(
        "metadata",
        400,
        EXIT_USAGE,
        (
            "bad_filter_value/date",
            "{field}: cannot read {value!r}: use a date like 2012-01-05, a range 2012-01..2012-06 or >=2012-01-01",
            "{field}: の値 {value} を読み取れません。例: {field}:2012-01-05、{field}:2012-01..2012-06、{field}:>=2012",
        ),
        (
            "bad_filter_value/number",
            "{field}: cannot read {value!r}: use a number like 10, a range 10..20 or >=10",
            "{field}: の値 {value} を読み取れません。例: {field}:10、{field}:10..20、{field}:>=10",
        ),
        (
            "bad_filter_value/date_range",
            "{field}: a range needs at least one end: use a date like 2012-01-05, a range 2012-01..2012-06 or"
            " >=2012-01-01",
            "{field}: の範囲には少なくとも一方の端が必要です。例: {field}:2012-01..2012-06、{field}:2012-01..",
        ),
        (
            "bad_filter_value/number_range",
            "{field}: a range needs at least one end: use a number like 10, a range 10..20 or >=10",
            "{field}: の範囲には少なくとも一方の端が必要です。例: {field}:10..20、{field}:10..",
        ),
        (
            "filter_in_or",
            "{field}: is a metadata filter, which combines with the rest of the query by AND only:"
            " move {field}:{text} out of the OR",
            "{field}: は絞り込み条件なので OR の中には書けません。OR の外に出してください。",
        ),
        (
            "bad_filter",
            "a filter is field:value, e.g. category:スポーツ (got {filter!r})",
            "絞り込み条件は フィールド:値 の形で指定してください（例: category:スポーツ）。",
        ),
        (
            "unknown_sort",
            "cannot sort by {sort!r}: the choices are {choices:list}",
            "{sort} では並べ替えできません。使えるのは {choices:ja_list} です。",
        ),
        (
            "unknown_facet",
            "cannot facet by {facet!r}: the facet fields are {facets:list}",
            "{facet} では絞り込めません。使えるのは {facets:ja_list} です。",
        ),
        (
            "bad_declaration/name",
            "bad metadata field name {name!r}: use lower-case ASCII letters, digits and _ (e.g. category)",
            "メタデータのフィールド名 {name} は使えません。小文字の英字・数字・_ にしてください（例: category）。",
        ),
        (
            "bad_declaration/reserved",
            "{name!r} is a built-in field and cannot be declared",
            "{name} は組み込みのフィールドなので宣言できません。",
        ),
        (
            "bad_declaration/kind",
            "{name!r} is already declared as a {kind} field; rebuild with --rebuild to change it",
            "{name} はすでに {kind} フィールドとして宣言されています。変えるには --rebuild で作り直してください。",
        ),
    ),
    *_rows(
        "parameter",
        400,
        EXIT_USAGE,
        (
            "missing_parameter",
            "the {name} parameter is required, e.g. ?{name}=国防大臣",
            "検索語を入力してください。",
        ),
        (
            "bad_parameter",
            "{name} must be a whole number from {low} to {high}",
            "{name} は {low}〜{high} の整数で指定してください。",
        ),
        ("bad_parameter/string", "{name} must be a string", "{name} は文字列で指定してください。"),
        ("bad_parameter/sort", "sort must be a string, e.g. -date", "sort は文字列で指定してください（例: -date）。"),
        ("bad_parameter/list", "{name} must be a list of strings", "{name} は文字列のリストで指定してください。"),
        ("bad_parameter/count", "at most {limit} {name} values", "{name} は {limit} 個までです。"),
        ("bad_parameter/bool", "{name} must be true or false", "{name} は true か false で指定してください。"),
        (
            "bad_parameter/choice",
            "{name} must be one of {choices:list}",
            "{name} に使えるのは {choices:ja_list} です。",
        ),
        (
            "bad_parameter/key",
            "unknown key {key!r}: the keys are {keys:list}",
            "{key} というキーはありません。使えるのは {keys:ja_list} です。",
        ),
        (
            "bad_body",
            'the body must be a JSON object, e.g. {{"q": "国防大臣", "page": 1}}',
            'リクエスト本文は JSON オブジェクトにしてください（例: {{"q": "国防大臣", "page": 1}}）。',
        ),
        (
            "invalid_encoding",
            "{name} is not UTF-8: percent-encode the text as UTF-8 (国 is %E5%9B%BD)",
            "検索語が UTF-8 ではありません。UTF-8 で送ってください。",
        ),
        (
            "text_too_long",
            "{name} is too long: at most {limit} characters",
            "{name} が長すぎます。{limit:,} 文字以内にしてください。",
        ),
    ),
    Message("bad_request", 400, 0, "The request could not be understood.", "リクエストを処理できません。", "request"),
    Message("not_found", 404, 0, "There is nothing at this address.", "このアドレスには何もありません。", "request"),
    Message(
        "method_not_allowed",
        405,
        0,
        "This address does not accept that method; see the Allow header.",
        "このアドレスはその方法（メソッド）では使えません。",
        "request",
    ),
    Message(
        "payload_too_large",
        413,
        0,
        "The request body is too large: at most 16 KiB (a query is at most 1,000 characters).",
        "リクエスト本文が大きすぎます（16 KiB まで。検索語は 1,000 文字まで）。",
        "request",
    ),
    Message(
        "uri_too_long",
        414,
        0,
        "The address is too long: at most 40,000 bytes; a query is at most 1,000 characters (POST /api/search "
        "takes a JSON body).",
        "アドレスが長すぎます（40,000 バイトまで。検索語は 1,000 文字まで）。",
        "request",
    ),
    Message(
        "request_timeout",
        408,
        0,
        "The request took too long to arrive: send it again, whole.",
        "リクエストの受信に時間がかかりすぎました。もう一度送ってください。",
        "request",
    ),
    Message(
        "header_too_large",
        431,
        0,
        "The request's headers are too large: at most 256 KiB in all.",
        "リクエストのヘッダーが大きすぎます（合わせて 256 KiB まで）。",
        "request",
    ),
    Message(
        "internal_error",
        500,
        0,
        "Something went wrong on the server; the error has been logged.",
        "サーバーでエラーが発生しました。記録は残してあります。",
        "request",
    ),
    Message("document_not_found", 404, 0, "No document has this id.", "この ID の文書はありません。", "request"),
    Message(
        "document_not_found/page",
        404,
        0,
        "No document has this id; it may have been removed.",
        "この ID の文書はありません。削除された可能性があります。",
        "request",
    ),
    Message(
        "auth_required",
        401,
        0,
        "Sign in first: send the header Authorization: Bearer TOKEN (pages: sign in at /login).",
        "ログインしてください。",
        "request",
    ),
    Message(
        "bad_token",
        401,
        0,
        "The token is not valid: check it, or ask for a new one (sakuin auth add-user).",
        "トークンが正しくありません。確かめるか、新しいトークンを発行してもらってください。",
        "request",
    ),
    Message(
        "bad_login",
        401,
        0,
        "Wrong user name or token.",
        "ユーザー名かトークンが違います。",
        "request",
    ),
    Message(
        "csrf_failed",
        403,
        0,
        "The form has expired or was not sent from this site: reload the page and send it again.",
        "フォームの有効期限が切れたか、このサイト以外から送られました。ページを読み込み直してやり直してください。",
        "request",
    ),
    Message(
        "too_many_requests",
        429,
        0,
        "Too many requests at once from this client: at most {limit} run at a time; wait for them and retry.",
        "同時に送られたリクエストが多すぎます（同時に {limit} 件まで）。少し待ってからやり直してください。",
        "request",
    ),
    *_rows(
        "index",
        503,
        EXIT_FAILED,
        (
            "index_missing",
            "no index in {index_dir}/ — build one with: sakuin index PATH --index-dir {index_dir}",
            "検索索引がまだありません。sakuin index PATH で作ってから読み込み直してください。",
        ),
        (
            "index_missing/cluster",
            "no sakuin index on {urls}; build one with: sakuin index PATH --backend {urls}",
            "検索索引がまだありません。sakuin index PATH --backend URL で作ってから読み込み直してください。",
        ),
        (
            "index_missing/api",
            "The search index has not been built yet: run `sakuin index PATH` and reload.",
            "検索索引がまだありません。sakuin index PATH で作ってから読み込み直してください。",
        ),
        (
            "index_unreadable",
            "The search index exists but cannot be opened; see the server log.",
            "検索索引はありますが開けません。サーバーのログを確かめてください。",
        ),
    ),
    *_rows(
        "index",
        0,
        EXIT_FAILED,
        (
            "index_busy",
            "another `sakuin index` is writing {index_dir}/; try again when it finishes",
            "別の sakuin index が {index_dir}/ に書き込み中です。終わってからやり直してください。",
        ),
        (
            "index_busy/cluster",
            "another sakuin index run is writing to {name} on the cluster; wait for it, or delete the stale lock:"
            " DELETE /{state}/_doc/lock",
            "別の sakuin index がクラスタの {name} に書き込み中です。",
        ),
        (
            "index_busy/taken",
            "another sakuin index run took over the lock of {name} while this one stalled; the live index is"
            " unchanged (run sakuin index again)",
            "別の sakuin index が {name} のロックを引き継ぎました。索引は変わっていません。もう一度実行してください。",
        ),
    ),
    *_rows(
        "backend",
        503,
        EXIT_FAILED,
        (
            "backend_unavailable/extra",
            "the OpenSearch backend needs the opensearch extra: {install}",
            "OpenSearch を使うには opensearch 追加パッケージが必要です（{install}）。",
        ),
        (
            "backend_unavailable/down",
            "no OpenSearch node answers at {urls}: start the cluster, or check --backend (SAKUIN_BACKEND)",
            "OpenSearch のノード {urls} が応答しません。",
        ),
        (
            "backend_unavailable/api",
            "The search cluster cannot be reached; see the server log.",
            "検索クラスタにつながりません。サーバーのログを確かめてください。",
        ),
        (
            "backend_unavailable/url",
            "not a node URL: {url!r} (e.g. http://127.0.0.1:9200)",
            "{url} はノードの URL ではありません（例: http://127.0.0.1:9200）。",
        ),
    ),
    *_rows(
        "setting",
        0,
        EXIT_FAILED,
        (
            "missing_extra/eval",
            "sakuin eval needs {module}: {install}",
            "sakuin eval には {module} が必要です（{install}）。",
        ),
    ),
    *_rows(
        "dictionary",
        0,
        EXIT_USAGE,
        (
            "user_dict_missing",
            "no such user dictionary: {path} (--user-dict takes a Sudachi user-dictionary CSV, or none)",
            "ユーザー辞書 {path} がありません。",
        ),
        (
            "user_dict_unreadable",
            "cannot read the user dictionary {path}: {reason}",
            "ユーザー辞書 {path} を読めません（{reason}）。",
        ),
        ("bad_user_dict", "{file}:{line}: {reason}", "{file} の {line} 行目: {reason}"),
        (
            "bad_user_dict/empty",
            "{file}: no word in it (a Sudachi user dictionary has one word per line)",
            "{file} に語がありません（ユーザー辞書は 1 行に 1 語です）。",
        ),
        ("bad_user_dict/whole", "{file}: {reason}", "{file}: {reason}"),
        (
            "too_many_user_dicts",
            "at most {limit} user dictionaries (Sudachi's limit); merge some CSV files into one",
            "ユーザー辞書は {limit} 個までです。CSV をまとめてください。",
        ),
        (
            "synonyms_missing",
            "no such synonyms file: {path} (--synonyms takes sudachi, none or a file of synonyms)",
            "同義語ファイル {path} がありません。",
        ),
        (
            "synonyms_unreadable",
            "cannot read the synonyms file {path}: {reason}",
            "同義語ファイル {path} を読めません（{reason}）。",
        ),
        ("bad_synonyms", "{file}:{line}: {reason}", "{file} の {line} 行目: {reason}"),
    ),
    *_rows(
        "usage",
        0,
        EXIT_USAGE,
        (
            "unknown_option",
            "no such option: {option} (sakuin {command} --help lists them; to search for {option}, put it after --)",
            "{option} というオプションはありません。",
        ),
        (
            "unknown_option/close",
            "no such option: {option}; did you mean {close}?",
            "{option} というオプションはありません。{close} のことですか。",
        ),
    ),
    *_rows(
        "setting",
        0,
        EXIT_USAGE,
        ("bad_auth_file", "cannot use the access file {path}: {reason}", "アクセス設定ファイル {path} を使えません。"),
        (
            "bad_auth_file/default",
            '{path}: default must be "allow" or "deny" (it is {value!r})',
            '{path}: default は "allow" か "deny" にしてください。',
        ),
        (
            "bad_auth_file/key",
            "{path}: unknown key {key!r} in {what}; the keys are {keys:list}",
            "{path}: {what} に {key} というキーはありません。",
        ),
        (
            "bad_auth_file/name",
            "{path}: user name {name!r}: use letters, digits and . _ @ - (at most 64), as a table [users.NAME]",
            "{path}: ユーザー名 {name} は使えません。",
        ),
        (
            "bad_auth_file/user",
            "{path}: user {name!r}: token_sha256 must be the 64 hex digits of the token's SHA-256"
            " (sakuin auth add-user writes it)",
            "{path}: ユーザー {name} の token_sha256 はトークンの SHA-256（16 進 64 桁）にしてください。",
        ),
        (
            "bad_auth_file/groups",
            '{path}: {what}: groups must be a list of group names, e.g. groups = ["hr"] ("*": every signed-in user)',
            '{path}: {what} の groups はグループ名のリストにしてください（例: groups = ["hr"]）。',
        ),
        (
            "bad_auth_file/rule",
            '{path}: allow rule {number} names no documents: give it path = "folder/" or a metadata field,'
            ' e.g. category = "人事", and groups',
            "{path}: {number} 番目の allow に対象がありません。"
            'path = "folder/" かメタデータ（例: category = "人事"）を書いてください。',
        ),
        (
            "bad_auth_file/value",
            "{path}: {what}: {key} must be {expected}",
            "{path}: {what} の {key} の値が正しくありません（{expected}）。",
        ),
        (
            "bad_auth_file/proxy",
            '{path}: proxy addresses must be IP addresses or networks, e.g. addresses = ["127.0.0.1", "10.0.0.0/8"]'
            " (got {value!r})",
            "{path}: proxy の addresses は IP アドレスかネットワークにしてください。",
        ),
        (
            "bad_user_name",
            "bad user name {name!r}: use letters, digits and . _ @ - (at most 64 characters)",
            "ユーザー名 {name} は使えません。英数字と . _ @ - で 64 文字までにしてください。",
        ),
        (
            "bad_group_name",
            "bad group name {group!r}: no spaces or commas, at most 64 characters",
            "グループ名 {group} は使えません。空白やカンマを含まない 64 文字までにしてください。",
        ),
        (
            "user_exists",
            "user {name!r} is already in {path}: choose another name, or add --replace to give it a new token",
            "ユーザー {name} はすでに {path} にあります。",
        ),
    ),
    *_rows(
        "setting",
        0,
        EXIT_USAGE,
        (
            "bad_setting",
            "{name} must be a number, 0 or more (it is {value!r})",
            "{name} には 0 以上の数を指定してください（いまは {value}）。",
        ),
    ),
    Message(
        "public_without_auth",
        0,
        0,
        "warning: serving on {host} without --auth: anyone who reaches this address can read every document",
        "警告: --auth なしで {host} に公開しています。このアドレスに届く人は誰でもすべての文書を読めます。",
        "warning",
    ),
    *_rows(
        "notice",
        200,
        0,
        (
            "only_function_words",
            "「{query}」 has only particles, auxiliaries or punctuation, which are not indexed;"
            " add a content word, e.g. 国防 or 大臣",
            "「{query}」は助詞・助動詞・記号だけなので検索できません。国防、大臣 のような内容語を入れてください。",
        ),
        (
            "page_past_end",
            "page {page} is past the end: the last page is {last_page}",
            "{page} ページ目はありません。最後のページは {last_page} ページ目です。",
        ),
        (
            "synonyms_searched",
            "also searched for their synonyms {synonyms:list} (synonyms=false searches only the words typed)",
            "{synonyms:ja_quoted}も検索しました。",
        ),
    ),
    # -- watching and the status page: usage errors, and why a file was skipped ----------
    *_rows(
        "usage",
        0,
        EXIT_USAGE,
        (
            "no_such_path",
            "no such file or directory: {paths:list}",
            "ファイルまたはフォルダがありません: {paths:ja_list}",
        ),
        (
            "watch_needs_paths",
            "--watch needs the folders to watch: sakuin serve --watch PATH...",
            "--watch の後に監視するフォルダを書いてください: sakuin serve --watch PATH...",
        ),
        (
            "paths_need_watch",
            "folders to watch follow --watch: sakuin serve --watch {paths:list}",
            "監視するフォルダは --watch の後に書いてください: sakuin serve --watch {paths:ja_list}",
        ),
    ),
    *_rows(
        "watch",
        0,
        EXIT_FAILED,
        (
            "watcher_failed",
            "the watcher stopped before the index was built (exit status {status}); its messages are above",
            "索引を作る前に監視が止まりました（終了コード {status}）。",
        ),
    ),
    #: Why a file was skipped (``sakuin.search.indexing.skips``): the status page's filter labels.
    *_rows(
        "skip",
        0,
        0,
        ("unsupported_type", "file type not supported", "対応していない形式"),
        ("too_large", "too large", "大きすぎる"),
        ("empty_file", "empty file", "空のファイル"),
        ("no_text", "no text", "本文がない"),
        ("scanned", "scanned pages without text", "文字のないスキャン画像"),
        ("encrypted", "encrypted", "暗号化されている"),
        ("old_format", "old Office format: save as a newer one", "古い形式（新しい形式で保存し直す）"),
        ("over_limit", "over a per-file limit", "ファイルごとの上限を超えた"),
        ("binary_file", "binary file", "バイナリ"),
        ("undecodable", "text encoding not recognised", "文字コードを判別できない"),
        ("malformed", "malformed", "形式が壊れている"),
        ("bad_file_name", "file name not UTF-8", "ファイル名が UTF-8 でない"),
        ("not_regular", "not a regular file", "通常のファイルでない"),
        ("link", "symbolic link not followed", "たどらないシンボリックリンク"),
        ("unreadable", "cannot be read", "読み取れない"),
        ("other", "other reasons", "その他"),
    ),
)

#: The table by key (``code`` or ``code/variant``).
CODES: dict[str, Message] = {m.key: m for m in MESSAGES}


def message(key: str) -> Message:
    """The row of ``key``; ``KeyError`` names a key missing from the table."""
    try:
        return CODES[key]
    except KeyError:
        raise KeyError(f"{key!r} is not in sakuin.search.errors.MESSAGES") from None


def codes(kinds: Iterable[str] | None = None) -> list[str]:
    """The distinct codes (of these kinds), in table order."""
    wanted = set(kinds) if kinds is not None else None
    return list(dict.fromkeys(m.code for m in MESSAGES if wanted is None or m.kind in wanted))


def install_hint(extra: str) -> str:
    """The ``pip install`` that adds ``extra`` to this installation of sakuin: an editable
    install from a checkout gets ``pip install -e 'CHECKOUT[extra]'`` (``.`` from inside it),
    anything else ``pip install 'sakuin[extra]'``. Messages that name a missing extra say
    the one command that works where they are read."""
    for dist in importlib.metadata.distributions(name="sakuin"):
        raw = dist.read_text("direct_url.json")
        info = json.loads(raw) if raw else {}
        if info.get("dir_info", {}).get("editable") and info.get("url", "").startswith("file://"):
            checkout = url2pathname(urlparse(info["url"]).path)
            here = os.path.relpath(checkout) if os.path.realpath(checkout) == os.path.realpath(".") else checkout
            return f"pip install -e '{here}[{extra}]'"
    return f"pip install 'sakuin[{extra}]'"


class SakuinError(Exception):
    """An error a user caused or must act on: a row of the table and the values its message names."""

    def __init__(self, key: str, /, **params: Any) -> None:
        self.row = message(key)
        self.params = params
        self.message = self.row.english(params)
        super().__init__(self.message)

    @property
    def code(self) -> str:
        return self.row.code

    @property
    def status(self) -> int:
        return self.row.status

    @property
    def exit(self) -> int:
        return self.row.exit or EXIT_FAILED

    def japanese(self) -> str:
        return self.row.japanese(self.params)


class QuerySyntaxError(SakuinError, ValueError):
    """A query (or its filters, sort or facets) that cannot be read; the message says how to fix it."""


class BadParameter(SakuinError):
    """A request parameter that cannot be used."""


class MetadataError(SakuinError, ValueError):
    """A metadata declaration (``--facet``, ``--date``, ``--number``) that cannot be made."""


class UserDictionaryError(SakuinError, ValueError):
    """A user dictionary (``--user-dict``) or synonyms file (``--synonyms``) that cannot be used;
    a bad line is named ``file:line: reason``."""


class IndexMissing(SakuinError):
    """No index (yet) where one was asked for; the message says which command builds one."""


class IndexBusy(SakuinError):
    """Another index run holds the writer lock."""


class BackendUnavailable(SakuinError):
    """The OpenSearch backend cannot be used: its extra is missing, or a node URL is wrong."""


class MissingExtra(SakuinError):
    """A command needs an optional dependency that is not installed; the message names the ``pip install``."""


class AuthFailed(SakuinError):
    """A request without credentials where they are needed, or with wrong ones (``auth_required``, ``bad_token``)."""


class UnreadableFile(Exception):
    """A file that cannot become documents; the message says why, for the summary (a skip, not an error)."""


__all__ = [
    "CODES",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_SKIPPED",
    "EXIT_USAGE",
    "MESSAGES",
    "AuthFailed",
    "BackendUnavailable",
    "BadParameter",
    "IndexBusy",
    "IndexMissing",
    "Message",
    "MetadataError",
    "MissingExtra",
    "QuerySyntaxError",
    "SakuinError",
    "UnreadableFile",
    "codes",
    "install_hint",
    "message",
]
