"""Platform ids for simulated posts and accounts, built the way the platforms build them.

Tweet ids are snowflakes whose time is the post's time, so the adapters' rule (the id's time
wins) gives back the simulated instant; Bluesky record keys are TIDs of the post's time.
"""

from __future__ import annotations

from ..timeutil import TWITTER_EPOCH_MS
from .model import Post, User, World

_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TWITTER_USER_BASE = 900_000_000
POST_COLLECTION = "app.bsky.feed.post"
REPOST_COLLECTION = "app.bsky.feed.repost"


def snowflake(ms: int, serial: int) -> int:
    """A tweet id whose time is `ms`; the low 22 bits (worker and sequence) hold the serial."""
    return ((ms - TWITTER_EPOCH_MS) << 22) | (serial & 0x3FFFFF)


def _snowflake_ms(tweet_id: int) -> int:
    return (tweet_id >> 22) + TWITTER_EPOCH_MS


def tid(ms: int, serial: int) -> str:
    """A 13-character TID: microseconds since 1970 and a 10-bit clock id, base32-sortable."""
    value = ((ms * 1000 + serial % 1000) << 10) | ((serial // 1000) % 1024)
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def twitter_user_id(user: User) -> str:
    return str(TWITTER_USER_BASE + user.index)


def handle(user: User) -> str:
    return f"synthetic_user_{user.index}"


def did(user: User) -> str:
    return f"did:plc:synthetic-user-{user.index}"


def bluesky_uri(post: Post) -> str:
    collection = REPOST_COLLECTION if post.kind == "repost" else POST_COLLECTION
    return f"at://{did(post.author)}/{collection}/{tid(post.ms, post.serial)}"


def cid(post: Post) -> str:
    return f"bafyreisynthetic{post.serial:020d}"


def assign(world: World, platform: str, call_to_action: tuple[str, ...] | list[str] = ()) -> None:
    """Give every post (written or lost) its platform id. The call to action takes the id the
    movement's definition names where that id's time is the call's own, so that the report's
    cascade of the definition's call finds it in simulated data too."""
    if platform == "twitter":
        for post in world.posts:
            post.pid = str(snowflake(post.ms, post.serial))
        for call in call_to_action:
            named_platform, _, call_id = call.partition(":")
            if named_platform == "twitter" and call_id.isdigit() and _snowflake_ms(int(call_id)) == world.cta.ms:
                world.cta.pid = call_id
    else:
        for post in world.posts:
            post.pid = bluesky_uri(post)
