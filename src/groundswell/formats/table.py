"""Tables of posts: CSV/TSV rows and flat JSON records, read through a preset or a column mapping.

A row is matched to a preset (presets.py) by its columns, or read through the user's
`--map FIELD=COLUMN` pairs, which override or extend a preset's columns. A column written
with a leading `=` is a constant, not a column: `--map platform==mastodon` (in TOML,
`platform = "=mastodon"`) gives every row that platform. Without one, rows are tweets.

Time follows the house rule: a tweet id's snowflake time wins over the written time, and a
written time more than 60 s away from it is counted (`table_time_disagrees`). A naive
written time is read in `--tz`, else in the preset's zone (GetOldTweets: US Eastern), else
as UTC with a warning and time_source `assumed-utc`.

A table with handles but no user ids (GetOldTweets, twarc 1's CSV without `user_id`) keys
its authors `handle:<lower-case handle>`, so distinct people are counted by handle, and the
figures say so. Kinds come from a kind column, else from the reference columns; where
neither says, two inferences fill in, each counted in the ingest summary and switched off
with `infer_kinds=False` (`ingest --no-infer-kinds`): a text that starts with `RT @` is a
repost (of an unknown original), and a row whose reply-to cell is filled but unreadable (an
id that lost digits) or that names only the replied-to handle is a reply. A text that starts
with `@` alone is not taken as a reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator, Mapping

from ..errors import GroundswellError
from ..model import FIELD_NAMES, PLATFORMS, new_post
from ..timeutil import parse_any, parse_iso, snowflake_time, to_utc_naive
from . import presets as P
from .base import Item, ParseContext, RecordError
from .layouts import recognises
from .table_kinds import kind_of, retweet_or_quote

NAME = "table"
PLATFORM = "twitter"
INPUT = "table"

MAX_DISAGREEMENT = timedelta(seconds=60)
NAIVE_UTC = "naive timestamps taken as UTC; pass --tz to set their zone"
TIME_DISAGREES = "written time differs from the tweet id's time by more than 60 s; the id's time is used (check --tz)"
NO_PLATFORM = "no platform mapped; rows taken as twitter (use --map platform==NAME)"
_SCALARS = (str, int, float, bool, type(None))
# GetOldTweets writes `@ name`; a mention is a handle of 1-15 word characters after `@`.
_SPACED_MENTION = re.compile(r"(?<![\w@＠])[@＠] ?([A-Za-z0-9_]{1,15})(?![A-Za-z0-9_@＠])")


def sniff(record: Any) -> bool:
    """A flat row (scalar values only) whose columns fit a layout; nested API payloads never match."""
    return isinstance(record, dict) and _is_flat(record) and recognises(record.keys())


def parse(record: Any, ctx: ParseContext) -> Iterator[Item]:
    if not isinstance(record, dict):
        raise RecordError("not a table row or flat JSON object")
    plan = _plan_for(record, ctx)
    if plan.preset.build == "twitter-v1":
        from .table_v1 import v1_items  # lazy: the v1.1 adapter is only needed for this preset

        return v1_items(record, ctx)
    return iter((_post(record, plan, ctx),))


def _is_flat(record: dict) -> bool:
    # csv.DictReader puts the cells of an over-long row under the key None, as a list.
    return all(isinstance(value, _SCALARS) or key is None for key, value in record.items())


# ---- plans: a preset plus the user's mapping, resolved once per file ----

@dataclass
class Plan:
    preset: P.Preset
    steps: list[tuple[str, tuple[str, ...], Callable[[Any], Any]]]
    constants: dict[str, Any] = field(default_factory=dict)
    tz: str | None = None
    warn_platform: bool = False
    forced: bool = False
    usual: frozenset[str] = frozenset()  # columns whose presence confirms the preset without re-detection
    present: frozenset[str] = frozenset()  # fields the file has a column for (set from its first row)


_DETECTED: dict[str, str] = {}  # source file → preset name, so rows are not re-detected
# The plan of the last (options object, source file): the usual case is one plan for a whole chunk.
_LAST: list[Any] = [None, None, None]


def _plan_for(record: dict, ctx: ParseContext) -> Plan:
    options = ctx.options
    last_options, last_file, plan = _LAST
    if options is last_options and ctx.source_file == last_file and (plan.forced or plan.usual <= record.keys()):
        return plan
    forced = options.get("preset")
    chosen = _forced(forced) if forced else _detected(record, ctx.source_file, bool(options.get("columns")))
    if plan is None or options is not last_options or plan.preset is not chosen:
        plan = _build_plan(chosen, options)
        plan.forced = bool(forced)
    _LAST[:] = [options, ctx.source_file, plan]
    return plan


def _forced(name: str) -> P.Preset:
    try:
        return P.preset(name)
    except KeyError as exc:
        raise GroundswellError(f"--preset: {exc.args[0]}") from None


def _detected(record: dict, source_file: str, has_mapping: bool) -> P.Preset:
    name = _DETECTED.get(source_file)
    if name is not None and (has_mapping or name != P.GENERIC.name):
        cached = P.PRESETS.get(name, P.GENERIC)
        if cached.matches(record):
            return cached
    found = P.detect(record) if _is_flat(record) else None
    if found is None:
        if not has_mapping:
            raise RecordError(f"columns match no preset ({', '.join(P.PRESETS)}); name them with --map FIELD=COLUMN")
        found = P.GENERIC
    _DETECTED[source_file] = found.name
    return found


def _build_plan(preset: P.Preset, options: Mapping[str, Any]) -> Plan:
    columns: dict[str, tuple[str, ...]] = dict(preset.columns)
    constants: dict[str, Any] = {}
    mapping = dict(options.get("columns") or {})
    if options.get("platform"):  # a mapping file's top-level `platform`, if the CLI passes it on
        mapping.setdefault("platform", "=" + options["platform"])
    for name, column in mapping.items():
        _check_field(name)
        if column.startswith("="):
            constants[name] = P.reader(name)(column[1:]) if column[1:] else None
            columns.pop(name, None)
        else:
            columns[name] = (column,)
            constants.pop(name, None)
    plan = Plan(preset, [(name, cols, P.reader(name)) for name, cols in columns.items()], constants,
                options.get("tz") or preset.default_tz, usual=preset.usual_columns)
    if preset.build == "fields":
        _check_plan(plan, columns)
    return plan


def _check_field(name: str) -> None:
    if name in P.NOT_MAPPABLE or name not in FIELD_NAMES:
        known = ", ".join(f for f in FIELD_NAMES if f not in P.NOT_MAPPABLE)
        raise GroundswellError(f"column mapping: {name!r} is not a post field that can be mapped (known: {known})")


def _check_plan(plan: Plan, columns: Mapping[str, tuple[str, ...]]) -> None:
    if "post_id" not in columns:
        raise GroundswellError("column mapping: post_id must be mapped to a column (--map post_id=COLUMN)")
    if not ({"text", "hashtags"} & (columns.keys() | plan.constants.keys())):
        raise GroundswellError("column mapping: map text or hashtags (--map text=COLUMN)")
    platform = plan.constants.get("platform")
    if platform is not None and platform not in PLATFORMS:
        raise GroundswellError(f"column mapping: platform {platform!r} is not one of {', '.join(PLATFORMS)}")
    if "platform" not in columns and platform is None:
        if plan.preset is P.GENERIC:
            plan.warn_platform = True
        plan.constants["platform"] = plan.preset.platform


def _cell(record: dict, columns: tuple[str, ...]) -> Any:
    for column in columns:
        value = record.get(column)
        if value is not None and value != "":
            return value
    return None


# ---- one row → one post ----

def _post(record: dict, plan: Plan, ctx: ParseContext) -> dict[str, Any]:
    if not plan.present:
        plan.present = frozenset(name for name, columns, _ in plan.steps if any(c in record for c in columns))
    values = dict(plan.constants)
    for name, columns, read in plan.steps:
        raw = _cell(record, columns)
        if raw is None:
            continue
        try:
            values[name] = read(raw)
        except P.LostDigits:
            if name == "post_id":
                raise RecordError(f"unreadable post id: {P.lost_digits_advice(name, columns[0])}") from None
            _unreadable(values, name, ctx, f"{P.lost_digits_advice(name, columns[0])}; left empty")
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
            # Only read_id's own reasons are shown: others could quote the cell, i.e. post text.
            if name == "post_id":
                raise RecordError(f"unreadable post id in column `{columns[0]}` ({exc})") from None
            _unreadable(values, name, ctx, f"unreadable {name} in column `{columns[0]}`; left empty")
    post_id = values.get("post_id")
    if not post_id:
        column = next((cols for name, cols, _ in plan.steps if name == "post_id"), ("?",))
        raise RecordError(f"no post id: column `{'` / `'.join(column)}` is missing or empty")
    if plan.warn_platform:
        ctx.warn(NO_PLATFORM)
    return _finish(values, plan, ctx)


def _unreadable(values: dict[str, Any], name: str, ctx: ParseContext, message: str) -> None:
    """The cell was filled but cannot be read: counted, warned, and remembered for the kind."""
    ctx.count("table_unreadable_cells")
    ctx.warn(message)
    values.setdefault("_unreadable", set()).add(name)


def _finish(values: dict[str, Any], plan: Plan, ctx: ParseContext) -> dict[str, Any]:
    preset = plan.preset
    platform = values.get("platform")
    if platform not in PLATFORMS:
        raise RecordError(f"the platform cell is not one of {', '.join(PLATFORMS)}")
    version = _edit_history(values)
    _verified_type(values)
    refs = values.pop("_referenced", None)
    if refs:
        _fill_references(values, refs)
    text = values.get("text")
    if text is not None and preset.escaped_newlines and "\\n" in text:
        values["text"] = text = text.replace("\\n", "\n")
    written = values.pop("created_at", None)
    at_uri = platform == "bluesky" and values["post_id"].startswith("at://")
    if at_uri:
        _bluesky_row(values, written, ctx)
    else:
        values["created_at"], values["time_source"] = _created(values["post_id"], version, platform, written, plan, ctx)
    if values.get("collected_at") is not None:
        values["collected_at"] = _collected_at(values["collected_at"], plan.tz, ctx)
    if preset.scrape_artifacts:
        _scrape_fixes(values, text)
    _author_by_handle(values, ctx)
    values["kind"] = kind_of(values, plan.present, ctx)
    retweet_or_quote(values)
    if "hashtags" not in values:
        values["hashtags"] = _extract(text, preset.scrape_artifacts) if text else None
    if values["hashtags"] == []:
        values["hashtag_keys"] = []
    if platform == "twitter" and not values.get("url") and values["post_id"].isdigit():
        values["url"] = _tweet_url(values.get("author_handle"), version or values["post_id"])
    values.setdefault("collected", True)
    return new_post(**values)


def _edit_history(values: dict[str, Any]) -> str | None:
    """twarc's edit_history_tweet_ids: the post is its first version, this row one version of it."""
    history = values.pop("_edit_history", None)
    if history and history[0] != values["post_id"]:
        values["version_id"] = values["post_id"]
        values["post_id"] = history[0]
        return values["version_id"]
    return None


