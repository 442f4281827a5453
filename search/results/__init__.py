"""Result objects and the rules both backends follow when they fill them.

``model`` holds the objects (``SearchResult``, ``Hit``, ``Suggestion``…) that the
JSON API, ``--json`` and the HTML pages all render; ``hits`` builds hits and
documents from stored fields; ``facets``, ``suggestions`` and ``examples`` are the
shared rules for facet values, completions and example queries.
"""
