"""Snippets: the densest window, its marks and its offsets."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sakuin.search.highlight.snippets import best_window, make_snippet, merge_spans


def _best_window_by_definition(spans: list[tuple[int, int]], width: int) -> int:
    """For each span, count the spans from it on that end inside a window starting there."""
    best_start, best_count = spans[0][0], 0
    for i, (s, _) in enumerate(spans):
        count = 0
        for _, e in spans[i:]:
            if e > s + width:
                break
            count += 1
        if count > best_count:
            best_start, best_count = s, count
    return best_start


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 600), st.integers(1, 30)), min_size=1, max_size=40),
    st.sampled_from([5, 20, 160]),
)
def test_best_window_is_the_densest(raw: list[tuple[int, int]], width: int) -> None:
    spans = merge_spans((a, a + n) for a, n in raw)
    assert best_window(spans, width) == _best_window_by_definition(spans, width)


def test_snippet_marks_the_densest_passage() -> None:
    text = "あ" * 300 + "国防大臣が会談した。" + "い" * 300 + "国防" + "う" * 100
    spans = [(300, 302), (302, 304), (305, 307), (620, 622)]
    snippet = make_snippet(text, spans)
    assert "<mark>国防大臣</mark>" in snippet.html
    assert [snippet.text[s:e] for s, e in snippet.highlights] == ["国防大臣", "会談"]
