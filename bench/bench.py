"""The national-scale benchmark: see BENCHMARKS.md. Run it with `bench/run`.

Generates the synthetic national dataset (one year more than measured, held
back for the incremental case), then per repetition:

1. ingest, aggregate and report, each timed on its own (fresh output);
2. the full run (`run`, fresh output);
3. the incremental run: the held-back year added, `run` again;
4. the peer: DuckDB reads the same CSVs, unpivots, writes Parquet and
   aggregates per department (bench/peer.py);
5. the department aggregation as plain SQL on our hive-partitioned dataset,
   run by DuckDB (bench/department.sql: Spark runs it unchanged).

Wall time and peak resident memory (ru_maxrss of each child process) are
recorded; the medians are printed and written to WORK/results.json, with
the figures of every repetition. No target is asserted: the figures are
measured and reported.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def timed(cmd, cwd=None, env=None):
    """Runs cmd; returns (seconds, peak RSS in MiB). Fails loudly. The disk
    is synced first (not timed), so that no step pays for writing out what
    the step before it wrote."""
    os.sync()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"{' '.join(map(str, cmd))} exited {code}:\n{err[-3000:]}")
    return seconds, usage.ru_maxrss / 1024


def machine():
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "os": platform.platform(),
    }


def dataset_size(path):
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="the release binary")
    ap.add_argument("--work", required=True, help="work folder (several GB at full scale)")
    ap.add_argument("--regions", type=int, default=8)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    work = Path(args.work).resolve()
    data = work / "data"
    later = work / "later"
    binary = str(Path(args.bin).resolve())
    cfg = str(data / "opleidingsmonitor.toml")
    env = dict(os.environ, OPLEIDINGSMONITOR_LOG="error")

    # The data: one year more than measured, the last held back.
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    t, _ = timed(
        [binary, "sample", "--national", "--out", str(data), "--regions", str(args.regions),
         "--years", str(args.years + 1), "--scale", str(args.scale)],
        env=env,
    )
    last = 2015 + args.years
    for region in sorted((data / "inbox").iterdir()):
        (later / region.name).mkdir(parents=True)
        shutil.move(str(region / str(last)), str(later / region.name / str(last)))
    csv_files = list((data / "inbox").rglob("*.csv"))
    csv_bytes = sum(f.stat().st_size for f in csv_files)
    print(f"generated {len(csv_files)} CSV files ({csv_bytes / 2**20:.0f} MiB) in {t:.0f} s", flush=True)

    def fresh():
        shutil.rmtree(data / "output", ignore_errors=True)

    def ours(step):
        return timed([binary, step, "--quiet", "--config", cfg], env=env)

    runs = []
    for rep in range(args.repeat):
        r = {}
        fresh()
        for step in ("ingest", "aggregate", "report"):
            r[step] = ours(step)
        if rep == 0:
            counts = subprocess.run(
                [PY, "-c", COUNT, str(data / "output" / "dataset")], check=True, capture_output=True, text=True
            ).stdout
            sizes = json.loads(counts)
            sizes["dataset_mib"] = dataset_size(data / "output" / "dataset") / 2**20
            sizes["reports"] = sum(1 for _ in (data / "output" / "reports").rglob("*.html"))
        fresh()
        r["run"] = ours("run")
        # The department aggregation as SQL on our dataset (the full run's).
        r["sql_on_dataset"] = timed([PY, str(ROOT / "bench" / "department.py"), str(data / "output" / "dataset")])
        # The incremental year: added to the inbox, run again.
        for region in later.iterdir():
            shutil.move(str(region / str(last)), str(data / "inbox" / region.name / str(last)))
        r["incremental"] = ours("run")
        for region in later.iterdir():
            shutil.move(str(data / "inbox" / region.name / str(last)), str(region / str(last)))
        # The peer, on the same CSV files.
        peer_out = work / "peer"
        shutil.rmtree(peer_out, ignore_errors=True)
        result = work / "peer.json"
        secs, rss = timed([PY, str(ROOT / "bench" / "peer.py"), str(data), str(peer_out), str(result)])
        p = json.loads(result.read_text())
        r["duckdb"] = (secs, rss)
        r["duckdb_ingest"] = (p["ingest_s"], rss)
        r["duckdb_aggregate"] = (p["aggregate_s"], rss)
        r["duckdb_item_rows"] = p["item_rows"]
        if rep == 0:
            check = subprocess.run(
                [PY, str(ROOT / "bench" / "compare.py"), str(data / "output" / "dataset"),
                 str(peer_out / "departments.parquet")],
                check=True, capture_output=True, text=True,
            ).stdout
            agreement = json.loads(check)
        runs.append(r)
        print(
            f"repetition {rep + 1}: "
            + ", ".join(f"{k} {v[0]:.1f} s / {v[1]:.0f} MiB" for k, v in r.items() if isinstance(v, tuple)),
            flush=True,
        )

    med = {}
    for k in runs[0]:
        if isinstance(runs[0][k], tuple):
            med[k] = {
                "seconds": statistics.median(r[k][0] for r in runs),
                "peak_rss_mib": max(r[k][1] for r in runs),
            }
    ours_full = med["run"]["seconds"]
    peer = med["duckdb_ingest"]["seconds"] + med["duckdb_aggregate"]["seconds"]
    summary = {
        "machine": machine(),
        "options": vars(args),
        "csv_files": len(csv_files),
        "csv_mib": csv_bytes / 2**20,
        "sizes": sizes,
        "agreement_with_duckdb": agreement,
        "median": med,
        "ratio_run_to_duckdb": ours_full / peer,
        "incremental_fraction": med["incremental"]["seconds"] / ours_full,
        "peak_rss_mib": max(v["peak_rss_mib"] for k, v in med.items() if not k.startswith(("duckdb", "sql"))),
        "repetitions": runs,
    }
    (work / "results.json").write_text(json.dumps(summary, indent=2))
    print()
    print(f"{'step':<22}{'median s':>10}{'peak RSS MiB':>14}")
    for k, v in med.items():
        print(f"{k:<22}{v['seconds']:>10.1f}{v['peak_rss_mib']:>14.0f}")
    print()
    print(f"questionnaires {sizes['responses']:,}, item rows {sizes['item_rows']:,} (DuckDB: {runs[0]['duckdb_item_rows']:,})")
    a = agreement
    print(
        f"second source: {a['cells']:,} published department-year subscale cells against DuckDB's: "
        f"max |mean difference| {a['max_mean_diff']:.1e}, max |sd difference| {a['max_sd_diff']:.1e}, "
        f"{a['n_mismatches']} with another n, {a['missing']} missing in DuckDB's"
    )
    print(f"ratio: our full run / DuckDB ingest + department aggregation = {summary['ratio_run_to_duckdb']:.2f} (target < 1.0)")
    print(f"incremental year / full run = {summary['incremental_fraction']:.2f} (target <= 0.15)")
    print(f"peak RSS of our steps = {summary['peak_rss_mib']:.0f} MiB (target <= 2048)")
    print(f"results: {work / 'results.json'}")


# Counts of the dataset, read by DuckDB (not by us).
COUNT = """
import duckdb, json, sys
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")  # stdout is JSON
n, r = con.execute(
    "SELECT count(*), count(DISTINCT instrument || response_id) FROM read_parquet(?, hive_partitioning = true)",
    [sys.argv[1] + '/responses/*/*/*.parquet'],
).fetchone()
print(json.dumps({"item_rows": n, "responses": r}))
"""

if __name__ == "__main__":
    main()