def _verified_type(values: dict[str, Any]) -> None:
    """As the v2 adapter: any paid or organisational `verified_type` other than "none" is verified."""
    kind = values.pop("_verified_type", None)
    if kind is not None and kind != "none":
        values["author_verified"] = True
    elif kind == "none" and values.get("author_verified") is None:
        values["author_verified"] = False


def _fill_references(values: dict[str, Any], refs: Any) -> None:
    """twarc-csv 0.5's `referenced_tweets` column: a list of {type, id}."""
    fields = {"replied_to": "reply_to_post_id", "quoted": "quoted_post_id", "retweeted": "reposted_post_id"}
    for ref in refs if isinstance(refs, list) else ():
        if isinstance(ref, dict) and ref.get("type") in fields and ref.get("id") is not None:
            values.setdefault(fields[ref["type"]], P.read_id(ref["id"]))


def _created(post_id: str, version: str | None, platform: str, written: Any, plan: Plan,
             ctx: ParseContext) -> tuple[datetime | None, str | None]:
    """The snowflake wins for tweets; else the written time, in --tz or the preset's zone, else UTC."""
    flake = snowflake_time(post_id) if platform == "twitter" and post_id.isdigit() else None
    moment, naive = _written_time(written, plan.tz, ctx) if written is not None else (None, False)
    if flake is not None:
        if moment is not None:
            own = snowflake_time(version) if version else flake
            if own is not None and abs(moment - own) > MAX_DISAGREEMENT and not _other_fold_agrees(written, plan.tz, own):
                ctx.count("table_time_disagrees")
                ctx.warn(TIME_DISAGREES)
        return flake, "snowflake"
    if moment is None:
        return None, None
    if naive and plan.tz is None:
        ctx.warn(NAIVE_UTC)
        return moment, "assumed-utc"
    return moment, "source"


