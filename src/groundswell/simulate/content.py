"""What simulated posts say: invented filler in each language, the movement's tags and phrases.

Every text starts with "[synthetic]". Fillers never contain a movement phrase, so whether a
post says a phrase is decided here, once, and the ground truth can count it exactly.
"""

from __future__ import annotations

import random

from ..movement.definition import Movement
from ..movement.normalize import hashtag_key
from .model import Post

FILLERS = {
    "en": ("sharing this", "this has to change", "listening and believing", "reading these posts all day",
           "standing with everyone who spoke up", "so many voices today"),
    "fr": ("je partage", "ça doit changer", "solidarité avec toutes", "tant de voix aujourd'hui"),
    "es": ("comparto esto", "esto tiene que cambiar", "tantas voces hoy", "con todas"),
    "it": ("condivido", "deve cambiare", "tante voci oggi"),
    "ar": ("أشارك هذا", "يجب أن يتغير هذا", "أصوات كثيرة اليوم"),
}
UNRELATED = ("what a match tonight", "coffee first", "new album out", "traffic again", "rain all day",
             "weekend plans", "reading a good book", "the bus is late")
UNRELATED_TAGS = ("Football", "Monday", "Music", "Weather", "News", "Coffee")
CO_TAGS = ("Solidarity", "BelieveSurvivors", "EnoughIsEnough", "WomensRights")
CTA_TEXT = "[synthetic] a call to action: if it happened to you, reply to this post with the words me too"

# How a movement post speaks: (tag only, tag and phrase, phrase only, neither), by situation.
MIX_REPLY_TO_CTA = (0.20, 0.15, 0.55, 0.10)
MIX_REPLY = (0.40, 0.15, 0.35, 0.10)
MIX_ORIGINAL = (0.80, 0.10, 0.10, 0.0)
CO_TAG_SHARE = 0.25


class Writer:
    """Composes texts for one movement definition; checks up front that every simulated tag
    belongs to the family the simulation says it does."""

    def __init__(self, movement: Movement, rng: random.Random):
        self.rng = rng
        self.family_of = {key: family.label for family in movement.families for key in family.keys}
        self.fold = movement.accent_fold
        self.language = {family.label: family.language for family in movement.families}
        self.phrase = {group.label: group.patterns[0] for group in reversed(movement.phrases)}

    def check(self, tag: str, family: str) -> None:
        if self.family_of.get(hashtag_key(tag, fold_accents=self.fold)) != family:
            raise ValueError(f"simulated tag {tag!r} is not in family {family!r} of the movement")

    def lang(self, family: str | None) -> str:
        return self.language.get(family, "en") if family else "en"

    def movement(self, post: Post, tag: str, mix: tuple[float, ...], trailing_share: float = 0.0) -> None:
        """Fill text, tags and phrase of a movement post (original, reply or quote)."""
        rng = self.rng
        phrase = self.phrase.get(post.family or "")
        kind = rng.choices(("tag", "both", "phrase", "neither"), mix)[0]
        kind = "tag" if kind in ("both", "phrase") and not phrase else kind
        filler = rng.choice(FILLERS.get(post.lang, FILLERS["en"]))
        if kind == "neither":  # a reply in the conversation that says neither tag nor phrase
            post.text = f"[synthetic] {filler}"
            return
        if kind == "phrase":
            post.text, post.phrase = f"[synthetic] {phrase}, {filler}", phrase
            return
        co_tag = rng.choice(CO_TAGS) if rng.random() < CO_TAG_SHARE else None
        post.trailing = trailing_share > 0 and rng.random() < trailing_share
        said = f"{phrase}, " if kind == "both" else ""
        written_tag = f"{tag}#" if post.trailing else f"#{tag}"
        post.text = f"[synthetic] {said}{filler} {written_tag}" + (f" #{co_tag}" if co_tag else "")
        post.tags = (tag, co_tag) if co_tag else (tag,)
        post.phrase = phrase if kind == "both" else None

    def unrelated(self, post: Post) -> None:
        rng = self.rng
        text = f"[synthetic] {rng.choice(UNRELATED)}"
        if rng.random() < 0.5:
            tag = rng.choice(UNRELATED_TAGS)
            post.text, post.tags = f"{text} #{tag}", (tag,)
        else:
            post.text = text

    def call_to_action(self, post: Post) -> None:
        post.text, post.phrase = CTA_TEXT, self.phrase.get("core")
