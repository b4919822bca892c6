//! Opleidingsmonitor: a quality-survey analytics pipeline for Dutch regional
//! medical specialist training.
//!
//! Data flows one way through the stages: `instrument` and `org` describe the
//! questionnaires and the organisation; `ingest` turns exports into checked,
//! pseudonymised responses; `dataset` stores them as hive-partitioned
//! Parquet; `batch` ties the two together for a run; `score` defines the
//! statistics, `aggregate` pools responses per unit and period, and `privacy`
//! suppresses what must not be published. The binary in `main.rs` is a thin
//! command line over this library.

pub mod aggregate;
pub mod batch;
pub mod chart;
pub mod config;
pub mod dataset;
pub mod error;
pub mod ingest;
pub mod instrument;
pub mod job;
pub mod org;
pub mod pdca;
pub mod privacy;
pub mod report;
pub mod score;
pub mod synth;

pub use error::{Error, Result};

/// What `aggregate_dataset` wrote.
#[derive(Debug, Clone, Default)]
pub struct AggregateSummary {
    /// Cells written.
    pub cells: usize,
    /// Of which suppressed below the floor.
    pub suppressed_min_n: usize,
    /// Of which suppressed to protect others.
    pub suppressed_secondary: usize,
    /// Change rows written.
    pub changes: usize,
}

/// Scores and aggregates the dataset, protects the result and writes
/// `aggregates/` and `changes/`, then the stamp that says what they were
/// made from. The caller holds the dataset's `RunLock`.
pub fn aggregate_dataset(config: &config::Config) -> Result<AggregateSummary> {
    let stamp = job::current_stamp(config)?;
    let t = std::time::Instant::now();
    let mut table = aggregate::compute(config)?;
    tracing::debug!(
        seconds = t.elapsed().as_secs_f64(),
        cells = table.cells.len(),
        "computed"
    );
    privacy::protect(&mut table);
    tracing::debug!(seconds = t.elapsed().as_secs_f64(), "protected");
    let changes = aggregate::changes(&table, &config.catalogue);
    tracing::debug!(seconds = t.elapsed().as_secs_f64(), "changes");
    aggregate::write(&table, &changes, &config.paths.dataset)?;
    tracing::debug!(seconds = t.elapsed().as_secs_f64(), "written");
    job::write_stamp(config, &stamp)?;
    let count = |r: &str| {
        table
            .cells
            .iter()
            .filter(|c| c.suppression_reason.as_deref() == Some(r))
            .count()
    };
    Ok(AggregateSummary {
        cells: table.cells.len(),
        suppressed_min_n: count(privacy::MIN_N),
        suppressed_secondary: count(privacy::SECONDARY),
        changes: changes.len(),
    })
}
