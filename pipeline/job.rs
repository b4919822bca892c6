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

use crate::batch::{self, FileStatus, Mode};
use crate::config::Config;
use crate::dataset::{manifest_fingerprint, Dataset, RunLock};
use crate::error::{Error, Result};
use crate::ingest::pseudonym::PseudonymKey;

/// Where the stamp of the last aggregation is kept: the manifest and the
/// settings the aggregates were made from.
pub fn aggregate_stamp_path(dataset: &Path) -> PathBuf {
    dataset.join("aggregates/SOURCE")
}

/// What the aggregates depend on besides the data: the privacy floor, the
/// half rule, the cycles and every instrument's scales and minimums.
pub fn settings_fingerprint(config: &Config) -> String {
    // The registry decides each department's RSO and region on the way
    // out, and the response rates: a corrected registry re-aggregates.
    let registry = std::fs::read(&config.paths.registry).unwrap_or_default();
    let specs = crate::score::scale_specs(
        &config.catalogue,
        config.min_answered_fraction,
        config.privacy_floor,
    );
    let text = format!(
        "{:?}|{}|{:?}",
        specs,
        config.first_cycle_year,
        config
            .paths
            .invitations
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
    );
    let mut h = Sha256::new();
    h.update(text.as_bytes());
    h.update(&registry);
    hex::encode(h.finalize())
}

/// The stamp the current dataset and settings would give.
pub fn current_stamp(config: &Config) -> Result<String> {
    let ds = Dataset::open_read_only(&config.paths.dataset);
    Ok(format!(
        "manifest {}\nsettings {}\n",
        manifest_fingerprint(&ds.manifest()?),
        settings_fingerprint(config)
    ))
}

/// Writes the stamp after the aggregates (last, so a run killed before it
/// aggregates again).
pub fn write_stamp(config: &Config, stamp: &str) -> Result<()> {
    let path = aggregate_stamp_path(&config.paths.dataset);
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, stamp).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))
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

/// One file in the summary.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    /// Path of the file.
    pub path: String,
    /// SHA-256 of its bytes.
    pub sha256: String,
    /// `new`, `skipped` or `failed`.
    pub status: String,
    /// Data rows read.
    pub rows_read: u64,
    /// Rows in the dataset.
    pub rows_written: u64,
    /// Rows rejected.
    pub rows_quarantined: u64,
    /// Rows already stored from an earlier export.
    pub rows_duplicate: u64,
    /// Why rows were rejected.
    pub problems: Vec<ProblemSummary>,
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
    /// Wall-clock seconds.
    pub duration_s: f64,
    /// When the run started (UTC).
    pub started_at: String,
    /// Whether anything was written.
    pub changed: bool,
    /// Whether the aggregates were recomputed.
    pub aggregated: bool,
    /// Every file found in the inbox.
    pub files: Vec<FileSummary>,
    /// Reports written.
    pub reports: Vec<String>,
    /// Things a person should look at.
    pub warnings: Vec<String>,
}

impl RunSummary {
    /// Writes the summary as pretty JSON, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::io(path, std::io::Error::other(e)))?;
        std::fs::write(&tmp, text + "\n").map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    }
}

/// Today, or `OPLEIDINGSMONITOR_TODAY` (YYYY-MM-DD) for reproducible
/// reports.
pub fn today() -> chrono::NaiveDate {
    std::env::var("OPLEIDINGSMONITOR_TODAY")
        .ok()
        .and_then(|s| chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok())
        .unwrap_or_else(|| chrono::Local::now().date_naive())
}

