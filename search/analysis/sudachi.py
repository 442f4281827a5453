"""Sudachi, once per process and thread: morphemes with offsets, parts and readings.

Every analysis in sakuin starts here: the index's terms (``terms``, and the
Whoosh analyzers that define them, ``chain``), the query planner's words and
``sakuin analyze``. One rule says what a term is (``is_term``), so a query term
and an indexed term agree whatever width, case or spelling variant either side used.

Design decisions (docs/architecture.md tells the whole path):

* Terms are Sudachi's *normalized form* (サーバ→サーバー, 附属→付属), then NFKC and
  lower-cased, because ``normalized_form()`` leaves Latin case alone and OOV words
  keep their original width.
* Compounds are indexed as their mode-C unit *and* their mode-A parts ("search"
  split, as analysis-sudachi does): 関西国際空港 is indexed at positions
  関西(p) 国際(p+1) 空港(p+2) with the whole unit overlaid at p. Parts never cross a
  C boundary, so 京都 cannot match inside 東京都 (東京|都).
* Function words (particles, auxiliaries), punctuation and whitespace are not
  terms. Positions count content words only, so a phrase query matches the same
  content words in order whatever particles sit between them; this keeps the
  position lists short, which is what phrase queries pay for.
* Sudachi reads the text with old kanji mapped to new (國防 → 国防, one character
  for one, ``sakuin.search.analysis.normalize``), so an old-form compound is one known word, not
  two unknown ones. Offsets always point into the original text; Sudachi reports
  them that way, the mapping moves none, and chunking adds the chunk's start.
* **User dictionaries belong to an index** (``sakuin.search.analysis.userdict``), so
  which Sudachi dictionary analyses a text depends on the index being written or
  read. An index run and a search each say so once, around everything they do
  (``user_dictionaries(paths)``, a context variable), rather than handing the
  choice down through the planner, the highlighter, the snippets and the bulk
  analysis, which all call Sudachi. Forked workers inherit it, and the index
  workers set it again from what they are given. Each set of dictionaries has its
  own Sudachi objects and its own cache of analysed texts.
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sakuin.search.analysis.normalize import normalize_term, to_shinjitai

#: Sudachi rejects a single input larger than this many UTF-8 bytes.
MAX_CHUNK_BYTES = 49_149

#: The fields we ask Sudachi for. A smaller set changes tokenization, and split_a
#: is needed for compound parts; changing this set needs the analysis tests rerun.
SUDACHI_FIELDS = frozenset({"surface", "pos", "normalized_form", "reading_form", "split_a"})

#: Part-of-speech majors that are never terms.
FUNCTION_TAGS = frozenset({"助詞", "助動詞", "補助記号", "空白"})

#: A letter or digit: ``str.isalnum`` of one character (checked over every code point).
_ALNUM = re.compile(r"[^\W_]")
_SENTENCE_END = re.compile(r"[。．！？!?\n]+")

#: The compiled user dictionaries (absolute paths, in order) that analysis uses now: the
#: ones of the index being written or searched, set by ``user_dictionaries``.
_USER_DICTIONARIES: ContextVar[tuple[str, ...]] = ContextVar("sakuin_user_dictionaries", default=())
#: Dictionaries kept loaded per process besides the plain one (each set of user dictionaries
#: is one); the least recently used goes first.
MAX_DICTIONARIES = 4


@contextmanager
def user_dictionaries(paths: Sequence[str]) -> Iterator[None]:
    """Analyse with these compiled user dictionaries (on top of the system one) inside the block."""
    token = _USER_DICTIONARIES.set(tuple(str(p) for p in paths))
    try:
        yield
    finally:
        _USER_DICTIONARIES.reset(token)


def active_dictionaries() -> tuple[str, ...]:
    """The user dictionaries analysis uses here and now (empty: the system dictionary alone)."""
    return _USER_DICTIONARIES.get()


@dataclass(frozen=True, slots=True)
class Morph:
    """One Sudachi morpheme, detached from Sudachi so it can be cached and pickled.

    ``parts`` holds the mode-A split as (normalized, start, end) triples, empty when
    the mode-C unit is already atomic.
    """

    surface: str
    normalized: str
    tag: str
    reading: str
    start: int
    end: int
    parts: tuple[tuple[str, int, int], ...]
    oov: bool = False
    #: A word of a user dictionary (``sakuin.search.analysis.userdict``), not of the system's.
    user: bool = False


class _Sudachi(threading.local):
    """A per-process, per-thread Sudachi tokenizer for each set of dictionaries, built on first use.

    Sudachi objects are neither picklable nor thread-safe; Whoosh pickles the
    analyzer into the index and the writer forks workers, so the analyzer holds
    no Sudachi state. Each process loads a dictionary once (it is large), and
    each thread that analyses text gets its own tokenizer over it.
    """

    pid: int | None = None

    def __init__(self) -> None:
        self.states: dict[tuple[str, ...], Any] = {}
        self.caches: dict[tuple[str, ...], OrderedDict[str, list[Morph]]] = {}

    def get(self) -> tuple[Any, list[str], Any]:
        key = _USER_DICTIONARIES.get()
        if self.pid != os.getpid():
            self.states.clear()
            self.caches.clear()
            self.pid = os.getpid()
        state = self.states.get(key)
        if state is None:
            from sudachipy import SplitMode

            system, tags = dictionary()
            state = self.states[key] = (system.tokenizer("C", fields=set(SUDACHI_FIELDS)), tags, SplitMode.A)
            while len(self.states) > MAX_DICTIONARIES + 1:
                oldest = next(iter(self.states))
                del self.states[oldest]
                self.caches.pop(oldest, None)
        return state

    @property
    def cache(self) -> OrderedDict[str, list[Morph]]:
        """The analysed texts of the dictionaries in use."""
        key = _USER_DICTIONARIES.get()
        cache = self.caches.get(key)
        if cache is None:
            cache = self.caches[key] = OrderedDict()
        return cache


_dict_lock = threading.Lock()
#: (pid, {user dictionaries → (Sudachi dictionary, parts of speech)}), in order of last use.
_dict_state: tuple[int, OrderedDict[tuple[str, ...], tuple[Any, list[tuple[str, ...]]]]] | None = None


def dictionary() -> tuple[Any, list[str]]:
    """The process's Sudachi dictionary (with the user dictionaries in use) and its POS-id → major tag table."""
    dictionary, poses = _dictionary_and_poses()
    return dictionary, [pos[0] for pos in poses]


