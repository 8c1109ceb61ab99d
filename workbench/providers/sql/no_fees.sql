-- No itemised charges (fee), e.g. a CMS import: every fee share is null.
SELECT
    CAST(NULL AS VARCHAR) AS mdtrt_id,
    CAST(NULL AS DECIMAL(18,2)) AS fee_total,
    CAST(NULL AS DECIMAL(18,2)) AS fee_drug,
    CAST(NULL AS DECIMAL(18,2)) AS fee_test,
    CAST(NULL AS DECIMAL(18,2)) AS fee_consumable,
    CAST(NULL AS DECIMAL(18,2)) AS fee_treatment,
    CAST(NULL AS DECIMAL(18,2)) AS fee_exam,
    CAST(NULL AS DECIMAL(18,2)) AS fee_bed_nursing,
    CAST(NULL AS BOOLEAN) AS tcm
WHERE FALSE
