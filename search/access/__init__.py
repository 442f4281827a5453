"""Who may read what: the access file's rules, and the filter they make for one reader.

* ``model.py``: ``Access``, what one reader may read, as a filter both backends
  evaluate (the embedded index as a boolean array over sections, OpenSearch as a
  query clause) before anything is ranked or counted;
* ``rules.py``: the ``[[allow]]`` rules and the default, and ``Rules.access_for``;
* ``authfile.py``: the access file (TOML) read and checked, users, proxy addresses,
  and ``AuthFile``, which reloads it when it changes;
* ``users.py``: tokens (made, hashed) and ``add_user``, which writes a user into the file.

The web app authenticates (``sakuin.web.auth``); this package only says what a set of
groups may read, so the CLI and both backends share it and neither backend knows TOML.
"""

from sakuin.search.access.model import Access
from sakuin.search.access.rules import Rule, Rules

__all__ = ["Access", "Rule", "Rules"]
