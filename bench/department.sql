-- Department-level mean, sd and n of the response scores per instrument,
-- version, subscale and year, straight from Opleidingsmonitor's
-- hive-partitioned dataset (dataset/responses/instrument=*/year=*/*.parquet),
-- registered as the table `responses`. Plain SQL: DuckDB and Spark SQL run
-- it unchanged. Unlike the pipeline it applies neither the half rule nor
-- the privacy floor: it is for analysts with access to the dataset, not
-- for publication.
WITH scores AS (
  SELECT instrument, instrument_version, year, institution_id, specialty,
         response_id, scale_id,
         avg(value) AS score
  FROM responses
  WHERE respondent_role <> 'supervisor_self' AND value IS NOT NULL
  GROUP BY instrument, instrument_version, year, institution_id, specialty,
           response_id, scale_id
)
SELECT instrument, instrument_version, year, institution_id, specialty, scale_id,
       count(*) AS n, avg(score) AS mean, stddev_samp(score) AS sd
FROM scores
GROUP BY instrument, instrument_version, year, institution_id, specialty, scale_id