def system_dictionary_path() -> str:
    """The installed system dictionary's file (what user dictionaries are compiled against)."""
    import sudachidict_core

    return str(Path(sudachidict_core.__file__).parent / "resources" / "system.dic")


def parts_of_speech() -> list[tuple[str, ...]]:
    """The dictionary's parts of speech, by POS id (each a tuple of six tags)."""
    return _dictionary_and_poses()[1]


def _dictionary_and_poses() -> tuple[Any, list[tuple[str, ...]]]:
    global _dict_state
    key = _USER_DICTIONARIES.get()
    with _dict_lock:
        if _dict_state is None or _dict_state[0] != os.getpid():
            _dict_state = (os.getpid(), OrderedDict())
        loaded = _dict_state[1]
        found = loaded.get(key)
        if found is None:
            from sudachipy import Config, Dictionary

            dictionary = Dictionary(config=Config(user=list(key)), dict="core") if key else Dictionary(dict="core")
            poses: list[tuple[str, ...]] = []
            while (pos := dictionary.pos_of(len(poses))) is not None:
                poses.append(tuple(pos))
            found = loaded[key] = (dictionary, poses)
            while len(loaded) > MAX_DICTIONARIES + 1:
                loaded.popitem(last=False)
        loaded.move_to_end(key)
        return found


_sudachi = _Sudachi()


def tokenizer() -> tuple[Any, list[str], Any]:
    """This thread's Sudachi tokenizer (mode C), the POS-id → major tag table and mode A."""
    return _sudachi.get()


