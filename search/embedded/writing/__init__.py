"""The embedded write path: documents → analysed sections → Whoosh segments → a new version.

``indexer`` (``EmbeddedIndexer``) is the ``IndexBackend``; ``pipeline`` runs the
analysis workers; ``segments`` and ``w3blocks`` write Whoosh's own segment format in
one sorted pass; ``compaction`` decides which segments an update rewrites.
"""
