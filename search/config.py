"""Every setting in one place: the ``SAKUIN_*`` environment variables and every tuned constant.

Each is defined once here with its meaning and default (``SETTINGS``, from which
``docs/configuration.md`` is generated and checked by a test); the module that
uses a constant imports it from here. Constants are plain module values, so a test
may patch the using module's name as before. Environment variables are read when
they are needed, not at import (a server started with ``SAKUIN_CACHE_MB=64`` or a
test that sets ``SAKUIN_CLUSTER_INDEX`` gets what it set); a variable that is set
to something that is not a number is an error (``bad_setting``), never ignored.

Groups: ``paths`` (where things are), ``ranking`` (tuned on the dev set and the
keyword benchmark: ``docs/relevance.md``), ``results``, ``indexing`` and
``serving`` (tuned by the benchmarks: ``docs/performance.md``), ``watching`` (``sakuin
watch`` and the run history), ``limits`` (what a request or a file may be), ``opensearch``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: the constant's ``name`` here, its ``default``, what it means and, when
    an environment variable overrides it, the variable (written in ``unit``)."""

    name: str
    default: Any
    group: str
    meaning: str
    env: str | None = None
    unit: str = ""


SETTINGS: dict[str, Setting] = {}


def _define(name: str, default: Any, group: str, meaning: str, env: str | None = None, unit: str = "") -> Any:
    SETTINGS[name] = Setting(name, default, group, " ".join(meaning.split()), env, unit)
    return default


