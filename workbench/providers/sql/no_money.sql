-- No settlement table (setl): no visit has money.
SELECT
    CAST(NULL AS VARCHAR) AS mdtrt_id,
    CAST(NULL AS DECIMAL(18,2)) AS medfee,
    CAST(NULL AS DECIMAL(18,2)) AS hifp,
    FALSE AS has_refund
WHERE FALSE
