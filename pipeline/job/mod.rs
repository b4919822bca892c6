//! The scheduled job: one command that does everything that is due.
//!
//! This module owns the order of a run and its bookkeeping: take the
//! dataset's lock, ingest what is new in the inbox, re-aggregate when the
//! data (or the settings that shape the aggregates) changed, and describe
//! the run in a machine-readable summary for the scheduler. With nothing new
//! it writes nothing. It leaves the work itself to `batch`, `aggregate` and
//! `privacy`, and printing to the command line.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub mod aggregate;
pub mod batch;

use crate::config::Config;
use crate::dataset::{manifest_fingerprint, write_file_atomic, Dataset, RunLock};
use crate::error::{Error, Result};
use crate::ingest::pseudonym::PseudonymKey;
use batch::{FileStatus, Mode};

/// Where the stamp of the last aggregation is kept: the manifest and the
/// settings the aggregates were made from.
pub fn aggregate_stamp_path(dataset: &Path) -> PathBuf {
    dataset.join("aggregates/SOURCE")
}

/// The stamp the current dataset and settings would give.
pub fn current_stamp(config: &Config) -> Result<String> {
    let ds = Dataset::open_read_only(&config.paths.dataset);
    Ok(stamp_of(&ds.manifest()?, config))
}

/// The stamp of this manifest with the current settings, the program
/// version and the output layout: a new version aggregates again, also
/// when no data came in.
fn stamp_of(manifest: &[crate::dataset::ManifestEntry], config: &Config) -> String {
    format!(
        "program {} output layout {}\nmanifest {}\nsettings {}\n",
        env!("CARGO_PKG_VERSION"),
        crate::dataset::tables::OUTPUT_LAYOUT,
        manifest_fingerprint(manifest),
        crate::aggregate::settings_fingerprint(config)
    )
}

/// Writes the stamp after the aggregates (last, so a run killed before it
/// aggregates again).
pub fn write_stamp(config: &Config, stamp: &str) -> Result<()> {
    write_file_atomic(
        &aggregate_stamp_path(&config.paths.dataset),
        stamp.as_bytes(),
    )
}

/// One rejected row (or file) in the summary.
#[derive(Debug, Clone, Serialize)]
pub struct ProblemSummary {
    /// Row number (None: the whole file).
    pub row: Option<u32>,
    /// Column heading.
    pub column: Option<String>,
    /// What is wrong and what to do.
    pub reason: String,
}

/// The most problems the summary lists per file; the rest are counted in
/// `problems_more` (all of them are in `dataset/quarantine`). A file of
/// half a million bad rows would otherwise make a summary of a hundred MB
/// that a log collector cannot take.
pub const MAX_PROBLEMS_PER_FILE: usize = 100;

/// One file in the summary. The counts are the ones `validate` and
/// `ingest` print for the file: a skipped file has all of them 0.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    /// Path of the file.
    pub path: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// `new`, `skipped` or `failed`.
    pub status: String,
    /// Why a file was skipped (already ingested, or a copy of another file
    /// of the run); empty otherwise.
    pub note: String,
    /// Data rows read (0 when skipped).
    pub rows_read: u64,
    /// Rows whose response is in the dataset: new, or already there.
    pub rows_written: u64,
    /// Rows rejected.
    pub rows_quarantined: u64,
    /// Of `rows_written`, rows already stored from an earlier export.
    pub rows_duplicate: u64,
    /// Why rows were rejected: the first `MAX_PROBLEMS_PER_FILE`.
    pub problems: Vec<ProblemSummary>,
    /// Problems not listed in `problems`.
    pub problems_more: u64,
}

impl FileSummary {
    /// The summary of one file of a batch, its problems capped.
    pub fn of(f: &batch::FileReport) -> FileSummary {
        FileSummary {
            path: f.path.display().to_string(),
            sha256: f.sha256.clone(),
            status: f.status.as_str().to_string(),
            note: f.note.clone(),
            rows_read: f.rows_read,
            rows_written: f.rows_written,
            rows_quarantined: f.rows_quarantined,
            rows_duplicate: f.rows_duplicate,
            problems: f
                .problems
                .iter()
                .take(MAX_PROBLEMS_PER_FILE)
                .map(|p| ProblemSummary {
                    row: p.source_row,
                    column: p.column.clone(),
                    reason: p.reason.clone(),
                })
                .collect(),
            problems_more: f.problems.len().saturating_sub(MAX_PROBLEMS_PER_FILE) as u64,
        }
    }
}

