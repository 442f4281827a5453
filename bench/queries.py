"""The query sets the benchmarks send, all made deterministically from corpus titles.

* ``mixed_queries`` / ``mixed_urls``: the load test's mix (load.py; memory.py, coldstart.py,
  facets.py and cluster.py send the API part in-process or over HTTP);
* ``latency_set``: bench_query.py's classes, nouns within a document-frequency band;
* ``scale_set``: scale.py's classes, nouns found by raw SudachiPy, rare in the titles.
"""

from __future__ import annotations

import json
import math
import random
import re
import sys
import unicodedata
import urllib.parse
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: Characters removed from a title to make a question fragment: blanks split the run, the rest is query syntax.
FRAGMENT_SYNTAX = re.compile(r"[\s\"“”()（）]")


def clean_fragment(title: str) -> str:
    return FRAGMENT_SYNTAX.sub("", title).lstrip("-－")


def cut_fragment(rng: random.Random, s: str) -> str:
    """An unspaced fragment of 8-20 characters of ``s`` (which has 8 or more), without a leading
    minus (which would make it an exclusion)."""
    length = rng.randint(8, min(20, len(s)))
    start = rng.randint(0, len(s) - length)
    return s[start : start + length].lstrip("-－")


def draw(
    n: int, make: Callable[[], str | None], seen: set[str], accept: Callable[[str], bool] | None = None
) -> list[str]:
    """Up to ``n`` distinct queries from ``make`` (at most 50 n tries), none already in ``seen``."""
    out: list[str] = []
    for _ in range(n * 50):
        if len(out) == n:
            break
        q = make()
        if q and q not in seen and (accept is None or accept(q)):
            seen.add(q)
            out.append(q)
    return out


# -- the load test's mix -------------------------------------------------------------

KINDS = ("word", "two words", "question", "phrase", "page 2", "html results", "document")
#: The same URL-quoting of doc ids as web/common.py DocIdConverter (livedoor ids have no "." segments).
DOC_ID_SAFE = "!$&'()*+,:;=@/"
#: Query syntax in a title becomes a blank before its words are picked (a quote or a
#: parenthesis would make a 400, not a search).
_SYNTAX_BLANK = str.maketrans({c: " " for c in '"“”„＂«»()（）-－:：'})


