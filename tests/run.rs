//! End to end: `run`, the command a scheduler calls.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::synth;
use crate::util::{files_below, Dir};
use opleidingsmonitor::dataset::RunLock;
use opleidingsmonitor::instrument::Catalogue;

fn sample() -> Dir {
    let dir = Dir::new();
    let cat = Catalogue::load(None).unwrap();
    synth::write_sample_region(dir.path(), &cat, 20191).unwrap();
    dir
}

fn mtimes(dir: &Path) -> BTreeMap<String, SystemTime> {
    files_below(dir)
        .into_iter()
        // The summary of the last run and the lock's note change every run
        // by design; the data and the reports must not.
        .filter(|p| !p.ends_with("run-summary.json") && !p.ends_with("dataset.lock"))
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::metadata(&p).unwrap().modified().unwrap(),
            )
        })
        .collect()
}

#[test]
fn a_second_run_with_nothing_new_writes_nothing() {
    let d = sample();
    let first = d.run(&["run", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(first.code(), 0, "{}", first.both());
    assert!(!crate::util::table_bytes(&d.join("output/dataset/aggregates")).is_empty());
    let before = mtimes(&d.join("output"));
    let second = d.run(&[
        "run",
        "-c",
        "opleidingsmonitor.toml",
        "--summary-json",
        "s.json",
    ]);
    assert_eq!(second.code(), 0, "{}", second.both());
    assert!(second.stdout().contains("Nothing new"), "{}", second.both());
    assert_eq!(mtimes(&d.join("output")), before);
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("s.json")).unwrap()).unwrap();
    assert_eq!(s["exit_code"], 0);
    assert_eq!(s["changed"], false);
    assert!(s["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["status"] == "skipped"));
    for key in [
        "dataset_dir",
        "reports_dir",
        "duration_s",
        "reports",
        "warnings",
    ] {
        assert!(s.get(key).is_some(), "summary lacks {key}");
    }
}

#[test]
fn a_bad_row_makes_the_exit_code_1_and_the_summary_names_it() {
    let d = sample();
    // Row 3 of a new plain D-RECT file has a 9 on a 1-5 scale.
    let src = std::fs::read_to_string(d.join("inbox/2019/drect-plain_anes_2019.csv")).unwrap();
    let mut lines: Vec<String> = src.lines().take(4).map(String::from).collect();
    let mut cells: Vec<String> = lines[2].split(',').map(String::from).collect();
    cells[5] = "9".into();
    cells[1] = "2025-01-15".into();
    lines[2] = cells.join(",");
    lines[1] = lines[1].replacen("2019-", "2025-", 1);
    lines[3] = lines[3].replacen("2019-", "2025-", 1);
    d.write(
        "inbox/2025/drect-plain_anes_2025.csv",
        lines.join("\n") + "\n",
    );
    let run = d.run(&["run", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(run.code(), 1, "{}", run.both());
    let s: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.join("output/reports/run-summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(s["exit_code"], 1);
    let f = s["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["path"]
                .as_str()
                .unwrap()
                .ends_with("drect-plain_anes_2025.csv")
        })
        .unwrap();
    assert_eq!(f["status"], "new");
    assert_eq!(f["rows_read"], 3);
    assert_eq!(f["rows_quarantined"], 1);
    assert_eq!(f["problems"][0]["row"], 3);
    assert_eq!(f["problems"][0]["column"], "Q1");
    assert!(run.stdout().contains("row 3"), "{}", run.both());
}

#[test]
fn a_concurrent_run_is_refused_and_a_stale_lock_is_taken_over() {
    let d = sample();
    {
        let _held = RunLock::acquire(&d.join("output/dataset")).unwrap();
        let run = d.run(&["run", "-c", "opleidingsmonitor.toml"]);
        assert_eq!(run.code(), 3, "{}", run.both());
        assert!(
            run.stderr().contains("another opleidingsmonitor run"),
            "{}",
            run.both()
        );
        assert!(
            !d.join("output/dataset/manifest").exists(),
            "a refused run writes nothing"
        );
    }
    // A lock note left by a killed run, with nobody holding the lock.
    std::fs::write(
        d.join("output/dataset.lock"),
        "pid 999999 since 2026-01-01T00:00:00Z\n",
    )
    .unwrap();
    let run = d.run(&["run", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(run.code(), 0, "{}", run.both());
    assert!(run.stdout().contains("did not finish"), "{}", run.both());
}

#[test]
fn a_run_killed_at_any_moment_and_run_again_equals_an_uninterrupted_run() {
    let (reference, reports) = {
        let d = sample();
        assert_eq!(d.run(&["run", "-c", "opleidingsmonitor.toml"]).code(), 0);
        (
            crate::util::snapshot(d.path()),
            crate::util::report_files(d.path()),
        )
    };
    assert!(reports.len() > 50);
    let same_reports = |d: &Dir, label: &str| {
        let got = crate::util::report_files(d.path());
        let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&got), names(&reports), "{label}: report files");
        for ((n, a), (_, b)) in got.iter().zip(reports.iter()) {
            assert!(a == b, "{label}: {n} differs");
        }
    };
    // SIGKILL after increasing delays: wherever the run happens to be.
    for delay_ms in [30u64, 150, 400, 900] {
        let d = sample();
        let mut child = std::process::Command::new(crate::util::binary())
            .args(["run", "-c", "opleidingsmonitor.toml", "-q"])
            .current_dir(d.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let again = d.run(&["run", "-c", "opleidingsmonitor.toml"]);
        assert_eq!(
            again.code(),
            0,
            "after a kill at {delay_ms} ms: {}",
            again.both()
        );
        crate::util::assert_same(
            &crate::util::snapshot(d.path()),
            &reference,
            &format!("killed at {delay_ms} ms"),
        );
    }
    // And at the commit's most delicate points.
    for point in ["before_ready", "after_ready", "mid_move"] {
        let d = sample();
        let crashed = d.run_env(
            &["run", "-c", "opleidingsmonitor.toml"],
            &[("OPLEIDINGSMONITOR_FAIL_AT", point)],
        );
        assert_ne!(crashed.code(), 0);
        assert_eq!(d.run(&["run", "-c", "opleidingsmonitor.toml"]).code(), 0);
        crate::util::assert_same(&crate::util::snapshot(d.path()), &reference, point);
        same_reports(&d, point);
    }
}

#[test]
fn a_batch_written_in_many_chunks_equals_one_written_at_once() {
    let reference = {
        let d = sample();
        assert_eq!(d.run(&["run", "-c", "opleidingsmonitor.toml"]).code(), 0);
        crate::util::snapshot(d.path())
    };
    // Some 5,000 item rows per chunk: the sample's batch is written in
    // about twenty parts, and the same responses are stored.
    let small = [("OPLEIDINGSMONITOR_FLUSH_ROWS", "5000")];
    let d = sample();
    let r = d.run_env(&["run", "-c", "opleidingsmonitor.toml"], &small);
    assert_eq!(r.code(), 0, "{}", r.both());
    let parts = files_below(&d.join("output/dataset/responses")).len();
    assert!(parts > 20, "{parts} parquet files");
    crate::util::assert_same(&crate::util::snapshot(d.path()), &reference, "in chunks");
    // A crash after some chunks were staged leaves nothing behind.
    let d = sample();
    let crashed = d.run_env(
        &["run", "-c", "opleidingsmonitor.toml"],
        &[small[0], ("OPLEIDINGSMONITOR_FAIL_AT", "before_ready")],
    );
    assert_ne!(crashed.code(), 0);
    assert!(!d.join("output/dataset/responses").exists());
    assert_eq!(
        d.run_env(&["run", "-c", "opleidingsmonitor.toml"], &small)
            .code(),
        0
    );
    crate::util::assert_same(
        &crate::util::snapshot(d.path()),
        &reference,
        "after a crash",
    );
}

#[test]
fn a_new_year_is_added_by_computing_only_its_cycle_and_equals_a_full_run() {
    adding_a_year_equals_a_full_run("2024", "2023-2024");
}

/// A late year: 2021-2022 is computed again, and 2023-2024, although its
/// data did not change, gets its changes from the new 2021-2022.
#[test]
fn a_late_year_is_added_and_the_changes_after_it_follow() {
    adding_a_year_equals_a_full_run("2021", "2021-2022");
}

/// Runs the sample without `year`, then with it; the output must equal one
/// run over everything, and only `cycle`'s groups and reports are made
/// again.
fn adding_a_year_equals_a_full_run(year: &str, cycle: &str) {
    let today = [("OPLEIDINGSMONITOR_TODAY", "2025-03-01")];
    let full = sample();
    let r = full.run_env(&["run", "-c", "opleidingsmonitor.toml"], &today);
    assert_eq!(r.code(), 0, "{}", r.both());

    // The same region, with the year arriving later.
    let d = sample();
    let inbox_year = format!("inbox/{year}");
    std::fs::rename(d.join(&inbox_year), d.join("later")).unwrap();
    let r = d.run_env(&["run", "-c", "opleidingsmonitor.toml"], &today);
    assert_eq!(r.code(), 0, "{}", r.both());
    let before = mtimes(&d.join("output/reports"));
    std::fs::rename(d.join("later"), d.join(&inbox_year)).unwrap();
    let r = d.run_env(
        &[
            "run",
            "-c",
            "opleidingsmonitor.toml",
            "--summary-json",
            "s.json",
        ],
        &today,
    );
    assert_eq!(r.code(), 0, "{}", r.both());
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("s.json")).unwrap()).unwrap();
    assert_eq!(s["aggregated"], true);
    // The groups (instrument and cycle) with data of the year are computed,
    // every other one is kept.
    let groups = opleidingsmonitor::dataset::tables::read_group_stamps(&d.join("output/dataset"));
    let with_year = groups
        .iter()
        .filter(|g| {
            g.cycle == cycle
                && d.join(&format!(
                    "output/dataset/responses/instrument={}/year={year}",
                    g.instrument
                ))
                .exists()
        })
        .count();
    assert!(with_year >= 3, "{groups:?}");
    assert_eq!(s["groups_computed"], with_year);
    assert_eq!(s["groups_kept"], groups.len() - with_year);
    // The reports of the cycle and of the cycles after it (which look
    // back) are made again; the earlier ones are not...
    let due: Vec<String> = groups
        .iter()
        .map(|g| g.cycle.clone())
        .filter(|c| c.as_str() >= cycle)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(s["cycles_reported"], serde_json::json!(due));
    let after = mtimes(&d.join("output/reports"));
    for (path, t) in &before {
        if !due.iter().any(|c| path.contains(c.as_str())) {
            assert_eq!(after.get(path), Some(t), "{path} was written again");
        }
    }
    // ...and everything is what a run over all the data at once gives, to
    // the byte.
    for rel in ["aggregates", "changes", "distributions", "sources"] {
        let a = crate::util::table_bytes(&full.join("output/dataset").join(rel));
        let b = crate::util::table_bytes(&d.join("output/dataset").join(rel));
        assert!(!a.is_empty());
        assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        assert!(a == b, "{rel} differs from the full run's");
    }
    // (The groups' fingerprints name partition files, which differ.)
    let stamps = |root: &Path| -> Vec<(String, String, Option<String>)> {
        opleidingsmonitor::dataset::tables::read_group_stamps(&root.join("output/dataset"))
            .into_iter()
            .map(|g| (g.instrument, g.cycle, g.data_until))
            .collect()
    };
    assert_eq!(stamps(full.path()), stamps(d.path()));
    let reports = |root: &Path| -> BTreeMap<String, Vec<u8>> {
        files_below(&root.join("output/reports"))
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "html" || e == "md"))
            .map(|p| {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                (rel, std::fs::read(&p).unwrap())
            })
            .collect()
    };
    let (a, b) = (reports(full.path()), reports(d.path()));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    assert!(a.len() > 20, "{} reports", a.len());
    for (k, v) in &a {
        assert!(&b[k] == v, "{k} differs from the full run's");
    }
}

/// An output written by a version with one file per table: the first run
/// of this version aggregates again (the run's stamp names the layout),
/// removes the old files and writes what a fresh run writes.
#[test]
fn the_first_run_after_the_layout_changed_writes_a_file_per_group() {
    let d = sample();
    let first = d.run(&["run", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(first.code(), 0, "{}", first.both());
    let ds = d.join("output/dataset");
    let tables = ["aggregates", "changes", "distributions", "sources"];
    let fresh: Vec<_> = tables
        .iter()
        .map(|t| crate::util::table_bytes(&ds.join(t)))
        .collect();
    // What the earlier version left: a single file per table, and a stamp
    // without the program and layout.
    for t in tables {
        let (_, bytes) = crate::util::table_bytes(&ds.join(t)).pop_first().unwrap();
        std::fs::write(ds.join(t).join(format!("{t}.parquet")), bytes).unwrap();
    }
    std::fs::write(ds.join("aggregates/SOURCE"), "manifest x\nsettings y\n").unwrap();
    let second = d.run(&["run", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(second.code(), 0, "{}", second.both());
    for (t, before) in tables.iter().zip(&fresh) {
        let after = crate::util::table_bytes(&ds.join(t));
        assert!(!after.contains_key(&format!("{t}.parquet")), "{t}");
        assert!(&after == before, "{t} differs from a fresh run's");
    }
}
