"""Movement definitions: the built-in file, TOML validation with one-line errors, resolving names.

The small definitions written here are synthetic.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from importlib import resources
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from groundswell.cli import main
from groundswell.errors import GroundswellError
from groundswell.movement.definition import builtin_names, from_seeds, parse_movement, resolve
from groundswell.movement.normalize import hashtag_key

MINIMAL = '[[families]]\nlabel = "core"\nlanguage = "en"\nhashtags = ["MeToo"]\n'


def _builtin_toml(name: str) -> dict:
    return tomllib.loads((resources.files("groundswell.movement") / "builtin" / f"{name}.toml").read_text("utf-8"))


def test_builtin_metoo_has_the_families_and_keys_of_its_file() -> None:
    raw = _builtin_toml("metoo")
    movement = resolve("metoo")
    assert movement.labels() == tuple(f["label"] for f in raw["families"])
    expected = {hashtag_key(tag) for f in raw["families"] for tag in f["hashtags"]}
    assert set(movement.keys()) == expected
    assert {"metoo", "moiaussi", "balancetonporc", "yotambien", "ятоже", "churchtoo", "timesup"} <= expected
    assert movement.stored_forms()["yotambién"] == "es"  # the accented spelling, for unfolded stores
    assert movement.call_to_action == ("twitter:919659438700670976",)


def test_accents_fold_by_default_and_not_when_switched_off() -> None:
    both = '[[families]]\nlabel = "es"\nlanguage = "es"\nhashtags = ["YoTambien", "YoTambién"]\n'
    assert parse_movement(f'name = "a"\n{both}', "a.toml").keys() == ("yotambien",)
    strict = parse_movement(f'name = "b"\naccent_fold = false\n{both}', "b.toml")
    assert strict.keys() == ("yotambien", "yotambién")


def test_window_dates_cover_whole_days_and_times_are_utc() -> None:
    movement = parse_movement(f'name = "w"\nwindow = {{start = 2017-10-15, end = 2017-10-31}}\n{MINIMAL}', "w.toml")
    assert movement.window.start == datetime(2017, 10, 15)
    assert movement.window.end == datetime(2017, 11, 1)
    zoned = parse_movement(f'name = "z"\nwindow = {{start = 2017-10-15T16:00:00-04:00}}\n{MINIMAL}', "z.toml")
    assert zoned.window.start == datetime(2017, 10, 15, 20, 0)
    assert zoned.window.end is None


@pytest.mark.parametrize("text, where", [
    (MINIMAL, "name: missing"),
    (f'name = "Bad Name"\n{MINIMAL}', "name: 'Bad Name' should be"),
    (f'name = "x"\ncolour = "red"\n{MINIMAL}', "colour: unknown key"),
    ('name = "x"\n', "families: expected at least one"),
    (f'name = "x"\naccent_fold = "yes"\n{MINIMAL}', "accent_fold: expected true or false"),
    ('name = "x"\n[[families]]\nlanguage = "en"\nhashtags = ["a"]\n', "families[0].label: missing"),
    ('name = "x"\n[[families]]\nlabel = "c"\nlanguage = "english!"\nhashtags = ["a"]\n', "families[0].language:"),
    ('name = "x"\n[[families]]\nlabel = "c"\nlanguage = "en"\nhashtags = ["a", 3]\n', "families[0].hashtags[1]:"),
    ('name = "x"\n[[families]]\nlabel = "c"\nlanguage = "en"\nhashtags = ["Me Too"]\n', "families[0].hashtags[0]: 'Me Too' is not a hashtag"),
    ('name = "x"\n[[families]]\nlabel = "c"\nlanguage = "en"\nhashtags = ["MeToo"]\n'
     '[[families]]\nlabel = "d"\nlanguage = "en"\nhashtags = ["METOO"]\n', "families[1].hashtags: key 'metoo' is already in family 'c'"),
    (f'name = "x"\n{MINIMAL}[[families]]\nlabel = "core"\nlanguage = "en"\nhashtags = ["b"]\n', "families[1].label: family 'core' is defined twice"),
    (f'name = "x"\n{MINIMAL}[[phrases]]\nlabel = "fr"\nlanguage = "fr"\npatterns = ["moi aussi"]\n', "phrases[0].label: 'fr' is not the label"),
    (f'name = "x"\n{MINIMAL}[[phrases]]\nlabel = "core"\nlanguage = "en"\npatterns = []\n', "phrases[0].patterns: expected a non-empty list"),
    (f'name = "x"\n{MINIMAL}[[phrases]]\nlabel = "core"\nlanguage = "en"\npatterns = ["#MeToo"]\n', "phrases[0].patterns[0]: '#MeToo' looks like a hashtag"),
    (f'name = "x"\n{MINIMAL}[[phrases]]\nlabel = "core"\nlanguage = "en"\npatterns = ["!!"]\n', "phrases[0].patterns[0]: a phrase needs"),
    (f'name = "x"\ncall_to_action = ["920067975016624128"]\n{MINIMAL}', "call_to_action[0]: '920067975016624128' should be platform:id"),
    (f'name = "x"\nwindow = {{start = 2018-01-01, end = 2017-01-01}}\n{MINIMAL}', "window: start must be before end"),
    (f'name = "x"\nwindow = {{start = "soon"}}\n{MINIMAL}', "window.start: 'soon' is not an ISO date"),
    (f'name = "x"\nwindow = {{begin = 2017-01-01}}\n{MINIMAL}', "window.begin: unknown key"),
    ('name = "x\n', "not valid TOML"),
])
def test_errors_name_the_file_and_the_key(text: str, where: str) -> None:
    with pytest.raises(GroundswellError) as caught:
        parse_movement(text, "mine.toml")
    message = str(caught.value)
    assert message.startswith("mine.toml: ")
    assert where in message
    assert "\n" not in message


def test_resolve_reads_a_file_and_rejects_unknown_names(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(f'name = "mine"\n{MINIMAL}', encoding="utf-8")
    assert resolve(str(path)).name == "mine"
    assert resolve(str(path)).source == str(path)
    with pytest.raises(GroundswellError, match=r"unknown movement 'nosuch' \(built-in: metoo"):
        resolve("nosuch")
    with pytest.raises(GroundswellError, match="no such movement file"):
        resolve(str(tmp_path / "absent.toml"))


def test_seeds_make_a_one_family_movement() -> None:
    movement = from_seeds(["#MeToo", "moiaussi"])
    assert movement.keys() == ("metoo", "moiaussi")
    with pytest.raises(GroundswellError, match="not a hashtag"):
        from_seeds(["me too"])


def test_movements_command_lists_the_builtins() -> None:
    result = CliRunner().invoke(main, ["movements", "--json"])
    assert result.exit_code == 0, result.output
    listed = {m["name"]: m for m in orjson.loads(result.output)["movements"]}
    assert sorted(listed) == builtin_names()
    raw = _builtin_toml("metoo")
    metoo = listed["metoo"]
    assert metoo["families"] == len(raw["families"])
    assert metoo["hashtags"] == len({hashtag_key(t) for f in raw["families"] for t in f["hashtags"]})
    assert metoo["phrases"] == sum(len(p["patterns"]) for p in raw["phrases"])
    assert metoo["description"] == raw["description"]


def test_movement_option_reports_a_bad_file_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\n[[families]]\nlabel = "c"\nlanguage = "en"\nhashtags = ["Me Too"]\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["stats", "--db", str(tmp_path / "none.duckdb"), "--movement", str(path)])
    assert result.exit_code == 1
    assert result.output == f"Error: {path}: families[0].hashtags[0]: 'Me Too' is not a hashtag (it contains a space); " \
                            "phrases go in [[phrases]]\n"
