"""SQL text of rules and views: what it reads, one canonical form, and its Spark translation.

Rules are written once, in DuckDB's dialect. Two engines run them, so every construct where
DuckDB and Spark would give different rows is pinned down here, generically, with sqlglot:

* **Rounding of money.** DuckDB divides DECIMALs into DOUBLEs and rounds doubles its own way
  (``round(2.675::DOUBLE, 2)`` is 2.67, ``round(5.025::DOUBLE, 2)`` 5.03) while Spark rounds the
  shortest decimal text of a double half-up. The canonical form (applied for both engines) sends
  every ``ROUND(x, n)`` (n > 0) and every ``CAST(x AS DECIMAL(p, s))`` through
  ``DECIMAL(38, 6)`` first, where both engines round exactly, half away from zero.
* **Date differences.** DuckDB's ``DATE_DIFF('day', a, b)`` counts day boundaries; Spark's
  ``DATEDIFF(DAY, a, b)`` counts whole 24-hour periods between timestamps. For day, week, month,
  quarter and year the Spark form works on dates / calendar parts so both count boundaries.
* **Ordered aggregation.** ``ARRAY_AGG(x ORDER BY k)`` becomes Spark's unordered
  ``COLLECT_LIST``; the translation sorts a list of ``(k, x)`` structs and keeps ``x``.
* **Division.** DuckDB's ``/`` always returns DOUBLE (``DECIMAL / DECIMAL`` too); Spark keeps
  DECIMALs, so its operands are cast to DOUBLE and both engines do the same IEEE division.
* **Days of the week.** DuckDB counts ``DAYOFWEEK`` / ``DOW`` from Sunday = 0 and ``ISODOW`` from
  Monday = 1; Spark's ``DAYOFWEEK`` from Sunday = 1 (and sqlglot's own ISODOW translation is off
  by a day), so both are rewritten over Spark's ``DAYOFWEEK``.
* **Statistics.** ``MEDIAN`` / ``QUANTILE_CONT(x, q)`` become Spark's ``PERCENTILE(x, q)`` (the
  same linear interpolation), computed as DOUBLE on both sides.

Array indexes (1-based in DuckDB, 0-based in Spark), ``LIST_SORT``, ``STRING_SPLIT`` and
``STRFTIME`` are translated by sqlglot itself.
"""
from __future__ import annotations

import functools

import sqlglot
from sqlglot import exp

from ..errors import RuleError

CANON_DECIMAL = exp.DataType.build("DECIMAL(38, 6)")
_UNITS_DATE = {"DAY", "DAYS", "D"}


def parse(sql: str, where: str = "SQL") -> exp.Expression:
    """Parse one DuckDB statement; raise :class:`RuleError` naming ``where`` if sqlglot cannot."""
    try:
        trees = [t for t in sqlglot.parse(sql, read="duckdb") if t is not None]
    except sqlglot.errors.SqlglotError as e:
        raise RuleError(f"{where}: cannot parse the SQL: {str(e).splitlines()[0]}") from None
    if len(trees) != 1:
        raise RuleError(f"{where}: expected exactly one SELECT statement, found {len(trees)}")
    return trees[0]


@functools.lru_cache(maxsize=512)
def referenced_tables(sql: str) -> frozenset:
    """Names of the tables and views a statement reads (its own CTE names excluded)."""
    tree = parse(sql)
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    names = set()
    for t in tree.find_all(exp.Table):
        if t.name and t.name not in ctes and not t.args.get("db"):
            names.add(t.name)
    return frozenset(names)


def _decimal_scale(dt: exp.DataType):
    params = dt.expressions
    if len(params) == 2:
        try:
            return int(params[1].this.this if isinstance(params[1], exp.DataTypeParam) else params[1].this)
        except (AttributeError, ValueError, TypeError):
            return None
    return 0 if not params else None


def _is_decimal(node) -> bool:
    return isinstance(node, exp.DataType) and node.this == exp.DataType.Type.DECIMAL


def _canonical(node):
    if isinstance(node, exp.Round) and node.args.get("decimals") is not None:
        d = node.args["decimals"]
        if isinstance(d, exp.Literal) and not d.is_string and int(d.this) == 0:
            return node
        inner = node.this
        if isinstance(inner, exp.Cast) and _is_decimal(inner.to):
            return node
        node.set("this", exp.Cast(this=inner, to=CANON_DECIMAL.copy()))
        return node
    if isinstance(node, (exp.Cast, exp.TryCast)) and _is_decimal(node.to):
        if node.to == CANON_DECIMAL:
            return node
        scale = _decimal_scale(node.to)
        inner = node.this
        if scale is None or scale > 6 or isinstance(inner, (exp.Literal, exp.Null, exp.Round)):
            return node
        if isinstance(inner, (exp.Cast, exp.TryCast)) and _is_decimal(inner.to):
            return node
        node.set("this", exp.Cast(this=inner, to=CANON_DECIMAL.copy()))
    return node


def _stats_double(node):
    # Medians and quantiles in DOUBLE on both engines (Spark's PERCENTILE only returns DOUBLE).
    if isinstance(node, (exp.Median, exp.Quantile, exp.PercentileCont)) and not isinstance(node.this, exp.Order):
        inner = node.this
        if not (isinstance(inner, exp.Cast) and inner.to.this == exp.DataType.Type.DOUBLE):
            node.set("this", exp.Cast(this=inner, to=exp.DataType.build("DOUBLE")))
    return node


def canonical(sql: str, where: str = "SQL") -> exp.Expression:
    """The statement with money rounding and statistics types pinned down (module docstring)."""
    return parse(sql, where).transform(_canonical).transform(_stats_double)


