"""The self-exciting process: a marked Hawkes process in its branching (cluster) form.

Immigrants arrive on their own: spontaneous movement posts (homogeneous Poisson), the call
to action, each variant's seed post, and notable adopters.
Every post then has offspring: responses (replies, reposts, quotes), a Poisson number whose
mean grows with its author's reach, each after an exponentially distributed delay, which is
a Hawkes process with an exponential kernel; and, for movement posts, new originals it
inspires (contagion without a reference). Reposts have no responses of their own: on Twitter
a retweet of a retweet names the original.

Unrelated background posts fill the collection up to exactly `posts` written posts: a
homogeneous Poisson process conditioned on its count is that many uniform times. When the
movement alone comes near `posts`, the background keeps its floor rate and the collection is
cut at the `posts`-th written post instead. The generation is seeded and sequential, so one
seed gives one world. See docs/simulate.md.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections import deque
from itertools import accumulate

from ..movement.definition import Movement
from .content import MIX_ORIGINAL, MIX_REPLY, MIX_REPLY_TO_CTA, Writer
from .model import HOUR_MS, Params, Post, User, World

CORE = "core"
_BASELINE_MIX = (1.0, 0.0, 0.0, 0.0)


def simulate(params: Params, movement: Movement) -> World:
    rng = random.Random(params.seed)
    texts = Writer(movement, rng)
    for variant in params.variants:
        texts.check(variant.tag, variant.family)
    for tag, _ in params.core_tags:
        texts.check(tag, CORE)
    texts.check(params.precursor_tag, "precursor")
    run = _Run(params, rng, texts, _population(params, rng))
    run.immigrants()
    run.branch()
    return run.observe()


def _population(params: Params, rng: random.Random) -> list[User]:
    """Heavy tails: Pareto followers for notable accounts, lognormal for everyone else."""
    count = max(60, int(params.users_share * params.posts), params.notables + 10)
    notable = sorted((min(20_000_000, int(100_000 * rng.paretovariate(1.2))) for _ in range(params.notables)), reverse=True)
    followers = notable + [int(rng.lognormvariate(math.log(200), 1.6)) for _ in range(count - params.notables)]
    median = sorted(followers)[len(followers) // 2] or 1
    raw = [min(params.max_reach_weight, (max(f, 1) / median) ** params.reach_exponent) for f in followers]
    mean = sum(raw) / len(raw)
    return [
        User(i, f, int(rng.lognormvariate(math.log(300), 1.0)), i < params.notables, w / mean)
        for i, (f, w) in enumerate(zip(followers, raw))
    ]


class _Run:
    def __init__(self, params: Params, rng: random.Random, texts: Writer, users: list[User]):
        self.p, self.rng, self.texts, self.users = params, rng, texts, users
        self.posts: list[Post] = []
        self.queue: deque[Post] = deque()
        self.horizon = params.start_ms + int(params.hours * HOUR_MS)
        self.scale = params.posts
        # Activity is heavy-tailed too: a few accounts post a lot, most once.
        activity = [1.0] * params.notables + [min(200.0, rng.paretovariate(1.5)) for _ in users[params.notables:]]
        self.cum = list(accumulate(activity))
        self.cta: Post | None = None
        self.seeds: dict[str, Post] = {}
        self.special: dict[int, tuple[float, float, float]] = {}  # id(post) -> responses, inspired, decay h

    def author(self) -> User:
        return self.users[bisect_right(self.cum, self.rng.random() * self.cum[-1])]

    def add(self, post: Post) -> Post:
        self.posts.append(post)
        self.queue.append(post)
        return post

    # --- immigrants ----------------------------------------------------------------------

    def immigrants(self) -> None:
        p = self.p
        self._spontaneous()
        self.cta = self.add(Post(p.cta_ms, self.users[0], "original", None, CORE, variant=CORE, lang="en", role="cta"))
        self.texts.call_to_action(self.cta)
        self.special[id(self.cta)] = (p.cta_share * self.scale, p.cta_inspired_share * self.scale, p.cta_decay_hours)
        for i, variant in enumerate(p.variants):
            author = self.users[1 + i % max(1, p.notables - 1)]
            ms = p.cta_ms + int(variant.lag_hours * HOUR_MS)
            seed = self.add(Post(ms, author, "original", None, variant.family, variant=variant.tag,
                                 lang=self.texts.lang(variant.family), role=f"seed:{variant.tag}"))
            self.texts.movement(seed, variant.tag, _BASELINE_MIX)
            responses = variant.share * self.scale
            self.special[id(seed)] = (responses, responses * p.seed_inspired_ratio, p.cta_decay_hours)
            self.seeds[variant.tag] = seed
        for i in range(p.notable_adopters):
            author = self.users[p.notables - 1 - i % max(1, p.notables - 1)]
            ms = p.cta_ms + int(self.rng.uniform(0.5, 10.0) * HOUR_MS)
            adopter = self.add(Post(ms, author, "original", None, CORE, variant=CORE, lang="en", role="adopter"))
            self.texts.movement(adopter, self._core_tag(), MIX_ORIGINAL)

    def _spontaneous(self) -> None:
        """Movement posts that need no trigger: precursor tags and an early #MeToo or two."""
        p, rng = self.p, self.rng
        rate = p.movement_rate * self.scale / HOUR_MS
        ms = p.start_ms
        while True:
            ms += max(1, int(rng.expovariate(rate)))
            if ms >= self.horizon:
                return
            precursor = ms < p.cta_ms and rng.random() < p.precursor_share
            family, tag = ("precursor", p.precursor_tag) if precursor else (CORE, self._core_tag())
            post = self.add(Post(ms, self.author(), "original", None, family, variant=p.precursor_tag if precursor else CORE,
                                 lang="en"))
            self.texts.movement(post, tag, _BASELINE_MIX)

    def _core_tag(self) -> str:
        tags, weights = zip(*self.p.core_tags)
        return self.rng.choices(tags, weights)[0]

    # --- offspring -----------------------------------------------------------------------

    def branch(self) -> None:
        while self.queue:
            post = self.queue.popleft()
            if post.kind != "repost":
                self._responses(post)
            self._inspired(post)

    def _responses(self, parent: Post) -> None:
        p, rng = self.p, self.rng
        special = self.special.get(id(parent))
        if special:
            mean, decay = special[0], special[2]
        else:
            mean, decay = p.response_ratio * parent.author.weight, p.response_decay_hours
        for _ in range(_poisson(rng, mean)):
            ms = parent.ms + max(1, int(rng.expovariate(1.0 / (decay * HOUR_MS))))
            if ms >= self.horizon:
                continue
            draw = rng.random()
            kind = "repost" if draw < p.repost_share else "quote" if draw < p.repost_share + p.quote_share else "reply"
            child = self.add(Post(ms, self.author(), kind, parent, parent.family, variant=parent.variant, lang=parent.lang))
            if kind != "repost":
                mix = (MIX_REPLY_TO_CTA if parent.role == "cta" else MIX_REPLY) if kind == "reply" else MIX_ORIGINAL
                self.texts.movement(child, self._tag(parent.variant), mix, self._trailing(parent.variant))

    def _inspired(self, parent: Post) -> None:
        """New originals: the community of a variant mostly keeps its tag, else takes the core's.
        Before the call to action the tags are not contagious, so the baseline stays flat."""
        p, rng = self.p, self.rng
        if parent.ms < p.cta_ms:
            return
        special = self.special.get(id(parent))
        mean = special[1] if special else p.inspire_ratio
        decay = special[2] if special else p.inspire_decay_hours
        for _ in range(_poisson(rng, mean)):
            ms = parent.ms + max(1, int(rng.expovariate(1.0 / (decay * HOUR_MS))))
            if ms >= self.horizon:
                continue
            keep = parent.family != CORE and rng.random() < 0.85
            family, variant = (parent.family, parent.variant) if keep else (CORE, CORE)
            child = self.add(Post(ms, self.author(), "original", None, family, variant=variant,
                                  lang=self.texts.lang(family)))
            self.texts.movement(child, self._tag(variant), MIX_ORIGINAL, self._trailing(variant))

    def _tag(self, variant: str | None) -> str:
        return self._core_tag() if variant == CORE or variant is None else variant

    def _trailing(self, variant: str | None) -> float:
        return next((v.trailing_share for v in self.p.variants if v.tag == variant), 0.0)

    # --- background and observation ------------------------------------------------------

    def background(self) -> None:
        """Unrelated posts: as many as fill the collection, at least the floor rate, the gap included."""
        p, rng = self.p, self.rng
        lo, hi = p.gap_ms
        span = self.horizon - p.start_ms
        inside = max(0, min(hi, self.horizon) - max(lo, p.start_ms))
        movement = sum(1 for post in self.posts if not lo <= post.ms < hi)
        floor = int(p.min_background_per_hour * (span - inside) / HOUR_MS)
        outside = max(floor, p.posts - movement)
        lost = _poisson(rng, outside * inside / max(1, span - inside))
        times = [_outside(rng.randrange(span - inside), p.start_ms, lo, inside) for _ in range(outside)]
        times += [lo + rng.randrange(inside) for _ in range(lost)] if inside else []
        recent: deque[Post] = deque(maxlen=50)
        for ms in sorted(times):
            draw = rng.random()
            kind = "original"
            if recent and draw < p.background_repost_share + p.background_reply_share:
                kind = "repost" if draw < p.background_repost_share else "reply"
            parent = rng.choice(recent) if kind != "original" else None
            post = Post(ms, self.author(), kind, parent, None)
            if kind != "repost":
                self.texts.unrelated(post)
                recent.append(post)
            self.posts.append(post)

    def observe(self) -> World:
        """Time order, then the cut: the collection stops at the `posts`-th post written."""
        movement = len(self.posts)
        self.background()
        self.posts.sort(key=lambda post: post.ms)  # stable: ties keep generation order
        lo, hi = self.p.gap_ms
        kept, written = [], 0
        for post in self.posts:
            kept.append(post)
            if not lo <= post.ms < hi:
                written += 1
                if written == self.p.posts:
                    break
        for serial, post in enumerate(kept):
            post.serial = serial
            post.conversation = post.parent.conversation if post.kind == "reply" and post.parent else post
        assert self.cta is not None
        lost = [post for post in kept if lo <= post.ms < hi]
        return World(self.p, self.users, kept, self.cta, self.seeds, kept[-1].ms, movement, lost)


def _outside(offset: int, start: int, gap_start: int, gap_length: int) -> int:
    """The `offset`-th millisecond of the observed span once the gap is taken out of it."""
    ms = start + offset
    return ms + gap_length if ms >= gap_start else ms


def _poisson(rng: random.Random, mean: float) -> int:
    """Counts unit-rate arrivals before `mean`: exact for any mean, in O(mean) draws."""
    count, total = 0, rng.expovariate(1.0)
    while total < mean:
        count += 1
        total += rng.expovariate(1.0)
    return count