def _number(env: str, default: float) -> float:
    raw = os.environ.get(env, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        from sakuin.search.errors import SakuinError

        raise SakuinError("bad_setting", name=env, value=raw)
    return value


# -- paths ----------------------------------------------------------------------------

INDEX_DIR = _define(
    "INDEX_DIR",
    "index",
    "paths",
    "The embedded index's directory when a command is not given ``--index-dir``.",
    env="SAKUIN_INDEX_DIR",
)
BACKEND = _define(
    "BACKEND",
    None,
    "paths",
    "``--backend`` for every command: an index directory, or OpenSearch node URLs (comma-separated).",
    env="SAKUIN_BACKEND",
)

DICTIONARY_DIR = _define(
    "DICTIONARY_DIR",
    "~/.cache/sakuin/dictionaries",
    "paths",
    """Where a server compiles the user dictionaries of a cluster's index (an embedded index
    keeps its own in its directory); a dictionary is compiled once per fingerprint.""",
    env="SAKUIN_DICTIONARY_DIR",
)

# -- ranking --------------------------------------------------------------------------

K1 = _define(
    "K1",
    0.4,
    "ranking",
    """BM25's term-frequency saturation (Robertson/Lucene idf). Short passages with few
    repeated words prefer a low K1 (dev set).""",
)
B = _define("B", 0.5, "ranking", "BM25's length normalisation (dev set).")
MIN_WORD_SHARE = _define(
    "MIN_WORD_SHARE",
    0.25,
    "ranking",
    """The share of a question's words a section must have to count as a match (at least
    one): a question's total counts sections that answer some of it, not every section that
    shares a common word with it. Dev set: nDCG@10 unchanged at 0.25, the median total of a
    question 1,629 → 94; 0.3 starts to cost (nDCG@10 −0.0004).""",
)
SHORT_KANA = _define(
    "SHORT_KANA",
    8,
    "ranking",
    "Kana runs up to this long that Sudachi cannot read as one word are names typed in kana.",
)
WORD_WEIGHT = _define(
    "WORD_WEIGHT",
    2.5,
    "ranking",
    "How much a word match counts against a character-bigram match in a sentence (dev set).",
)
GRAM_MAX_DF = _define(
    "GRAM_MAX_DF",
    0.10,
    "ranking",
    """In a sentence, bigrams in more than this share of sections are skipped: they barely
    move the ranking (dev set: no loss at 10 %) but cost the most time.""",
)
PAIR_WEIGHT = _define(
    "PAIR_WEIGHT",
    10.0,
    "ranking",
    """What a section earns for each pair of a question's words it has side by side in the
    same order (particles between them do not count). A constant, not a BM25 score: the pair
    says the section words it as the question does, whatever the words' rarity (dev set:
    about one more matched word).""",
)
PAIR_WINDOW = _define(
    "PAIR_WINDOW",
    20,
    "ranking",
    "The best sections of a question, by score, in which its pairs are looked for.",
)
TYPED_WEIGHT = _define(
    "TYPED_WEIGHT",
    10.0,
    "ranking",
    """In a question, what a section earns for writing a word as typed when normalization
    respelled it (ジャポン, not only ジャパン); in a keyword query such sections simply rank
    first. About one more matched word, as ``PAIR_WEIGHT``.""",
)
TITLE_WINDOW = _define(
    "TITLE_WINDOW",
    50,
    "ranking",
    """For a keyword query, the best sections, by score, checked for having the query's words
    only in their document's title (which every section carries): those rank after the
    sections that have the words in their own text. Questions are ranked by how much of
    them a section covers and are left as they are (dev set: checking them moved relevant
    passages past the hundredth). 0: not checked.""",
)
KANA_WEIGHT = _define(
    "KANA_WEIGHT",
    2.0,
    "ranking",
    """How much hiragana's katakana word counts against the words Sudachi reads in the
    hiragana (あるく: アルク against 歩く): kana typed finds the kana first (keyword
    benchmark, hiragana class).""",
)

DEFAULT_SYNONYMS = _define(
    "DEFAULT_SYNONYMS",
    ("sudachi",),
    "ranking",
    """The synonym sources of an index that declares none with ``--synonyms``: Sudachi's
    synonym dictionary, chosen by measurement (``docs/relevance.md``): the synonym
    evaluation's recall@10 of sections in another form 0 → 0.849 (form absent) and 0.929
    (both forms) with the typed form first in every query; the dev set and the keyword
    benchmark within the variation between runs.""",
)
SYNONYM_WEIGHT = _define(
    "SYNONYM_WEIGHT",
    0.1,
    "ranking",
    """How much a synonym's match counts against the typed word's. A keyword query lists
    the sections that write the typed words first whatever this is; in a question a synonym
    is one more optional word, worth this share of a word, and scored no rarer than the
    typed words (dev set nDCG@10 0.9573 at 0.1 and 0.9570 at 0.5, perturbed questions 0.9543
    and 0.9537, measured before that cap; 0.9572 and 0.9542 at 0.1 with it).""",
)

# -- results --------------------------------------------------------------------------

FACET_LIMIT = _define(
    "FACET_LIMIT", 20, "results", "Values listed per facet (the most frequent; selected values always)."
)
FEW_HITS = _define("FEW_HITS", 3, "results", 'A keyword query with fewer hits than this gets a "did you mean".')
TRACK_TOTAL = _define(
    "TRACK_TOTAL",
    10_000,
    "results",
    """On OpenSearch, hits are counted exactly up to this many (``track_total_hits``); past it an
    answer says "at least this many" (``total_relation`` ``gte``, 「10,000 件以上」). The
    embedded index scores every match, so its totals are always exact.""",
)
MAX_CANDIDATES = _define(
    "MAX_CANDIDATES",
    300,
    "results",
    '"Did you mean" candidates per word compared by edit distance (those sharing the most bigrams).',
)
SNIPPET_CHARS = _define("SNIPPET_CHARS", 160, "results", "Characters in a hit's snippet.")

# -- indexing -------------------------------------------------------------------------

BATCH_CHARS = _define(
    "BATCH_CHARS",
    50_000,
    "indexing",
    """Text (characters) per batch sent to an analysis worker: enough to amortise the pipe,
    small enough that the workers' shares (dealt round robin) end within a batch of each
    other.""",
)
QUEUE_DEPTH = _define(
    "QUEUE_DEPTH", 3, "indexing", "Batches queued per worker: keeps the workers busy while bounding what waits."
)
SEGMENT_MB = _define(
    "SEGMENT_MB",
    400,
    "indexing",
    """A worker writes its segment out when its buffered postings (and what writing them
    takes) pass this: about how far a worker's memory grows above its base (~0.2 GB). 400
    keeps two workers and the main process under 1.5 GB at any corpus size.""",
    env="SAKUIN_SEGMENT_MB",
    unit="MB",
)
PARALLEL_MIN_BYTES = _define(
    "PARALLEL_MIN_BYTES",
    512 * 1024,
    "indexing",
    "Below this much new input, analysing in worker processes costs more than it saves (one process).",
)
MAX_FILE_MB = _define(
    "MAX_FILE_MB",
    20,
    "indexing",
    """Largest text, Markdown or HTML file read (a whole file is held in memory; a 2 GB log
    in a document folder must be refused, not read). JSONL is streamed: no limit.""",
    env="SAKUIN_MAX_FILE_MB",
    unit="MB",
)
MAX_DOCUMENT_MB = _define(
    "MAX_DOCUMENT_MB",
    500,
    "indexing",
    """Largest PDF, Office, EPUB or mail file read (they are read page by page or part by
    part, not held whole: the limits below bound the work).""",
    env="SAKUIN_MAX_DOCUMENT_MB",
    unit="MB",
)
MAX_PAGES = _define(
    "MAX_PAGES",
    5_000,
    "indexing",
    """A PDF with more pages is skipped with its reason (a page tree can claim millions
    of pages in a few kilobytes).""",
    env="SAKUIN_MAX_PAGES",
)
MAX_UNZIPPED_MB = _define(
    "MAX_UNZIPPED_MB",
    300,
    "indexing",
    """What a DOCX, PPTX, XLSX or EPUB (a zip) may hold once decompressed, by its own
    directory; more is a zip bomb and the file is skipped. Python's zip reader never
    returns more than a member declares, so the directory's sizes bound the work.""",
    env="SAKUIN_MAX_UNZIPPED_MB",
    unit="MB",
)
MAX_FILE_SECONDS = _define(
    "MAX_FILE_SECONDS",
    120,
    "indexing",
    """Time one file's extraction may take (checked between pages and parts; a timer
    interrupts a reader stuck in Python code); a file that takes longer is skipped.""",
    env="SAKUIN_MAX_FILE_SECONDS",
    unit="s",
)
MAX_EXTRACTED_MB = _define(
    "MAX_EXTRACTED_MB",
    40,
    "indexing",
    """Text one PDF, Office, EPUB or mail file may yield (UTF-8); more is skipped: the
    worker holds a file's text while it analyses it.""",
    env="SAKUIN_MAX_EXTRACTED_MB",
    unit="MB",
)
MAX_SECTION_CHARS = _define(
    "MAX_SECTION_CHARS",
    100_000,
    "indexing",
    """Longer sections are split into consecutive sections with the same heading, so
    analysing one section (and showing one hit) needs bounded memory and time.""",
)
DUP_MIN_CHARS = _define(
    "DUP_MIN_CHARS",
    40,
    "indexing",
    "Bodies shorter than this (folded, without spaces) are never collapsed as duplicates.",
)
DELETED_SHARE = _define(
    "DELETED_SHARE",
    0.2,
    "indexing",
    "A segment with more than this share of its sections deleted is rewritten by the next update.",
)
SIZE_LIMIT = _define(
    "SIZE_LIMIT",
    1.25,
    "indexing",
    "When the segments take more than this × what a fresh build would, an update rewrites them all.",
)
TIER_FACTOR = _define(
    "TIER_FACTOR",
    8,
    "indexing",
    "Segments are tiered by size (× this per tier); a tier holding this many is merged into one.",
)
FLOOR_BYTES = _define(
    "FLOOR_BYTES",
    4 * MB,
    "indexing",
    "Segments under this are cheap to re-analyse: two of them are merged into one.",
)
KEEP_OLD = _define(
    "KEEP_OLD",
    1,
    "indexing",
    "Index versions kept besides the live one, so a server mid-request on the previous one still finds its files.",
)

# -- serving --------------------------------------------------------------------------

CACHE_MB = _define(
    "CACHE_MB",
    136,
    "serving",
    """What an index version's caches may hold in all, per server process: term scores,
    words' decoded positions, shown sections' stored fields, document frequencies
    (``CACHE_SHARES``). On livedoor (2 workers) 96 MB cost ~10 % of the throughput and
    saved only ~25 MB of memory.""",
    env="SAKUIN_CACHE_MB",
    unit="MB",
)
CACHE_SHARES = _define(
    "CACHE_SHARES",
    {"scores": 64 / 136, "occurrences": 32 / 136, "stored": 32 / 136, "frequencies": 8 / 136},
    "serving",
    "Each cache's share of ``CACHE_MB``: 64, 32, 32 and 8 MB at the default.",
)
RANDOM_ACCESS_SHARE = _define(
    "RANDOM_ACCESS_SHARE",
    0.5,
    "serving",
    """An index version whose segment files take more than this share of the machine's
    memory has its mappings advised random access (no readahead): larger than memory
    (10M sections, 37.8 GB on 24 GB), readahead read gigabytes a query; one that fits
    (1M, 3.7 GB) read in with readahead answered its first 200 queries from a cold
    page cache in 9.6 and 8.6 s against 26.3 and 22.9 s advised.""",
)
DEFAULT_POOL = _define(
    "DEFAULT_POOL",
    8,
    "serving",
    "Idle searchers an index version keeps per process (a server sets it to its thread count).",
)
DEFAULT_THREADS = _define(
    "DEFAULT_THREADS",
    2,
    "serving",
    """Threads per server worker (``sakuin serve --threads``). Requests are CPU-bound Python:
    two let a fast request pass a slow one; four cost a third of the throughput.""",
)
THUMBNAIL_WIDTH = _define(
    "THUMBNAIL_WIDTH",
    480,
    "serving",
    "Width in pixels of a PDF page's thumbnail on the document page (the height follows the page).",
)
THUMBNAIL_CACHE_MB = _define(
    "THUMBNAIL_CACHE_MB",
    32,
    "serving",
    """What rendered page thumbnails (PNG) may hold in all, per server process; rendered
    on demand, least recently used dropped first.""",
    env="SAKUIN_THUMBNAIL_CACHE_MB",
    unit="MB",
)
GRACEFUL_SECONDS = _define("GRACEFUL_SECONDS", 30, "serving", "How long SIGTERM lets in-flight requests finish.")
READ_SECONDS = _define(
    "READ_SECONDS",
    10,
    "serving",
    """Time a client has to send a request's head (request line and headers), and then again
    its body; a connection still sending after that is closed. The server reads requests in
    each worker's event loop and hands only complete ones to the threads, so slow clients
    (slowloris) hold a socket, never a thread.""",
    env="SAKUIN_READ_TIMEOUT",
    unit="s",
)
MAX_HEAD_BYTES = _define(
    "MAX_HEAD_BYTES",
    256 * 1024,
    "serving",
    """A request head (request line and headers) larger than this is refused (431) before it
    reaches the app: the app's own limits (``MAX_QUERY_STRING``) answer anything smaller.""",
)
CLIENT_CONCURRENCY = _define(
    "CLIENT_CONCURRENCY",
    0,
    "serving",
    """Expensive requests (searches, suggestions, document pages, originals and thumbnails)
    one client (a signed-in user, else an address) may have running at once in one server
    process; more are answered 429 at once. 0: one less than ``--threads`` (at least 1), so
    no client holds every thread of a worker.""",
    env="SAKUIN_CLIENT_CONCURRENCY",
)
ACCESS_LOG_CHARS = _define(
    "ACCESS_LOG_CHARS",
    2000,
    "serving",
    """Characters of a request line the access log writes; a longer one is cut and says how
    many characters were left out (a 180 KB query string is not a log line).""",
)
AUTH_RELOAD_SECONDS = _define(
    "AUTH_RELOAD_SECONDS",
    1.0,
    "serving",
    """How often at most each server process checks the access file (``--auth``) for changes;
    a changed file applies to the next request, without a restart or a re-index.""",
)
SESSION_HOURS = _define(
    "SESSION_HOURS",
    12,
    "serving",
    """How long a sign-in on the pages lasts (the session cookie's lifetime). Sessions are
    signed with a key made when the server starts: a restart signs everyone out.""",
)
ACCESS_CACHE_MB = _define(
    "ACCESS_CACHE_MB",
    16,
    "serving",
    """What the embedded index keeps per version and process of the sections each reader's
    access rules permit (one byte per section per distinct set of rules).""",
)

# -- watching -------------------------------------------------------------------------

WATCH_QUIET = _define(
    "WATCH_QUIET",
    1.0,
    "watching",
    """``sakuin watch`` updates once the folders have been quiet this long after a change, so a
    copy of thousands of files or a branch switch is one update, not thousands.""",
    env="SAKUIN_WATCH_QUIET",
    unit="seconds",
)
WATCH_MAX_DELAY = _define(
    "WATCH_MAX_DELAY",
    30.0,
    "watching",
    """Under changes that never pause, ``sakuin watch`` updates at least this often (counted from
    the first change not yet indexed).""",
    env="SAKUIN_WATCH_MAX_DELAY",
    unit="seconds",
)
WATCH_RETRY_FIRST = _define(
    "WATCH_RETRY_FIRST",
    2.0,
    "watching",
    "After a failed update the watcher tries again this many seconds later, then twice as long each time.",
)
WATCH_RETRY_MAX = _define(
    "WATCH_RETRY_MAX",
    300.0,
    "watching",
    "The longest wait between two attempts after failed updates (seconds).",
)
WATCH_HEARTBEAT = _define(
    "WATCH_HEARTBEAT",
    10.0,
    "watching",
    """How often a watcher rewrites its state for ``sakuin status`` (seconds); a watcher on another
    machine whose state is three times older than this counts as stopped.""",
)
WATCH_ROOT_CHECK = _define(
    "WATCH_ROOT_CHECK",
    1.0,
    "watching",
    "How often the watcher checks that its folders are still there (an unmounted share; seconds).",
)
RUNS_KEPT = _define(
    "RUNS_KEPT",
    200,
    "watching",
    "Index runs the run history keeps (``sakuin status``, ``/status``); older ones are dropped.",
)
RUN_PATHS_KEPT = _define(
    "RUN_PATHS_KEPT",
    20,
    "watching",
    "Paths a run's record names per kind of change (added, changed, removed); the counts are exact.",
)

# -- limits ---------------------------------------------------------------------------

MAX_QUERY_CHARS = _define("MAX_QUERY_CHARS", 1000, "limits", "Characters of a query (after NFKC), whatever the script.")
MAX_DEPTH = _define("MAX_DEPTH", 20, "limits", "Parentheses nested deeper than this are refused (``too_deep``).")
MAX_PAGE = _define("MAX_PAGE", 1000, "limits", "The last page a search may ask for.")
MAX_PER_PAGE = _define("MAX_PER_PAGE", 100, "limits", "Hits per page at most.")
MAX_FACETS = _define("MAX_FACETS", 10, "limits", "Facet fields one request may count.")
MAX_FILTERS = _define("MAX_FILTERS", 50, "limits", "``filter`` parameters one request may give.")
MAX_QUERY_STRING = _define(
    "MAX_QUERY_STRING",
    40_000,
    "limits",
    """Percent-encoded bytes of an address's query string (1,000 characters take up to
    12,000): a too-long query gets ``query_too_long``, only addresses that are not queries
    at all get a 414.""",
)
MAX_PATH = _define("MAX_PATH", 2_000, "limits", "Decoded characters of an address's path.")
MAX_CONTENT_LENGTH = _define(
    "MAX_CONTENT_LENGTH", 16 * 1024, "limits", "Bytes of a request body (``POST /api/search``)."
)

# -- opensearch -----------------------------------------------------------------------

CLUSTER_INDEX = _define(
    "CLUSTER_INDEX",
    "sakuin",
    "opensearch",
    "The alias sakuin's index lives behind on a cluster (its versions are ``<alias>-v000001`` …).",
    env="SAKUIN_CLUSTER_INDEX",
)
DEFAULT_SHARDS = _define("DEFAULT_SHARDS", 3, "opensearch", "Shards of a new index version (``--shards``).")
DEFAULT_REPLICAS = _define("DEFAULT_REPLICAS", 1, "opensearch", "Replicas of a new index version (``--replicas``).")
READ_RETRIES = _define(
    "READ_RETRIES",
    3,
    "opensearch",
    """Times a search or count is sent again when the node it reached asked its shards of a
    node that has just gone (500 ``node_not_connected_exception``): the cluster then asks a
    replica. Writes are never sent twice.""",
)
RETRY_PAUSE = _define(
    "RETRY_PAUSE", 0.25, "opensearch", "Seconds before the first such retry (then twice, three times as long)."
)
SUBSTRING_PAGE = _define(
    "SUBSTRING_PAGE", 2000, "opensearch", "Substring candidates read per request (see ``SUBSTRING_CANDIDATES``)."
)
SUBSTRING_CANDIDATES = _define(
    "SUBSTRING_CANDIDATES",
    20_000,
    "opensearch",
    """Substring candidates checked per query at most (the embedded index checks all), so
    one common bigram cannot cost a hundred requests.""",
)


def cache_bytes() -> int:
    """``CACHE_MB`` in bytes, or ``SAKUIN_CACHE_MB``."""
    return int(_number("SAKUIN_CACHE_MB", CACHE_MB) * MB)


def segment_budget_bytes() -> int:
    """``SEGMENT_MB`` in bytes, or ``SAKUIN_SEGMENT_MB``."""
    return int(_number("SAKUIN_SEGMENT_MB", SEGMENT_MB) * MB)


def max_file_bytes() -> int:
    """``MAX_FILE_MB`` in bytes, or ``SAKUIN_MAX_FILE_MB``."""
    return int(_number("SAKUIN_MAX_FILE_MB", MAX_FILE_MB) * MB)


def document_limits() -> dict[str, float]:
    """The per-file limits of extraction: ``MAX_DOCUMENT_MB``, ``MAX_PAGES``, ``MAX_UNZIPPED_MB``,
    ``MAX_FILE_SECONDS`` and ``MAX_EXTRACTED_MB``, each from its variable when set."""
    return {
        "file_bytes": _number("SAKUIN_MAX_DOCUMENT_MB", MAX_DOCUMENT_MB) * MB,
        "pages": _number("SAKUIN_MAX_PAGES", MAX_PAGES),
        "unzipped_bytes": _number("SAKUIN_MAX_UNZIPPED_MB", MAX_UNZIPPED_MB) * MB,
        "seconds": _number("SAKUIN_MAX_FILE_SECONDS", MAX_FILE_SECONDS),
        "text_bytes": _number("SAKUIN_MAX_EXTRACTED_MB", MAX_EXTRACTED_MB) * MB,
    }


def thumbnail_cache_bytes() -> int:
    """``THUMBNAIL_CACHE_MB`` in bytes, or ``SAKUIN_THUMBNAIL_CACHE_MB``."""
    return int(_number("SAKUIN_THUMBNAIL_CACHE_MB", THUMBNAIL_CACHE_MB) * MB)


def watch_quiet() -> float:
    """``WATCH_QUIET``, or ``SAKUIN_WATCH_QUIET``."""
    return _number("SAKUIN_WATCH_QUIET", WATCH_QUIET)


def watch_max_delay() -> float:
    """``WATCH_MAX_DELAY``, or ``SAKUIN_WATCH_MAX_DELAY``."""
    return _number("SAKUIN_WATCH_MAX_DELAY", WATCH_MAX_DELAY)


def read_seconds() -> float:
    """``READ_SECONDS``, or ``SAKUIN_READ_TIMEOUT``."""
    return _number("SAKUIN_READ_TIMEOUT", READ_SECONDS)


def client_concurrency(threads: int) -> int:
    """``CLIENT_CONCURRENCY`` (or ``SAKUIN_CLIENT_CONCURRENCY``); 0 means ``threads - 1``, at least 1."""
    value = int(_number("SAKUIN_CLIENT_CONCURRENCY", CLIENT_CONCURRENCY))
    return value if value > 0 else max(1, threads - 1)


def dictionary_dir() -> Path:
    """``DICTIONARY_DIR``, or ``SAKUIN_DICTIONARY_DIR``, with ``~`` expanded."""
    return Path(os.environ.get("SAKUIN_DICTIONARY_DIR") or DICTIONARY_DIR).expanduser()


def cluster_index() -> str:
    """``CLUSTER_INDEX``, or ``SAKUIN_CLUSTER_INDEX``."""
    return os.environ.get("SAKUIN_CLUSTER_INDEX") or CLUSTER_INDEX


__all__ = [
    *SETTINGS,
    "MB",
    "SETTINGS",
    "Setting",
    "cache_bytes",
    "client_concurrency",
    "cluster_index",
    "dictionary_dir",
    "document_limits",
    "max_file_bytes",
    "read_seconds",
    "segment_budget_bytes",
    "thumbnail_cache_bytes",
    "watch_max_delay",
    "watch_quiet",
]