@functools.lru_cache(maxsize=512)
def to_duckdb(sql: str, where: str = "SQL") -> str:
    """Canonical DuckDB text of a statement (what the DuckDB engine runs)."""
    return canonical(sql, where).sql(dialect="duckdb")


def _unit(node) -> str:
    u = node.args.get("unit")
    if u is None:
        return "DAY"
    return (u.name if hasattr(u, "name") else str(u)).upper().strip("'")


def _date(e):
    return exp.Cast(this=e.copy(), to=exp.DataType.build("DATE"))


def _fn(name, *args):
    return exp.Anonymous(this=name, expressions=list(args))


def _double(e):
    if isinstance(e, exp.Cast) and e.to.this == exp.DataType.Type.DOUBLE:
        return e
    return exp.Cast(this=e, to=exp.DataType.build("DOUBLE"))


def _spark(node):
    if isinstance(node, exp.DateDiff):
        unit = _unit(node)
        end, start = node.this, node.expression
        if unit in _UNITS_DATE:
            return _fn("DATEDIFF", _date(end), _date(start))
        if unit in ("WEEK", "WEEKS"):
            # DuckDB counts week boundaries: whole weeks between the Mondays on or before each day.
            monday = lambda e: _date(_fn("DATE_TRUNC", exp.Literal.string("WEEK"), e.copy()))  # noqa: E731
            return exp.Paren(this=exp.IntDiv(this=_fn("DATEDIFF", monday(end), monday(start)), expression=exp.Literal.number(7)))
        if unit in ("MONTH", "MONTHS", "QUARTER", "QUARTERS", "YEAR", "YEARS"):
            ym = lambda e: exp.Add(this=exp.Mul(this=_fn("YEAR", e.copy()), expression=exp.Literal.number(12)),  # noqa: E731
                                   expression=_fn("MONTH", e.copy()))
            months = exp.Sub(this=exp.Paren(this=ym(end)), expression=exp.Paren(this=ym(start)))
            if unit.startswith("MONTH"):
                return exp.Paren(this=months)
            if unit.startswith("YEAR"):
                return exp.Paren(this=exp.Sub(this=_fn("YEAR", end.copy()), expression=_fn("YEAR", start.copy())))
            q = lambda e: exp.Add(this=exp.Mul(this=_fn("YEAR", e.copy()), expression=exp.Literal.number(4)),  # noqa: E731
                                  expression=_fn("QUARTER", e.copy()))
            return exp.Paren(this=exp.Sub(this=exp.Paren(this=q(end)), expression=exp.Paren(this=q(start))))
        return node
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
        order = node.this
        value = order.this
        keys = order.expressions
        if any(k.args.get("desc") for k in keys):
            raise RuleError("ARRAY_AGG(... ORDER BY ... DESC) has no Spark translation; order ascending")
        fields = [exp.alias_(k.this.copy(), f"k{i}") for i, k in enumerate(keys)]
        fields.append(exp.alias_(value.copy(), "v"))
        collected = _fn("COLLECT_LIST", _fn("STRUCT", *fields))
        lam = exp.Lambda(this=exp.Dot(this=exp.to_identifier("s_"), expression=exp.to_identifier("v")),
                         expressions=[exp.to_identifier("s_")])
        return _fn("TRANSFORM", _fn("ARRAY_SORT", collected), lam)
    if isinstance(node, exp.DayOfWeekIso) or (isinstance(node, exp.Extract) and node.name.upper() == "ISODOW"):
        # DuckDB's ISODOW: Monday 1 .. Sunday 7; Spark's DAYOFWEEK: Sunday 1 .. Saturday 7.
        d = node.this if isinstance(node, exp.DayOfWeekIso) else node.expression
        shifted = exp.Mod(this=exp.Paren(this=exp.Add(this=_fn("DAYOFWEEK", d.copy()), expression=exp.Literal.number(5))),
                          expression=exp.Literal.number(7))
        return exp.Paren(this=exp.Add(this=exp.Paren(this=shifted), expression=exp.Literal.number(1)))
    if isinstance(node, exp.DayOfWeek) or (isinstance(node, exp.Extract) and node.name.upper() in ("DOW", "DAYOFWEEK")):
        # DuckDB's DAYOFWEEK / DOW: Sunday 0 .. Saturday 6; Spark's: Sunday 1 .. Saturday 7.
        d = node.this if isinstance(node, exp.DayOfWeek) else node.expression
        return exp.Paren(this=exp.Sub(this=_fn("DAYOFWEEK", d.copy()), expression=exp.Literal.number(1)))
    if isinstance(node, exp.Div):
        # DuckDB's "/" always returns DOUBLE (DECIMAL / DECIMAL too); Spark keeps DECIMALs.
        return exp.Div(this=_double(node.this), expression=_double(node.expression))
    if isinstance(node, exp.Median):
        return _fn("PERCENTILE", node.this.copy(), exp.Literal.number("0.5"))
    if isinstance(node, (exp.Quantile, exp.PercentileCont)):
        q = node.args.get("quantile") or node.args.get("expression")
        if q is not None and not isinstance(node.this, exp.Order):
            return _fn("PERCENTILE", node.this.copy(), q.copy())
    return node




@functools.lru_cache(maxsize=512)
def to_spark(sql: str, where: str = "SQL") -> str:
    """Spark SQL text of a (parameter-substituted) DuckDB statement, canonical and translated."""
    try:
        tree = canonical(sql, where).transform(_spark)
    except RuleError as e:
        raise RuleError(f"{where}: {e}") from None
    try:
        return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.SqlglotError as e:
        raise RuleError(f"{where}: does not translate to Spark SQL: {str(e).splitlines()[0]}") from None