def clear_cache() -> None:
    """Forget this thread's analysed texts (``cached_morphemes``), e.g. between timed runs."""
    _sudachi.cache.clear()


def chunks(text: str, limit: int = MAX_CHUNK_BYTES) -> Iterator[tuple[int, str]]:
    """Cut ``text`` into pieces Sudachi accepts, preferring sentence ends.

    Yields (offset, piece). Cutting at a sentence end keeps tokenization identical
    to an uncut run there; a hard cut is the last resort for a sentence that alone
    exceeds the limit.
    """
    if len(text) * 3 <= limit or len(text.encode("utf-8")) <= limit:
        yield 0, text
        return
    start = 0
    n = len(text)
    while start < n:
        # Grow a window that fits in `limit` bytes (a char is at most 4 bytes).
        end = min(n, start + limit // 4)
        while end < n:
            step = min(n, end + 1024)
            if len(text[start:step].encode("utf-8")) > limit:
                break
            end = step
        if end < n:
            while len(text[start:end].encode("utf-8")) > limit:
                end -= 256
            cut = None
            for m in _SENTENCE_END.finditer(text, start, end):
                cut = m.end()
            if cut is None or cut <= start:
                space = max(text.rfind(" ", start, end), text.rfind("\u3000", start, end))
                cut = space + 1 if space > start else end
            end = cut
        yield start, text[start:end]
        start = end


def morphemes(text: str) -> list[Morph]:
    """Tokenize ``text`` in mode C with mode-A parts, offsets into ``text``."""
    tokenizer, tags, mode_a = _sudachi.get()
    out: list[Morph] = []
    for base, piece in chunks(text):
        for m in tokenizer.tokenize(to_shinjitai(piece)):
            parts: tuple[tuple[str, int, int], ...] = ()
            split = m.split(mode_a)
            if len(split) > 1:
                parts = tuple((p.normalized_form(), base + p.begin(), base + p.end()) for p in split)
            start, end = base + m.begin(), base + m.end()
            out.append(
                Morph(
                    text[start:end],
                    m.normalized_form(),
                    tags[m.part_of_speech_id()],
                    m.reading_form(),
                    start,
                    end,
                    parts,
                    m.is_oov(),
                    m.dictionary_id() > 0,
                )
            )
    return out


_CACHE_SIZE = 8


def cached_morphemes(text: str) -> list[Morph]:
    """``morphemes`` with a small per-thread LRU.

    One section feeds several fields (title, heading, the combined content, the
    reading field) and a document's title repeats in each of its sections, so the
    same strings come back within a few calls; Sudachi runs once for each.
    """
    _cache = _sudachi.cache
    hit = _cache.get(text)
    if hit is not None:
        _cache.move_to_end(text)
        return hit
    result = morphemes(text)
    _cache[text] = result
    if len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return result


def is_term(tag: str, text: str) -> bool:
    """Not a function word, not bare punctuation: the one rule for index and query."""
    return tag not in FUNCTION_TAGS and _ALNUM.search(text) is not None


def is_content(morph: Morph) -> bool:
    """Whether a morpheme can be a term."""
    return is_term(morph.tag, morph.normalized)


def explain(text: str) -> list[dict[str, Any]]:
    """What the analyzer does to ``text``, morpheme by morpheme (``sakuin analyze``).

    ``indexed`` says whether the morpheme becomes a term; ``parts`` are the mode-A
    terms indexed alongside a compound; ``user_dictionary`` whether the word comes from a
    user dictionary of the index (``user_dictionaries``).
    """
    return [
        {
            "surface": m.surface,
            "term": normalize_term(m.normalized),
            "pos": m.tag,
            "reading": m.reading,
            "start": m.start,
            "end": m.end,
            "indexed": is_content(m),
            "parts": [{"term": normalize_term(p), "start": s, "end": e} for p, s, e in m.parts],
            "user_dictionary": m.user,
        }
        for m in morphemes(text)
    ]
