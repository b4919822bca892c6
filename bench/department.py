"""Runs bench/department.sql with DuckDB on a dataset folder.

Usage: department.py DATASET_DIR   (prints the number of department cells)

In Spark the same SQL runs after
    spark.read.parquet("DATASET_DIR/responses").createOrReplaceTempView("responses")
(Spark discovers the instrument= and year= partitions itself).
"""

import sys
from pathlib import Path

import duckdb

sql = (Path(__file__).with_name("department.sql")).read_text(encoding="utf-8")
con = duckdb.connect()
files = (sys.argv[1] + "/responses/*/*/*.parquet").replace("'", "''")
con.execute(
    f"CREATE VIEW responses AS SELECT * FROM read_parquet('{files}', hive_partitioning = true)"
)
n = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
print(n)
