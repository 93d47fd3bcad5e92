"""The abstract movement the simulator generates: parameters, accounts and posts.

Nothing here knows an archive format. The process (process.py) fills a World with Posts
whose times are integer milliseconds since 1970 (UTC), so every format renders the same
instants exactly; the writers then give them platform ids and syntax.
See docs/simulate.md for the model and the meaning of every parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

HOUR_MS = 3_600_000
_EPOCH = datetime(1970, 1, 1)

# Default starts: Twitter's archives are of 2017; Bluesky opened in 2023, and a Bluesky
# `createdAt` before 2022 is (rightly) taken as a client's invention by the adapter.
TWITTER_START = datetime(2017, 10, 15, 12, 0, 0)
BLUESKY_START = datetime(2024, 10, 15, 12, 0, 0)


@dataclass(frozen=True)
class Variant:
    """A hashtag of the movement that another language community takes up `lag_hours` after the
    call to action, started by a notable account's post (its seed)."""

    family: str  # the family label in the movement definition
    tag: str  # as displayed, without '#'
    lag_hours: float  # from the call to action to the seed post
    share: float  # expected direct responses to the seed, as a share of the posts asked for
    trailing_share: float = 0.0  # share of its tagged posts written right-to-left style, `tag#`


DEFAULT_VARIANTS = (
    Variant("fr", "MoiAussi", 3.0, 0.010),
    Variant("fr", "BalanceTonPorc", 5.0, 0.006),
    Variant("es", "YoTambién", 7.0, 0.010),
    Variant("it", "QuellaVoltaChe", 10.0, 0.005),
    Variant("ar", "وأنا_كمان", 14.0, 0.008, trailing_share=0.5),
)


@dataclass(frozen=True)
class Params:
    """Every knob of the model. Rates and shares scale with `posts`, so the shape in time
    (baseline, burst, lags, gap) is the same whatever the size."""

    posts: int = 20_000  # distinct collected posts written (exact)
    seed: int = 1
    start: datetime = TWITTER_START  # UTC, naive
    baseline_hours: float = 8.0  # quiet hours before the call to action
    # The call to action comes this long after the baseline: with the default start, at the very
    # millisecond of the built-in definition's call (its tweet id's time), so it takes that id.
    cta_offset_ms: int = (21 * 60 + 11) * 1000 + 289
    hours: float = 72.0  # observed from `start`; the process is not followed further
    movement_rate: float = 0.0003  # spontaneous movement posts per hour, share of `posts`
    precursor_share: float = 0.3  # of spontaneous movement posts before the call, precursor tags
    min_background_per_hour: float = 8.0  # unrelated posts fill the rest, at least this many an hour
    background_repost_share: float = 0.2  # unrelated posts that repost an earlier unrelated post
    background_reply_share: float = 0.1
    cta_share: float = 0.09  # expected direct responses to the call to action, share of `posts`
    cta_decay_hours: float = 3.0  # mean delay of those responses (exponential kernel)
    cta_inspired_share: float = 0.05  # expected new originals it inspires, share of `posts`
    seed_inspired_ratio: float = 0.5  # a variant seed inspires this many originals per expected response
    response_ratio: float = 0.5  # expected responses to a post of average reach
    inspire_ratio: float = 0.35  # expected new movement originals each movement post inspires
    response_decay_hours: float = 1.5
    inspire_decay_hours: float = 2.0
    repost_share: float = 0.55  # of responses; reposts are leaves
    quote_share: float = 0.10  # of responses; the rest are replies
    users_share: float = 0.45  # accounts in the population, share of `posts`
    notables: int = 12  # verified accounts with 100k+ followers
    notable_adopters: int = 6  # notables who post the core tag within hours of the call
    reach_exponent: float = 0.35  # response weight = (followers / median) ** exponent
    max_reach_weight: float = 60.0
    gap_after_hours: int = 26  # the collection gap starts this many whole hours after the call's hour
    gap_hours: int = 3
    duplicate_share: float = 0.004  # extra copies inside files, share of `posts`
    overlap: int = 3  # records repeated at the start of the next file (a restart)
    broken_lines: int = 3
    variants: tuple[Variant, ...] = DEFAULT_VARIANTS
    core_tags: tuple[tuple[str, float], ...] = (("MeToo", 0.8), ("metoo", 0.15), ("Metoo", 0.05))
    precursor_tag: str = "MyHarveyWeinstein"

    @property
    def start_ms(self) -> int:
        return to_ms(self.start)

    @property
    def cta_ms(self) -> int:
        return self.start_ms + int(self.baseline_hours * HOUR_MS) + self.cta_offset_ms

    @property
    def gap_ms(self) -> tuple[int, int]:
        """[start, end) of the collection gap, on whole UTC hours."""
        first = (self.cta_ms // HOUR_MS + self.gap_after_hours) * HOUR_MS
        return first, first + self.gap_hours * HOUR_MS


@dataclass(slots=True)
class User:
    index: int
    followers: int
    following: int
    verified: bool
    weight: float  # reach: scales the expected responses to this account's posts


@dataclass(slots=True, eq=False)
class Post:
    """One event of the process. Reposts carry no text of their own (formats that show the
    reposted text render the parent's)."""

    ms: int
    author: User
    kind: str  # original, repost, reply, quote
    parent: Post | None
    family: str | None  # movement family label; None for unrelated posts
    variant: str | None = None  # the simulated tag this post's community uses (also when it says only the phrase)
    text: str | None = None
    tags: tuple[str, ...] = ()  # hashtags as displayed, movement tags first
    phrase: str | None = None  # the movement phrase the text says, if any
    lang: str = "en"
    trailing: bool = False  # a `tag#` written right to left: no entities or facets are given
    role: str = ""  # "cta", "seed:<tag>", "adopter", or ""
    serial: int = 0  # position in time order, set after sorting
    pid: str = ""  # platform id, set by the writer's id scheme
    conversation: Post | None = None

    @property
    def content(self) -> Post:
        """The post whose text and tags a repost shows."""
        return self.parent if self.kind == "repost" and self.parent is not None else self


@dataclass
class World:
    params: Params
    users: list[User]
    posts: list[Post]  # every post up to the cut, in time order (written and lost)
    cta: Post
    seeds: dict[str, Post]  # variant tag -> its first post
    cut_ms: int  # the time of the last post kept: the process is not observed after it
    movement_generated: int  # movement posts the process generated in `hours`, before any cut
    lost: list[Post] = field(default_factory=list)  # posts inside the gap, never written

    @property
    def written(self) -> list[Post]:
        lo, hi = self.params.gap_ms
        return [post for post in self.posts if not lo <= post.ms < hi]


def to_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def from_ms(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def iso(ms: int) -> str:
    """UTC ISO 8601 with milliseconds and `Z`, as APIs write it."""
    return from_ms(ms).isoformat(timespec="milliseconds") + "Z"


def hour_key(ms: int) -> str:
    return from_ms(ms - ms % HOUR_MS).isoformat(timespec="seconds") + "Z"
