"""The second backend: the same sakuin on an OpenSearch cluster (``--backend http://…``).

What users see does not change: the CLI, the API, the pages, the query
language, the Japanese analysis, the highlights. What changes is where the
sections live. The embedded Whoosh index stays the default.

Design decisions:

* **Analysis stays in Python.** Sudachi's tokens come from SudachiPy exactly as
  for the embedded index (``sakuin.search.analysis.terms``), and are sent as pre-analysed
  token streams into ``whitespace``-analysed fields (``documents``): Java
  Sudachi does not promise SudachiPy's tokens, and the plugin is not on Maven
  Central. One field per stream: ``*_all`` holds every term (a compound's unit
  followed by its parts, as the embedded ``content`` field has them) for term
  queries and BM25 statistics, ``*_fine`` the finest sequence (parts instead of
  compounds) for phrases, because whitespace input cannot stack a part on its
  unit at one position. ``grams`` and ``reading`` as the embedded fields.
* **One plan, another emitter.** Queries go through the same parse → plan
  layers; ``emit`` turns the plan into query DSL, filters into filter clauses
  and facets into filtered terms aggregations (a field's own filters left out,
  as the embedded backend counts).
* **Highlights are computed in Python**, from the hit's stored text analysed as
  the indexer analysed it, with the embedded backend's code
  (``sakuin.search.highlight.spans.match_spans``): identical spans for the same hit, and no
  offsets crossing the Java boundary (UTF-16 units versus code points).
* **Scores do not depend on shard placement**: searches run as
  ``dfs_query_then_fetch`` (global term statistics), with BM25 at sakuin's
  K1 and B.
* **Versions as indices behind an alias** (``<name>`` → ``<name>-v000003``): a
  build writes a new index, copies the unchanged sections from the live one
  (their token streams are in ``_source``, so nothing is re-analysed), adds the
  new ones, then swaps the alias in one ``_aliases`` call; the previous index is
  kept until the next publish, as the embedded versions are. One writer at a
  time: a lock document created with ``op_type=create``.
"""