/// The machine-readable account of a run.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RunSummary {
    /// The dataset folder.
    pub dataset_dir: String,
    /// The reports folder.
    pub reports_dir: String,
    /// The exit code the command returns.
    pub exit_code: u8,
    /// The error that stopped the run (exit code 2), null when it finished.
    /// What was done before it (files ingested and committed) is still
    /// listed.
    pub error: Option<String>,
    /// Wall-clock seconds.
    pub duration_s: f64,
    /// When the run started (UTC).
    pub started_at: String,
    /// Whether anything was written.
    pub changed: bool,
    /// Whether the aggregates were recomputed.
    pub aggregated: bool,
    /// Aggregation groups (an instrument in a two-year cycle) computed.
    pub groups_computed: usize,
    /// Groups whose data and settings had not changed: kept as they were.
    pub groups_kept: usize,
    /// Aggregate cells written (0 when the aggregates were not made
    /// again), and of those: hidden below the privacy floor, hidden to
    /// protect them (complements), and left out of the published tables
    /// (`not_published`).
    pub cells: usize,
    pub suppressed_min_n: usize,
    pub suppressed_secondary: usize,
    pub not_published: usize,
    /// The cycles whose reports were rendered (the others showed nothing
    /// new).
    pub cycles_reported: Vec<String>,
    /// Every file found in the inbox.
    pub files: Vec<FileSummary>,
    /// Reports written.
    pub reports: Vec<String>,
    /// Things a person should look at.
    pub warnings: Vec<String>,
}

impl RunSummary {
    /// An empty summary of a run of this configuration, started now.
    pub fn new(config: &Config) -> RunSummary {
        RunSummary {
            dataset_dir: config.paths.dataset.display().to_string(),
            reports_dir: config.paths.reports.display().to_string(),
            started_at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            ..Default::default()
        }
    }

    /// Writes the summary as pretty JSON, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::io(path, std::io::Error::other(e)))?;
        write_file_atomic(path, (text + "\n").as_bytes())
    }
}

/// Today, or `OPLEIDINGSMONITOR_TODAY` (YYYY-MM-DD) for reproducible
/// reports.
pub fn today() -> chrono::NaiveDate {
    crate::ingest::today()
}

