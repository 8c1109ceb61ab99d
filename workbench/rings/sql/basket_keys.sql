-- The exact basket of each purchase of ${purchases} (a query of mdtrt_id): its items and net
-- quantities as one text, items in code order; a purchase refunded to nothing has no basket.
SELECT mdtrt_id, string_agg(med_list_codg || '*' || CAST(q AS VARCHAR), ';' ORDER BY med_list_codg) AS basket
FROM (
    SELECT f.mdtrt_id, f.med_list_codg, sum(f.cnt) AS q
    FROM fee f WHERE f.mdtrt_id IN (${purchases})
    GROUP BY f.mdtrt_id, f.med_list_codg
    HAVING sum(f.cnt) <> 0
) lines
GROUP BY mdtrt_id
