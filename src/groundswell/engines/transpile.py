"""DuckDB SQL → Spark SQL: sqlglot's translation, and the one place where its gaps are fixed.

Metrics are written once, in DuckDB's dialect (docs/decisions.md). sqlglot translates them;
`_rewrite` then fixes, node by node, the constructs whose Spark spelling sqlglot leaves with
a different meaning: list functions (NULL handling, 1-based positions), list subscripts,
regular expressions (RE2 → java.util.regex) and materialized CTEs. Anything with no equal
meaning raises NotPortable rather than giving different figures on Spark.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB

from ..errors import GroundswellError


class NotPortable(GroundswellError):
    """Metric SQL that uses a construct with no equal meaning on Spark."""


# --- SQL: DuckDB dialect → Spark ------------------------------------------------------------

class Portable(DuckDB):
    """DuckDB as metrics write it: `len(list)` is a list's length, `length(text)` a string's.

    DuckDB accepts either for both; Spark needs `size` for arrays, and only the spelling tells
    the two apart without a schema.
    """

    class Parser(DuckDB.Parser):
        FUNCTIONS = {**DuckDB.Parser.FUNCTIONS, "LEN": lambda args: exp.ArraySize(this=args[0])}


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _regex_literal(node: exp.Expression | None, what: str) -> str:
    if not isinstance(node, exp.Literal) or not node.is_string:
        raise NotPortable(f"a regular expression {what} must be a string literal to run on Spark")
    return node.this


_POSITION_NAMES = ("LIST_POSITION", "LIST_INDEXOF", "ARRAY_POSITION", "ARRAY_INDEXOF")


def _rewrite(node: exp.Expression) -> exp.Expression:
    """Where sqlglot's Spark output would mean something else, say the same thing in Spark."""
    if isinstance(node, exp.ArrayOverlaps):  # list_has_any; sqlglot writes `&&`
        return _call("ARRAYS_OVERLAP", node.this, node.expression)
    if isinstance(node, exp.ArrayDistinct):  # DuckDB's list_distinct drops NULLs
        return _call("ARRAY_COMPACT", _call("ARRAY_DISTINCT", node.this))
    if isinstance(node, exp.ArrayConcat):  # DuckDB's list_concat skips NULL lists; Spark's concat is NULL
        return _call("CONCAT", *[exp.Coalesce(this=part, expressions=[_call("ARRAY")])
                                 for part in [node.this, *node.expressions]])
    if isinstance(node, exp.Bracket):
        return _subscript(node)
    if isinstance(node, exp.Anonymous):
        return _anonymous(node)
    if isinstance(node, exp.CTE) and node.args.get("materialized"):
        node.set("materialized", None)  # Spark has no hint; it may compute the CTE more than once
        return node
    if isinstance(node, exp.RegexpLike):
        if node.args.get("flag") is not None:
            raise NotPortable("regexp_matches with options is not portable; put flags in the pattern, e.g. (?i)")
        node.set("expression", exp.Literal.string(java_regex(_regex_literal(node.expression, "pattern"))))
        return node
    if isinstance(node, exp.RegexpReplace):
        return _rewrite_replace(node)
    return node


def _anonymous(node: exp.Anonymous) -> exp.Expression:
    name = str(node.this).upper()
    if name in ("LIST_INTERSECT", "ARRAY_INTERSECT"):
        return _call("ARRAY_INTERSECT", *node.expressions)
    if name in _POSITION_NAMES:  # DuckDB: NULL when absent; Spark: 0
        return exp.Nullif(this=_call("ARRAY_POSITION", *node.expressions), expression=exp.Literal.number(0))
    return node


def _subscript(node: exp.Bracket) -> exp.Expression:
    """list[i] is 1-based and NULL out of range in DuckDB; Spark's subscript is 0-based and fails.

    sqlglot has already made literal indexes 0-based (and left computed ones as written), so
    literals get their 1 back; try_element_at is 1-based and NULL out of range, like DuckDB.
    """
    if len(node.expressions) != 1:
        return node
    index = node.expressions[0]
    if isinstance(index, exp.Literal) and index.is_string:
        return node  # a map key or struct field
    literal = _literal_int(index)
    if literal is not None:
        duck = literal + 1
        if duck == 0:
            return exp.Null()
        return _call("TRY_ELEMENT_AT", node.this, exp.Literal.number(duck))
    position = exp.Cast(this=exp.Nullif(this=index, expression=exp.Literal.number(0)), to=exp.DataType.build("INT"))
    return _call("TRY_ELEMENT_AT", node.this, position)  # Spark wants an INT position


