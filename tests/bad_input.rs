//! Every kind of bad input gets a message naming file, row, column and
//! value, and the good files of the same batch are still ingested.

use crate::util::{drect_headings, drect_values, Dir, CONFIG, DRECT_CSV_PROFILE as PLAIN};
use opleidingsmonitor::dataset::Dataset;

const XLSX: &str = r#"
instrument = "exit"
version = "example"
files = ["*.xlsx"]
format = "xlsx"
[columns]
submitted_on = "Datum"
institution = "Ziekenhuis"
specialty = "Specialisme"
"#;

fn header() -> String {
    drect_headings().join(",")
}

fn row(date: &str, inst: &str, email: &str, q3: &str) -> String {
    drect_values(date, inst, email, q3).join(",")
}

fn region() -> Dir {
    let d = Dir::new();
    d.write("opleidingsmonitor.toml", CONFIG);
    d.write("registry.toml", crate::util::REGISTRY);
    d.write("profiles/plain.toml", PLAIN);
    d.write("profiles/xlsx.toml", XLSX);
    d
}

#[test]
fn each_kind_of_bad_input_is_named_and_the_rest_of_the_batch_goes_on() {
    let d = region();
    let h = header();
    let good = [
        row("2024-03-01", "Ziekenhuis A", "p1@x.nl", "5"),
        row("2024-03-02", "ZHA", "p2@x.nl", "4"),
        row("2024-03-03", "zha", "p3@x.nl", "nvt"),
    ];
    d.write(
        "inbox/drect_good.csv",
        format!("{h}\n{}\n", good.join("\n")),
    );
    // Windows-1252 bytes (ë = 0xEB) on line 3 where the profile says UTF-8.
    let mut cp = format!("{h}\n{}\n", good[0]).into_bytes();
    cp.extend(
        row("2024-03-02", "Ziekenhuis A", "zo\u{eb}@x.nl", "4")
            .replace('\u{eb}', "\u{1}")
            .into_bytes(),
    );
    let pos = cp.iter().position(|&b| b == 1).unwrap();
    cp[pos] = 0xEB;
    d.write("inbox/drect_cp1252.csv", cp);
    // Truncated: the last row stops after a few fields.
    d.write(
        "inbox/drect_truncated.csv",
        format!(
            "{h}\n{}\n2024-03-05,ZHA,Anesthesiologie,p9@x.nl,4,4",
            good[1]
        ),
    );
    d.write("inbox/drect_empty.csv", "");
    d.write(
        "inbox/drect_missing.csv",
        format!("{}\n{}\n", h.replacen("Datum", "Dag", 1), good[0]),
    );
    d.write(
        "inbox/drect_unknown.csv",
        format!("{h},Vraag extra\n{},ja\n", good[0]),
    );
    d.write(
        "inbox/drect_scale.csv",
        format!(
            "{h}\n{}\n{}\n",
            good[0],
            row("2024-04-01", "ZHA", "p4@x.nl", "7")
        ),
    );
    d.write(
        "inbox/drect_alias.csv",
        format!(
            "{h}\n{}\n",
            row("2024-04-01", "St. Elsewhere", "p5@x.nl", "4")
        ),
    );
    d.write(
        "inbox/drect_date.csv",
        format!("{h}\n{}\n", row("31-02-2024", "ZHA", "p6@x.nl", "4")),
    );
    d.write("inbox/exit_notzip.xlsx", "this is not a zip file");
    d.write("inbox/notes.txt", "no profile for this one");

    let run = d.run(&["ingest", "--config", "opleidingsmonitor.toml"]);
    let out = run.stdout();
    assert_eq!(run.code(), 1, "{}", run.both());

    let expect = |file: &str, parts: &[&str]| {
        let line = out
            .lines()
            .find(|l| {
                l.trim_start().starts_with(&format!("{file}:"))
                    && parts.iter().all(|p| l.contains(p))
            })
            .unwrap_or_else(|| panic!("no message for {file} with {parts:?} in\n{out}"));
        assert!(line.len() > file.len() + 30, "{line}");
    };
    expect("drect_cp1252.csv", &["row 3", "byte 0xEB", "windows-1252"]);
    expect("drect_truncated.csv", &["row 3", "incomplete"]);
    expect("drect_empty.csv", &["file", "empty"]);
    expect(
        "drect_missing.csv",
        &["file", "column \"Datum\"", "missing", "profile plain"],
    );
    expect(
        "drect_unknown.csv",
        &["column \"Vraag extra\"", "columns.ignore"],
    );
    expect(
        "drect_scale.csv",
        &["row 3", "column \"Q3\"", "value \"7\"", "outside the scale"],
    );
    expect(
        "drect_alias.csv",
        &[
            "row 2",
            "column \"Ziekenhuis\"",
            "value \"St. Elsewhere\"",
            "aliases",
        ],
    );
    expect(
        "drect_date.csv",
        &[
            "row 2",
            "column \"Datum\"",
            "value \"31-02-2024\"",
            "date_formats",
        ],
    );
    expect("exit_notzip.xlsx", &["file", ".xlsx"]);
    expect("notes.txt", &["file", "no source profile"]);

    // The good rows of every file were ingested; every row is accounted for.
    let m = Dataset::open(&d.join("dataset"))
        .unwrap()
        .manifest()
        .unwrap();
    let entry = |name: &str| {
        m.iter()
            .find(|e| e.source_file == name)
            .unwrap_or_else(|| panic!("{name} not in manifest"))
    };
    assert_eq!(entry("drect_good.csv").status, "ingested");
    assert_eq!(entry("drect_good.csv").rows_written, 3);
    assert_eq!(entry("drect_truncated.csv").rows_written, 1);
    assert_eq!(entry("drect_truncated.csv").rows_quarantined, 1);
    assert_eq!(entry("drect_scale.csv").rows_written, 1);
    assert_eq!(entry("drect_cp1252.csv").status, "failed");
    assert_eq!(entry("drect_cp1252.csv").rows_read, 2);
    assert_eq!(entry("drect_cp1252.csv").rows_quarantined, 2);
    for e in &m {
        assert_eq!(e.rows_read, e.rows_written + e.rows_quarantined, "{e:?}");
    }
    // The not-applicable answer is stored with a null value.
    let rows =
        opleidingsmonitor::dataset::read_table_as_text(&d.join("dataset/responses")).unwrap();
    let q3: Vec<_> = rows
        .iter()
        .filter(|r| {
            r["item_id"].as_deref() == Some("d16_q03")
                && r["source_file"].as_deref() == Some("drect_good.csv")
        })
        .collect();
    assert_eq!(q3.len(), 3);
    assert_eq!(q3.iter().filter(|r| r["value"].is_none()).count(), 1);

    // Validate reports the same without writing: after a fix of the profile,
    // the failed file validates, and the dataset folder is untouched.
    let before = crate::util::files_below(&d.join("dataset"));
    d.write(
        "profiles/plain.toml",
        PLAIN.replace("encoding = \"utf-8\"", "encoding = \"auto\""),
    );
    let v = d.run(&[
        "validate",
        "-c",
        "opleidingsmonitor.toml",
        "inbox/drect_cp1252.csv",
    ]);
    assert_eq!(v.code(), 0, "{}", v.both());
    assert!(v.stdout().contains("nothing was written"));
    assert_eq!(crate::util::files_below(&d.join("dataset")), before);
    // A failed file is tried again on the next ingest and now succeeds.
    let again = d.run(&["ingest", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(again.code(), 1, "the other bad files still fail");
    let m = Dataset::open(&d.join("dataset"))
        .unwrap()
        .manifest()
        .unwrap();
    let cp = m
        .iter()
        .find(|e| e.source_file == "drect_cp1252.csv")
        .unwrap();
    assert_eq!((cp.status.as_str(), cp.rows_written), ("ingested", 2));
}

#[test]
fn validate_exits_nonzero_and_writes_nothing_when_rows_would_be_quarantined() {
    let d = region();
    d.write(
        "inbox/drect_scale.csv",
        format!(
            "{}\n{}\n",
            header(),
            row("2024-04-01", "ZHA", "p4@x.nl", "9")
        ),
    );
    let v = d.run(&["validate", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(v.code(), 1, "{}", v.both());
    assert!(v.stdout().contains("value \"9\""), "{}", v.both());
    assert!(!d.join("dataset").exists());
    assert!(!d.join("test.key").exists(), "validate creates no key");
}

#[test]
fn a_configuration_error_names_the_file_and_line_and_exits_2() {
    let d = region();
    d.write(
        "registry.toml",
        crate::util::REGISTRY.replace("institution = \"a\"", "institution = \"b\""),
    );
    let run = d.run(&["ingest", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(run.code(), 2, "{}", run.both());
    let err = run.stderr();
    assert!(
        err.contains("registry.toml") && err.contains("line 21") && err.contains("\"b\""),
        "{err}"
    );
}

/// Regression: without a platform response id, two respondents with
/// identical answers on the same day got the same id and the second was
/// dropped as a duplicate.
#[test]
fn identical_anonymous_rows_are_two_responses_and_a_re_export_is_still_recognised() {
    let d = region();
    let same = row("2024-03-01", "ZHA", "", "4");
    d.write(
        "inbox/drect_twins.csv",
        format!("{}\n{same}\n{same}\n", header()),
    );
    assert_eq!(d.run(&["ingest", "-c", "opleidingsmonitor.toml"]).code(), 0);
    let m = Dataset::open(&d.join("dataset"))
        .unwrap()
        .manifest()
        .unwrap();
    assert_eq!((m[0].rows_written, m[0].rows_duplicate), (2, 0));
    // The cumulative re-export (the same two rows and a new one) adds one.
    let new = row("2024-03-02", "ZHA", "", "5");
    d.write(
        "inbox/drect_twins_again.csv",
        format!("{}\n{same}\n{same}\n{new}\n", header()),
    );
    assert_eq!(d.run(&["ingest", "-c", "opleidingsmonitor.toml"]).code(), 0);
    let m = Dataset::open(&d.join("dataset"))
        .unwrap()
        .manifest()
        .unwrap();
    let again = m
        .iter()
        .find(|e| e.source_file == "drect_twins_again.csv")
        .unwrap();
    assert_eq!((again.rows_written, again.rows_duplicate), (3, 2));
    let ids: std::collections::HashSet<String> =
        opleidingsmonitor::dataset::read_table_as_text(&d.join("dataset/responses"))
            .unwrap()
            .into_iter()
            .filter_map(|r| r["response_id"].clone())
            .collect();
    assert_eq!(ids.len(), 3);
}

/// Regression: a file with quarantined rows was skipped forever by its
/// SHA-256, so the fix the message asked for (an alias in the registry)
/// never took effect.
#[test]
fn quarantined_rows_are_read_again_after_the_fix_the_message_asked_for() {
    let d = region();
    d.write(
        "inbox/drect_alias.csv",
        format!(
            "{}\n{}\n{}\n",
            header(),
            row("2024-04-01", "Ziekenhuis A", "p1@x.nl", "4"),
            row("2024-04-02", "St. Elsewhere", "p2@x.nl", "4")
        ),
    );
    let first = d.run(&["ingest", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(first.code(), 1, "{}", first.both());
    assert!(first.stdout().contains("aliases"));
    // Nothing changed: skipped, and no longer an error of this run.
    let again = d.run(&["ingest", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(again.code(), 0, "{}", again.both());
    assert!(again.stdout().contains("skipped"));
    // The fix: the spelling becomes an alias. The file is read again.
    d.write(
        "registry.toml",
        crate::util::REGISTRY.replace(
            "aliases = [\"ZHA\"]",
            "aliases = [\"ZHA\", \"St. Elsewhere\"]",
        ),
    );
    let fixed = d.run(&["ingest", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(fixed.code(), 0, "{}", fixed.both());
    let m = Dataset::open(&d.join("dataset"))
        .unwrap()
        .manifest()
        .unwrap();
    let e = m
        .iter()
        .find(|e| e.source_file == "drect_alias.csv")
        .unwrap();
    assert_eq!(
        (
            e.rows_read,
            e.rows_written,
            e.rows_quarantined,
            e.rows_duplicate
        ),
        (2, 2, 0, 1)
    );
    let q = opleidingsmonitor::dataset::read_table_as_text(&d.join("dataset/quarantine")).unwrap();
    assert!(
        q.is_empty(),
        "the old quarantine record of the file is gone: {q:?}"
    );
}

/// A development plan (or invitations file) with each kind of error: the
/// run stops before anything is ingested or written, with a message naming
/// the file, row, column and value.
#[test]
fn a_bad_plan_stops_the_run_before_anything_is_written() {
    let plan_header = "action_id,rso_id,institution_id,instrument,scale_id,description,owner_role,start,due,status,target";
    let good = "A1,anes-r,,d-rect,teamwork,Feedback,opleider,2024-01-01,2024-12-31,lopend,";
    let cases = [
        (
            "A2,onbekend-rso,,d-rect,teamwork,x,opleider,2024-01-01,2024-12-31,lopend,",
            "row 3, column rso_id, value \"onbekend-rso\"",
        ),
        (
            "A2,anes-r,,d-rect,teamwork,x,opleider,2024-13-01,2024-12-31,lopend,",
            "row 3, column start, value \"2024-13-01\"",
        ),
        (
            "A1,anes-r,,d-rect,teamwork,x,opleider,2024-01-01,2024-12-31,lopend,",
            "row 3, column action_id, value \"A1\"",
        ),
        (
            "A2,anes-r,,d-rect,geen_subschaal,x,opleider,2024-01-01,2024-12-31,lopend,",
            "row 3, column scale_id, value \"geen_subschaal\"",
        ),
        (
            "A2,anes-r,,geen-instrument,teamwork,x,opleider,2024-01-01,2024-12-31,lopend,",
            "row 3, column instrument, value \"geen-instrument\"",
        ),
        (
            "A2,anes-r,zzz,d-rect,teamwork,x,opleider,2024-01-01,2024-12-31,lopend,",
            "row 3, column institution_id, value \"zzz\"",
        ),
    ];
    for (bad, expected) in cases {
        let d = region();
        d.write(
            "opleidingsmonitor.toml",
            format!("{CONFIG}development_plan = \"plan.csv\"\n"),
        );
        d.write("plan.csv", format!("{plan_header}\n{good}\n{bad}\n"));
        d.write(
            "inbox/drect_good.csv",
            format!(
                "{}\n{}\n",
                header(),
                row("2024-03-01", "ZHA", "p1@x.nl", "4")
            ),
        );
        let r = d.run(&["run", "--config", "opleidingsmonitor.toml"]);
        assert_eq!(r.code(), 2, "{bad}: {}", r.both());
        assert!(r.both().contains("plan.csv"), "{}", r.both());
        assert!(r.both().contains(expected), "{expected}: {}", r.both());
        assert!(
            !d.join("dataset").exists(),
            "{bad}: nothing may be written: {:?}",
            crate::util::files_below(&d.join("dataset"))
        );
    }
    // A bad invitations row likewise.
    let d = region();
    d.write(
        "opleidingsmonitor.toml",
        format!("{CONFIG}invitations = \"uitnodigingen.csv\"\n"),
    );
    d.write(
        "uitnodigingen.csv",
        "instrument,year,institution,specialty,invited\nd-rect,2024,ZHA,anes,veel\n",
    );
    let r = d.run(&["validate", "--config", "opleidingsmonitor.toml"]);
    assert_eq!(r.code(), 2, "{}", r.both());
    assert!(
        r.both()
            .contains("uitnodigingen.csv, row 2, column invited, value \"veel\""),
        "{}",
        r.both()
    );
}

/// A template a user edited into a syntax error is named as a template
/// error (not as "configuration"), with the template's name and line.
#[test]
fn a_broken_template_is_named_as_a_template_error() {
    let d = region();
    d.write(
        "opleidingsmonitor.toml",
        format!("{CONFIG}\n[report]\ntemplates = \"mijn-sjablonen\"\n"),
    );
    d.write("mijn-sjablonen/rso.html.j2", "<h1>{{ title </h1>\n");
    let r = d.run(&["report", "--config", "opleidingsmonitor.toml"]);
    assert_eq!(r.code(), 2, "{}", r.both());
    assert!(
        r.both().contains("report template rso.html.j2"),
        "{}",
        r.both()
    );
    assert!(r.both().contains("rso.html.j2:1"), "{}", r.both());
    assert!(
        !r.both().contains("configuration rso.html.j2"),
        "{}",
        r.both()
    );
}

/// Issue #21, item 17: an export whose name fits no profile's pattern (a
/// file renamed by a mail client) is read with `--profile NAME`, by
/// `validate` and `ingest` alike; an unknown name lists the profiles.
#[test]
fn a_profile_named_on_the_command_line_reads_a_file_whatever_its_name() {
    let d = region();
    d.write(
        "inbox/export (3).csv",
        format!(
            "{}\n{}\n",
            header(),
            row("2024-04-01", "ZHA", "p1@x.nl", "4")
        ),
    );
    let v = d.run(&["validate", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(v.code(), 1, "{}", v.both());
    assert!(v.stdout().contains("--profile"), "{}", v.both());
    let v = d.run(&[
        "validate",
        "-c",
        "opleidingsmonitor.toml",
        "--profile",
        "plain",
    ]);
    assert_eq!(v.code(), 0, "{}", v.both());
    let unknown = d.run(&[
        "ingest",
        "-c",
        "opleidingsmonitor.toml",
        "--profile",
        "plian",
    ]);
    assert_eq!(unknown.code(), 2, "{}", unknown.both());
    assert!(
        unknown.stderr().contains("\"plian\"") && unknown.stderr().contains("\"plain\", \"xlsx\""),
        "{}",
        unknown.both()
    );
    assert!(!d.join("dataset/manifest").exists());
    let i = d.run(&[
        "ingest",
        "-c",
        "opleidingsmonitor.toml",
        "--profile",
        "plain",
    ]);
    assert_eq!(i.code(), 0, "{}", i.both());
    let m = Dataset::open(&d.join("dataset"))
        .unwrap()
        .manifest()
        .unwrap();
    assert_eq!((m[0].profile.as_str(), m[0].rows_written), ("plain", 1));
}

/// `validate --instrument FILE` checks a definition on its own, without a
/// configuration, and every error names the field.
#[test]
fn validate_checks_an_instrument_definition_and_names_the_field() {
    let d = Dir::new();
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/instruments/d-rect-2016.toml");
    let ok = d.run(&["validate", "--instrument", shipped]);
    assert_eq!(ok.code(), 0, "{}", ok.both());
    assert!(
        ok.stdout().contains("instrument d-rect version 2016") && ok.stdout().contains("is fine"),
        "{}",
        ok.both()
    );
    let text = std::fs::read_to_string(shipped).unwrap();
    let cases = [
        (
            text.replacen("subscale = \"", "subscale = \"x", 1),
            "[[items]]",
            "`subscale` = \"x",
        ),
        (text.replacen("rated =", "rates =", 1), "rates", "line"),
        (
            text.replacen("\nid = \"d-rect\"", "\nid = \"D RECT\"", 1),
            "field `id` = \"D RECT\"",
            "lowercase",
        ),
        (
            text.replacen("[scale]\nmin = 1", "[scale]\nmin = 9", 1),
            "[scale]: `min` = 9",
            "`max`",
        ),
    ];
    for (n, (bad, a, b)) in cases.iter().enumerate() {
        assert_ne!(bad, &text, "case {n} changed nothing");
        d.write("kapot.toml", bad);
        let r = d.run(&["validate", "--instrument", "kapot.toml"]);
        assert_eq!(r.code(), 2, "case {n}: {}", r.both());
        let err = r.stderr();
        assert!(
            err.contains("kapot.toml") && err.contains(a) && err.contains(b),
            "case {n}: {err}"
        );
    }
}
