"""Highlighting, shared by both backends: where a query matched, and the passage to show.

``spans`` gathers a hit's match spans from every source (postings, substring matches,
phrases); ``snippets`` picks the passage with the most matches, starting and ending at
sentence or word boundaries, and marks them.
"""
