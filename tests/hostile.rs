//! Hostile and broken input (issue #21): every file is refused or handled
//! with a message naming the file and the rule, never a crash; the good
//! files of the same batch are ingested, and rows read = rows written +
//! rows quarantined for every file.

use std::io::Write;

use crate::util::{drect_headings, drect_values, Dir, CONFIG, DRECT_CSV_PROFILE as DRECT_CSV};
use opleidingsmonitor::dataset::{read_table_as_text, Dataset, ManifestEntry};

/// The same layout as an XLSX workbook.
const DRECT_XLSX: &str = r#"
instrument = "d-rect"
version = "2016"
files = ["drect_*.xlsx"]
format = "xlsx"
[columns]
submitted_on = "Datum"
institution = "Ziekenhuis"
specialty = "Specialisme"
respondent = "Email"
[[item_patterns]]
regex = '^Q(\d+)$'
item = "d16_q{1:02}"
"#;

/// The example exit survey, for its open answers (tops and tips).
const EXIT_CSV: &str = r#"
instrument = "exit"
version = "example"
files = ["exit_*.csv"]
encoding = "utf-8"
delimiter = ";"
[columns]
submitted_on = "Datum"
institution = "Ziekenhuis"
specialty = "Specialisme"
[[item_patterns]]
regex = '^(exit_\w+)$'
item = "{1}"
"#;

fn headings() -> Vec<String> {
    drect_headings()
}

fn values(date: &str, inst: &str, email: &str, q3: &str) -> Vec<String> {
    drect_values(date, inst, email, q3)
}

fn csv_row(date: &str, inst: &str, email: &str, q3: &str) -> String {
    values(date, inst, email, q3).join(",")
}

/// One good D-RECT export beside whatever a test adds: the rest of the
/// batch that must go on.
fn good_export(d: &Dir, email: &str) {
    d.write(
        "inbox/drect_good.csv",
        format!(
            "{}\n{}\n",
            headings().join(","),
            csv_row("2024-03-01", "ZHA", email, "4")
        ),
    );
}

fn region() -> Dir {
    let d = Dir::new();
    d.write("opleidingsmonitor.toml", CONFIG);
    d.write("registry.toml", crate::util::REGISTRY);
    d.write("profiles/drect-csv.toml", DRECT_CSV);
    d.write("profiles/drect-xlsx.toml", DRECT_XLSX);
    d.write("profiles/exit-csv.toml", EXIT_CSV);
    d
}

/// An XLSX workbook written by hand: one sheet whose XML is `sheet_data`
/// (the `<row>` elements, inline strings) with the declared `dimension`.
/// Built by hand so the test controls exactly what a hostile file says.
fn workbook(dimension: &str, sheet_data: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let parts = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#
                .to_string(),
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
                .to_string(),
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Blad1" sheetId="1" r:id="rId1"/></sheets></workbook>"#
                .to_string(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
                .to_string(),
        ),
        (
            "xl/worksheets/sheet1.xml",
            format!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="{dimension}"/><sheetData>{sheet_data}</sheetData></worksheet>"#
            ),
        ),
    ];
    for (name, text) in parts {
        zip.start_file(name, opts).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// The XML of one row of inline-string cells from column A.
fn xml_row(row: u32, cells: &[String]) -> String {
    let mut s = format!("<row r=\"{row}\">");
    for (i, c) in cells.iter().enumerate() {
        let col = opleidingsmonitor::ingest::decode::column_letters(i as u32);
        s.push_str(&format!(
            "<c r=\"{col}{row}\" t=\"inlineStr\"><is><t>{c}</t></is></c>"
        ));
    }
    s.push_str("</row>");
    s
}

fn manifest(d: &Dir) -> Vec<ManifestEntry> {
    Dataset::open(&d.join("dataset"))
        .unwrap()
        .manifest()
        .unwrap()
}

fn entry<'m>(m: &'m [ManifestEntry], name: &str) -> &'m ManifestEntry {
    m.iter()
        .find(|e| e.source_file == name)
        .unwrap_or_else(|| panic!("{name} not in the manifest: {m:?}"))
}