/// What a cycle's reports depend on, per cycle with data: the
/// fingerprints of every aggregation group up to the end of the cycle
/// (reports look back, never ahead: trends stop at the cycle's end), and
/// for every cycle the development plan (and which actions are overdue
/// today), the registry, the templates, the settings, the program version
/// and the language. A cycle whose stamp is what it was need not be
/// rendered again.
pub fn report_stamps(config: &Config, lang: &str) -> std::collections::BTreeMap<String, String> {
    let mut base = Sha256::new();
    base.update(format!("{}\n", env!("CARGO_PKG_VERSION")).as_bytes());
    // The quality register as read (actions, decisions, evaluations,
    // visitations, escalations, calendar), and what today makes of it: an
    // action that became overdue, or a calendar month that passed, changes
    // a report even when no data arrived.
    base.update(format!("{:?}", config.register.actions).as_bytes());
    base.update(format!("{:?}", config.register.decisions).as_bytes());
    base.update(format!("{:?}", config.register.evaluations).as_bytes());
    base.update(format!("{:?}", config.register.visitations).as_bytes());
    base.update(format!("{:?}", config.register.escalations).as_bytes());
    base.update(format!("{:?}", config.register.calendar).as_bytes());
    // Not today itself: a scheduled daily run must not render every cycle
    // again when nothing it shows changed. What today decides: which
    // actions, conditions and escalations are past their date, and which
    // calendar months have passed.
    let today = today();
    let reg = &config.register;
    for a in reg.actions.iter().filter(|a| a.overdue(today)) {
        base.update(format!("overdue {}\n", a.action_id).as_bytes());
    }
    for v in reg
        .visitations
        .iter()
        .filter(|v| v.open() && v.due.is_some_and(|d| d < today))
    {
        base.update(format!("late {} {}\n", v.visitation_id, v.item).as_bytes());
    }
    for e in reg
        .escalations
        .iter()
        .filter(|e| e.open() && e.next_date.is_some_and(|d| d < today))
    {
        base.update(format!("late {}\n", e.signal_id).as_bytes());
    }
    for e in &reg.calendar {
        let (y, m) = (e.year, e.month.unwrap_or(12));
        let end = if m == 12 {
            chrono::NaiveDate::from_ymd_opt(y + 1, 1, 1)
        } else {
            chrono::NaiveDate::from_ymd_opt(y, m + 1, 1)
        };
        if end.is_some_and(|end| today >= end) {
            base.update(format!("passed {} {} {y} {m}\n", e.rso_id, e.event).as_bytes());
        }
    }
    base.update(std::fs::read(&config.paths.registry).unwrap_or_default());
    if let Some(dir) = &config.templates {
        for (name, _) in crate::report::TEMPLATES {
            base.update(std::fs::read(dir.join(name)).unwrap_or_default());
        }
    }
    base.update(
        format!(
            "{:?}|{:?}|{:?}|{}|{}|{}|{}|{lang}",
            config.rules,
            config.calendar,
            config.title,
            config.privacy_floor,
            config.min_answered_fraction,
            config.first_cycle_year,
            // Turning the PDFs on makes them at the next run.
            config.pdf
        )
        .as_bytes(),
    );
    let groups = crate::dataset::tables::read_group_stamps(&config.paths.dataset);
    // A group is named by its region cycle, or by the span of region
    // cycles an RSO with cycles of its own links (`2019-2024`): its cycles
    // are those of every grid in its years that have data.
    let span = |label: &str| -> Option<(i32, i32)> {
        let (a, b) = label.split_once('-')?;
        Some((a.parse().ok()?, b.parse().ok()?))
    };
    let grids = config.cycles().grids();
    let mut cycles: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for (a, b) in groups.iter().filter_map(|g| span(&g.cycle)) {
        for y in a..=b {
            for &start in &grids {
                cycles.insert(crate::domain::Period::cycle_of(y, start).to_string());
            }
        }
    }
    if grids.len() > 1 {
        let with_data =
            crate::dataset::published::published_cycles(&config.paths.dataset).unwrap_or_default();
        cycles.retain(|c| with_data.contains(c));
    }
    cycles
        .into_iter()
        .map(|cycle| {
            let mut h = base.clone();
            let end = crate::domain::Period::parse(&cycle).map_or(i32::MAX, |p| p.last_year());
            for g in groups
                .iter()
                .filter(|g| span(&g.cycle).is_some_and(|(a, _)| a <= end))
            {
                h.update(format!("{} {} {}\n", g.instrument, g.cycle, g.fingerprint).as_bytes());
            }
            (cycle, hex::encode(h.finalize()))
        })
        .collect()
}

/// Where a cycle's report stamp is kept.
pub fn report_stamp_path(config: &Config, cycle: &str, lang: &str) -> PathBuf {
    config
        .paths
        .reports
        .join(cycle)
        .join(format!(".stamp-{lang}"))
}

/// Options of a run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Aggregate (and report) even when nothing changed.
    pub force: bool,
}

/// Gives the memory a step freed back to the allocator's clean state
/// before the next step. glibc keeps what a step freed in fragmented free
/// lists; at national scale the aggregation after an ingest in the same
/// process took 95 s instead of 55 s, searching them. `malloc_trim`
/// consolidates the free chunks and returns the free pages to the system.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only reorganises the allocator's free memory; no
    // allocation in use is touched.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Runs everything that is due, filling in `summary` as it goes, so that
