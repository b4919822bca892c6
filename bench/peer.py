"""The peer: what an analyst would reach for instead of Opleidingsmonitor.

DuckDB reads the same CSV exports, unpivots them to one row per item answer
(item ids and subscales from the same profiles and instrument definitions),
writes that to hive-partitioned Parquet, and computes the department-level
mean, sd and n of the response scores per instrument, subscale and year.

Usage: peer.py DATA_DIR OUT_DIR RESULT_JSON

It prints nothing but errors; timings go to RESULT_JSON: {"ingest_s",
"aggregate_s", "item_rows", "cells"}. The department cells are written to
OUT_DIR/departments.parquet so the benchmark can compare them with ours.
"""

import csv
import json
import math
import re
import sys
import time
import tomllib
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent

# How many header rows each layout has (ingest/profile.rs: header_rows).
HEADER_ROWS = {"plain": 1, "limesurvey": 1, "qualtrics": 3, "qualtrics-legacy": 2, "surveymonkey": 2}
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d-%m-%Y", "%m/%d/%Y %I:%M:%S %p"]


def load_instruments():
    out = {}
    for path in sorted((ROOT / "instruments").glob("*.toml")):
        d = tomllib.loads(path.read_text(encoding="utf-8"))
        out[(d["id"], str(d["version"]))] = d
    return out


def header_names(path, layout, encoding, delimiter):
    """Column names as the pipeline sees them (SurveyMonkey: the matrix
    question filled forward with its sub-heading in brackets)."""
    with open(path, encoding=encoding, newline="") as f:
        rows = [r for _, r in zip(range(2), csv.reader(f, delimiter=delimiter))]
    first = [h.lstrip("\ufeff") for h in rows[0]]
    if layout != "surveymonkey":
        return first
    names, last = [], ""
    for top, sub in zip(first, rows[1]):
        if top:
            last = top
        if sub and sub != "Response":
            names.append(f"{last} [{sub}]")
        else:
            names.append(top or last)
    return names


def fill(template, m):
    def rep(x):
        width = x.group(1)
        g = m.group(1)
        return f"{int(g):0{int(width)}d}" if width else g

    return re.sub(r"\{1(?::0(\d+))?\}", rep, template)


