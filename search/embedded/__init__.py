"""The embedded backend: sections in a Whoosh index directory on this machine (the default).

``store`` owns the directory (immutable versions, an atomic CURRENT pointer, one
writer at a time), ``schema`` its Whoosh schema, ``livestats`` the statistics of the
live sections; ``writing/`` builds and updates versions, ``reading/`` answers queries
against one pinned version. It never imports ``sakuin.search.opensearch``.
"""
