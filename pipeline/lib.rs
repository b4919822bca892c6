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
    /// Groups (an instrument in a cycle) computed.
    pub groups_computed: usize,
    /// Groups kept from the previous aggregation, unchanged.
    pub groups_kept: usize,
}

/// Scores and aggregates the dataset group by group (an instrument in a
/// cycle), protects each group's cells, and writes `aggregates/`,
/// `changes/`, `distributions/` and `sources/`, then the stamp that says
/// what they were made from. With `reuse`, a group whose fingerprint is the
/// one written last time keeps its rows instead of being computed again
/// (`aggregate::Previous`); the output is the same bytes either way. The
/// caller holds the dataset's `RunLock`.
pub fn aggregate_dataset(config: &config::Config, reuse: bool) -> Result<AggregateSummary> {
    let stamp = job::current_stamp(config)?;
    let t = std::time::Instant::now();
    let plan = aggregate::plan(config)?;
    let previous = if reuse {
        aggregate::Previous::open(&config.paths.dataset)?
    } else {
        None
    };
    let mut out = aggregate::Output::new(&config.paths.dataset)?;
    let mut chain = aggregate::ChangeChain::default();
    let mut summary = AggregateSummary::default();
    // Per instrument (groups come by instrument, then cycle): whether a
    // group was computed, and the kept groups not yet through the chain.
    let mut dirty = false;
    let mut pending: Vec<aggregate::Group> = Vec::new();
    for (i, group) in plan.groups.iter().enumerate() {
        let t0 = std::time::Instant::now();
        if i == 0 || plan.groups[i - 1].instrument != group.instrument {
            dirty = false;
            pending.clear();
        }
        // An unchanged group after only unchanged ones: its rows, changes
        // included, are what they were.
        if let (Some(p), false) = (&previous, dirty) {
            if let Some(kept) = p.kept(group)? {
                summary.groups_kept += 1;
                summary.cells += kept.cells();
                summary.changes += kept.changes();
                summary.suppressed_min_n += kept.min_n;
                summary.suppressed_secondary += kept.secondary;
                out.add_kept(group, kept)?;
                pending.push(group.clone());
                tracing::debug!(seconds = t0.elapsed().as_secs_f64(), "group kept");
                continue;
            }
        }
        // The changes from here on need the series' ends so far.
        if let Some(p) = &previous {
            chain.seed(
                p.series_ends(&pending, &config.catalogue)?,
                &config.catalogue,
            );
            pending.clear();
        }
        let reused = match &previous {
            Some(p) => p.reuse(group, &config.catalogue)?,
            None => None,
        };
        let table = match reused {
            Some(t) => {
                summary.groups_kept += 1;
                t
            }
            None => {
                let mut t = plan.compute(group)?;
                tracing::debug!(seconds = t0.elapsed().as_secs_f64(), "group computed");
                privacy::protect(&mut t);
                tracing::debug!(seconds = t0.elapsed().as_secs_f64(), "group protected");
                summary.groups_computed += 1;
                dirty = true;
                t
            }
        };
        let changes = chain.next(&table.cells, &config.catalogue);
        let count = |r: &str| {
            table
                .cells
                .iter()
                .filter(|c| c.suppression_reason.as_deref() == Some(r))
                .count()
        };
        summary.cells += table.cells.len();
        summary.suppressed_min_n += count(privacy::MIN_N);
        summary.suppressed_secondary += count(privacy::SECONDARY);
        summary.changes += changes.len();
        out.add(group, &table, &changes)?;
        tracing::debug!(seconds = t0.elapsed().as_secs_f64(), "group added");
    }
    tracing::debug!(seconds = t.elapsed().as_secs_f64(), "computed");
    out.write(&config.paths.dataset)?;
    tracing::debug!(seconds = t.elapsed().as_secs_f64(), "written");
    job::write_stamp(config, &stamp)?;
    Ok(summary)
}