def main():
    data, out, result = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    instruments = load_instruments()
    registry = tomllib.loads((data / "registry.toml").read_text(encoding="utf-8"))
    cfg = tomllib.loads((data / "opleidingsmonitor.toml").read_text(encoding="utf-8"))
    fraction = cfg.get("scoring", {}).get("min_answered_fraction", 0.5)

    con = duckdb.connect()
    # Lookup tables: spellings of institutions and specialties, item ids
    # and subscales per column, answer labels, roles that are self-ratings.
    alias = [(i["name"].lower(), i["id"]) for i in registry["institutions"]]
    alias += [(a.lower(), i["id"]) for i in registry["institutions"] for a in i.get("aliases", [])]
    alias += [(i["id"].lower(), i["id"]) for i in registry["institutions"]]
    spec = [(s["name"].lower(), s["code"]) for s in registry["specialties"]]
    spec += [(a.lower(), s["code"]) for s in registry["specialties"] for a in s.get("aliases", [])]
    spec += [(s["code"].lower(), s["code"]) for s in registry["specialties"]]
    con.execute("CREATE TABLE inst_alias (spelling VARCHAR, id VARCHAR)")
    con.executemany("INSERT INTO inst_alias VALUES (?, ?)", sorted(set(alias)))
    con.execute("CREATE TABLE spec_alias (spelling VARCHAR, code VARCHAR)")
    con.executemany("INSERT INTO spec_alias VALUES (?, ?)", sorted(set(spec)))

    specs = []
    labels = []
    for (iid, ver), d in instruments.items():
        scored = [it for it in d["items"] if it.get("kind", "likert") != "text"]
        for sub in {it["subscale"] for it in scored}:
            n = sum(1 for it in scored if it["subscale"] == sub)
            specs.append((iid, ver, sub, n, max(1, math.ceil(n * fraction - 1e-9))))
        for lab in d["scale"].get("labels", []):
            labels.append((iid, ver, lab["nl"].lower(), float(lab["value"])))
    con.execute("CREATE TABLE specs (instrument VARCHAR, version VARCHAR, scale_id VARCHAR, n_items INT, min_answered INT)")
    con.executemany("INSERT INTO specs VALUES (?, ?, ?, ?, ?)", specs)
    con.execute("CREATE TABLE labels (instrument VARCHAR, version VARCHAR, label VARCHAR, value DOUBLE)")
    con.executemany("INSERT INTO labels VALUES (?, ?, ?, ?)", labels)

    t0 = time.perf_counter()
    con.execute(
        "CREATE TABLE items (instrument VARCHAR, version VARCHAR, year INT, institution VARCHAR,"
        " specialty VARCHAR, self_rating BOOLEAN, rid BIGINT, item_id VARCHAR, scale_id VARCHAR, value DOUBLE)"
    )
    next_rid = 0
    for pf in sorted((data / "profiles").glob("*.toml")):
        p = tomllib.loads(pf.read_text(encoding="utf-8"))
        files = sorted(
            str(f) for pat in p["files"] for f in (data / "inbox").rglob(pat)
        )
        if not files:
            continue
        inst = instruments[(p["instrument"], str(p["version"]))]
        layout = p.get("layout", "plain")
        enc = {"windows-1252": "latin-1"}.get(p.get("encoding", "utf-8"), "utf-8")
        py_enc = "cp1252" if enc == "latin-1" else "utf-8-sig"
        delim = p.get("delimiter", "auto")
        if delim == "auto":
            delim = ";" if layout == "limesurvey" else ","
        names = header_names(files[0], layout, py_enc, delim)
        cols = p["columns"]
        items_by_heading = dict(p.get("items", {}))
        item_cols = []
        for i, h in enumerate(names):
            item = items_by_heading.get(h)
            if item is None:
                for pat in p.get("item_patterns", []):
                    m = re.match(pat["regex"], h)
                    if m:
                        item = fill(pat["item"], m)
                        break
            it = next((x for x in inst["items"] if x["id"] == item), None)
            if it is not None and it.get("kind", "likert") != "text":
                item_cols.append((f"c{i}", it["id"], it["subscale"]))
        col = {h: f"c{i}" for i, h in reversed(list(enumerate(names)))}
        date_c, inst_c, spec_c = col[cols["submitted_on"]], col[cols["institution"]], col[cols["specialty"]]
        self_roles = [k.lower() for k, v in p.get("roles", {}).items() if v == "supervisor_self"]
        role_c = col.get(cols.get("role", ""), None)
        is_self = (
            f"lower(coalesce({role_c}, '')) IN ({', '.join(repr(r) for r in self_roles)})"
            if role_c and self_roles
            else "false"
        )
        skip = HEADER_ROWS.get(layout, 1) + int(p.get("header_row", 1)) - 1
        names_sql = ", ".join(f"'c{i}'" for i in range(len(names)))
        con.execute("DROP TABLE IF EXISTS raw")
        # strict_mode off: DuckDB's sniffer rejects Qualtrics' quoted JSON
        # header row even when it is skipped.
        con.execute(
            f"""CREATE TEMP TABLE raw AS
            SELECT {next_rid} + row_number() OVER () AS rid, {is_self} AS self_rating, *
            FROM read_csv({files!r}, header = false, skip = {skip}, all_varchar = true,
                          delim = '{delim}', quote = '"', encoding = '{enc}',
                          names = [{names_sql}], null_padding = true, parallel = true,
                          strict_mode = false)"""
        )
        next_rid = con.execute("SELECT coalesce(max(rid), 0) FROM raw").fetchone()[0]
        con.execute("DROP TABLE IF EXISTS colmap")
        con.execute("CREATE TEMP TABLE colmap (col VARCHAR, item_id VARCHAR, scale_id VARCHAR)")
        con.executemany("INSERT INTO colmap VALUES (?, ?, ?)", item_cols)
        on = ", ".join(c for c, _, _ in item_cols)
        comma = "replace(u.raw, ',', '.')" if p.get("decimal_comma") else "u.raw"
        con.execute(
            f"""INSERT INTO items
            SELECT '{p['instrument']}', '{p['version']}',
                   year(try_strptime(trim(u.{date_c}), {DATE_FORMATS!r})),
                   ia.id, sa.code, u.self_rating, u.rid, m.item_id, m.scale_id,
                   coalesce(try_cast({comma} AS DOUBLE), l.value)
            FROM (UNPIVOT (SELECT rid, self_rating, {date_c}, {inst_c}, {spec_c}, {on} FROM raw)
                  ON {on} INTO NAME col VALUE raw) u
            JOIN colmap m ON m.col = u.col
            JOIN inst_alias ia ON ia.spelling = lower(trim(u.{inst_c}))
            JOIN spec_alias sa ON sa.spelling = lower(trim(u.{spec_c}))
            LEFT JOIN labels l ON l.instrument = '{p['instrument']}'
                 AND l.version = '{p['version']}' AND l.label = lower(trim(u.raw))
            WHERE trim(u.raw) <> ''"""
        )
    con.execute("DROP TABLE IF EXISTS raw")
    items_dir = out / "items"
    con.execute(
        f"COPY items TO '{items_dir}' (FORMAT parquet, PARTITION_BY (instrument, year), OVERWRITE_OR_IGNORE)"
    )
    item_rows = con.execute("SELECT count(*) FROM items").fetchone()[0]
    con.execute("DROP TABLE items")
    t1 = time.perf_counter()

    # Department level: response scores per subscale (the half rule), then
    # mean, sd and n per instrument, subscale and year.
    con.execute(
        f"""CREATE TABLE departments AS
        WITH scores AS (
          SELECT instrument, version, year, institution, specialty, rid, scale_id,
                 avg(value) AS score, count(value) AS answered
          FROM read_parquet('{items_dir}/*/*/*.parquet', hive_partitioning = true)
          WHERE value IS NOT NULL AND NOT self_rating
          GROUP BY ALL)
        SELECT s.instrument, s.version, s.year, institution, specialty, s.scale_id,
               count(*) AS n, avg(score) AS mean, stddev_samp(score) AS sd
        FROM scores s JOIN specs p ON p.instrument = s.instrument AND p.version = s.version
             AND p.scale_id = s.scale_id
        WHERE answered >= min_answered
        GROUP BY ALL"""
    )
    cells = con.execute("SELECT count(*) FROM departments").fetchone()[0]
    t2 = time.perf_counter()
    con.execute(f"COPY departments TO '{out / 'departments.parquet'}' (FORMAT parquet)")
    result.write_text(
        json.dumps(
            {"ingest_s": t1 - t0, "aggregate_s": t2 - t1, "item_rows": item_rows, "cells": cells}
        )
    )


if __name__ == "__main__":
    main()
