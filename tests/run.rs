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
    for point in ["before_ready", "after_ready", "mid_move", "before_manifest"] {
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
    // every other one is kept. A group is named by the years it spans: one
    // region cycle, or, for an instrument whose years neurology's own
    // cycles (from 2020) link, several (`2019-2024`).
    let groups = opleidingsmonitor::dataset::tables::read_group_stamps(&d.join("output/dataset"));
    let spans = |group: &str, y: &str| {
        let (from, to) = group.split_once('-').unwrap();
        from <= y && y <= to
    };
    let computed = |g: &opleidingsmonitor::dataset::tables::GroupStamp| {
        spans(&g.cycle, year)
            && d.join(&format!(
                "output/dataset/responses/instrument={}/year={year}",
                g.instrument
            ))
            .exists()
    };
    let with_year = groups.iter().filter(|g| computed(g)).count();
    assert!(with_year >= 3, "{groups:?}");
    assert_eq!(s["groups_computed"], with_year);
    assert_eq!(s["groups_kept"], groups.len() - with_year);
    // The reports of the cycles the computed groups hold and of the cycles
    // after it (which look back) are made again; the earlier ones are
    // not... (A group that neurology's own cycles link, `2019-2024`, holds
    // every cycle of both sets: its reports are all made again, the cost
    // the README names.)
    // (A group of one cycle lists no cycles: it is its own.)
    let held = |g: &opleidingsmonitor::dataset::tables::GroupStamp| -> Vec<String> {
        if g.data_until_by_cycle.is_empty() {
            vec![g.cycle.clone()]
        } else {
            g.data_until_by_cycle.keys().cloned().collect()
        }
    };
    let due: Vec<String> = groups
        .iter()
        .filter(|g| computed(g))
        .flat_map(held)
        .chain(groups.iter().flat_map(held).filter(|c| c.as_str() >= cycle))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(due.iter().any(|c| c == cycle), "{due:?}");
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

/// A small region of one D-RECT CSV layout, for the accounting tests.
mod small {
    use crate::util::Dir;

    pub use crate::util::DRECT_CSV_PROFILE as PROFILE;

    pub fn region() -> Dir {
        let d = Dir::new();
        d.write("opleidingsmonitor.toml", crate::util::CONFIG);
        d.write("registry.toml", crate::util::REGISTRY);
        d.write("profiles/drect.toml", PROFILE);
        d
    }

    /// A CSV export: a header and one row per (date, respondent, Q3).
    pub fn export(rows: &[(&str, &str, &str)]) -> String {
        let mut s = crate::util::drect_headings().join(",");
        s.push('\n');
        for (date, email, q3) in rows {
            s.push_str(&crate::util::drect_values(date, "ZHA", email, q3).join(","));
            s.push('\n');
        }
        s
    }
}

/// (status, read, written, quarantined, duplicate) per file name.
type Counts = BTreeMap<String, (String, u64, u64, u64, u64)>;

/// The table `validate` and `ingest` print.
fn counts_of_table(out: &str) -> Counts {
    out.lines()
        .skip_while(|l| !l.starts_with("file "))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            let n = |i: usize| c.get(i)?.parse::<u64>().ok();
            Some((
                c[0].to_string(),
                (c[1].to_string(), n(2)?, n(3)?, n(4)?, n(5)?),
            ))
        })
        .collect()
}

/// The lines `run` prints: `status path  read 3, written 3, quarantined 0
/// (3 already present): note`.
fn counts_of_run(out: &str, names: &[&str]) -> Counts {
    let mut m = Counts::new();
    for l in out.lines() {
        let Some((head, tail)) = l.split_once("  read ") else {
            continue;
        };
        let (status, path) = head.split_once(' ').unwrap();
        let name = names
            .iter()
            .find(|n| path.trim().ends_with(&format!("/{n}")))
            .unwrap_or_else(|| panic!("unknown file in {l:?}"));
        let nums: Vec<u64> = tail
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .take(4)
            .map(|s| s.parse().unwrap())
            .collect();
        let dup = if tail.contains("already present") {
            nums[3]
        } else {
            0
        };
        m.insert(
            name.to_string(),
            (status.to_string(), nums[0], nums[1], nums[2], dup),
        );
    }
    m
}