def records(corpus: Path, every: int = 1) -> list[tuple[str, str]]:
    """(doc id, title) of every ``every``-th record; the JSONL reader's doc id is the record's ``id``."""
    out = []
    with open(corpus, encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if n % every == 0 and line.strip():
                rec = json.loads(line)
                out.append((str(rec["id"]), rec["title"]))
    return out


def content_words(title: str) -> list[Any]:
    from sakuin.search.analysis.sudachi import is_content, morphemes

    return [m for m in morphemes(title) if is_content(m) and len(m.surface) > 1]


def api_params(kind: int, title: str, words: list[Any]) -> dict[str, Any]:
    """One word, two words, an unspaced title (read as a question), a quoted phrase, page 2."""
    if kind == 0:
        return {"q": words[0].surface}
    if kind == 1:
        return {"q": f"{words[0].surface} {words[-1].surface}"}
    if kind == 2:
        return {"q": "".join(title.split())}
    if kind == 3:
        a, b = words[0], words[1]
        return {"q": f'"{title[a.start : b.end]}"'}
    return {"q": words[-1].surface, "page": 2}


def mixed_queries(corpus: Path, count: int = 400) -> list[dict[str, Any]]:
    """API query parameters from every 7th title with two content words or more, the five
    API kinds in turn (by title number)."""
    out: list[dict[str, Any]] = []
    for n, (_, raw) in enumerate(records(corpus, 7)):
        title = raw.translate(_SYNTAX_BLANK)
        words = content_words(title)
        if len(words) < 2:
            continue
        out.append(api_params(n % 5, title, words))
        if len(out) >= count:
            break
    return out


def urls_for(queries: list[dict[str, Any]]) -> list[str]:
    return ["/api/search?" + urllib.parse.urlencode(params) for params in queries]


def mixed_urls(corpus: Path, every: int = 1, count: int | None = None) -> list[tuple[str, str]]:
    """Distinct (kind, URL) pairs, the kinds of ``KINDS`` in turn, one record (title, id) each.

    Records whose title has fewer than two content words are skipped; a URL already
    in the list (a common one-word query) is skipped too, so every URL is distinct.
    """
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    n = 0
    for doc_id, raw in records(corpus, every):
        title = raw.translate(_SYNTAX_BLANK)
        words = content_words(title)
        if len(words) < 2:
            continue
        kind = n % len(KINDS)
        n += 1
        if kind < 5:
            url = "/api/search?" + urllib.parse.urlencode(api_params(kind, title, words))
        elif kind == 5:
            url = "/search?" + urllib.parse.urlencode({"q": f"{words[0].surface} {words[1].surface}"})
        else:
            url = "/doc/" + urllib.parse.quote(doc_id, safe=DOC_ID_SAFE)
        if url in seen:
            continue
        seen.add(url)
        out.append((KINDS[kind], url))
        if count is not None and len(out) >= count:
            break
    return out


# -- bench_query.py: nouns within a document-frequency band ------------------------------


def title_nouns(titles: list[str], doc_frequency: Callable[[str], int], df_min: int, df_max: int) -> list[list[str]]:
    """Per title, its distinct content nouns (as typed, i.e. surfaces) within the df band."""
    from sakuin.search.analysis.normalize import normalize_term
    from sakuin.search.analysis.sudachi import is_content, morphemes

    out = []
    df_cache: dict[str, int] = {}
    for title in titles:
        words: list[str] = []
        for m in morphemes(title):
            if m.tag != "名詞" or not is_content(m):
                continue
            term = normalize_term(m.normalized)
            if term.isdigit():
                continue
            if term not in df_cache:
                df_cache[term] = doc_frequency(term)
            if df_min <= df_cache[term] <= df_max and m.surface not in words:
                words.append(m.surface)
        out.append(words)
    return out


def compiles(q: str) -> bool:
    from sakuin.search.embedded.reading.emit import compile_query
    from sakuin.search.errors import QuerySyntaxError

    try:
        return compile_query(q).query is not None
    except QuerySyntaxError:
        return False


def latency_set(
    titles: list[str], nouns: list[list[str]], seed: int, n_pairs: int, n_single: int, n_question: int, n_warm: int
) -> dict[str, list[str]]:
    """Warm-up (two-word), ``two_word``, ``single`` and ``question`` queries; all compile."""
    rng = random.Random(seed)
    rich = [ws for ws in nouns if len(ws) >= 2]
    vocab = list(dict.fromkeys(w for ws in nouns for w in ws))
    if not rich or not vocab:
        sys.exit("no usable title words: is the corpus (or --limit) too small?")

    def pair() -> str:
        a, b = rng.sample(rng.choice(rich), 2)
        return f"{a} {b}"

    def single() -> str:
        return rng.choice(vocab)

    def fragment() -> str | None:
        s = clean_fragment(rng.choice(titles))
        return cut_fragment(rng, s) if len(s) >= 8 else None

    seen: set[str] = set()
    warm = draw(n_warm, pair, seen, compiles)
    return {
        "warmup": warm,
        "two_word": draw(n_pairs, pair, seen, compiles),
        "single": draw(n_single, single, seen, compiles),
        "question": draw(n_question, fragment, seen, compiles),
    }


# -- scale.py: nouns found by raw SudachiPy, rare in the titles ---------------------------

SCALE_CLASSES = ("one_word", "two_word", "phrase", "question")
#: As _SYNTAX_BLANK, but hyphens stay (scale.py's definition).
_SCALE_BLANK = str.maketrans({c: " " for c in '"“”„＂«»()（）:：'})
_OPERATORS = frozenset({"OR", "AND", "NOT"})


def _query_noun(m: Any) -> bool:
    pos = m.part_of_speech()
    surface = m.surface()
    return (
        pos[0] == "名詞"
        and pos[1] != "数詞"
        and len(surface) > 1
        and any(ch.isalnum() for ch in m.normalized_form())
        and not unicodedata.normalize("NFKC", surface).isdigit()
        and surface.upper() not in _OPERATORS
        and not surface.startswith(("-", "－"))
    )


def title_words(tokenizer: Any, titles: list[str]) -> tuple[list[list[str]], list[str]]:
    """Per title, its distinct query nouns (surfaces); and every pair of adjacent nouns as typed."""
    nouns: list[list[str]] = []
    phrases: list[str] = []
    for raw in titles:
        title = raw.translate(_SCALE_BLANK)
        words: list[str] = []
        prev = None
        for m in tokenizer.tokenize(title):
            if not _query_noun(m):
                prev = None
                continue
            if prev is not None:
                phrases.append(title[prev.begin() : m.end()])
            prev = m
            if m.surface() not in words:
                words.append(m.surface())
        nouns.append(words)
    return nouns, list(dict.fromkeys(phrases))


def scale_set(
    titles: list[str], tokenizer: Any, seed: int, per_class: int, n_warm: int, max_title_share: float
) -> dict[str, list[str]]:
    """Deterministic queries per class of ``SCALE_CLASSES`` (and a warm-up list), all distinct."""
    rng = random.Random(seed)
    nouns, phrases = title_words(tokenizer, titles)
    # A word in too many titles is stop-word-like; the cut stands in for bench_query's df band.
    counts = Counter(w for ws in nouns for w in ws)
    cap = max(3, math.ceil(max_title_share * len(titles)))
    nouns = [[w for w in ws if counts[w] <= cap] for ws in nouns]
    rich = [ws for ws in nouns if len(ws) >= 2]
    vocab = list(dict.fromkeys(w for ws in nouns for w in ws))
    fragments = [s for s in map(clean_fragment, titles) if len(s) >= 8]
    if not vocab:
        sys.exit("no usable title words: is the corpus (or --limit) too small?")

    def one_word() -> str | None:
        return rng.choice(vocab)

    def two_word() -> str | None:
        if not rich:
            return None
        a, b = rng.sample(rng.choice(rich), 2)
        return f"{a} {b}"

    def phrase() -> str | None:
        return f'"{rng.choice(phrases)}"' if phrases else None

    def question() -> str | None:
        return cut_fragment(rng, rng.choice(fragments)) if fragments else None

    makers = {"one_word": one_word, "two_word": two_word, "phrase": phrase, "question": question}
    seen: set[str] = set()
    warm = [q for i in range(n_warm) for q in draw(1, makers[SCALE_CLASSES[i % len(SCALE_CLASSES)]], seen)]
    return {"warmup": warm} | {c: draw(per_class, makers[c], seen) for c in SCALE_CLASSES}
