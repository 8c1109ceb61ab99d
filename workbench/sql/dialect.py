"""SQL text of rules and views: what it reads, one canonical form, and its Spark translation.

Rules are written once, in DuckDB's dialect. Two engines run them, so every construct where
DuckDB and Spark would give different rows is pinned down here, generically, with sqlglot:

* **Rounding of money.** DuckDB divides DECIMALs into DOUBLEs and rounds doubles its own way
  (``round(2.675::DOUBLE, 2)`` is 2.67, ``round(5.025::DOUBLE, 2)`` 5.03) while Spark rounds the
  shortest decimal text of a double half-up. The canonical form (applied for both engines) sends
  every ``ROUND(x, n)`` (n > 0) and every ``CAST(x AS DECIMAL(p, s))`` through
  ``DECIMAL(38, 6)`` first, where both engines round exactly, half away from zero. A value
  already exact to 6 decimals (an integer, or a DECIMAL of scale ≤ 6) gives the same either way,
  so where the statement shows that it is (literals, casts, ``ROUND``, sums and ``CASE`` of such,
  the contract's DECIMAL(18,2) and BIGINT columns, directly or through a CTE or subquery) the
  cast is left as written: the detour through 128-bit DECIMAL(38, 6) costs DuckDB seconds on
  tens of millions of lines.
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
* **Hashes.** DuckDB's ``HASH(...)`` is 64-bit, Spark's 32-bit; Spark runs ``XXHASH64``. The
  values differ between engines, so a rule may use a hash only to narrow candidates.
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


_INT_TYPES = {exp.DataType.Type.TINYINT, exp.DataType.Type.SMALLINT, exp.DataType.Type.INT,
              exp.DataType.Type.BIGINT}
_SAME_SCALE = (exp.Sum, exp.Min, exp.Max, exp.AnyValue, exp.Abs, exp.Neg, exp.Paren)


@functools.lru_cache(maxsize=1)
def _contract_scales() -> dict:
    """(table, column) -> scale of the contract's exact numeric columns (DECIMAL(18,2): 2, BIGINT: 0)."""
    from .. import schema

    return {(t.name, c.name): schema.EXACT_SCALE[c.type]
            for t in schema.TABLES.values() for c in t.columns if c.type in schema.EXACT_SCALE}


def _scale(node, scope, depth=0):
    """Decimal places of ``node``'s value when the statement shows it is exact (an integer or a
    DECIMAL) in both engines, else None (a DOUBLE, text, or a type the text does not show)."""
    if depth > 40 or node is None:
        return None
    d = depth + 1
    if isinstance(node, exp.Null):
        return 0
    if isinstance(node, exp.Literal):
        if node.is_string:
            return None
        whole, dot, frac = node.this.partition(".")
        return len(frac) if whole.isdigit() and (not dot or frac.isdigit()) else None
    if isinstance(node, (exp.Cast, exp.TryCast)):
        if _is_decimal(node.to):
            return _decimal_scale(node.to)
        return 0 if node.to.this in _INT_TYPES else None
    if isinstance(node, exp.Round):
        n = node.args.get("decimals")
        if n is None or (isinstance(n, exp.Literal) and not n.is_string and n.this == "0"):
            return _scale(node.this, scope, d)  # ROUND(x) / ROUND(x, 0) keeps a DOUBLE a DOUBLE
        return int(n.this) if isinstance(n, exp.Literal) and not n.is_string and n.this.isdigit() else None
    if isinstance(node, _SAME_SCALE):
        return _scale(node.this, scope, d)
    if isinstance(node, exp.Count):
        return 0
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul)):
        a, b = _scale(node.this, scope, d), _scale(node.expression, scope, d)
        if a is None or b is None:
            return None
        return a + b if isinstance(node, exp.Mul) else max(a, b)
    if isinstance(node, exp.Case):
        parts = [i.args.get("true") for i in node.args.get("ifs", [])] + [node.args.get("default") or exp.Null()]
        return _max_scale(parts, scope, d)
    if isinstance(node, exp.If):
        return _max_scale([node.args.get("true"), node.args.get("false") or exp.Null()], scope, d)
    if isinstance(node, exp.Coalesce):
        return _max_scale([node.this, *node.expressions], scope, d)
    if isinstance(node, exp.Nullif):
        return _scale(node.this, scope, d)
    if isinstance(node, exp.Column) and scope is not None:
        return _column_scale(node, scope, d)
    return None


def _max_scale(parts, scope, depth):
    scales = [_scale(p, scope, depth) for p in parts]
    return None if any(s is None for s in scales) else max(scales)


def _column_scale(col, scope, depth):
    """Scale of a column: a contract table's exact column, or the select of a CTE / subquery."""
    from sqlglot.optimizer.scope import Scope

    if col.table:
        source = scope.sources.get(col.table)
    else:
        source = next(iter(scope.sources.values())) if len(scope.sources) == 1 else None
    if isinstance(source, exp.Table):
        return _contract_scales().get((source.name, col.name)) if not source.args.get("db") else None
    if isinstance(source, Scope) and isinstance(source.expression, exp.Select):
        for sel in source.expression.selects:
            if sel.alias_or_name == col.name:
                return _scale(sel.unalias(), source, depth)
    return None


def _exact_casts(tree) -> set:
    """ids of the DECIMAL casts of ``tree`` whose operand is exact to 6 decimals (see _scale)."""
    from sqlglot.optimizer.scope import traverse_scope

    out = set()
    try:
        scopes = traverse_scope(tree)
    except Exception:  # sqlglot cannot scope this statement: every cast keeps its detour
        return out
    for scope in scopes:
        for node in scope.find_all(exp.Cast, exp.TryCast):
            if _is_decimal(node.to) and node.to != CANON_DECIMAL:
                inner = _scale(node.this, scope)
                if inner is not None and inner <= 6:
                    out.add(id(node))
    return out


def _canonical(node, exact=frozenset()):
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
        if node.to == CANON_DECIMAL or id(node) in exact:
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
    tree = parse(sql, where)
    exact = _exact_casts(tree)
    return tree.transform(lambda n: _canonical(n, exact), copy=False).transform(_stats_double)


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
    if isinstance(node, exp.Anonymous) and node.name.upper() == "HASH":
        # DuckDB's HASH is 64-bit, Spark's 32-bit: XXHASH64 keeps collisions as rare (rules use
        # a hash only to narrow candidates, never to tell values apart)
        return _fn("XXHASH64", *(e.copy() for e in node.expressions))
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
