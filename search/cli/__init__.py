"""The ``sakuin`` command: index, optimize, search, analyze, stats, serve, eval, watch, status (``main``)."""

from sakuin.search.cli.main import main

__all__ = ["main"]
