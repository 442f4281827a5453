"""sakuin (索引): Japanese full-text search over a folder of documents, section by section.

The command line (``sakuin index``, ``sakuin serve``…) is the usual way in; this
package is the way in for Python code, with the same two interfaces the command
and the web app use::

    from contextlib import closing
    from pathlib import Path

    import sakuin

    sakuin.build("index", [Path("docs")])                 # index a folder (embedded index)
    with closing(sakuin.open_engine("index")) as engine:  # or "http://node1:9200" for OpenSearch
        for hit in engine.search("有給休暇 申請").hits:
            print(hit.doc_id, hit.heading, hit.snippet.text)

``open_engine`` returns a ``SearchBackend`` and ``open_indexer`` an ``IndexBackend``
whatever the backend (``sakuin.search.backend``); every error they raise is a
``SakuinError`` with a stable code (``sakuin.search.errors``). Importing this package
loads neither Sudachi nor an index: both are opened on first use.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from sakuin.search.backend import IndexBackend, SearchBackend, build, open_engine, open_indexer
from sakuin.search.errors import SakuinError

try:
    __version__ = version("sakuin")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = ["IndexBackend", "SakuinError", "SearchBackend", "__version__", "build", "open_engine", "open_indexer"]
