"""`groundswell forget`: remove deleted posts and accounts from the store, for good."""

from __future__ import annotations

import os

import click
import orjson

from ..errors import GroundswellError
from ..forget import ForgetResult, account_targets, forget, read_compliance, read_id_list, vacuum
from ..model import PLATFORMS
from ..store import Store
from .options import db_option, json_option


@click.command("forget")
@db_option
@json_option
@click.option("--ids", "id_files", multiple=True, type=click.Path(dir_okay=False),
              help="A file of post ids, one per line: `platform:id` or a bare id (on --platform). Repeatable.")
@click.option("--compliance", "compliance_files", multiple=True, type=click.Path(dir_okay=False),
              help="A Twitter v2 compliance file (twarc2 compliance output). Repeatable.")
@click.option("--users", is_flag=True,
              help="The --compliance files list user ids (default: guessed from a file name containing `user`).")
@click.option("--author", "authors", multiple=True, metavar="ID",
              help="Remove a whole account: every post by this author id (`platform:id` or bare). Repeatable.")
@click.option("--platform", type=click.Choice(PLATFORMS), default="twitter", show_default=True,
              help="Platform of bare ids.")
@click.option("--vacuum", "do_vacuum", is_flag=True,
              help="Then rewrite the store into a fresh file, so no freed block keeps the removed text.")
def forget_command(db: str, as_json: bool, id_files: tuple[str, ...], compliance_files: tuple[str, ...], users: bool,
                   authors: tuple[str, ...], platform: str, do_vacuum: bool) -> None:
    """Remove posts (by id, or every post of an account) and their reposts from the store.

    Each target leaves a tombstone (id, deletion time, reason), so re-ingesting an old archive
    never brings the posts back. Deletion notices inside archives (v1.1 stream deletes,
    Bluesky and Mastodon deletes, compliance files given to ingest) are applied by ingest
    itself. The store is checkpointed afterwards; --vacuum also rewrites the file, since
    DuckDB keeps freed blocks' old bytes until it reuses them (see docs/privacy.md).

    Example: groundswell forget --compliance tweets_compliance.jsonl --ids deleted.txt --vacuum
    """
    if not (id_files or compliance_files or authors):
        raise GroundswellError("nothing to forget: give --ids FILE, --compliance FILE or --author ID")
    deletes = [d for path in id_files for d in read_id_list(path, platform)]
    deletes += [d for path in compliance_files for d in read_compliance(path, users)]
    deletes += account_targets(authors, platform)
    source = ", ".join([*id_files, *compliance_files] or ["--author"])
    if not os.path.isfile(db):  # a mistyped --db must not quietly create an empty store
        raise GroundswellError(f"{db}: no such store (to record deletions before ingesting, ingest the compliance file)")
    with Store(db) as store:
        result = forget(store, deletes, source)
    if do_vacuum:
        vacuum(db)
        result.vacuumed = True
    if as_json:
        click.echo(orjson.dumps(result.as_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        click.echo(_describe(result, db))


def _describe(result: ForgetResult, db: str) -> str:
    removed = result.posts + result.referenced + result.reposts
    lines = [
        f"forgot {result.targets:,} post ids and {result.accounts:,} accounts "
        f"({result.already_tombstoned:,} were forgotten before)",
        f"removed {removed:,} posts from {db}: {result.posts:,} collected, {result.referenced:,} known by reference, "
        f"{result.reposts:,} reposts of them",
    ]
    if result.quarantine_cleared:
        lines.append(f"cleared the raw bytes of {result.quarantine_cleared:,} rejected records that mention them")
    lines.append("the store was rewritten (vacuum)" if result.vacuumed else
                 "checkpointed; run with --vacuum to also drop the freed blocks that may still hold the old text")
    return "\n".join(lines)