/// Issue #21, item 13: `validate`, the lines `run` prints and
/// run-summary.json told different stories about the same files (a skipped
/// file was not printed and had 64 rows written in the summary; validate
/// saw no duplicates where run found rows already present). Now one
/// accounting: a skipped file has every count 0.
#[test]
fn validate_run_and_the_summary_count_every_file_alike() {
    let d = small::region();
    let first = [
        ("2024-03-01", "a@x.nl", "4"),
        ("2024-03-02", "b@x.nl", "4"),
        ("2024-03-03", "c@x.nl", "4"),
    ];
    d.write("inbox/drect_a.csv", small::export(&first));
    let r = d.run(&["run", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(r.code(), 0, "{}", r.both());

    // The next batch: a copy of the ingested file under another name, a
    // cumulative re-export (the three rows again and two new ones), a file
    // with a row off the scale, and a copy of that file in the same batch.
    let a = std::fs::read(d.join("inbox/drect_a.csv")).unwrap();
    d.write("inbox/drect_a_copy.csv", &a);
    let mut cumulative = first.to_vec();
    cumulative.push(("2024-04-01", "d@x.nl", "5"));
    cumulative.push(("2024-04-02", "e@x.nl", "3"));
    d.write("inbox/drect_b.csv", small::export(&cumulative));
    let c = small::export(&[
        ("2024-05-01", "f@x.nl", "4"),
        ("2024-05-02", "g@x.nl", "9"),
        ("2024-05-03", "h@x.nl", "2"),
    ]);
    d.write("inbox/drect_c.csv", &c);
    d.write("inbox/drect_c_copy.csv", &c);
    let names = [
        "drect_a.csv",
        "drect_a_copy.csv",
        "drect_b.csv",
        "drect_c.csv",
        "drect_c_copy.csv",
    ];
    let s = |x: &str| x.to_string();
    let expected: Counts = [
        (s("drect_a.csv"), (s("skipped"), 0, 0, 0, 0)),
        (s("drect_a_copy.csv"), (s("skipped"), 0, 0, 0, 0)),
        (s("drect_b.csv"), (s("new"), 5, 5, 0, 3)),
        (s("drect_c.csv"), (s("new"), 3, 2, 1, 0)),
        (s("drect_c_copy.csv"), (s("skipped"), 0, 0, 0, 0)),
    ]
    .into_iter()
    .collect();

    let v = d.run(&["validate", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(v.code(), 1, "{}", v.both());
    assert_eq!(
        counts_of_table(&v.stdout()),
        expected,
        "validate: {}",
        v.both()
    );
    assert!(
        v.stdout()
            .contains("drect_a_copy.csv: skipped, already ingested"),
        "{}",
        v.both()
    );

    let r = d.run(&[
        "run",
        "-c",
        "opleidingsmonitor.toml",
        "--summary-json",
        "s.json",
    ]);
    assert_eq!(r.code(), 1, "{}", r.both());
    assert_eq!(
        counts_of_run(&r.stdout(), &names),
        expected,
        "run: {}",
        r.both()
    );
    assert!(
        r.stdout().lines().any(|l| l.starts_with("skipped")
            && l.contains("drect_a.csv")
            && l.contains("already ingested")),
        "{}",
        r.both()
    );
    for summary in ["s.json", "reports/run-summary.json"] {
        let j: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.join(summary)).unwrap()).unwrap();
        let got: Counts = j["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let path = f["path"].as_str().unwrap();
                let name = path.rsplit('/').next().unwrap().to_string();
                let n = |k: &str| f[k].as_u64().unwrap();
                let read = n("rows_read");
                assert_eq!(read, n("rows_written") + n("rows_quarantined"), "{path}");
                (
                    name,
                    (
                        f["status"].as_str().unwrap().to_string(),
                        read,
                        n("rows_written"),
                        n("rows_quarantined"),
                        n("rows_duplicate"),
                    ),
                )
            })
            .collect();
        assert_eq!(got, expected, "{summary}");
    }
    // And the manifest agrees for the files that were read.
    let m = opleidingsmonitor::dataset::Dataset::open(&d.join("dataset"))
        .unwrap()
        .manifest()
        .unwrap();
    let b = m.iter().find(|e| e.source_file == "drect_b.csv").unwrap();
    assert_eq!((b.rows_read, b.rows_written, b.rows_duplicate), (5, 5, 3));
    assert!(!m.iter().any(|e| e.source_file == "drect_c_copy.csv"));
}

/// Issue #21, item 14: a run refused because another holds the lock (exit
/// 3) overwrote run-summary.json with an empty one, hiding the summary of
/// the run that was working. It now leaves every summary alone.
#[test]
fn a_refused_run_keeps_the_summary_of_the_run_before() {
    let d = small::region();
    d.write(
        "inbox/drect_a.csv",
        small::export(&[("2024-03-01", "a@x.nl", "4")]),
    );
    let r = d.run(&["run", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(r.code(), 0, "{}", r.both());
    let before = std::fs::read(d.join("reports/run-summary.json")).unwrap();
    let _held = RunLock::acquire(&d.join("dataset")).unwrap();
    let refused = d.run(&[
        "run",
        "-c",
        "opleidingsmonitor.toml",
        "--summary-json",
        "s.json",
    ]);
    assert_eq!(refused.code(), 3, "{}", refused.both());
    assert_eq!(
        std::fs::read(d.join("reports/run-summary.json")).unwrap(),
        before
    );
    assert!(!d.join("s.json").exists());
}

/// A run stopped by an error after the ingest (exit 2) writes its summary
/// with the error and the files it had committed; a file of many bad rows
/// lists the first 100 problems and counts the rest.
#[test]
fn a_failed_run_writes_its_summary_with_the_error_and_caps_the_problems() {
    let d = small::region();
    d.write(
        "opleidingsmonitor.toml",
        format!(
            "{}\n[report]\ntemplates = \"mijn-sjablonen\"\n",
            std::fs::read_to_string(d.join("opleidingsmonitor.toml")).unwrap()
        ),
    );
    d.write("mijn-sjablonen/rso.html.j2", "<h1>{{ title </h1>\n");
    let mut rows: Vec<(String, String, &str)> = (0..150)
        .map(|i| {
            (
                format!("2024-03-{:02}", 1 + i % 28),
                format!("p{i}@x.nl"),
                "9",
            )
        })
        .collect();
    rows.extend((0..5).map(|i| (format!("2024-04-{:02}", 1 + i), format!("q{i}@x.nl"), "4")));
    let rows: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|(a, b, c)| (a.as_str(), b.as_str(), *c))
        .collect();
    d.write("inbox/drect_a.csv", small::export(&rows));
    let r = d.run(&["run", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(r.code(), 2, "{}", r.both());
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("reports/run-summary.json")).unwrap())
            .unwrap();
    assert_eq!(s["exit_code"], 2);
    assert!(
        s["error"].as_str().unwrap().contains("rso.html.j2"),
        "{s:#}"
    );
    let f = &s["files"][0];
    assert_eq!(
        (f["rows_read"].as_u64(), f["rows_quarantined"].as_u64()),
        (Some(155), Some(150))
    );
    assert_eq!(f["problems"].as_array().unwrap().len(), 100);
    assert_eq!(f["problems_more"], 50);
    // The file was committed before the error: the next run skips it.
    d.write("mijn-sjablonen/rso.html.j2", "<h1>{{ title }}</h1>\n");
    let again = d.run(&["run", "-c", "opleidingsmonitor.toml"]);
    assert!(
        again.stdout().contains("already ingested"),
        "{}",
        again.both()
    );
}

/// Issue #21, item 16: a reader polling during a commit could see the new
/// manifest while the responses were still the old ones. The manifest is
/// now renamed last, and a reader that reads it first and then only the
/// parts of the batches it lists (`committed_parts`) sees each commit
/// whole: here the commit is stopped with every part moved in and the
/// manifest not yet.
#[test]
fn a_reader_during_a_commit_sees_the_previous_batch_whole() {
    use opleidingsmonitor::dataset::{committed_parts, parquet_files, Dataset};
    let d = small::region();
    d.write(
        "inbox/drect_a.csv",
        small::export(&[("2024-03-01", "a@x.nl", "4"), ("2023-03-01", "b@x.nl", "4")]),
    );
    assert_eq!(d.run(&["ingest", "-c", "opleidingsmonitor.toml"]).code(), 0);
    let ds = d.join("dataset");
    let before = committed_parts(&ds, "responses").unwrap();
    assert_eq!(before, parquet_files(&ds.join("responses")).unwrap());
    d.write(
        "inbox/drect_b.csv",
        small::export(&[("2024-04-01", "c@x.nl", "4"), ("2025-01-01", "d@x.nl", "4")]),
    );
    let crashed = d.run_env(
        &["ingest", "-c", "opleidingsmonitor.toml"],
        &[("OPLEIDINGSMONITOR_FAIL_AT", "before_manifest")],
    );
    assert_eq!(crashed.code(), 137, "{}", crashed.both());
    // Every part of the new batch is in place, the manifest is the old one.
    let all = parquet_files(&ds.join("responses")).unwrap();
    assert!(all.len() > before.len(), "{all:?}");
    let m = Dataset::open_read_only(&ds).manifest().unwrap();
    assert_eq!(m.len(), 1);
    for table in ["responses", "comments", "response_index"] {
        let committed = committed_parts(&ds, table).unwrap();
        assert!(
            committed
                .iter()
                .all(|p| opleidingsmonitor::dataset::batch_of_part(p)
                    == Some(m[0].batch_id.as_str())),
            "{table}: {committed:?}"
        );
    }
    assert_eq!(committed_parts(&ds, "responses").unwrap(), before);
    // The next run finishes the commit: the manifest lists both files and
    // every part is committed.
    let again = d.run(&["ingest", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(again.code(), 0, "{}", again.both());
    let m = Dataset::open_read_only(&ds).manifest().unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(
        committed_parts(&ds, "responses").unwrap(),
        parquet_files(&ds.join("responses")).unwrap()
    );
}

/// A bug (a panic) after the ingest still leaves a run summary with the
/// error and the files read; the process ends with Rust's 101.
#[test]
fn a_panic_in_the_run_still_writes_the_summary() {
    let d = small::region();
    d.write(
        "inbox/drect_a.csv",
        small::export(&[("2024-03-01", "a@x.nl", "4")]),
    );
    let r = d.run_env(
        &["run", "-c", "opleidingsmonitor.toml"],
        &[("OPLEIDINGSMONITOR_FAIL_AT", "run-panic")],
    );
    assert_eq!(r.code(), 101, "{}", r.both());
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("reports/run-summary.json")).unwrap())
            .unwrap();
    assert_eq!(s["exit_code"], 101);
    assert!(s["error"].as_str().unwrap().contains("run-panic"), "{s:#}");
    assert_eq!(s["files"][0]["rows_written"], 1);
    // The batch was committed before the panic; the next run goes on.
    let again = d.run(&["run", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(again.code(), 0, "{}", again.both());
}
