"""Options several commands share, and where a command reads or writes (``target``)."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import click

from sakuin.search.errors import SakuinError

#: The embedded index's directory when neither --index-dir nor SAKUIN_INDEX_DIR says otherwise.
DEFAULT_INDEX = Path("index")

index_dir_option = click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_INDEX,
    show_default=True,
    envvar="SAKUIN_INDEX_DIR",
    help="Where the index lives.",
)

backend_option = click.option(
    "--backend",
    default=None,
    envvar="SAKUIN_BACKEND",
    metavar="PATH|URL",
    help="An index directory (the embedded index, as --index-dir) or OpenSearch node URLs, comma-separated.",
)

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (what the API returns).")
procs_option = click.option(
    "--procs", type=click.IntRange(1, 64), default=None, help="Worker processes (default: all cores)."
)
no_wait_option = click.option(
    "--no-wait", is_flag=True, help="Exit instead of waiting if another index run holds the lock."
)


def target(index_dir: Path, backend: str | None) -> str | Path:
    """Where a command reads or writes: ``--backend`` if given, else ``--index-dir``."""
    return backend or index_dir


#: What reads as an option rather than as a word to exclude: ``--anything`` or one ASCII
#: letter after one dash (``-n``). ``-NHK`` and ``-電話`` are words of the query.
_OPTION_LIKE = re.compile(r"--[A-Za-z][A-Za-z0-9-]*|-[A-Za-z]")


class QueryCommand(click.Command):
    """A command whose QUERY may start with "-" (``sakuin search -電話 会談``).

    Click would read such an argument as an unknown option. An argument that is
    not one of the command's own options is taken as query text instead, unless it
    looks like an option (``--limt``, ``-n``): a mistyped flag must not become part
    of the query, so that is a usage error naming the closest option. ``--`` still
    ends the options as usual.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        params = self.get_params(ctx)  # with --help
        known = {name for p in params for name in (*p.opts, *p.secondary_opts)}
        flags = {name for p in params if getattr(p, "is_flag", False) for name in (*p.opts, *p.secondary_opts)}
        out: list[str] = []
        text: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            if arg == "--":
                text += args[i + 1 :]
                break
            name = arg.split("=", 1)[0]
            if name not in known and _OPTION_LIKE.fullmatch(name):
                close = difflib.get_close_matches(name, sorted(n for n in known if n.startswith("--")), n=1)
                if close:
                    raise SakuinError("unknown_option/close", option=name, close=close[0])
                raise SakuinError("unknown_option", option=name, command=ctx.info_name)
            if name in known:
                out.append(arg)
                if "=" not in arg and name not in flags and i + 1 < len(args):
                    out.append(args[i + 1])
                    i += 1
            else:
                text.append(arg)
            i += 1
        return super().parse_args(ctx, [*out, "--", *text] if text else out)


__all__ = [
    "DEFAULT_INDEX",
    "QueryCommand",
    "backend_option",
    "index_dir_option",
    "json_option",
    "no_wait_option",
    "procs_option",
    "target",
]
