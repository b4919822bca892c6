//! Shared helpers of the tests: a temporary folder with fixture
//! files, and the real binary run in it (after ripgrep's `Dir`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary working folder; removed when dropped.
pub struct Dir {
    tmp: tempfile::TempDir,
}

impl Dir {
    /// A new empty folder.
    pub fn new() -> Dir {
        Dir {
            tmp: tempfile::tempdir().expect("temporary folder"),
        }
    }

    /// The folder's path.
    pub fn path(&self) -> &Path {
        self.tmp.path()
    }

    /// A path inside the folder.
    pub fn join(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// Writes a file (creating folders).
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let p = self.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    /// Runs the binary with arguments in this folder.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// Runs the binary with arguments and extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(binary());
        cmd.args(args).current_dir(self.path());
        cmd.env_remove("OPLEIDINGSMONITOR_KEY");
        cmd.env_remove("OPLEIDINGSMONITOR_KEY_FILE");
        cmd.env_remove("OPLEIDINGSMONITOR_FAIL_AT");
        cmd.env_remove("OPLEIDINGSMONITOR_FLUSH_ROWS");
        // Reports say when they were made: the same day in every run.
        cmd.env("OPLEIDINGSMONITOR_TODAY", "2026-11-22");
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run(cmd.output().expect("binary runs"))
    }
}

/// The result of one run of the binary.
pub struct Run(pub Output);

impl Run {
    /// The exit code (-1 when killed by a signal).
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }

    /// Standard output.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    /// Standard error.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    /// Both, for assertion messages.
    pub fn both(&self) -> String {
        format!(
            "--- stdout\n{}\n--- stderr\n{}",
            self.stdout(),
            self.stderr()
        )
    }
}

/// Every file below a folder, sorted.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A dataset's content as sorted text lines, for comparing two runs:
/// responses and comments (without the keyed columns, which differ between
/// folders with different keys), the manifest's counts, and the aggregates.
pub fn snapshot(root: &Path) -> Snapshot {
    use opleidingsmonitor::dataset::{read_table_as_text, Dataset};
    let ds_dir = root.join("output/dataset");
    let lines = |rel: &str| {
        let mut v: Vec<String> = read_table_as_text(&ds_dir.join(rel))
            .unwrap()
            .into_iter()
            .map(|r| {
                let mut kv: Vec<String> = r
                    .into_iter()
                    // Keyed values differ between folders: each has its own key.
                    .filter(|(k, _)| {
                        !matches!(k.as_str(), "respondent_key" | "subject_key" | "response_id")
                    })
                    .map(|(k, v)| format!("{k}={v:?}"))
                    .collect();
                kv.sort();
                kv.join("|")
            })
            .collect();
        v.sort();
        v
    };
    let ds = Dataset::open(&ds_dir).unwrap();
    let mut m: Vec<String> = ds
        .manifest()
        .unwrap()
        .into_iter()
        .map(|e| {
            format!(
                "{} {} {} {} {} {}",
                e.source_file,
                e.status,
                e.rows_read,
                e.rows_written,
                e.rows_quarantined,
                e.rows_duplicate
            )
        })
        .collect();
    m.sort();
    (
        lines("responses"),
        lines("comments"),
        m,
        lines("aggregates"),
    )
}

/// Snapshots of two datasets are equal; the first difference is shown.
pub type Snapshot = (Vec<String>, Vec<String>, Vec<String>, Vec<String>);

/// Asserts two snapshots are equal, naming the table and the first
/// differing line.
pub fn assert_same(got: &Snapshot, reference: &Snapshot, label: &str) {
    for (g, r, what) in [
        (&got.0, &reference.0, "responses"),
        (&got.1, &reference.1, "comments"),
        (&got.2, &reference.2, "manifest"),
        (&got.3, &reference.3, "aggregates"),
    ] {
        assert_eq!(g.len(), r.len(), "{label}: {what} rows");
        if let Some((a, b)) = g.iter().zip(r.iter()).find(|(a, b)| a != b) {
            panic!("{label}: {what} differ:\n{a}\n{b}");
        }
    }
}

/// Every report file (not the run summary or stamps) with its bytes.
pub fn report_files(root: &Path) -> Vec<(String, Vec<u8>)> {
    let dir = root.join("output/reports");
    files_below(&dir)
        .into_iter()
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            !name.starts_with('.') && name != "run-summary.json"
        })
        .map(|p| {
            (
                p.strip_prefix(&dir).unwrap().display().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

/// A registry with one region, one institution (alias "ZHA"), one specialty
/// and one RSO, for small fixtures.
pub const REGISTRY: &str = include_str!("fixtures/registry.toml");

/// The Parquet files of an output table's folder (one per group), by file
/// name, with their bytes.
pub fn table_bytes(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    files_below(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .map(|p| {
            let name = p.strip_prefix(dir).unwrap().display().to_string();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// The binary under test: cargo's build of this tree, or the one named by
/// `OPLEIDINGSMONITOR_TEST_BIN` (to test an installed binary, or a copy
/// when several work trees share one target folder and its binary).
pub fn binary() -> std::ffi::OsString {
    std::env::var_os("OPLEIDINGSMONITOR_TEST_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_opleidingsmonitor").into())
}

/// A D-RECT 2016 CSV layout (`drect_*.csv`: Datum, Ziekenhuis,
/// Specialisme, Email, Q1..Q35), the fixture of the input tests.
pub const DRECT_CSV_PROFILE: &str = r#"
instrument = "d-rect"
version = "2016"
files = ["drect_*.csv"]
encoding = "utf-8"
delimiter = ","
[columns]
submitted_on = "Datum"
institution = "Ziekenhuis"
specialty = "Specialisme"
respondent = "Email"
[[item_patterns]]
regex = '^Q(\d+)$'
item = "d16_q{1:02}"
"#;

/// The smallest configuration: registry, profiles, dataset and key beside it.
pub const CONFIG: &str = r#"
[paths]
registry = "registry.toml"
profiles = "profiles"
dataset = "dataset"
key_file = "test.key"
"#;

/// The headings of a `DRECT_CSV_PROFILE` export.
pub fn drect_headings() -> Vec<String> {
    let mut h: Vec<String> = ["Datum", "Ziekenhuis", "Specialisme", "Email"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    h.extend((1..=35).map(|i| format!("Q{i}")));
    h
}

/// One anaesthesiology row of a `DRECT_CSV_PROFILE` export: every item 4
/// but Q3.
pub fn drect_values(date: &str, inst: &str, email: &str, q3: &str) -> Vec<String> {
    let mut r: Vec<String> = vec![
        date.into(),
        inst.into(),
        "Anesthesiologie".into(),
        email.into(),
    ];
    r.extend((1..=35).map(|i| if i == 3 { q3.to_string() } else { "4".into() }));
    r
}

/// The text of a PDF, page by page, as poppler's `pdftotext` reads the file:
/// a reader independent of the program that wrote it (poppler-utils must be
/// installed; `.ci/run` installs it).
pub fn pdf_pages(path: &Path) -> Vec<String> {
    let out = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(path)
        .arg("-")
        .output()
        .unwrap_or_else(|e| {
            panic!("pdftotext (Debian package poppler-utils) reads the PDFs in tests: {e}")
        });
    assert!(
        out.status.success(),
        "pdftotext {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    // Every page ends with a form feed: the last piece is what follows the
    // last page.
    let mut pages: Vec<String> = text.split('\u{c}').map(String::from).collect();
    pages.pop();
    pages
}
