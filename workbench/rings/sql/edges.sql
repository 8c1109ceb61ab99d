-- The edges of rings_edge_counts with the lift of each over what chance would give:
-- lift = n / (deg_a * deg_b / total), degrees and total are sums of n within the kind.
-- (Aggregates joined back rather than window functions: faster over millions of edges.)
-- Sums cast to BIGINT: DuckDB's sum of BIGINT is HUGEINT, Spark's BIGINT; the same type on both engines.
WITH deg_a AS (SELECT kind, a, CAST(sum(n) AS BIGINT) AS deg_a FROM rings_edge_counts GROUP BY kind, a),
deg_b AS (SELECT kind, b, CAST(sum(n) AS BIGINT) AS deg_b FROM rings_edge_counts GROUP BY kind, b),
totals AS (SELECT kind, CAST(sum(n) AS BIGINT) AS total FROM rings_edge_counts GROUP BY kind)
SELECT
    e.kind, e.a, e.b, e.n, e.days, e.patients, e.rx, e.same_day, e.hifp_pay, e.medfee_sumamt,
    deg_a.deg_a, deg_b.deg_b, totals.total,
    CAST(e.n AS DOUBLE) * totals.total / (CAST(deg_a.deg_a AS DOUBLE) * deg_b.deg_b) AS lift
FROM rings_edge_counts e
JOIN deg_a ON deg_a.kind = e.kind AND deg_a.a = e.a
JOIN deg_b ON deg_b.kind = e.kind AND deg_b.b = e.b
JOIN totals ON totals.kind = e.kind
