//! The subcommands: one file each, all the same shape (a clap `Args` struct
//! and `run(args, &Config) -> anyhow::Result<ExitCode>`). They parse, call
//! the library and print; the work lives in the stage modules.

pub mod aggregate;
pub mod ingest;
pub mod register;
pub mod report;
pub mod run;
pub mod sample;
pub mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use opleidingsmonitor::config::Config;
use opleidingsmonitor::ingest::pseudonym::{KeySource, PseudonymKey};
use opleidingsmonitor::job::batch::{BatchReport, FileStatus};

/// Exit code: everything went well.
pub const EXIT_OK: u8 = 0;
/// Exit code: finished, but some files or rows were quarantined.
pub const EXIT_PARTIAL: u8 = 1;
/// Exit code: configuration or fatal error; nothing was written.
pub const EXIT_FATAL: u8 = 2;

/// Exit code: another run holds the dataset's lock; nothing was done.
pub const EXIT_LOCKED: u8 = 3;

/// How the exit codes are explained in `--help`.
pub const EXIT_CODES_HELP: &str = "Exit codes:
  0    all good
  1    finished, but some files or rows were quarantined (see the run summary
       and the quarantine table); a file that made a library panic is one of
       them: refused with the library's message, the others read
  2    wrong command line, configuration error, or a fatal error (what was
       committed before it stays; run writes its summary with the error)
  3    another run is using the same dataset; nothing was done, no summary
       written
  101  a bug in the program itself: please report the message
";

/// The exit code for a library error.
pub fn exit_code_for(e: &opleidingsmonitor::Error) -> u8 {
    match e {
        opleidingsmonitor::Error::Locked(_) => EXIT_LOCKED,
        _ => EXIT_FATAL,
    }
}

/// `--config FILE`, shared by every command that reads a configuration.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArg {
    /// The configuration file (opleidingsmonitor.toml); paths in it are
    /// relative to it.
    #[arg(
        long,
        short = 'c',
        value_name = "FILE",
        env = "OPLEIDINGSMONITOR_CONFIG"
    )]
    pub config: PathBuf,
}

/// The paths to read: the given ones, or the config's inbox.
pub fn input_paths(given: &[PathBuf], config: &Config) -> Vec<PathBuf> {
    if given.is_empty() {
        vec![config.paths.inbox.clone()]
    } else {
        given.to_vec()
    }
}

/// Loads the pseudonymisation key, creating it on first use when allowed,
/// and says so once.
pub fn load_key(config: &Config, create: bool) -> anyhow::Result<PseudonymKey> {
    let (key, source) = PseudonymKey::load(&config.paths.key_file, create)?;
    if let KeySource::Created(path) = source {
        eprintln!(
            "Created the pseudonymisation key {} (readable by you only). Keep it safe and outside the dataset: without it, new data cannot be linked to earlier pseudonyms.",
            path.display()
        );
    }
    Ok(key)
}

/// Prints one table line per file and the reasons rows were rejected.
/// `written` says "ok" for a validation, which writes nothing.
pub fn print_batch(report: &BatchReport, max_problems: usize, written: &str) {
    let width = report
        .files
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(4)
        .clamp(4, 60);
    println!(
        "{:<width$}  {:<7}  {:>6}  {:>7}  {:>11}  {:>9}  profile",
        "file", "status", "read", written, "quarantined", "duplicate"
    );
    for f in &report.files {
        println!(
            "{:<width$}  {:<7}  {:>6}  {:>7}  {:>11}  {:>9}  {}",
            f.name,
            f.status.as_str(),
            f.rows_read,
            f.rows_written,
            f.rows_quarantined,
            f.rows_duplicate,
            if f.profile.is_empty() {
                "-"
            } else {
                &f.profile
            }
        );
    }
    for f in report.files.iter().filter(|f| !f.note.is_empty()) {
        println!("{}: {}, {}", f.name, f.status.as_str(), f.note);
    }
    for f in report.files.iter().filter(|f| !f.problems.is_empty()) {
        println!();
        let what = if f.status == FileStatus::Failed {
            "rejected"
        } else {
            "rows quarantined"
        };
        println!("{} ({what}):", f.name);
        for p in f.problems.iter().take(max_problems) {
            let val = p
                .value
                .as_deref()
                .map(|v| format!(", value {v:?}"))
                .unwrap_or_default();
            let at = place(p.source_row, p.column.as_deref());
            println!("  {}: {at}{val}: {}", f.name, p.reason);
        }
        if f.problems.len() > max_problems {
            println!(
                "  ... and {} more (all are in dataset/quarantine)",
                f.problems.len() - max_problems
            );
        }
    }
}

/// "row 3, column "Q1"" (or "file") for a problem's place.
pub fn place(row: Option<u32>, column: Option<&str>) -> String {
    let row = row
        .map(|r| format!("row {r}"))
        .unwrap_or_else(|| "file".into());
    let col = column
        .map(|c| format!(", column {c:?}"))
        .unwrap_or_default();
    format!("{row}{col}")
}

/// The exit code for a batch.
pub fn batch_exit(report: &BatchReport) -> ExitCode {
    if report.has_quarantine() {
        ExitCode::from(EXIT_PARTIAL)
    } else {
        ExitCode::from(EXIT_OK)
    }
}
