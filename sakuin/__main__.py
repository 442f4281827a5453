"""``python -m sakuin``: the ``sakuin`` command."""

from sakuin.search.cli import main

main()
