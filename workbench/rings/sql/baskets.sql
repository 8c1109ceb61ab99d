-- Identical baskets: ring purchases whose exact basket (items and net quantities) is also the
-- basket of a ring purchase by another of the ring's patients.
    WITH lines AS (
        SELECT f.mdtrt_id, f.med_list_codg, sum(f.cnt) AS q
        FROM fee f WHERE f.mdtrt_id IN (SELECT mdtrt_id FROM rp)
        GROUP BY f.mdtrt_id, f.med_list_codg
        HAVING sum(f.cnt) <> 0
    ),
    bk AS (
        SELECT mdtrt_id, string_agg(med_list_codg || '*' || CAST(q AS VARCHAR), ';' ORDER BY med_list_codg) AS basket
        FROM lines GROUP BY mdtrt_id
    ),
    bc AS (
        SELECT rp.ring_id, bk.basket, count(*) AS k, count(DISTINCT rp.psn_no) AS pts
        FROM rp JOIN bk ON bk.mdtrt_id = rp.mdtrt_id
        GROUP BY rp.ring_id, bk.basket
    )
    SELECT ring_id, CAST(sum(k) FILTER (WHERE pts >= 2) AS BIGINT) AS identical_baskets FROM bc GROUP BY ring_id
