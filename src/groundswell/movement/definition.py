"""A movement: families of hashtags and phrases, read from a TOML file. See docs/movements.md.

Definitions are validated up front, with one-line errors that name the file and the key,
because a typo in a family silently shrinks every figure computed from it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import GroundswellError
from ..model import PLATFORMS
from ..timeutil import parse_iso, to_utc_naive
from .normalize import hashtag_key

TOP_KEYS = frozenset({"name", "description", "accent_fold", "families", "phrases", "call_to_action", "window", "suffixes"})
FAMILY_KEYS = frozenset({"label", "language", "hashtags", "description"})
PHRASE_KEYS = frozenset({"label", "language", "patterns"})
WINDOW_KEYS = frozenset({"start", "end"})
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
LANGUAGE_RE = re.compile(r"^(?:und|[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)$")
CALL_RE = re.compile(rf"^(?:{'|'.join(PLATFORMS)}):\S+$")
BUILTIN = "built-in"


@dataclass(frozen=True)
class Family:
    """Hashtags of one language or role (core, fr, offshoot, counter...)."""

    label: str
    language: str
    hashtags: tuple[str, ...]  # as written in the definition, without '#'
    keys: tuple[str, ...]  # their matching keys, distinct, in order


@dataclass(frozen=True)
class PhraseGroup:
    """Phrases that count a post in family `label` when its text says them outside any tag or URL."""

    label: str
    language: str
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class Window:
    """Posts count only when start <= created_at < end (UTC); either side may be open."""

    start: datetime | None
    end: datetime | None


@dataclass(frozen=True)
class Movement:
    name: str
    description: str
    families: tuple[Family, ...]
    phrases: tuple[PhraseGroup, ...] = ()
    accent_fold: bool = True
    call_to_action: tuple[str, ...] = ()
    window: Window | None = None
    suffixes: tuple[str, ...] = ()
    source: str = BUILTIN
    _forms: dict[str, str] = field(default_factory=dict, compare=False, hash=False, repr=False)

    def keys(self) -> tuple[str, ...]:
        """Every hashtag key of the movement, in definition order."""
        return tuple(key for family in self.families for key in family.keys)

    def labels(self) -> tuple[str, ...]:
        return tuple(family.label for family in self.families)

    def stored_forms(self) -> dict[str, str]:
        """Key forms a store may hold for the movement's tags, each with its family label.

        With accent folding on, a tag's unfolded key is added too, so a store ingested with
        --no-accent-fold still matches the spellings the definition lists (#YoTambién).
        """
        if not self._forms:
            for family in self.families:
                for tag in family.hashtags:
                    for fold in dict.fromkeys((self.accent_fold, False)):
                        self._forms.setdefault(hashtag_key(tag, fold_accents=fold), family.label)
        return self._forms

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "families": len(self.families),
            "hashtags": len(self.keys()),
            "phrases": sum(len(group.patterns) for group in self.phrases),
        }

    def as_dict(self) -> dict[str, Any]:
        window = None
        if self.window:
            window = {"start": _iso(self.window.start), "end": _iso(self.window.end)}
        return {
            **self.summary(),
            "accent_fold": self.accent_fold,
            "window": window,
            "call_to_action": list(self.call_to_action),
            "suffixes": list(self.suffixes),
            "family_list": [{"label": f.label, "language": f.language, "hashtags": list(f.hashtags), "keys": list(f.keys)}
                            for f in self.families],
            "phrase_list": [{"label": p.label, "language": p.language, "patterns": list(p.patterns)} for p in self.phrases],
        }


# --- finding definitions ------------------------------------------------------------------


def builtin_names() -> list[str]:
    folder = resources.files("groundswell.movement") / "builtin"
    return sorted(entry.name[:-5] for entry in folder.iterdir() if entry.name.endswith(".toml"))


@lru_cache(maxsize=16)
def load_builtin(name: str) -> Movement:
    if name not in builtin_names():
        raise GroundswellError(f"unknown movement {name!r} (built-in: {', '.join(builtin_names())}; or give a .toml file)")
    text = (resources.files("groundswell.movement") / "builtin" / f"{name}.toml").read_text(encoding="utf-8")
    return parse_movement(text, f"{BUILTIN}:{name}")


def resolve(name_or_file: str) -> Movement:
    """A built-in name (`metoo`) or the path of a TOML definition."""
    path = Path(name_or_file)
    if path.is_file():
        return load_file(path)
    if path.suffix.lower() == ".toml" or "/" in name_or_file:
        raise GroundswellError(f"{name_or_file}: no such movement file")
    return load_builtin(name_or_file)


def load_file(path: Path) -> Movement:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise GroundswellError(f"{path}: cannot read movement file ({type(exc).__name__})") from None
    return parse_movement(text, str(path))


def from_seeds(seeds: list[str], suffixes: tuple[str, ...] = ()) -> Movement:
    """A one-family movement from hashtags given on the command line (`--seed metoo`)."""
    source = "--seed"
    tags = tuple(_hashtag(seed, source, f"--seed {seed!r}", True) for seed in seeds)
    keys = tuple(dict.fromkeys(hashtag_key(tag) for tag in tags))
    family = Family("seed", "und", tags, keys)
    return Movement("seed", "hashtags given with --seed", (family,), suffixes=suffixes, source=source)


# --- parsing and validation ----------------------------------------------------------------


def parse_movement(text: str, source: str) -> Movement:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GroundswellError(f"{source}: not valid TOML ({exc})") from None
    _no_unknown(data, TOP_KEYS, source, "")
    name = _string(data, "name", source, "", required=True)
    if not NAME_RE.match(name):
        _fail(source, "name", f"{name!r} should be lower-case letters, digits, '-' or '_'")
    fold = data.get("accent_fold", True)
    if not isinstance(fold, bool):
        _fail(source, "accent_fold", "expected true or false")
    families = _families(data.get("families"), source, fold)
    labels = {family.label for family in families}
    return Movement(
        name=name,
        description=_string(data, "description", source, "", required=False),
        families=families,
        phrases=_phrases(data.get("phrases", []), source, labels),
        accent_fold=fold,
        call_to_action=_calls(data.get("call_to_action", []), source),
        window=_window(data.get("window"), source),
        suffixes=tuple(hashtag_key(s, fold) for s in _strings(data.get("suffixes", []), source, "suffixes")),
        source=source,
    )


def _families(raw: Any, source: str, fold: bool) -> tuple[Family, ...]:
    if not isinstance(raw, list) or not raw:
        _fail(source, "families", "expected at least one [[families]] table")
    families: list[Family] = []
    owner: dict[str, str] = {}
    for index, entry in enumerate(raw):
        where = f"families[{index}]"
        if not isinstance(entry, dict):
            _fail(source, where, "expected a table")
        _no_unknown(entry, FAMILY_KEYS, source, where)
        label = _label(entry, source, where)
        if any(f.label == label for f in families):
            _fail(source, f"{where}.label", f"family {label!r} is defined twice")
        language = _language(entry, source, where)
        tags = tuple(_hashtag(t, source, f"{where}.hashtags[{i}]", fold)
                     for i, t in enumerate(_strings(entry.get("hashtags", []), source, f"{where}.hashtags")))
        keys = tuple(dict.fromkeys(hashtag_key(tag, fold_accents=fold) for tag in tags))
        for key in keys:
            if owner.setdefault(key, label) != label:
                _fail(source, f"{where}.hashtags", f"key {key!r} is already in family {owner[key]!r}")
        families.append(Family(label, language, tags, keys))
    return tuple(families)


def _phrases(raw: Any, source: str, labels: set[str]) -> tuple[PhraseGroup, ...]:
    if not isinstance(raw, list):
        _fail(source, "phrases", "expected [[phrases]] tables")
    groups: list[PhraseGroup] = []
    for index, entry in enumerate(raw):
        where = f"phrases[{index}]"
        if not isinstance(entry, dict):
            _fail(source, where, "expected a table")
        _no_unknown(entry, PHRASE_KEYS, source, where)
        label = _label(entry, source, where)
        if label not in labels:
            _fail(source, f"{where}.label", f"{label!r} is not the label of any [[families]] table")
        patterns = _strings(entry.get("patterns"), source, f"{where}.patterns", required=True)
        for i, pattern in enumerate(patterns):
            _check_pattern(pattern, source, f"{where}.patterns[{i}]")
        groups.append(PhraseGroup(label, _language(entry, source, where), tuple(p.strip() for p in patterns)))
    return tuple(groups)


def _check_pattern(pattern: str, source: str, where: str) -> None:
    text = pattern.strip()
    if not any(ch.isalnum() for ch in text):
        _fail(source, where, "a phrase needs at least one letter or digit")
    if text[0] in "#＃":
        _fail(source, where, f"{text!r} looks like a hashtag; list it in a family's hashtags")


def _hashtag(tag: str, source: str, where: str, fold: bool) -> str:
    text = tag.strip().lstrip("#＃")
    if any(ch.isspace() for ch in text):
        _fail(source, where, f"{tag!r} is not a hashtag (it contains a space); phrases go in [[phrases]]")
    if not hashtag_key(text, fold_accents=fold):
        _fail(source, where, f"{tag!r} has no letters")
    return text


def _calls(raw: Any, source: str) -> tuple[str, ...]:
    calls = _strings(raw, source, "call_to_action")
    for index, call in enumerate(calls):
        if not CALL_RE.match(call):
            _fail(source, f"call_to_action[{index}]", f"{call!r} should be platform:id, e.g. twitter:123 ({', '.join(PLATFORMS)})")
    return tuple(calls)


def _window(raw: Any, source: str) -> Window | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        _fail(source, "window", "expected a table {start = ..., end = ...}")
    _no_unknown(raw, WINDOW_KEYS, source, "window")
    start = _moment(raw.get("start"), source, "window.start", end=False)
    end = _moment(raw.get("end"), source, "window.end", end=True)
    if start and end and start >= end:
        _fail(source, "window", "start must be before end")
    return Window(start, end)


def _moment(value: Any, source: str, where: str, end: bool) -> datetime | None:
    """Dates cover whole UTC days (an end date is included); datetimes are exact, end exclusive."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if len(value) == 10 else parse_iso(value)
        except ValueError:
            _fail(source, where, f"{value!r} is not an ISO date or time")
    if isinstance(value, datetime):
        return to_utc_naive(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day) + (timedelta(days=1) if end else timedelta(0))
    _fail(source, where, "expected a date or a date-time")
    raise AssertionError  # unreachable: _fail raises


# --- small checks --------------------------------------------------------------------------


def _fail(source: str, where: str, message: str) -> None:
    raise GroundswellError(f"{source}: {where}: {message}" if where else f"{source}: {message}")


def _no_unknown(table: dict[str, Any], allowed: frozenset[str], source: str, where: str) -> None:
    for key in table:
        if key not in allowed:
            _fail(source, f"{where}.{key}" if where else key, f"unknown key (expected one of: {', '.join(sorted(allowed))})")


def _string(table: dict[str, Any], key: str, source: str, where: str, required: bool) -> str:
    value = table.get(key)
    path = f"{where}.{key}" if where else key
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        _fail(source, path, "expected a non-empty string" if value is not None else "missing")
    return value.strip()  # type: ignore[union-attr]


def _strings(value: Any, source: str, where: str, required: bool = False) -> list[str]:
    if value is None and not required:
        return []
    if not isinstance(value, list) or (required and not value):
        _fail(source, where, "expected a non-empty list of strings" if required else "expected a list of strings")
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            _fail(source, f"{where}[{index}]", "expected a non-empty string")
    return list(value)


def _label(entry: dict[str, Any], source: str, where: str) -> str:
    label = _string(entry, "label", source, where, required=True)
    if not NAME_RE.match(label):
        _fail(source, f"{where}.label", f"{label!r} should be lower-case letters, digits, '-' or '_'")
    return label


def _language(entry: dict[str, Any], source: str, where: str) -> str:
    language = _string(entry, "language", source, where, required=True)
    if not LANGUAGE_RE.match(language):
        _fail(source, f"{where}.language", f"{language!r} is not a BCP-47 tag (e.g. en, fr, zh-Hans) or 'und'")
    return language


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() + "Z" if moment else None
