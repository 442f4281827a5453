"""Helpers shared by the tests, in one place (this package holds no tests).

``pythonpath = ["tests"]`` in pyproject.toml makes it importable as ``support``:
``from support.paths import ROOT``. Fixtures live in ``tests/conftest.py``.

* ``paths``: the repository, its seed corpus, the shared data beside it, test output;
* ``corpora``: generated corpora and record sets (JSONL, Markdown, the metadata records);
* ``backends``: the seed on each backend (``Seed``, ``BACKENDS``, ``cluster_index``);
* ``processes``: ``sakuin`` as a subprocess, process groups, ``Server``, ports, HTTP;
* ``snapshots``: what a user can observe of an index, to compare two runs;
* ``opensearch``: driving ``scripts/opensearch-cluster``;
* ``web``: the API client validated against the OpenAPI document, a live ``sakuin serve``;
* ``browser``: the chromium the browser tests drive.
"""
