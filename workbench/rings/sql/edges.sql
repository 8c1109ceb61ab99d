-- The edges of rings_edge_counts with two measures of how much of a node's volume the edge holds:
--   share = n / deg_a: absolute — of the doctor's linked purchases, the share at this pharmacy
--           (dr_pharmacy); of the patient's purchases, the share at this pharmacy (psn_pharmacy);
--           of the patient's visits with a doctor, the share with this doctor (psn_dr);
--   lift  = n / (deg_a * deg_b / total): relative to the data set — how many times more often the
--           pair occurs than chance; degrees and total are sums of n within the kind. In a
--           targeted extract where a ring is most of the volume it is about 1: it ranks, it does
--           not decide (docs/rings.md).
-- (Aggregates joined back rather than window functions: faster over millions of edges.)
-- Sums cast to BIGINT: DuckDB's sum of BIGINT is HUGEINT, Spark's BIGINT; the same type on both engines.
WITH deg_a AS (SELECT kind, a, CAST(sum(n) AS BIGINT) AS deg_a FROM rings_edge_counts GROUP BY kind, a),
deg_b AS (SELECT kind, b, CAST(sum(n) AS BIGINT) AS deg_b FROM rings_edge_counts GROUP BY kind, b),
totals AS (SELECT kind, CAST(sum(n) AS BIGINT) AS total FROM rings_edge_counts GROUP BY kind)
SELECT
    e.kind, e.a, e.b, e.n, e.days, CAST(e.weeks AS BIGINT) AS weeks, e.patients, e.rx, e.same_day,
    e.hifp_pay, e.medfee_sumamt,
    deg_a.deg_a, deg_b.deg_b, totals.total,
    CAST(e.n AS DOUBLE) / deg_a.deg_a AS share,
    CAST(e.n AS DOUBLE) * totals.total / (CAST(deg_a.deg_a AS DOUBLE) * deg_b.deg_b) AS lift
FROM rings_edge_counts e
JOIN deg_a ON deg_a.kind = e.kind AND deg_a.a = e.a
JOIN deg_b ON deg_b.kind = e.kind AND deg_b.b = e.b
JOIN totals ON totals.kind = e.kind
