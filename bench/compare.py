"""Second source: our published department-year subscale cells against the
DuckDB peer's (which scores responses with the same half rule, straight
from the CSV exports), for the years the peer read.

Usage: compare.py DATASET_DIR PEER_DEPARTMENTS_PARQUET   (prints JSON)
"""

import json
import sys

import duckdb

con = duckdb.connect()
con.execute("SET enable_progress_bar = false")  # stdout is JSON
agg = (sys.argv[1] + "/aggregates/*.parquet").replace("'", "''")
peer = sys.argv[2].replace("'", "''")
row = con.execute(
    f"""
    WITH ours AS (
      SELECT * FROM read_parquet('{agg}') WHERE level = 'department' AND length(period) = 4
        AND NOT suppressed AND scale_id <> 'total'
        AND CAST(period AS INT) IN (SELECT DISTINCT year FROM read_parquet('{peer}'))),
    peer AS (SELECT * FROM read_parquet('{peer}'))
    SELECT count(*), max(abs(o.mean - p.mean)), max(abs(o.sd - p.sd)),
           sum(CASE WHEN o.n_responses <> p.n THEN 1 ELSE 0 END),
           sum(CASE WHEN p.n IS NULL THEN 1 ELSE 0 END)
    FROM ours o LEFT JOIN peer p ON o.instrument = p.instrument AND o.instrument_version = p.version
      AND CAST(o.period AS INT) = p.year AND o.unit_id = p.institution || ':' || p.specialty
      AND o.scale_id = p.scale_id
    """
).fetchone()
print(
    json.dumps(
        {
            "cells": row[0],
            "max_mean_diff": row[1] or 0.0,
            "max_sd_diff": row[2] or 0.0,
            "n_mismatches": int(row[3] or 0),
            "missing": int(row[4] or 0),
        }
    )
)