def _literal_int(node: exp.Expression) -> int | None:
    if isinstance(node, exp.Neg):
        inner = _literal_int(node.this)
        return None if inner is None else -inner
    if isinstance(node, exp.Literal) and not node.is_string and node.this.lstrip("-").isdigit():
        return int(node.this)
    return None


def _rewrite_replace(node: exp.RegexpReplace) -> exp.Expression:
    modifiers = node.args.get("modifiers")
    if not isinstance(modifiers, exp.Literal) or modifiers.this != "g":
        raise NotPortable("regexp_replace must replace every match ('g'): Spark has no first-match-only form")
    node.set("modifiers", None)
    node.set("single_replace", None)
    node.set("expression", exp.Literal.string(java_regex(_regex_literal(node.expression, "pattern"))))
    node.set("replacement", exp.Literal.string(java_replacement(_regex_literal(node.args.get("replacement"), "replacement"))))
    return node


def _parse(sql: str) -> exp.Expression:
    trees = [tree for tree in sqlglot.parse(sql, read=Portable) if tree is not None]
    if len(trees) != 1:
        raise NotPortable(f"expected one SQL statement, got {len(trees)}")
    return trees[0]


@lru_cache(maxsize=512)
def to_spark(sql: str) -> str:
    """One DuckDB statement as Spark SQL; raises NotPortable where the meaning would change."""
    return _bottom_up(_parse(sql)).sql(dialect="spark")


@dataclass(frozen=True)
class SparkPlan:
    """How to run one DuckDB statement on Spark.

    parts: (view name, Spark SQL) for each `WITH x AS MATERIALIZED (...)`, to compute once and
    cache as a view first (Spark inlines CTEs, so a CTE read by eight UNION ALL branches would
    run eight times); sql: the statement itself; creates: for `CREATE TEMP TABLE x AS ...`,
    the name of the cached view to make of `sql`; drops: for `DROP TABLE IF EXISTS x`, the
    temp table to let go of.
    """

    parts: tuple[tuple[str, str], ...]
    sql: str
    creates: str | None = None
    drops: str | None = None


@lru_cache(maxsize=128)
def spark_plan(sql: str) -> SparkPlan:
    tree = _parse(sql)
    if isinstance(tree, exp.Drop):
        return SparkPlan((), "", drops=_dropped_table(tree))
    creates = None
    if isinstance(tree, exp.Create):
        creates, tree = _temp_table(tree)
    key = "with_" if "with_" in type(tree).arg_types else "with"
    with_ = tree.args.get(key)
    parts: list[tuple[str, str]] = []
    for cte in list(with_.expressions) if with_ is not None else []:
        if not cte.args.get("materialized"):
            continue
        name = f"_gs_cte_{len(parts)}_{cte.alias}"
        body = cte.this.copy()
        earlier = [c.copy() for c in with_.expressions[: with_.expressions.index(cte)]]
        if earlier and key not in body.args:
            body.set(key, exp.With(expressions=earlier))
        parts.append((name, _bottom_up(body).sql(dialect="spark")))
        cte.pop()
        for table in tree.find_all(exp.Table):
            if table.name == cte.alias and not table.args.get("db"):
                table.set("this", exp.to_identifier(name))
    if with_ is not None and not with_.expressions:
        tree.set(key, None)
    return SparkPlan(tuple(parts), _bottom_up(tree).sql(dialect="spark"), creates)


def _temp_table(tree: exp.Create) -> tuple[str, exp.Expression]:
    """`CREATE [OR REPLACE] TEMP TABLE x AS SELECT ...`: Spark makes a cached temp view of it."""
    properties = tree.args.get("properties")
    temporary = properties is not None and any(isinstance(p, exp.TemporaryProperty) for p in properties.expressions)
    if str(tree.args.get("kind") or "").upper() != "TABLE" or not temporary or tree.expression is None:
        raise NotPortable("only CREATE TEMP TABLE ... AS SELECT runs on Spark (as a cached view)")
    return tree.this.name, tree.expression


def _dropped_table(tree: exp.Drop) -> str:
    """`DROP TABLE IF EXISTS x` of a temp table: the only DROP metrics issue."""
    tables = tree.args.get("tables") or [tree.this]
    if str(tree.args.get("kind") or "").upper() != "TABLE" or not tree.args.get("exists") or len(tables) != 1:
        raise NotPortable("only DROP TABLE IF EXISTS of one temp table runs on Spark")
    return tables[0].name