/// What the reports depend on: the aggregates' stamp, the development plan,
/// the templates and the language.
pub fn report_stamp(config: &Config, lang: &str) -> String {
    let mut h = Sha256::new();
    h.update(std::fs::read(aggregate_stamp_path(&config.paths.dataset)).unwrap_or_default());
    if let Some(p) = &config.paths.development_plan {
        h.update(std::fs::read(p).unwrap_or_default());
        // An action that became overdue since the last report changes it,
        // even when no data arrived.
        let today = today();
        if let Ok(plan) = crate::pdca::read_plan(p) {
            for a in plan.iter().filter(|a| a.overdue(today)) {
                h.update(a.action_id.as_bytes());
            }
        }
    }
    h.update(std::fs::read(&config.paths.registry).unwrap_or_default());
    if let Some(dir) = &config.templates {
        for (name, _) in crate::report::TEMPLATES {
            h.update(std::fs::read(dir.join(name)).unwrap_or_default());
        }
    }
    h.update(format!("{:?}|{:?}|{lang}", config.rules, config.calendar).as_bytes());
    hex::encode(h.finalize())
}

/// Options of a run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Aggregate (and report) even when nothing changed.
    pub force: bool,
}

/// Runs everything that is due. Returns the summary with exit code 0 (all
/// good) or 1 (some files or rows quarantined); errors (configuration,
/// storage, lock) are the caller's to map.
pub fn run(
    config: &Config,
    key: &PseudonymKey,
    options: &Options,
    progress: Option<&(dyn Fn(&str) + Sync)>,
) -> Result<RunSummary> {
    let started = Instant::now();
    let mut summary = RunSummary {
        dataset_dir: config.paths.dataset.display().to_string(),
        reports_dir: config.paths.reports.display().to_string(),
        started_at: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ..Default::default()
    };
    let lock = RunLock::acquire(&config.paths.dataset)?;
    if let Some(holder) = &lock.stale {
        summary.warnings.push(format!(
            "the previous run ({holder}) did not finish; its unfinished work was completed or discarded"
        ));
    }
    let inbox = vec![config.paths.inbox.clone()];
    let report = if config.paths.inbox.exists() {
        batch::run(config, &inbox, key, Mode::Ingest, progress)?
    } else {
        summary.warnings.push(format!(
            "the inbox {} does not exist",
            config.paths.inbox.display()
        ));
        batch::BatchReport::default()
    };
    summary.changed = report.wrote;
    for f in &report.files {
        summary.files.push(FileSummary {
            path: f.path.display().to_string(),
            sha256: f.sha256.clone(),
            status: f.status.as_str().to_string(),
            rows_read: f.rows_read,
            rows_written: f.rows_written,
            rows_quarantined: f.rows_quarantined,
            rows_duplicate: f.rows_duplicate,
            problems: f
                .problems
                .iter()
                .map(|p| ProblemSummary {
                    row: p.source_row,
                    column: p.column.clone(),
                    reason: p.reason.clone(),
                })
                .collect(),
        });
        if f.status == FileStatus::Failed {
            summary
                .warnings
                .push(format!("{} was rejected: see its problems", f.name));
        }
    }

    let stamp = current_stamp(config)?;
    let previous =
        std::fs::read_to_string(aggregate_stamp_path(&config.paths.dataset)).unwrap_or_default();
    let has_data = !Dataset::open_read_only(&config.paths.dataset)
        .manifest()?
        .is_empty();
    if has_data && (options.force || previous != stamp) {
        crate::aggregate_dataset(config)?;
        summary.aggregated = true;
        summary.changed = true;
    }
    // Reports, when what they show changed (or none exist yet).
    let lang = config.language.clone();
    let stamp_path = config.paths.reports.join(format!(".stamp-{lang}"));
    let rstamp = report_stamp(config, &lang);
    let previous = std::fs::read_to_string(&stamp_path).unwrap_or_default();
    if has_data && (options.force || summary.aggregated || previous != rstamp) {
        let opts = crate::report::Options {
            cycle: None,
            rso: None,
            lang,
            today: today(),
        };
        let files = crate::report::render_all(config, &opts)?;
        summary.reports = files.iter().map(|f| f.display().to_string()).collect();
        let tmp = stamp_path.with_extension("tmp");
        std::fs::write(&tmp, &rstamp).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &stamp_path).map_err(|e| Error::io(&stamp_path, e))?;
        summary.changed = true;
    }
    drop(lock);
    summary.exit_code = if report.has_quarantine() { 1 } else { 0 };
    summary.duration_s = started.elapsed().as_secs_f64();
    Ok(summary)
}
