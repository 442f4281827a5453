"""The embedded read path: a plan → ranked sections → hits, against one pinned version.

``engine`` (``EmbeddedEngine``) is the ``SearchBackend``; ``snapshot`` is one open
version with its searchers and caches; ``emit`` turns a plan into what Whoosh runs;
``ranking``, ``arrayquery``, ``bagofwords``, ``proximity`` and ``scoring`` rank;
``metatables`` filters, counts facets and sorts; ``occurrences`` and ``highlight``
find the spans to mark; ``suggest`` and ``examples`` feed the pages' suggestions.
"""
