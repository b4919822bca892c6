//! End to end: the real binary ingests the sample region and bad inputs.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::synth;
use crate::util::{files_below, Dir};
use opleidingsmonitor::dataset::{read_table_as_text, Dataset};
use opleidingsmonitor::ingest::pseudonym::PseudonymKey;
use opleidingsmonitor::instrument::Catalogue;

const SEED: u64 = 20191;

/// The sample region written into a fresh folder, and its summary.
fn sample() -> (Dir, synth::SampleSummary) {
    let dir = Dir::new();
    let cat = Catalogue::load(None).unwrap();
    let summary = synth::write_sample_region(dir.path(), &cat, SEED).unwrap();
    (dir, summary)
}

type Rows = Vec<HashMap<String, Option<String>>>;

fn table(dir: &Dir, rel: &str) -> Rows {
    read_table_as_text(&dir.join(rel)).unwrap()
}

fn get<'a>(row: &'a HashMap<String, Option<String>>, col: &str) -> Option<&'a str> {
    row.get(col)
        .unwrap_or_else(|| panic!("no column {col}"))
        .as_deref()
}

#[test]
fn sample_region_ingests_every_layout_with_exact_counts() {
    let (dir, summary) = sample();
    let run = dir.run(&["ingest", "--config", "opleidingsmonitor.toml"]);
    assert_eq!(run.code(), 0, "{}", run.both());
    assert!(
        run.stderr().contains("Created the pseudonymisation key"),
        "{}",
        run.both()
    );

    let ds = Dataset::open(&dir.join("output/dataset")).unwrap();
    let manifest = ds.manifest().unwrap();
    assert_eq!(manifest.len(), summary.exports.len());
    let mut profiles = std::collections::BTreeSet::new();
    for m in &manifest {
        let rel = format!("inbox/{}", m.source_file);
        let expected = summary.rows[&rel] as u64;
        assert_eq!(m.status, "ingested", "{m:?}");
        assert_eq!(m.rows_read, expected, "{}", m.source_file);
        assert_eq!(
            m.rows_read,
            m.rows_written + m.rows_quarantined,
            "{}",
            m.source_file
        );
        assert_eq!(m.rows_quarantined, 0, "{m:?}");
        assert_eq!(m.rows_duplicate, 0, "{m:?}");
        profiles.insert(m.profile.clone());
    }
    // Every layout of the sample was used.
    assert_eq!(profiles.len(), 8, "{profiles:?}");

    // Second source for one file: count the answered item cells of the plain
    // D-RECT CSV with the csv crate directly.
    let plain = "inbox/2019/drect-plain_anes_2019.csv";
    let mut rdr = csv::Reader::from_path(dir.join(plain)).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let q_cols: Vec<usize> = (0..headers.len())
        .filter(|&i| headers[i].starts_with('Q'))
        .collect();
    let mut cells = 0usize;
    let mut first_row: Option<csv::StringRecord> = None;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        cells += q_cols
            .iter()
            .filter(|&&i| !rec[i].trim().is_empty())
            .count();
        first_row.get_or_insert(rec);
    }
    let responses = table(&dir, "output/dataset/responses");
    let of_file: Vec<_> = responses
        .iter()
        .filter(|r| get(r, "source_file") == Some("2019/drect-plain_anes_2019.csv"))
        .collect();
    assert_eq!(of_file.len(), cells);

    // Chosen cells: row 2 of that file (its first data row), item Q1.
    let first = first_row.unwrap();
    let q1 = &first[headers.iter().position(|h| h == "Q1").unwrap()];
    let stored = of_file
        .iter()
        .find(|r| get(r, "source_row") == Some("2") && get(r, "item_id") == Some("d11_q01"))
        .expect("row 2, item 1 stored");
    if q1.eq_ignore_ascii_case("nvt") {
        assert_eq!(get(stored, "value"), None);
    } else {
        let v: f64 = get(stored, "value").unwrap().parse().unwrap();
        assert_eq!(v, q1.parse::<f64>().unwrap());
    }
    assert_eq!(get(stored, "instrument"), Some("d-rect"));
    assert_eq!(get(stored, "instrument_version"), Some("2011"));
    assert_eq!(get(stored, "scale_id"), Some("supervision"));
    assert_eq!(get(stored, "scale_min"), Some("1.0"));
    assert_eq!(get(stored, "rso_id"), Some("anes-nv"));
    // The respondent key is the keyed hash of the e-mail in the export.
    let key_hex = std::fs::read_to_string(dir.join("output/opleidingsmonitor.key")).unwrap();
    let key = PseudonymKey::from_bytes(&hex_decode(key_hex.trim()));
    let email = &first[headers.iter().position(|h| h == "Email").unwrap()];
    assert_eq!(
        get(stored, "respondent_key"),
        Some(key.pseudonym("respondent", email).as_str())
    );

    // rso_id as of the submission date: Zonnestede joined anaesthesiology's
    // RSO on 2022-01-01; its 2021 responses belong to no RSO.
    let zon: Vec<_> = responses
        .iter()
        .filter(|r| {
            get(r, "institution_id") == Some("zonnestede") && get(r, "specialty") == Some("anes")
        })
        .collect();
    assert!(zon.iter().any(|r| get(r, "year") == Some("2021")));
    for r in &zon {
        let before = get(r, "submitted_on").unwrap() < "2022-01-01";
        assert_eq!(get(r, "rso_id").is_none(), before, "{r:?}");
        assert_eq!(get(r, "region_id"), Some("noorderveld"));
    }

    // The Windows-1252 file: decimal comma values read as numbers.
    let effect: Vec<_> = responses
        .iter()
        .filter(|r| get(r, "instrument") == Some("effect"))
        .collect();
    assert!(!effect.is_empty());
    // Five points: the Dutch EFFECT (Fluit 2015; instruments/effect-2012.toml).
    assert!(effect.iter().all(|r| get(r, "scale_max") == Some("5.0")));
    assert!(effect
        .iter()
        .any(|r| get(r, "respondent_role") == Some("supervisor_self")));
    // Supervisor instruments carry the rated supervisor's pseudonym.
    assert!(effect
        .iter()
        .all(|r| get(r, "subject_key").is_some_and(|k| k.len() == 32)));
    // SETQ on the 7-point scale keeps its own scale.
    assert!(responses
        .iter()
        .any(|r| get(r, "instrument_version") == Some("smart-7pt")
            && get(r, "scale_max") == Some("7.0")));
    // Exit survey comments went to the comments table, grades to responses.
    let comments = table(&dir, "output/dataset/comments");
    assert!(comments
        .iter()
        .any(|r| get(r, "item_id") == Some("exit_tops")));
    assert!(responses
        .iter()
        .any(|r| get(r, "item_id") == Some("exit_q09")));
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn mtimes(dir: &Path) -> BTreeMap<String, std::time::SystemTime> {
    files_below(dir)
        .into_iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::metadata(&p).unwrap().modified().unwrap(),
            )
        })
        .collect()
}