/// The line of the ingest's output about `file` that holds every part.
fn line<'o>(out: &'o str, file: &str, parts: &[&str]) -> &'o str {
    out.lines()
        .find(|l| {
            l.trim_start().starts_with(&format!("{file}:")) && parts.iter().all(|p| l.contains(p))
        })
        .unwrap_or_else(|| panic!("no message for {file} with {parts:?} in\n{out}"))
}

#[test]
fn hostile_files_are_refused_or_quarantined_and_the_good_files_go_on() {
    let d = region();
    let h = headings().join(",");
    let good = [
        csv_row("2024-03-01", "Ziekenhuis A", "p1@x.nl", "5"),
        csv_row("2024-03-02", "ZHA", "p2@x.nl", "4"),
    ];
    d.write(
        "inbox/drect_good.csv",
        format!("{h}\n{}\n", good.join("\n")),
    );

    // 1. A far cell: the sheet declares A1:XFD1048576 and has a value at
    // XFD1048576, besides a header and one good row. calamine's range
    // asked for 16,384 x 1,048,576 cells (about 550 GB) and aborted.
    let far = workbook(
        "A1:XFD1048576",
        &format!(
            "{}{}<row r=\"1048576\"><c r=\"XFD1048576\" t=\"inlineStr\"><is><t>oeps</t></is></c></row>",
            xml_row(1, &headings()),
            xml_row(2, &values("2024-03-05", "ZHA", "p3@x.nl", "3")),
        ),
    );
    assert!(far.len() < 15_000, "a small file: {} bytes", far.len());
    d.write("inbox/drect_farcell.xlsx", &far);
    // The same stray cell in the header row: nothing can be placed.
    let far_header_xml = xml_row(1, &headings()).replace(
        "</row>",
        "<c r=\"XFD1\" t=\"inlineStr\"><is><t>XFD</t></is></c></row>",
    );
    d.write(
        "inbox/drect_farheader.xlsx",
        workbook(
            "A1:XFD2",
            &format!(
                "{far_header_xml}{}",
                xml_row(2, &values("2024-03-05", "ZHA", "p3@x.nl", "3"))
            ),
        ),
    );

    // 2. A zip bomb: a sheet that unpacks to 300 MB from about 300 KB.
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9));
    zip.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    let block = vec![b' '; 1 << 20];
    for _ in 0..300 {
        zip.write_all(&block).unwrap();
    }
    let bomb = zip.finish().unwrap().into_inner();
    assert!(bomb.len() < 1_000_000, "{} bytes", bomb.len());
    d.write("inbox/drect_bomb.xlsx", &bomb);

    // 3. A duplicated column the profile maps: "Ziekenhuis" twice.
    let mut dup_h = headings();
    dup_h.push("Ziekenhuis".into());
    let mut dup_r = values("2024-03-01", "ZHA", "p4@x.nl", "4");
    dup_r.push("Ziekenhuis A".into());
    d.write(
        "inbox/drect_dup.csv",
        format!("{}\n{}\n", dup_h.join(","), dup_r.join(",")),
    );
    // ... and "Email" twice, the respondent: which copy is the person?
    let mut dup_e = headings();
    dup_e[38] = "Email".into();
    d.write(
        "inbox/drect_dupmail.csv",
        format!(
            "{}\n{}\n",
            dup_e.join(","),
            csv_row("2024-03-01", "ZHA", "p5@x.nl", "4")
        ),
    );

    // 4. Dates after today (OPLEIDINGSMONITOR_TODAY = 2026-11-22 in tests;
    // the default grace is one day) and a date in no format.
    d.write(
        "inbox/drect_future.csv",
        format!(
            "{h}\n{}\n{}\n{}\n{}\n",
            csv_row("2026-11-22", "ZHA", "p6@x.nl", "4"),
            csv_row("2026-11-23", "ZHA", "p7@x.nl", "4"),
            csv_row("2026-11-24", "ZHA", "p8@x.nl", "4"),
            csv_row("gisteren", "ZHA", "p9@x.nl", "4"),
        ),
    );

    // 5. Bidi overrides, zero-width and control characters: in an open
    // answer (shown reversed in a report), in an institution name (the
    // alias "ZHA" must still match), in a heading.
    d.write(
        "inbox/exit_bidi.csv",
        "Datum;Ziekenhuis;Specialisme;exit_q01;exit_t\u{200b}ops;exit_tips\n\
             2024-05-01;Z\u{200b}H\u{2066}A\u{2069};Anesthesiologie;4;Goede \u{202e}supervisie\u{202c} en\u{7} feedback;Meer \u{feff}onderwijs\n\
             2024-05-02;ZHA;Anesthesiologie;5;Prima;\n",
    );

    // 6. An e-mail address typed into an item column and into the
    // institution column; a value of 5,000 characters; a cell over
    // limits.max_cell_chars (100,000 by default).
    d.write(
        "inbox/drect_email.csv",
        format!(
            "{h}\n{}\n{}\n{}\n{}\n{}\n",
            csv_row("2024-03-01", "ZHA", "p10@x.nl", "jan.jansen@umcl.nl"),
            csv_row("2024-03-01", "piet.puk@umcl.nl", "p11@x.nl", "4"),
            csv_row("2024-03-01", "ZHA", "p12@x.nl", &"x".repeat(5000)),
            csv_row("2024-03-01", "ZHA", "p13@x.nl", "4"),
            csv_row("2024-03-01", "ZHA", "p14@x.nl", &"y".repeat(100_001)),
        ),
    );

    let started = std::time::Instant::now();
    let run = d.run(&["ingest", "--config", "opleidingsmonitor.toml"]);
    let out = run.stdout();
    assert_eq!(run.code(), 1, "partial, no crash: {}", run.both());
    assert!(
        started.elapsed().as_secs() < 60,
        "bounded: {:?}",
        started.elapsed()
    );
    assert!(!run.stderr().contains("panicked"), "{}", run.both());

    // Every message names the file (at the start of its line) and the rule.
    line(
        &out,
        "drect_farcell.xlsx",
        &[
            "row 1048576",
            "cell XFD1048576",
            "column 16384",
            "limits.max_columns = 2000",
            "Ctrl+End",
        ],
    );
    line(
        &out,
        "drect_farheader.xlsx",
        &["header row 1", "XFD1", "limits.max_columns = 2000"],
    );
    line(
        &out,
        "drect_bomb.xlsx",
        &[
            "file",
            "xl/worksheets/sheet1.xml",
            "300 MB",
            "limits.max_xlsx_part_bytes = 268435456",
            "zip bomb",
        ],
    );
    line(
        &out,
        "drect_dup.csv",
        &[
            "column \"Ziekenhuis\" appears twice",
            "column B (2)",
            "column AN (40)",
            "institution",
        ],
    );
    line(
        &out,
        "drect_dupmail.csv",
        &["\"Email\" appears twice", "column D (4)", "column AM (39)"],
    );
    line(
        &out,
        "drect_future.csv",
        &[
            "row 4",
            "2026-11-24",
            "after today (2026-11-22)",
            "limits.future_days = 1",
        ],
    );
    let bad_date = line(&out, "drect_future.csv", &["row 5", "\"gisteren\""]);
    // Every format tried is named: the profile's ten defaults and the ISO
    // form with a T.
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%d-%m-%Y",
        "%m/%d/%Y %I:%M:%S %p",
        "%d/%m/%Y %H:%M:%S",
        "%d/%m/%Y %H:%M",
        "%d/%m/%Y",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        assert!(bad_date.contains(f), "{f} missing in {bad_date}");
    }
    let mail_item = line(&out, "drect_email.csv", &["row 2", "column \"Q3\""]);
    assert!(mail_item.contains("[e-mail verwijderd]"), "{mail_item}");
    line(
        &out,
        "drect_email.csv",
        &["row 3", "unknown institution \"[e-mail verwijderd]\""],
    );
    let long = line(&out, "drect_email.csv", &["row 4", "(5000 characters)"]);
    assert!(long.len() < 1000, "clipped: {} characters", long.len());
    let huge = line(
        &out,
        "drect_email.csv",
        &[
            "row 6",
            "column \"Q3\"",
            "100001 characters, more than limits.max_cell_chars = 100000",
        ],
    );
    assert!(huge.len() < 1000, "clipped: {} characters", huge.len());
    for address in ["jan.jansen@umcl.nl", "piet.puk@umcl.nl"] {
        assert!(!out.contains(address), "{address} echoed:\n{out}");
    }

    // The manifest: good files and good rows in, the rest counted.
    let m = manifest(&d);
    for e in &m {
        assert_eq!(e.rows_read, e.rows_written + e.rows_quarantined, "{e:?}");
    }
    let counts = |name: &str| {
        let e = entry(&m, name);
        (
            e.status.as_str(),
            e.rows_read,
            e.rows_written,
            e.rows_quarantined,
        )
    };
    assert_eq!(counts("drect_good.csv"), ("ingested", 2, 2, 0));
    assert_eq!(counts("drect_farcell.xlsx"), ("ingested", 2, 1, 1));
    assert_eq!(counts("drect_farheader.xlsx"), ("failed", 1, 0, 1));
    assert_eq!(counts("drect_bomb.xlsx").0, "failed");
    assert_eq!(counts("drect_dup.csv"), ("failed", 1, 0, 1));
    assert_eq!(counts("drect_dupmail.csv"), ("failed", 1, 0, 1));
    assert_eq!(counts("drect_future.csv"), ("ingested", 4, 2, 2));
    assert_eq!(counts("exit_bidi.csv"), ("ingested", 2, 2, 0));
    assert_eq!(counts("drect_email.csv"), ("ingested", 5, 1, 4));

    // The far cell's good row is in the dataset, read from the XLSX.
    let responses = read_table_as_text(&d.join("dataset/responses")).unwrap();
    let from = |file: &str| {
        responses
            .iter()
            .filter(|r| r["source_file"].as_deref() == Some(file))
            .count()
    };
    assert_eq!(from("drect_farcell.xlsx"), 35, "one response, 35 items");

    // The open answers are stored without the invisible characters.
    let comments = read_table_as_text(&d.join("dataset/comments")).unwrap();
    let mut texts: Vec<String> = comments.iter().filter_map(|r| r["text"].clone()).collect();
    texts.sort();
    assert_eq!(
        texts,
        ["Goede supervisie en feedback", "Meer onderwijs", "Prima"]
    );

    // The quarantine holds no address, and no value over the bound.
    let q = read_table_as_text(&d.join("dataset/quarantine")).unwrap();
    for r in &q {
        for v in r.values().flatten() {
            assert!(!v.contains("@umcl.nl"), "{v}");
            assert!(v.chars().count() < 1200, "{} characters", v.chars().count());
        }
    }
    let q3 = q
        .iter()
        .find(|r| {
            r["source_file"].as_deref() == Some("drect_email.csv")
                && r["source_row"].as_deref() == Some("2")
        })
        .expect("row 2 quarantined");
    assert_eq!(q3["value"].as_deref(), Some("[e-mail verwijderd]"));

    // The hostile files stay in the inbox: the following run finishes (the
    // refused files reported again, exit 1, nothing crashes) and the
    // reports are made.
    let next = d.run(&["run", "--config", "opleidingsmonitor.toml"]);
    assert_eq!(next.code(), 1, "{}", next.both());
    let report = d.run(&["report", "--config", "opleidingsmonitor.toml"]);
    assert_eq!(report.code(), 0, "{}", report.both());
    assert!(
        crate::util::files_below(&d.join("reports"))
            .iter()
            .any(|f| f.extension().is_some_and(|x| x == "html")),
        "reports were made"
    );
}

