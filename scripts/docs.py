"""Regenerate the parts of docs/ that are read from the code (``python scripts/docs.py``).

A generated part sits between ``<!-- generated: NAME -->`` and ``<!-- end generated -->``
in a Markdown file; everything around it is written by hand. Parts:

* ``cli``: every ``sakuin`` command with its usage, help and options (from the click commands);
* ``errors``: the error and notice table (``sakuin.search.errors``);
* ``configuration``: every setting and environment variable (``sakuin.search.config``);
* ``api``: the HTTP endpoints (the OpenAPI description, ``sakuin.web.openapi``).

``--check`` changes nothing and exits 1 naming the files whose generated parts are
out of date (``tests/house/test_errors.py`` runs it).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

import click

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
PART = re.compile(r"(<!-- generated: (?P<name>[a-z_]+) -->\n)(?P<body>.*?)(<!-- end generated -->)", re.S)


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def cli() -> str:
    from sakuin.search.cli.main import main

    out: list[str] = []
    with click.Context(main, info_name="sakuin") as root:
        for name in sorted(main.list_commands(root)):
            command = main.get_command(root, name)
            assert command is not None
            out += _command(command, name, root)
    return "\n".join(out)


def _command(command: click.Command, name: str, parent: click.Context) -> list[str]:
    """One command's section, then one per subcommand of a group (``sakuin auth add-user``)."""
    out: list[str] = []
    with click.Context(command, info_name=name.split()[-1], parent=parent) as ctx:
        usage = " ".join(command.collect_usage_pieces(ctx))
        out += [f"### `sakuin {name}`", "", "```", f"sakuin {name} {usage}".rstrip(), "```", ""]
        out += [_help(command.help or ""), ""]
        rows = []
        for param in command.get_params(ctx):
            if isinstance(param, click.Argument):
                continue  # named in the usage line
            record = param.get_help_record(ctx)
            if record is None:
                continue
            opts, text = record
            rows.append(f"| `{_cell(opts)}` | {_cell(text)} |")
        if rows:
            out += ["| option | meaning |", "| --- | --- |", *rows, ""]
        if isinstance(command, click.Group):
            for sub in sorted(command.list_commands(ctx)):
                child = command.get_command(ctx, sub)
                assert child is not None
                out += _command(child, f"{name} {sub}", ctx)
    return out


def _help(text: str) -> str:
    """A command's docstring as Markdown paragraphs (click's ``\\b`` and line wraps removed)."""
    paragraphs = [" ".join(p.split()) for p in text.replace("\b", "").split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def errors() -> str:
    from sakuin.search.errors import MESSAGES

    out = [
        "| code | HTTP | exit | English | 日本語 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for m in MESSAGES:
        status = str(m.status) if m.status else "–"
        exit_status = str(m.exit) if m.exit else "–"
        out.append(f"| `{m.code}` | {status} | {exit_status} | {_cell(m.en)} | {_cell(m.ja)} |")
    return "\n".join(out) + "\n"


def configuration() -> str:
    from sakuin.search.config import SETTINGS

    out: list[str] = []
    group = None
    for s in SETTINGS.values():
        if s.group != group:
            group = s.group
            out += ["", f"### {group}", "", "| setting | default | meaning |", "| --- | --- | --- |"]
        name = f"`{s.name}`" + (f"<br>`{s.env}`" + (f" ({s.unit})" if s.unit else "") if s.env else "")
        default = (
            s.default if not isinstance(s.default, dict) else ", ".join(f"{k} {v:.3f}" for k, v in s.default.items())
        )
        out.append(f"| {name} | `{default}` | {_cell(s.meaning)} |")
    return "\n".join(out).lstrip("\n") + "\n"


def api() -> str:
    from sakuin.web.openapi import openapi_spec

    out = ["| method and path | what it does | parameters |", "| --- | --- | --- |"]
    for path, ops in openapi_spec()["paths"].items():
        for method, op in ops.items():
            params = ", ".join(f"`{p['name']}`" for p in op.get("parameters", []))
            if "requestBody" in op:
                params = (params + ", " if params else "") + "JSON body"
            text = op["summary"] + (": " + op["description"] if op.get("description") else "")
            out.append(f"| `{method.upper()} {path}` | {_cell(text)} | {params or '–'} |")
    return "\n".join(out) + "\n"


PARTS: dict[str, Callable[[], str]] = {"cli": cli, "errors": errors, "configuration": configuration, "api": api}


def regenerate(text: str) -> str:
    def fill(m: re.Match[str]) -> str:
        name = m["name"]
        if name not in PARTS:
            raise SystemExit(f"unknown generated part {name!r}; the parts are {', '.join(PARTS)}")
        return m.group(1) + PARTS[name]() + m.group(4)

    return PART.sub(fill, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a generated part is stale")
    args = parser.parse_args(argv)
    stale = []
    for path in sorted(DOCS.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        fresh = regenerate(text)
        if fresh != text:
            stale.append(path.relative_to(REPO))
            if not args.check:
                path.write_text(fresh, encoding="utf-8")
    if args.check and stale:
        print(f"out of date (run python scripts/docs.py): {', '.join(map(str, stale))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