#[test]
fn ingesting_the_same_inbox_twice_changes_nothing() {
    let (dir, _) = sample();
    assert_eq!(
        dir.run(&["ingest", "-c", "opleidingsmonitor.toml"]).code(),
        0
    );
    let ds = Dataset::open(&dir.join("output/dataset")).unwrap();
    let rows = ds.partition_rows().unwrap();
    let before = mtimes(&dir.join("output/dataset"));
    let again = dir.run(&["ingest", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(again.code(), 0, "{}", again.both());
    assert!(again.stdout().contains("Nothing new"), "{}", again.both());
    assert!(again.stdout().contains("skipped"));
    assert_eq!(ds.partition_rows().unwrap(), rows);
    assert_eq!(mtimes(&dir.join("output/dataset")), before);
}

#[test]
fn a_response_exported_again_in_a_later_file_is_stored_once() {
    let (dir, summary) = sample();
    assert_eq!(
        dir.run(&["ingest", "-c", "opleidingsmonitor.toml"]).code(),
        0
    );
    let total = |d: &Dir| table(d, "output/dataset/responses").len();
    let before = total(&dir);
    // A cumulative re-export: the 2024 LimeSurvey file again, under a new
    // name, with a different BOM-less encoding of the same rows.
    let src = "inbox/2024/limesurvey_drect_anes_2024.csv";
    let bytes = std::fs::read(dir.join(src)).unwrap();
    dir.write(
        "inbox/2025/limesurvey_drect_anes_2024_again.csv",
        &bytes[3..],
    );
    let run = dir.run(&["ingest", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(run.code(), 0, "{}", run.both());
    assert_eq!(total(&dir), before);
    let m = Dataset::open(&dir.join("output/dataset"))
        .unwrap()
        .manifest()
        .unwrap();
    let again = m
        .iter()
        .find(|e| e.source_file.ends_with("_again.csv"))
        .unwrap();
    assert_eq!(again.rows_duplicate as usize, summary.rows[src]);
    assert_eq!(again.rows_read, again.rows_written + again.rows_quarantined);
}

#[test]
fn nothing_written_contains_a_raw_name_or_email() {
    let (dir, _) = sample();
    let run = dir.run(&["ingest", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(run.code(), 0);
    let ids = synth::sample_identifiers(SEED);
    assert!(ids.iter().any(|i| i.contains('@')));
    // The exports do hold them (the test would prove nothing otherwise).
    let export = std::fs::read_to_string(dir.join("inbox/2019/drect-plain_anes_2019.csv")).unwrap();
    assert!(ids
        .iter()
        .any(|i| i.contains('@') && export.contains(i.as_str())));
    let logs = run.both();
    let mut written = String::new();
    for sub in [
        "responses",
        "comments",
        "quarantine",
        "manifest",
        "response_index",
    ] {
        for row in table(&dir, &format!("output/dataset/{sub}")) {
            for v in row.values().flatten() {
                written.push_str(v);
                written.push('\n');
            }
        }
    }
    assert!(written.len() > 100_000);
    assert!(
        written.contains("[e-mail verwijderd]"),
        "sample comments hold addresses that were masked"
    );
    for id in &ids {
        assert!(!written.contains(id.as_str()), "dataset contains {id:?}");
        assert!(!logs.contains(id.as_str()), "logs contain {id:?}");
    }
    // No file name or path in the dataset folder carries one either.
    for p in files_below(&dir.join("output/dataset")) {
        let s = p.display().to_string();
        assert!(!ids.iter().any(|i| s.contains(i.as_str())));
    }
}

#[test]
fn a_crash_at_any_commit_step_leaves_a_dataset_equal_to_an_uninterrupted_run() {
    let reference = {
        let (dir, _) = sample();
        assert_eq!(
            dir.run(&["ingest", "-c", "opleidingsmonitor.toml"]).code(),
            0
        );
        crate::util::snapshot(dir.path())
    };
    for point in ["before_ready", "after_ready", "mid_move"] {
        let (dir, _) = sample();
        let crashed = dir.run_env(
            &["ingest", "-c", "opleidingsmonitor.toml"],
            &[("OPLEIDINGSMONITOR_FAIL_AT", point)],
        );
        assert_ne!(crashed.code(), 0, "{point}: the run should have aborted");
        if point == "before_ready" {
            // Nothing committed: readers see no responses at all.
            assert!(table(&dir, "output/dataset/responses").is_empty());
        }
        let rerun = dir.run(&["ingest", "-c", "opleidingsmonitor.toml"]);
        assert_eq!(rerun.code(), 0, "{point}: {}", rerun.both());
        assert!(!dir.join("output/dataset/.staging").exists());
        crate::util::assert_same(&crate::util::snapshot(dir.path()), &reference, point);
    }
}

#[test]
fn the_committed_sample_region_is_the_generators_output() {
    let (dir, _) = sample();
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("data-samples/noorderveld");
    let rel = |base: &Path, p: &Path| p.strip_prefix(base).unwrap().display().to_string();
    let fresh: Vec<String> = files_below(dir.path())
        .iter()
        .map(|p| rel(dir.path(), p))
        .collect();
    let ours: Vec<String> = files_below(&committed)
        .iter()
        .map(|p| rel(&committed, p))
        .filter(|p| !p.starts_with("output/"))
        .collect();
    assert_eq!(ours, fresh, "regenerate with `opleidingsmonitor sample`");
    for f in &fresh {
        let a = std::fs::read(dir.join(f)).unwrap();
        let b = std::fs::read(committed.join(f)).unwrap();
        assert!(
            a == b,
            "{f} differs from the generator's output: regenerate with `opleidingsmonitor sample`"
        );
    }
}

/// Issue #21, item 4: a large CSV export is streamed (`ingest::stream`)
/// instead of read whole. Every CSV of the sample streamed, its responses
/// written in small chunks, gives the same dataset as every file read whole.
#[test]
fn streamed_exports_give_the_same_dataset_as_exports_read_whole() {
    let reference = {
        let (d, _) = sample();
        let r = d.run(&["ingest", "-c", "opleidingsmonitor.toml"]);
        assert_eq!(r.code(), 0, "{}", r.both());
        crate::util::snapshot(d.path())
    };
    let (d, _) = sample();
    let streamed = [
        ("OPLEIDINGSMONITOR_STREAM_BYTES", "0"),
        ("OPLEIDINGSMONITOR_FLUSH_ROWS", "3000"),
    ];
    let v = d.run_env(&["validate", "-c", "opleidingsmonitor.toml"], &streamed);
    assert_eq!(v.code(), 0, "{}", v.both());
    let r = d.run_env(&["ingest", "-c", "opleidingsmonitor.toml"], &streamed);
    assert_eq!(r.code(), 0, "{}", r.both());
    crate::util::assert_same(&crate::util::snapshot(d.path()), &reference, "streamed");
    // And nothing new the second time.
    let again = d.run_env(&["ingest", "-c", "opleidingsmonitor.toml"], &streamed);
    assert!(again.stdout().contains("Nothing new"), "{}", again.both());
}

/// Issue #20: an open answer names a supervisor who is only another row's
/// respondent, with a phone number. Neither reaches the dataset, read whole
/// or streamed (the streamed reading collects the names in its check pass),
/// and the answer keeps the counts.
#[test]
fn a_name_from_another_row_is_masked_read_whole_and_streamed() {
    let export = "Datum,Ziekenhuis,Specialisme,Naam,Q1,Q2,Q3,Q4,Q5,Q6,Q7,Q8,Tops
2024-03-01,Ziekenhuis A,Anesthesiologie,Anna Bakker,4,4,4,4,4,4,4,4,Supervisor Jansen (06-12345678) was vaak afwezig
2024-03-02,Ziekenhuis A,Anesthesiologie,Piet Jansen,3,3,3,3,3,3,3,3,Goed
2024-03-03,Ziekenhuis A,Anesthesiologie,Kees Visser,3,3,3,3,3,3,3,3,Bakker en ik
";
    let profile = r#"
instrument = "exit"
version = "example"
files = ["exit_*.csv"]
[columns]
submitted_on = "Datum"
institution = "Ziekenhuis"
specialty = "Specialisme"
respondent = "Naam"
[items]
"Tops" = "exit_tops"
[[item_patterns]]
regex = '^Q(\d+)$'
item = "exit_q{1:02}"
"#;
    for env in [&[][..], &[("OPLEIDINGSMONITOR_STREAM_BYTES", "0")][..]] {
        let d = Dir::new();
        d.write(
            "opleidingsmonitor.toml",
            "[paths]\nregistry = \"registry.toml\"\nprofiles = \"profiles\"\nkey_file = \"k.key\"\n",
        );
        d.write("registry.toml", crate::util::REGISTRY);
        d.write("profiles/exit.toml", profile);
        d.write("inbox/exit_2024.csv", export);
        let r = d.run_env(&["ingest", "-c", "opleidingsmonitor.toml"], env);
        assert_eq!(r.code(), 0, "{env:?} {}", r.both());
        let mut texts: Vec<(String, String, String)> = table(&d, "dataset/comments")
            .iter()
            .map(|c| {
                (
                    get(c, "text").unwrap().to_string(),
                    get(c, "masked_names").unwrap().to_string(),
                    get(c, "masked_details").unwrap().to_string(),
                )
            })
            .collect();
        texts.sort();
        let expected = [
            ("Goed", "0", "0"),
            (
                "Supervisor [naam verwijderd] ([telefoonnummer verwijderd]) was vaak afwezig",
                "1",
                "1",
            ),
            ("[naam verwijderd] en ik", "1", "0"),
        ]
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
        assert_eq!(texts, expected, "{env:?}");
    }
}
