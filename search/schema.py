"""The Whoosh schema: one Whoosh document per section.

A section carries its document's id, title and path so a hit can be shown,
grouped and linked without a second lookup, and ``source`` (the file it came
from) so an incremental run can delete exactly what a changed file produced.
Field weights are applied at query time (see ``query.py``), not baked in here,
so ranking can be tuned without a rebuild.
"""

from __future__ import annotations

from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema

from search.analysis import japanese_analyzer

#: Bump when the schema or analysis changes in a way that needs a rebuild.
SCHEMA_VERSION = 1

#: Fields a query may name explicitly (``title:``, ``heading:``) and the default set.
TEXT_FIELDS = ("title", "heading", "body")


def section_key(doc_id: str, ordinal: int) -> str:
    """The unique key of a section; the unit separator cannot occur in an id."""
    return f"{doc_id}\x1f{ordinal}"


def build_schema() -> Schema:
    analyzer = japanese_analyzer()
    return Schema(
        key=ID(unique=True, stored=True),
        doc_id=ID(stored=True),
        source=ID(stored=True),
        path=STORED(),
        ordinal=NUMERIC(int, stored=True, sortable=True),
        title=TEXT(analyzer=analyzer, stored=True, chars=True),
        heading=TEXT(analyzer=analyzer, stored=True, chars=True),
        body=TEXT(analyzer=analyzer, stored=True, chars=True),
        meta=STORED(),
    )