/// after an error the summary still says what was done before it. Sets the
/// exit code 0 (all good) or 1 (some files or rows quarantined) when it
/// finishes; errors (configuration, storage, lock) are the caller's to map
/// (and to record in the summary).
pub fn run(
    config: &Config,
    key: &PseudonymKey,
    options: &Options,
    progress: Option<&(dyn Fn(&str) + Sync)>,
    summary: &mut RunSummary,
) -> Result<()> {
    let started = Instant::now();
    let result = run_steps(config, key, options, progress, summary);
    summary.duration_s = started.elapsed().as_secs_f64();
    result
}

fn run_steps(
    config: &Config,
    key: &PseudonymKey,
    options: &Options,
    progress: Option<&(dyn Fn(&str) + Sync)>,
    summary: &mut RunSummary,
) -> Result<()> {
    let lock = RunLock::acquire(&config.paths.dataset)?;
    if let Some(holder) = &lock.stale {
        summary.warnings.push(format!(
            "the previous run ({holder}) did not finish; its unfinished work was completed or discarded"
        ));
    }
    let inbox = vec![config.paths.inbox.clone()];
    let report = if config.paths.inbox.exists() {
        batch::run(config, &inbox, key, Mode::Ingest, None, progress)?
    } else {
        summary.warnings.push(format!(
            "the inbox {} does not exist",
            config.paths.inbox.display()
        ));
        batch::BatchReport::default()
    };
    summary.changed = report.wrote;
    for f in &report.files {
        summary.files.push(FileSummary::of(f));
        if f.status == FileStatus::Failed {
            summary
                .warnings
                .push(format!("{} was rejected: see its problems", f.name));
        }
    }
    // Until the run ends, its exit code is that of the ingest.
    summary.exit_code = if report.has_quarantine() { 1 } else { 0 };
    // Test hook: a bug after the ingest (the summary must still be written).
    if std::env::var("OPLEIDINGSMONITOR_FAIL_AT").is_ok_and(|v| v == "run-panic") {
        panic!("OPLEIDINGSMONITOR_FAIL_AT=run-panic: panicking on purpose");
    }

    release_free_memory();
    let manifest = Dataset::open_read_only(&config.paths.dataset).manifest()?;
    let stamp = stamp_of(&manifest, config);
    let previous =
        std::fs::read_to_string(aggregate_stamp_path(&config.paths.dataset)).unwrap_or_default();
    let has_data = !manifest.is_empty();
    // Aggregates without group stamps (made by an older version) are made
    // again, so that reports can tell which cycles changed.
    let stamped = !crate::dataset::tables::read_group_stamps(&config.paths.dataset).is_empty();
    if has_data && (options.force || previous != stamp || !stamped) {
        let a = aggregate::aggregate_dataset(config, !options.force, &stamp)?;
        summary.aggregated = true;
        summary.groups_computed = a.groups_computed;
        summary.groups_kept = a.groups_kept;
        summary.cells = a.cells;
        summary.suppressed_min_n = a.suppressed_min_n;
        summary.suppressed_secondary = a.suppressed_secondary;
        summary.not_published = a.not_published;
        summary.changed = true;
        release_free_memory();
    }
    // Reports of the cycles whose reports would show something else (or
    // that have none yet).
    let lang = config.language.clone();
    let due: Vec<(String, String)> = report_stamps(config, &lang)
        .into_iter()
        .filter(|(cycle, stamp)| {
            options.force
                || std::fs::read_to_string(report_stamp_path(config, cycle, &lang))
                    .ok()
                    .as_ref()
                    != Some(stamp)
        })
        .collect();
    if has_data && !due.is_empty() {
        let opts = crate::report::Options {
            cycles: due.iter().map(|(c, _)| c.clone()).collect(),
            rso: None,
            lang: lang.clone(),
            today: today(),
        };
        let files = crate::report::render_all(config, &opts)?;
        summary.reports = files.iter().map(|f| f.display().to_string()).collect();
        for (cycle, stamp) in &due {
            write_file_atomic(&report_stamp_path(config, cycle, &lang), stamp.as_bytes())?;
        }
        summary.cycles_reported = due.into_iter().map(|(c, _)| c).collect();
        summary.changed = true;
    }
    drop(lock);
    Ok(())
}