def _bottom_up(tree: exp.Expression) -> exp.Expression:
    """Rewrite every node after its children, so a rewritten node's inside is rewritten too."""
    for node in reversed(list(tree.walk(bfs=False))):
        new = _rewrite(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


# --- regular expressions: RE2 (DuckDB) → java.util.regex (Spark) ---------------------------

_POSIX = {"alpha": r"\p{Alpha}", "digit": r"\p{Digit}", "alnum": r"\p{Alnum}", "upper": r"\p{Upper}",
          "lower": r"\p{Lower}", "space": r"\p{Space}", "punct": r"\p{Punct}", "xdigit": r"\p{XDigit}",
          "blank": r"\p{Blank}", "cntrl": r"\p{Cntrl}", "print": r"\p{Print}", "graph": r"\p{Graph}", "word": r"\w"}
_RE2_SPACE = r"\t\n\f\r "  # RE2's \s; Java's also holds \x0B
_FLAGS = re.compile(r"\(\?([imsU]*)(?:-([imsU]*))?([):])")


def java_regex(pattern: str) -> str:
    """The same matches under Java's engine: Unicode-aware (?i), RE2's `.`, `\\s` and script
    names, and brackets and `&&` that Java would read as nested or intersected classes."""
    out: list[str] = ["(?d)"]  # only \n ends a line, as in RE2
    i, n, in_class = 0, len(pattern), False
    while i < n:
        char = pattern[i]
        if char == "\\":
            piece, i = _escape(pattern, i, in_class)
        elif in_class:
            piece, i, in_class = _class_char(pattern, i)
        elif char == "[":
            piece, i, in_class = _class_open(pattern, i)
        elif pattern.startswith("(?", i):
            piece, i = _group_open(pattern, i)
        else:
            piece, i = char, i + 1
        out.append(piece)
    return "".join(out)


def _escape(pattern: str, i: int, in_class: bool) -> tuple[str, int]:
    kind = pattern[i + 1 : i + 2]
    if kind in ("p", "P") and pattern[i + 2 : i + 3] == "{":
        end = pattern.index("}", i)
        name = pattern[i + 3 : end]
        negated = (kind == "P") != name.startswith("^")
        name = name.lstrip("^")
        if len(name) > 2:
            name = "Is" + name  # RE2 names scripts bare (\p{Arabic}); Java wants IsArabic
        return f"\\{'P' if negated else 'p'}{{{name}}}", end + 1
    if kind == "s":
        return (_RE2_SPACE if in_class else f"[{_RE2_SPACE}]"), i + 2
    if kind == "S" and not in_class:
        return f"[^{_RE2_SPACE}]", i + 2
    return pattern[i : i + 2], i + 2


def _class_open(pattern: str, i: int) -> tuple[str, int, bool]:
    """`[`, `[^`, and a `]` right after them, which RE2 reads as a literal."""
    piece, i = "[", i + 1
    if pattern[i : i + 1] == "^":
        piece, i = "[^", i + 1
    if pattern[i : i + 1] == "]":
        piece, i = piece + "\\]", i + 1
    return piece, i, True


def _class_char(pattern: str, i: int) -> tuple[str, int, bool]:
    char = pattern[i]
    if pattern.startswith("[:", i) and (end := pattern.find(":]", i + 2)) != -1 and pattern[i + 2 : end] in _POSIX:
        return _POSIX[pattern[i + 2 : end]], end + 2, True
    if char == "]":
        return "]", i + 1, False
    if char in "[&":
        return "\\" + char, i + 1, True
    return char, i + 1, True


def _group_open(pattern: str, i: int) -> tuple[str, int]:
    if pattern.startswith("(?P<", i):
        return "(?<", i + 4
    match = _FLAGS.match(pattern, i)
    if not match:
        return pattern[i : i + 2], i + 2
    on, off, end = match.group(1), match.group(2), match.group(3)
    if "U" in on + (off or ""):
        raise NotPortable("the RE2 flag U (ungreedy) means something else in Java; write lazy quantifiers instead")
    if "i" in on:
        on += "u"  # Java's (?i) folds ASCII only; RE2's folds Unicode
    return f"(?{on}{'-' + off if off else ''}{end}", match.end()


def java_replacement(replacement: str) -> str:
    """RE2 writes group references as \\1, Java as $1; a literal $ must be escaped in Java."""
    out: list[str] = []
    i = 0
    while i < len(replacement):
        char = replacement[i]
        if char == "\\" and i + 1 < len(replacement):
            nxt = replacement[i + 1]
            out.append(f"${nxt}" if nxt.isdigit() else "\\\\" if nxt == "\\" else nxt)
            i += 2
            continue
        out.append("\\$" if char == "$" else char)
        i += 1
    return "".join(out)
