"""docs/cli.md is generated from the commands' own --help, so the reference cannot drift.

Run `python -m groundswell.cli.reference > docs/cli.md`; tests/test_docs.py checks it.
"""

from __future__ import annotations

import click

from . import main


def _help(command: click.Command, path: list[str]) -> str:
    with click.Context(command, info_name=" ".join(path), terminal_width=100, max_content_width=100) as ctx:
        return command.get_help(ctx)


def reference() -> str:
    parts = ["# CLI reference", "", "Generated from `--help` by `python -m groundswell.cli.reference`.", ""]
    parts += ["## groundswell", "", "```", _help(main, ["groundswell"]), "```", ""]
    for name in sorted(main.commands):
        parts += [f"## groundswell {name}", "", "```", _help(main.commands[name], ["groundswell", name]), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(reference(), end="")
