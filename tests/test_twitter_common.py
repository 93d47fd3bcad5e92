from groundswell.formats.twitter_common import unescape_text


def test_only_twitters_three_escapes_are_undone():
    # Synthetic strings.
    assert unescape_text("a &amp; b &lt;3 &gt;") == "a & b <3 >"
    assert unescape_text("typed &amp;amp; literally") == "typed &amp; literally"
    assert unescape_text("&copy; stays") == "&copy; stays"
    assert unescape_text(None) is None
