"""Ranking function: BM25 with the Robertson/Lucene idf and tuned parameters.

Whoosh's default idf, log(N/(df+1))+1, flattens the gap between rare and common
words; questions are long, so that flattening lets common words outvote the
rare ones that identify the passage. Parameters were tuned on the dev set
(README, "Relevance"): short passages with few repeated words prefer a low K1.
"""

from __future__ import annotations

from math import log
from typing import Any

from whoosh.scoring import BM25F

K1 = 0.4
B = 0.5


class SakuinBM25(BM25F):
    def __init__(self, B: float = B, K1: float = K1, **kwargs: Any) -> None:
        super().__init__(B=B, K1=K1, **kwargs)

    def idf(self, searcher: Any, fieldname: str, text: bytes | str) -> float:
        parent = searcher.get_parent()
        n = parent.doc_frequency(fieldname, text)
        total = parent.doc_count_all()
        return log(1 + (total - n + 0.5) / (n + 0.5))