def _other_fold_agrees(written: Any, tz: str | None, own: datetime) -> bool:
    """The hour repeated when clocks go back is ambiguous in naive local time: try its second reading."""
    if tz is None or not isinstance(written, str):
        return False
    try:
        local = parse_iso(written)
    except ValueError:
        return False
    return local.tzinfo is None and abs(to_utc_naive(local.replace(fold=1), tz) - own) <= MAX_DISAGREEMENT


def _written_time(raw: Any, tz: str | None, ctx: ParseContext) -> tuple[datetime | None, bool]:
    try:
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            raw = str(int(raw))
        return parse_any(str(raw), tz)
    except (ValueError, OverflowError):
        ctx.count("table_unreadable_cells")
        ctx.warn("unreadable created_at; the tweet id's time is used where there is one, else left empty")
        return None, False


def _collected_at(raw: Any, tz: str | None, ctx: ParseContext) -> datetime | None:
    moment, _ = _written_time(raw, tz or "UTC", ctx)
    return moment


def _scrape_fixes(values: dict[str, Any], text: str | None) -> None:
    """GetOldTweets: handle from the permalink when the username is empty; authors keyed by handle."""
    handle = values.get("author_handle")
    url = values.get("url")
    if not handle and url and "/status/" in url:
        handle = values["author_handle"] = url.split("/")[3] or None
    if text and "@" in text:
        values["mentions"] = _SPACED_MENTION.findall(text)
    elif text is not None:
        values["mentions"] = []


