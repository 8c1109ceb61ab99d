-- Used when the data folder has no setl table: every visit's bill and fund share are unknown.
SELECT
    CAST(NULL AS VARCHAR) AS mdtrt_id,
    CAST(NULL AS DECIMAL(18,2)) AS medfee_sumamt,
    CAST(NULL AS DECIMAL(18,2)) AS hifp_pay,
    CAST(0 AS BIGINT) AS setl_rows,
    CAST(0 AS BIGINT) AS refund_rows
WHERE 1 = 0
