-- Identical baskets: ring purchases whose exact basket (items and net quantities) is also the
-- basket of a ring purchase by another of the ring's patients.
    WITH bk AS (${basket_keys}),
    bc AS (
        SELECT rp.ring_id, bk.basket, count(*) AS k, count(DISTINCT rp.psn_no) AS pts
        FROM rp JOIN bk ON bk.mdtrt_id = rp.mdtrt_id
        GROUP BY rp.ring_id, bk.basket
    )
    SELECT ring_id, CAST(sum(k) FILTER (WHERE pts >= 2) AS BIGINT) AS identical_baskets FROM bc GROUP BY ring_id
