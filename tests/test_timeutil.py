"""Time handling: every created_at is UTC, and tweet ids give it exactly."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groundswell.errors import GroundswellError
from groundswell.simulate.twitter_v1 import tweet_id_at
from groundswell.timeutil import parse_any, parse_iso, parse_twitter_date, snowflake_time, to_utc_naive, zone


def test_snowflake_agrees_with_a_scraped_local_time():
    # A GetOldTweets record in ../shared/data gives this id with date 2017-10-14 19:56:59 US-Eastern.
    moment = snowflake_time("919351358477750273")
    assert moment.replace(microsecond=0) == datetime(2017, 10, 14, 23, 56, 59)
    assert (int("919351358477750273") >> 22) + 1288834974657 == int((moment - datetime(1970, 1, 1)).total_seconds() * 1000)


def test_pre_snowflake_and_junk_ids_have_no_time():
    assert snowflake_time("20") is None
    assert snowflake_time("abc") is None
    assert snowflake_time(None) is None


@given(st.datetimes(min_value=datetime(2011, 1, 1), max_value=datetime(2030, 1, 1)), st.integers(0, 4095))
def test_snowflake_round_trip(moment, sequence):
    moment = moment.replace(microsecond=(moment.microsecond // 1000) * 1000)
    assert snowflake_time(tweet_id_at(moment, sequence)) == moment


def test_iso_forms():
    assert parse_iso("2025-12-05T10:16:59.78349200Z") == datetime(2025, 12, 5, 10, 16, 59, 783492, tzinfo=timezone.utc)
    assert to_utc_naive(parse_iso("2017-10-15T20:00:00+02:00")) == datetime(2017, 10, 15, 18, 0)
    with pytest.raises(ValueError):
        parse_iso("0000-01-01T00:00:00Z")


def test_v1_date():
    assert parse_twitter_date("Sat Nov 04 20:39:28 +0000 2017") == datetime(2017, 11, 4, 20, 39, 28)


def test_naive_times_are_read_in_the_given_zone():
    moment, naive = parse_any("2017-10-14 19:56:59", "America/New_York")
    assert naive and moment == datetime(2017, 10, 14, 23, 56, 59)
    moment, naive = parse_any("2017-10-14 19:56:59")
    assert naive and moment == datetime(2017, 10, 14, 19, 56, 59)
    moment, naive = parse_any("2017-10-14T19:56:59Z", "America/New_York")
    assert not naive and moment == datetime(2017, 10, 14, 19, 56, 59)


def test_epoch_seconds_and_milliseconds():
    assert parse_any("1508097600")[0] == datetime(2017, 10, 15, 20, 0)
    assert parse_any("1508097600000")[0] == datetime(2017, 10, 15, 20, 0)


def test_dst_boundary_in_new_york():
    # 2017-11-05 01:30 happened twice in New York; fold=0 is the first (EDT, UTC-4).
    assert parse_any("2017-11-05 01:30:00", "America/New_York")[0] == datetime(2017, 11, 5, 5, 30)
    assert parse_any("2017-11-06 01:30:00", "America/New_York")[0] - parse_any("2017-11-06 01:30:00")[0] == timedelta(hours=5)


def test_unknown_zone_is_a_user_error():
    with pytest.raises(GroundswellError, match="unknown time zone 'Mars/Olympus'"):
        zone("Mars/Olympus")