def _author_by_handle(values: dict[str, Any], ctx: ParseContext) -> None:
    """No user id but a handle: the author is keyed by handle, and the summary counts it."""
    handle = values.get("author_handle")
    if not values.get("author_id") and handle:
        values["author_id"] = "handle:" + handle.lower()
        ctx.count("authors_keyed_by_handle")


def _bluesky_row(values: dict[str, Any], written: Any, ctx: ParseContext) -> None:
    """A Bluesky export row: the author and the time from the at:// URI where its cells are missing
    or absurd, by the same rule as the Bluesky adapter."""
    from . import bluesky_record as bluesky  # lazy: only Bluesky tables need it

    did, _, rkey = bluesky.split_uri(values["post_id"])
    values.setdefault("author_id", did)
    values["created_at"], values["time_source"] = bluesky.choose_time(written, None, rkey, ctx)
    if not values.get("url"):
        values["url"] = bluesky.post_url(values.get("author_handle") or did, rkey)


def _extract(text: str, spaced: bool) -> list[str]:
    from ..movement.extract import extract_hashtags  # lazy: written alongside this module

    return extract_hashtags(text, spaced_hash=True) if spaced else extract_hashtags(text)


def _tweet_url(handle: str | None, tweet_id: str) -> str:
    if handle:
        return f"https://twitter.com/{handle}/status/{tweet_id}"
    return f"https://twitter.com/i/web/status/{tweet_id}"


__all__ = ["NAME", "PLATFORM", "INPUT", "sniff", "parse"]
