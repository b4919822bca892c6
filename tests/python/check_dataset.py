"""Cross-check the dataset with an independent engine (DuckDB).

Reads dataset/responses with hive partitioning exactly as an analyst would,
and checks it against the manifest the pipeline wrote:
- the hive columns instrument and year are there, with the contract's columns;
- per file, the responses stored equal rows_written - rows_duplicate;
- every row's year equals the year of submitted_on, and values lie on the scale.

Usage: python3 tests/python/check_dataset.py DATASET_DIR
Exits non-zero with a message when a check fails.
"""

import sys

import duckdb

CONTRACT = [
    "response_id", "instrument", "instrument_version", "submitted_on", "year",
    "respondent_key", "respondent_role", "institution_id", "specialty", "rso_id",
    "region_id", "subject_key", "item_id", "scale_id", "value", "scale_min",
    "scale_max", "source_file", "source_sha256", "source_row",
]


def main(dataset: str) -> int:
    con = duckdb.connect()
    con.execute(
        f"CREATE VIEW responses AS SELECT * FROM read_parquet('{dataset}/responses/**/*.parquet', hive_partitioning = true)"
    )
    con.execute(f"CREATE VIEW manifest AS SELECT * FROM read_parquet('{dataset}/manifest/manifest.parquet')")
    cols = [r[0] for r in con.execute("DESCRIBE responses").fetchall()]
    missing = [c for c in CONTRACT if c not in cols]
    if missing:
        print(f"FAIL: columns missing from responses: {missing}")
        return 1
    mismatches = con.execute(
        """
        WITH stored AS (
            SELECT source_sha256, count(DISTINCT response_id) AS n FROM responses GROUP BY 1
        )
        SELECT m.source_file, m.rows_written - m.rows_duplicate AS expected, coalesce(s.n, 0) AS got
        FROM manifest m LEFT JOIN stored s USING (source_sha256)
        WHERE m.status = 'ingested' AND m.rows_written - m.rows_duplicate <> coalesce(s.n, 0)
        """
    ).fetchall()
    if mismatches:
        print(f"FAIL: responses per file differ from the manifest: {mismatches[:5]}")
        return 1
    bad_year = con.execute(
        "SELECT count(*) FROM responses WHERE CAST(year AS INTEGER) <> year(submitted_on)"
    ).fetchone()[0]
    off_scale = con.execute(
        "SELECT count(*) FROM responses WHERE value < scale_min OR value > scale_max"
    ).fetchone()[0]
    if bad_year or off_scale:
        print(f"FAIL: {bad_year} rows with a wrong year partition, {off_scale} values off the scale")
        return 1
    summary = con.execute(
        "SELECT instrument, count(*) AS item_rows, count(DISTINCT response_id) AS responses "
        "FROM responses GROUP BY 1 ORDER BY 1"
    ).fetchall()
    files = con.execute("SELECT count(*) FROM manifest").fetchone()[0]
    for inst, rows, resp in summary:
        print(f"duckdb: {inst:8} {resp:6} responses {rows:8} item rows")
    print(f"duckdb: dataset matches the manifest of {files} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
