"""Metadata: declarations, filters, facets, sorting and collapsing, checked against the input.

The corpus is generated (``RECORDS`` in ``support/corpora.py``), so every expected count
is computed from the records themselves (which words, category, date each has), not from
the engine.
A livedoor sample (``../shared``, skipped when absent) checks the same on real data.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from support.backends import BACKENDS, Seed, cluster_index
from support.corpora import RECORDS, record_words
from support.paths import LIVEDOOR

from sakuin.search.backend import build
from sakuin.search.documents.metadata import parse_date
from sakuin.search.embedded.reading.engine import EmbeddedEngine
from sakuin.search.embedded.writing.indexer import build_index
from sakuin.search.errors import MetadataError, QuerySyntaxError


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("meta")
    docs = base / "docs"
    (docs / "guide").mkdir(parents=True)
    (docs / "news").mkdir()
    (docs / "records.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS), "utf-8")
    (docs / "guide" / "intro.md").write_text(
        "---\ntitle: 入門\ncategory: 手引き\ndate: 2014-03-01\ntags:\n  - t9\n---\n# 入門\n\n国防の入門。\n", "utf-8"
    )
    (docs / "news" / "a.html").write_text(
        '<html><head><meta name="category" content="手引き"><title>ニュース</title></head>'
        '<body><time datetime="2014-05-05T09:00:00+09:00">5月5日</time><p>国防のニュース。</p></body></html>',
        "utf-8",
    )
    return base


@pytest.fixture(scope="module", params=BACKENDS)
def index(request: pytest.FixtureRequest, corpus: Path) -> Seed:
    """The corpus on each backend, declared in two runs (the second adds fields)."""
    if request.param == "embedded":
        where = Seed("embedded", str(corpus / "index"))
    else:
        urls = ",".join(request.getfixturevalue("cluster_urls"))
        where = Seed("opensearch", urls, "sakuin-metadata", {"SAKUIN_CLUSTER_INDEX": "sakuin-metadata"})
    with cluster_index(where.alias):
        report = build(where.target, [corpus / "docs"], declare=[("category", "keyword"), ("date", "date")])
        assert report.metadata == {"category": "keyword", "date": "date"}
        # Declared once: a later run remembers it; a new field re-derives every section.
        again = build(where.target, [corpus / "docs"], declare=[("price", "number"), ("tags", "keyword")])
        assert again.redeclared and again.metadata == {
            "category": "keyword",
            "date": "date",
            "price": "number",
            "tags": "keyword",
        }
        assert build(where.target, [corpus / "docs"]).up_to_date
    return where


@pytest.fixture(scope="module")
def engine(index: Seed) -> Any:
    return index.engine()


def _facet(result: Any, name: str) -> dict[str, int]:
    return {v.value: v.count for v in result.facets[name]}


def _expected(records: list[dict[str, Any]], field: str = "category") -> dict[str, int]:
    counts: Counter[str] = Counter()
    for r in records:
        values = r.get(field)
        for v in set(values) if isinstance(values, list) else [values] if values is not None else []:
            counts[str(v)] += 1
    return dict(counts)


QUERIES: dict[str, Callable[[set[str]], bool]] = {
    "国防": lambda w: "国防" in w,
    "国防 会談": lambda w: {"国防", "会談"} <= w,
    "国防 OR 野球": lambda w: bool({"国防", "野球"} & w),
    "国防 -会談": lambda w: "国防" in w and "会談" not in w,
    '"予算"': lambda w: "予算" in w,
    "(選挙 OR 予算) -野球": lambda w: bool({"選挙", "予算"} & w) and "野球" not in w,
}


@pytest.mark.parametrize("q", list(QUERIES))
def test_facet_counts_equal_counts_from_the_input(engine: EmbeddedEngine, q: str) -> None:
    matching = [r for r in RECORDS[:80] if QUERIES[q](record_words(r))]
    result = engine.search(q, facets=["category", "tags"], per_page=100)
    from_files = 2 if q in ("国防", "国防 OR 野球", "国防 -会談") else 0  # the Markdown and HTML files say 国防
    assert result.total == len(matching) + from_files
    expected = _expected(matching)
    if from_files:
        expected["手引き"] = 2
    assert _facet(result, "category") == expected
    tags = _expected(matching, "tags")
    if from_files:
        tags["t9"] = 1
    assert _facet(result, "tags") == tags
    # Filtering by one value gives exactly its count; the field's own facet still lists every value.
    for value, count in expected.items():
        filtered = engine.search(q, facets=["category"], filters=[f'category:"{value}"'], per_page=100)
        assert filtered.total == count, value
        assert _facet(filtered, "category") == expected
        assert all(h.meta.get("category") == value for h in filtered.hits)


def test_filters_work_inside_the_query_and_combine_with_every_form(engine: EmbeddedEngine) -> None:
    politics = [r for r in RECORDS if r["category"] == "政治"]
    assert engine.search("category:政治", per_page=100).total == len(politics)
    assert (
        engine.search("-category:政治 国防").total
        == sum(1 for r in RECORDS[:80] if r["category"] != "政治" and "国防" in record_words(r)) + 2
    )
    both = engine.search("category:政治 OR category:経済", per_page=100)
    assert both.total == sum(1 for r in RECORDS if r["category"] in ("政治", "経済")) - 1  # r80/r81 collapse
    spaced = engine.search('category:"IT ニュース" 会談', per_page=100)
    assert spaced.total == sum(1 for r in RECORDS[:80] if r["category"] == "IT ニュース" and "会談" in record_words(r))
    # A question (sentence) and a phrase, filtered.
    question = engine.search("国防について話したのは誰か", filters=["category:スポーツ"], per_page=100)
    assert question.total and all(h.meta["category"] == "スポーツ" for h in question.hits)
    # Width and case do not matter for a value: NFKC-folded.
    assert engine.search("category:ｽﾎﾟｰﾂ").total == engine.search("category:スポーツ").total


def _wall(record: dict[str, Any]) -> float | None:
    return parse_date(record["date"]) if "date" in record else None


@pytest.mark.parametrize(
    ("q", "low", "high"),
    [
        ("date:2012", "2012-01-01", "2013-01-01"),
        ("date:2012-03..2012-06", "2012-03-01", "2012-07-01"),
        ("date:>=2013-07-01", "2013-07-01", None),
        ("date:<2011-06", None, "2011-06-01"),
        ("date:<=2011-06", None, "2011-07-01"),
        ("date:2012-05-06", "2012-05-06", "2012-05-07"),
        ("date:..2011-02", None, "2011-03-01"),
    ],
)
def test_date_ranges_equal_the_input(engine: EmbeddedEngine, q: str, low: str | None, high: str | None) -> None:
    lo = parse_date(low) if low else float("-inf")
    hi = parse_date(high) if high else float("inf")
    files = {"guide/intro.md": "2014-03-01", "news/a.html": "2014-05-05T09:00:00+09:00"}
    dated = [(r["id"], _wall(r)) for r in RECORDS] + [(k, parse_date(v)) for k, v in files.items()]
    expected = {key for key, d in dated if d is not None and lo <= d < hi}
    result = engine.search(q, per_page=100)
    assert {h.doc_id for h in result.hits} == expected and result.total == len(expected)


def test_dates_compare_on_their_own_wall_clock(engine: EmbeddedEngine) -> None:
    """2011-01-01T00:30+09:00 is on 1 January, not on 31 December in UTC."""
    assert "tz" in {h.doc_id for h in engine.search("date:2013-01-01", per_page=100).hits}
    assert "tz" not in {h.doc_id for h in engine.search("date:2012-12-31", per_page=100).hits}


def test_numbers_filter_by_range(engine: EmbeddedEngine) -> None:
    result = engine.search("price:100..200", per_page=100)
    assert {h.doc_id for h in result.hits} == {r["id"] for r in RECORDS if 100 <= r.get("price", -1) <= 200}
    assert engine.search("price:>790", per_page=100).total == 0
    assert engine.search("price:<10", per_page=100).total == 2  # r000, and r80/r81 (5) collapsed into one


def test_sort_by_date_both_ways_with_missing_dates_last(engine: EmbeddedEngine) -> None:
    dated = sorted((r for r in RECORDS if "date" in r), key=lambda r: (_wall(r), r["id"]))
    newest = engine.search("", filters=["category:政治"], sort="-date", per_page=100)
    politics = [r for r in dated if r["category"] == "政治"]
    got = [h.doc_id for h in newest.hits]
    assert got[: len(politics)] == [r["id"] for r in sorted(politics, key=lambda r: -_wall(r))]  # type: ignore[operator]
    assert all("date" not in h.meta for h in newest.hits[len(politics) :])
    oldest = engine.search("国防", sort="date", per_page=100)
    values = [parse_date(h.meta["date"]) for h in oldest.hits if "date" in h.meta]
    assert values == sorted(values) and oldest.sort == "date" and newest.sort == "-date"


def test_same_text_in_two_documents_is_one_hit(engine: EmbeddedEngine) -> None:
    collapsed = engine.search("編集部")
    assert collapsed.total == 1 and collapsed.sections == 2 and collapsed.hits[0].duplicates == 1
    listed = engine.search("編集部", collapse=False)
    assert listed.total == 2 and [h.duplicates for h in listed.hits] == [0, 0]


def test_path_is_a_built_in_facet_and_prefix_filter(engine: EmbeddedEngine) -> None:
    all_paths = engine.search("国防", facets=["path"], per_page=100)
    assert _facet(all_paths, "path") == {"guide/": 1, "news/": 1}
    assert [h.path for h in engine.search("path:guide/ 国防").hits] == ["guide/intro.md"]
    assert engine.search("path:news/a.html").total == 1
    assert engine.search("path:records.jsonl", per_page=100).total == len(RECORDS) - 1


def test_front_matter_and_html_meta_become_metadata(engine: EmbeddedEngine) -> None:
    md, html = engine.document("guide/intro.md"), engine.document("news/a.html")
    assert md is not None and md.meta == {"category": "手引き", "date": "2014-03-01", "tags": ["t9"]}
    assert html is not None and html.meta == {"category": "手引き", "date": "2014-05-05T09:00:00+09:00"}
    assert engine.search("date:2014-05").total == 1


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda e: e.search("author:x"), "unknown_field"),
        (lambda e: e.search("date:yesterday"), "bad_filter_value"),
        (lambda e: e.search("price:ten"), "bad_filter_value"),
        (lambda e: e.search("国防 OR category:政治"), "filter_in_or"),
        (lambda e: e.search("国防", sort="title"), "unknown_sort"),
        (lambda e: e.search("国防", facets=["price"]), "unknown_facet"),
        (lambda e: e.search("国防", filters=["category"]), "bad_filter"),
        (lambda e: e.search("-category:政治"), "only_negative"),
    ],
)
def test_bad_metadata_requests_have_codes(
    engine: EmbeddedEngine, call: Callable[[EmbeddedEngine], Any], code: str
) -> None:
    with pytest.raises(QuerySyntaxError) as err:
        call(engine)
    assert err.value.code == code


def test_unknown_field_lists_the_declared_ones(engine: EmbeddedEngine) -> None:
    with pytest.raises(QuerySyntaxError) as err:
        engine.search("author:x")
    assert err.value.params["fields"] == [
        "title",
        "heading",
        "path",
        "type",
        "modified",
        "category",
        "date",
        "price",
        "tags",
    ]


def test_bad_declarations_are_refused(corpus: Path, index: Seed) -> None:
    with cluster_index(index.alias):
        with pytest.raises(MetadataError, match="already declared as a keyword"):
            build(index.target, [corpus / "docs"], declare=[("category", "date")])
        with pytest.raises(MetadataError, match="bad metadata field name"):
            build(index.target, [corpus / "docs"], declare=[("Bad-Name", "keyword")])
        with pytest.raises(MetadataError, match="built-in"):
            build(index.target, [corpus / "docs"], declare=[("title", "keyword")])


def test_the_summary_suggests_fields_it_saw(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "r.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS), "utf-8")
    report = build_index([docs], tmp_path / "index")
    assert set(report.suggestions) == {"--facet category", "--date date", "--number price", "--facet tags"}


def test_did_you_mean_offers_the_nearest_indexed_word(engine: Any) -> None:
    result = engine.search("選拳")  # 拳 for 挙, a classic slip
    assert result.total == 0 and result.did_you_mean == ["選挙"]
    assert engine.search("国防").did_you_mean == []


def test_api_facets_filters_sort_and_suggest(index: Seed) -> None:
    client = index.app().test_client()
    body = client.get(
        "/api/search", query_string={"q": "国防", "facets": "category,path", "filter": "category:政治", "sort": "-date"}
    ).get_json()
    assert body["sort"] == "-date" and body["filters"] == ["category:政治"]
    assert {v["value"] for v in body["facets"]["category"] if v["selected"]} == {"政治"}
    assert all(h["meta"]["category"] == "政治" for h in body["hits"])
    post = client.post("/api/search", json={"q": "", "filter": ["category:政治"], "facets": ["category"]}).get_json()
    assert post["total"] == sum(1 for r in RECORDS if r["category"] == "政治")
    r = client.get("/api/search", query_string={"q": "国防", "sort": "nope"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "unknown_sort"
    suggestions = client.get("/api/suggest", query_string={"q": "国"}).get_json()["suggestions"]
    assert any(s["kind"] == "word" and s["text"] == "国防" for s in suggestions)


def test_results_page_has_facets_sort_and_chips_without_javascript(index: Seed) -> None:
    client = index.app().test_client()
    page = client.get("/search", query_string={"q": "国防", "filter": "category:政治", "sort": "-date"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'value="category:政治" checked' in text and 'name="filter" value="category:経済"' in text
    assert '<option value="-date" selected>' in text and 'class="chip"' in text
    assert text.count('type="submit" class="apply"') == 2  # the forms work without JavaScript
    assert "/search?q=%E5%9B%BD%E9%98%B2&amp;sort=-date" in text  # the chip removes only its filter


@pytest.mark.skipif(not LIVEDOOR.exists(), reason="../shared/data/scale (livedoor) is not available")
def test_livedoor_sample_counts_and_sort(tmp_path: Path) -> None:
    with gzip.open(LIVEDOOR, "rt", encoding="utf-8") as fh:
        sample = [json.loads(line) for i, line in enumerate(fh) if i % 25 == 0]
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ld.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in sample), "utf-8")
    build_index([docs], tmp_path / "index", declare=[("category", "keyword"), ("date", "date")])
    engine = EmbeddedEngine(tmp_path / "index")
    everything = engine.search("", filters=["date:1900.."], facets=["category"], per_page=100, collapse=False)
    assert _facet(everything, "category") == _expected(sample)
    year = engine.search("date:2012", facets=["category"], collapse=False)
    in_2012 = [r for r in sample if r["date"].startswith("2012")]
    assert year.total == len(in_2012) and _facet(year, "category") == _expected(in_2012)
    newest = engine.search("", filters=["category:sports-watch"], sort="-date", per_page=5, collapse=False)
    sports = sorted((r for r in sample if r["category"] == "sports-watch"), key=lambda r: r["date"], reverse=True)
    assert [h.doc_id for h in newest.hits] == [r["id"] for r in sports[:5]]
    assert newest.hits[0].url == sports[0]["url"]
    stamp = datetime.fromisoformat(newest.hits[0].meta["date"])
    assert stamp.year >= 2011