/// Regression: a first run on a full disk left a 0-byte key file, and every
/// later run failed on it. A failed write leaves no key; the next run makes
/// a whole one, readable by its owner only.
#[test]
fn a_key_write_that_fails_leaves_no_key_and_the_next_run_makes_one() {
    let d = region();
    good_export(&d, "p1@x.nl");
    let full = d.run_env(
        &["ingest", "-c", "opleidingsmonitor.toml"],
        &[("OPLEIDINGSMONITOR_FAIL_AT", "key-write")],
    );
    assert_eq!(full.code(), 2, "{}", full.both());
    assert!(
        full.stderr().contains("No key was written") && full.stderr().contains("disk space"),
        "{}",
        full.both()
    );
    assert!(
        !d.join("test.key").exists(),
        "no key file after the failure"
    );
    assert!(!d.join("dataset/manifest").exists(), "nothing ingested");
    let leftovers: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("key"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let ok = d.run(&["ingest", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(ok.code(), 0, "{}", ok.both());
    let key = std::fs::read_to_string(d.join("test.key")).unwrap();
    assert_eq!(key.trim().len(), 64, "a whole key of 32 bytes, hex");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.join("test.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[cfg(unix)]
#[test]
fn a_key_file_others_can_read_is_refused_with_the_chmod_to_run() {
    use std::os::unix::fs::PermissionsExt;
    let d = region();
    good_export(&d, "p1@x.nl");
    assert_eq!(d.run(&["ingest", "-c", "opleidingsmonitor.toml"]).code(), 0);
    let key = d.join("test.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    // (`validate` falls back to a throwaway key on any key error, so the
    // refusal shows on `ingest`.)
    let refused = d.run(&["ingest", "-c", "opleidingsmonitor.toml"]);
    assert_eq!(refused.code(), 2, "{}", refused.both());
    let err = refused.stderr();
    assert!(
        err.contains("0640") && err.contains(&format!("chmod 600 {}", key.display())),
        "{err}"
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(
        d.run(&["validate", "-c", "opleidingsmonitor.toml"]).code(),
        0
    );
}

/// An open answer longer than an Excel cell holds (32,767 characters): it
/// is ingested whole, and every later run and report succeeds, the
/// workbook showing it cut with a marker.
#[test]
fn an_answer_longer_than_an_excel_cell_does_not_stop_the_reports() {
    let d = Dir::new();
    d.write(
        "opleidingsmonitor.toml",
        "[paths]\nregistry = \"registry.toml\"\nprofiles = \"profiles\"\ndataset = \"dataset\"\nreports = \"reports\"\nkey_file = \"test.key\"\n",
    );
    d.write("registry.toml", crate::util::REGISTRY);
    d.write(
        "profiles/exit.toml",
        r#"
instrument = "exit"
version = "example"
files = ["exit_*.csv"]
encoding = "utf-8"
delimiter = ","
[columns]
submitted_on = "Datum"
institution = "Ziekenhuis"
specialty = "Specialisme"
respondent = "Email"
[items]
"Tops" = "exit_tops"
[[item_patterns]]
regex = '^Vraag (\d+)$'
item = "exit_q{1:02}"
"#,
    );
    let long = format!("Heel goed: {}", "x".repeat(40_000));
    let mut csv = String::from("Datum,Ziekenhuis,Specialisme,Email");
    for q in 1..=9 {
        csv.push_str(&format!(",Vraag {q}"));
    }
    csv.push_str(",Tops\n");
    for p in 1..=5 {
        csv.push_str(&format!("2024-0{p}-01,ZHA,Anesthesiologie,p{p}@x.nl"));
        for q in 1..=9 {
            csv.push_str(if q == 9 { ",8" } else { ",4" });
        }
        let tops = if p == 1 {
            long.as_str()
        } else {
            "Prettige sfeer"
        };
        csv.push_str(&format!(",\"{tops}\"\n"));
    }
    d.write("inbox/exit_2024.csv", csv);
    let env = [("OPLEIDINGSMONITOR_TODAY", "2025-06-30")];
    let first = d.run_env(&["run", "--config", "opleidingsmonitor.toml"], &env);
    assert_eq!(first.code(), 0, "{}", first.both());
    // The dataset keeps the whole answer.
    let comments = read_table_as_text(&d.join("dataset/comments")).unwrap();
    assert!(
        comments.iter().any(|c| c["text"]
            .as_deref()
            .is_some_and(|t| t.chars().count() == long.chars().count())),
        "the whole answer is stored"
    );
    // The workbook shows it cut, with the marker.
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let mut book: Xlsx<_> = open_workbook(d.join("reports/2023-2024/tables.xlsx")).unwrap();
    let sheet = book.worksheet_range("opmerkingen").unwrap();
    let cut = sheet
        .rows()
        .flat_map(|r| r.iter())
        .find_map(|c| match c {
            Data::String(s) if s.starts_with("Heel goed") => Some(s.clone()),
            _ => None,
        })
        .expect("the long answer is in the workbook's comments");
    assert!(cut.chars().count() <= 32_767, "{}", cut.chars().count());
    assert!(
        cut.ends_with("(afgekapt: 40011 tekens)"),
        "{}",
        &cut[cut.len() - 40..]
    );
    // Every later command still works.
    let again = d.run_env(&["report", "--config", "opleidingsmonitor.toml"], &env);
    assert_eq!(again.code(), 0, "{}", again.both());
    let forced = d.run_env(
        &["run", "--config", "opleidingsmonitor.toml", "--force"],
        &env,
    );
    assert_eq!(forced.code(), 0, "{}", forced.both());
}

/// The inbox is untrusted: a symbolic link (to the key file, to a file
/// outside) and a FIFO are skipped with a warning, never read; the good
/// file beside them is ingested, and the key appears in no output.
#[test]
fn links_and_pipes_in_the_inbox_are_skipped_never_read() {
    let d = region();
    good_export(&d, "p1@x.nl");
    // The key exists before the run, so a link to it could be followed.
    let first = d.run(&["run", "--config", "opleidingsmonitor.toml"]);
    assert_eq!(first.code(), 0, "{}", first.both());
    let key = std::fs::read_to_string(d.join("test.key")).unwrap();
    std::os::unix::fs::symlink(d.join("test.key"), d.join("inbox/drect_key.csv")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", d.join("inbox/drect_passwd.csv")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", d.join("inbox/drect_zero.csv")).unwrap();
    let fifo = d.join("inbox/drect_fifo.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let r = d.run(&["run", "--config", "opleidingsmonitor.toml"]);
    assert_eq!(r.code(), 0, "{}", r.both());
    for name in [
        "drect_key.csv",
        "drect_passwd.csv",
        "drect_zero.csv",
        "drect_fifo.csv",
    ] {
        assert!(
            r.both()
                .lines()
                .any(|l| l.contains("skipped") && l.contains(name)),
            "{name} is named as skipped: {}",
            r.both()
        );
    }
    assert!(r.both().contains("symbolic link"), "{}", r.both());
    let key_text = key.trim();
    for f in crate::util::files_below(d.path()) {
        let is_link = std::fs::symlink_metadata(&f).is_ok_and(|m| m.file_type().is_symlink());
        if f.ends_with("test.key") || f == fifo || is_link {
            continue;
        }
        let bytes = std::fs::read(&f).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(key_text) && !text.contains("root:x:0:0"),
            "{} holds the key or /etc/passwd",
            f.display()
        );
    }
    // The manifest lists the good file only.
    let names: Vec<String> = manifest(&d).into_iter().map(|m| m.source_file).collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

/// The lock is taken on the dataset's real path: the same dataset reached
/// through a symbolic link is the same lock.
#[test]
fn the_lock_holds_through_a_symlinked_path() {
    use opleidingsmonitor::dataset::RunLock;
    let d = Dir::new();
    std::fs::create_dir_all(d.join("real/dataset")).unwrap();
    std::os::unix::fs::symlink(d.join("real"), d.join("via")).unwrap();
    let held = RunLock::acquire(&d.join("real/dataset")).unwrap();
    let again = RunLock::acquire(&d.join("via/dataset"));
    assert!(
        matches!(again, Err(opleidingsmonitor::Error::Locked(_))),
        "the second path to the same dataset must be refused"
    );
    drop(held);
    assert!(RunLock::acquire(&d.join("via/dataset")).is_ok());
}

/// Issue #21: a panic inside a library while one file is read (a hostile
/// file its authors did not foresee) ended the whole run with a stack
/// trace and exit code 101. Now the file is refused with the library and
/// its message, and the batch goes on.
#[test]
fn a_panic_while_reading_one_file_refuses_that_file_and_the_batch_goes_on() {
    // Read whole, and streamed (as a large CSV is).
    for streamed in [false, true] {
        a_panic_while_reading_one_file(streamed);
    }
}

fn a_panic_while_reading_one_file(streamed: bool) {
    let d = region();
    let rows = |date: &str| {
        format!(
            "{}\n{}\n{}\n",
            headings().join(","),
            csv_row(date, "ZHA", "a@x.nl", "4"),
            csv_row(date, "ZHA", "b@x.nl", "5")
        )
    };
    d.write("inbox/drect_1.csv", rows("2024-03-01"));
    d.write("inbox/drect_2.csv", rows("2024-03-02"));
    d.write("inbox/drect_3.csv", rows("2024-03-03"));
    let stream = (
        "OPLEIDINGSMONITOR_STREAM_BYTES",
        if streamed { "0" } else { "16777216" },
    );
    let fail = [
        ("OPLEIDINGSMONITOR_FAIL_AT", "ingest-panic:drect_2.csv"),
        stream,
    ];
    let v = d.run_env(&["validate", "-c", "opleidingsmonitor.toml"], &fail);
    assert_eq!(v.code(), 1, "{}", v.both());
    let r = d.run_env(&["run", "-c", "opleidingsmonitor.toml"], &fail);
    assert_eq!(r.code(), 1, "{}", r.both());
    assert!(!r.stderr().contains("panicked"), "{}", r.both());
    let m = manifest(&d);
    let bad = entry(&m, "drect_2.csv");
    assert_eq!(bad.status, "failed");
    assert!(
        bad.message.starts_with(
            "the file could not be read: internal error in opleidingsmonitor: OPLEIDINGSMONITOR_FAIL_AT=ingest-panic:drect_2.csv"
        ),
        "{}",
        bad.message
    );
    assert_eq!((bad.rows_read, bad.rows_quarantined), (2, 2));
    for good in ["drect_1.csv", "drect_3.csv"] {
        let e = entry(&m, good);
        assert_eq!((e.status.as_str(), e.rows_written), ("ingested", 2));
    }
    assert!(
        r.stdout().contains("internal error in opleidingsmonitor"),
        "{}",
        r.both()
    );
    // The same bytes with the same settings are not read again (a reader
    // that panicked on them would panic again); a new program version or
    // changed settings (here: its profile edited) read the file again.
    let same = d.run_env(&["run", "-c", "opleidingsmonitor.toml"], &[stream]);
    assert_eq!(same.code(), 1, "{}", same.both());
    d.write("profiles/drect-csv.toml", format!("# edited\n{DRECT_CSV}"));
    let again = d.run_env(&["run", "-c", "opleidingsmonitor.toml"], &[stream]);
    assert_eq!(again.code(), 0, "{}", again.both());
    assert_eq!(entry(&manifest(&d), "drect_2.csv").rows_written, 2);
}

/// A file refused as a whole is remembered by its SHA-256: the next run
/// does not read it again (a zip bomb is not unpacked every night) but
/// still reports it as refused; changed bytes are read again.
#[test]
fn a_refused_file_is_not_read_again_until_it_changes() {
    let d = region();
    let mut dup_h = headings();
    dup_h.push("Ziekenhuis".into());
    let mut dup_r = values("2024-03-01", "ZHA", "p1@x.nl", "4");
    dup_r.push("ZHA".into());
    d.write(
        "inbox/drect_dup.csv",
        format!("{}\n{}\n", dup_h.join(","), dup_r.join(",")),
    );
    let first = d.run(&["run", "--config", "opleidingsmonitor.toml"]);
    assert_eq!(first.code(), 1, "{}", first.both());
    assert!(!first.both().contains("refused before"), "{}", first.both());
    let second = d.run(&["run", "--config", "opleidingsmonitor.toml"]);
    assert_eq!(second.code(), 1, "still refused: {}", second.both());
    let summary = std::fs::read_to_string(d.join("reports/run-summary.json")).unwrap();
    assert!(summary.contains("refused before"), "{summary}");
    // One manifest entry: the second run added none.
    let failed = manifest(&d)
        .into_iter()
        .filter(|m| m.source_file.ends_with("drect_dup.csv"))
        .count();
    assert_eq!(failed, 1);
    // Fixed bytes are read again.
    d.write(
        "inbox/drect_dup.csv",
        format!(
            "{}\n{}\n",
            headings().join(","),
            csv_row("2024-03-01", "ZHA", "p1@x.nl", "4")
        ),
    );
    let third = d.run(&["run", "--config", "opleidingsmonitor.toml"]);
    assert_eq!(third.code(), 0, "{}", third.both());
}

/// The dataset holds pseudonymised personal data: nothing the program
/// writes is readable by others.
#[test]
fn what_the_program_writes_is_not_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let d = region();
    good_export(&d, "p1@x.nl");
    let r = d.run(&["run", "--config", "opleidingsmonitor.toml"]);
    assert_eq!(r.code(), 0, "{}", r.both());
    let mut checked = 0;
    for dir in ["dataset", "reports"] {
        for f in crate::util::files_below(&d.join(dir)) {
            let mode = std::fs::metadata(&f).unwrap().permissions().mode();
            assert_eq!(mode & 0o007, 0, "{} is {mode:o}", f.display());
            checked += 1;
        }
    }
    assert!(checked > 5, "{checked} files checked");
}

/// Very many tiny rows (the issue's 6.5 million one-cell rows), tried with
/// the limit lowered so the test stays small: the file is refused whole,
/// named with the limit and its setting, the good file beside it goes in,
/// and the summary stays small.
#[test]
fn a_file_with_more_rows_than_the_limit_is_refused_whole() {
    let d = region();
    d.write(
        "opleidingsmonitor.toml",
        format!("{CONFIG}\n[limits]\nmax_rows = 1000\n"),
    );
    let mut many = headings().join(",");
    many.push('\n');
    for i in 0..1500 {
        many.push_str(&csv_row("2024-03-01", "ZHA", &format!("p{i}@x.nl"), "4"));
        many.push('\n');
    }
    d.write("inbox/drect_many.csv", many);
    good_export(&d, "a@x.nl");
    let r = d.run(&["run", "--config", "opleidingsmonitor.toml"]);
    assert_eq!(r.code(), 1, "{}", r.both());
    let m = manifest(&d);
    let many = entry(&m, "drect_many.csv");
    assert_eq!(many.status, "failed", "{many:?}");
    assert!(many.message.contains("limits.max_rows"), "{}", many.message);
    assert_eq!(many.rows_read, many.rows_written + many.rows_quarantined);
    let good = entry(&m, "drect_good.csv");
    assert_eq!((good.status.as_str(), good.rows_written), ("ingested", 1));
    let summary = std::fs::metadata(d.join("reports/run-summary.json")).unwrap();
    assert!(summary.len() < 100_000, "{} bytes", summary.len());
}
