-- Same-institution readmissions by gap (0..$window_days days), per institution.
SELECT fixmedins_code, MIN(peer_group) AS peer_group, gap_prev_same_days AS gap_days, COUNT(*) AS n
FROM ${episodes}
WHERE gap_prev_same_days BETWEEN 0 AND $window_days
GROUP BY fixmedins_code, gap_prev_same_days
ORDER BY fixmedins_code, gap_days
