"""One line per figure: how it was counted. Shown next to each figure in the report and in its
Coverage and method section; docs/metrics.md says the same at more length."""

from __future__ import annotations

DEFINITIONS: dict[str, str] = {
    "posts": "Collected posts the movement matches (a hashtag key of the definition, or one of its phrases "
             "outside tags, mentions and links), inside its window; each post once, whatever its copies.",
    "distinct_authors": "Different author ids among those posts (for scrapes without ids, different handles).",
    "by_kind": "Posts by kind as the platform marks them: originals, reposts (retweets, boosts), replies, quotes.",
    "start": "The movement's start: the call-to-action post's time if the definition names one, "
             "else the first hour with at least 10% of the peak hour and 5 times the median of the 24 hours before.",
    "first_24h": "Posts and distinct authors from the start to 24 hours later.",
    "volume": "Posts per bucket of local time in the chosen zone; empty buckets count as zero.",
    "distinct_authors_over_time": "Distinct authors within each bucket (one author counts in every bucket they posted in).",
    "cumulative": "Running totals of posts, and of authors counted at their first post.",
    "milestones": "When the 1,000th, 10,000th, 100,000th and 1,000,000th post counted from the start was made.",
    "around_start": "Posts per local hour from 24 hours before the start's hour to 72 hours after it.",
    "peak_hour": "The local hour with the most posts (the earliest on a tie).",
    "peak_day": "The local day with the most posts (the earliest on a tie).",
    "hashtag_vs_phrase": "Posts matched by a movement hashtag only, by a movement phrase only, or by both; "
                         "phrase-only posts are what hashtag-only counting misses.",
    "families": "Posts per family of the definition (a post counts once in each family it matched).",
    "variants": "Each movement hashtag key seen, with the time of the first post that carried it.",
    "platforms": "Posts per platform (the chart); the table beside it gives distinct authors too.",
    "languages": "The source's language field where it has one; otherwise the packaged offline detector "
                 "on the text without tags, mentions and links; under 4 words is `und` (undetermined).",
    "co_hashtags": "Hashtag keys other than the movement's, by the number of matched posts that carry them.",
    "most_engaged": "Posts (reposts excluded) by likes + reposts + replies + quotes as reported when collected.",
    "most_followed": "Authors by the largest follower count seen on their posts.",
    "privacy": "Only notable accounts (verified, or at least the notable-followers threshold) are named and "
               "quoted; everyone else is an anonymous label, and no words of theirs are shown.",
    "gaps": "Over every collected post: days without a single post inside the range, and runs of empty hours "
            "into which the hours around them would have put at least 10 posts: possible collection gaps, not zero activity.",
    "duplicates": "Copies of a post already stored or seen twice in a run, dropped at ingest (summed over runs).",
    "negative_engagement": "Like, repost, reply or quote counts below zero (a broken export's): stored as unknown, "
                           "the post kept and counted (summed over runs).",
    "rejected": "Records that could not be read, kept in quarantine with a reason, never counted.",
    "referenced_only": "Posts known only because a collected post references them (a retweet's original, "
                       "a quoted post): stored for context, never counted.",
    "deletions": "Posts and accounts removed by deletion notices (tombstones): never counted, never restored.",
    "not_matched": "Collected posts the movement's definition does not match (or outside its window).",
}
