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
pub mod text;

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

impl AggregateSummary {
    fn add(&mut self, cells: usize, changes: usize, min_n: usize, secondary: usize) {
        self.cells += cells;
        self.changes += changes;
        self.suppressed_min_n += min_n;
        self.suppressed_secondary += secondary;
    }
}

/// A group's cells, computed and protected.
fn protected(plan: &aggregate::Plan, group: &aggregate::Group) -> Result<aggregate::Table> {
    let mut t = plan.compute(group)?;
    privacy::protect(&mut t);
    Ok(t)
}

/// Scores and aggregates the dataset group by group (an instrument in a
/// cycle), protects each group's cells, and writes `aggregates/`,
/// `changes/`, `distributions/` and `sources/`, then `stamp` (what they
/// were made from: `job::current_stamp`). With `reuse`, a group whose fingerprint is the
/// one written last time keeps its rows instead of being computed again
/// (`aggregate::Previous`); the output is the same bytes either way. The
/// caller holds the dataset's `RunLock`.
pub fn aggregate_dataset(
    config: &config::Config,
    reuse: bool,
    stamp: &str,
) -> Result<AggregateSummary> {
    let t = std::time::Instant::now();
    let plan = aggregate::plan(config)?;
    let previous = if reuse {
        aggregate::Previous::open(&config.paths.dataset)?
    } else {
        None
    };
    let cat = &config.catalogue;
    let mut out = aggregate::Output::new(&config.paths.dataset)?;
    let mut chain = aggregate::ChangeChain::default();
    let mut summary = AggregateSummary::default();
    // The groups to compute, and those computed ahead of their turn.
    let needed: Vec<bool> = plan
        .groups
        .iter()
        .map(|g| previous.as_ref().is_none_or(|p| !p.is_kept(g)))
        .collect();
    let mut ahead: std::collections::HashMap<usize, aggregate::Table> = Default::default();
    let mut index = 0;
    // Groups come by instrument, then cycle (in time order).
    for groups in plan.groups.chunk_by(|a, b| a.instrument == b.instrument) {
        // Whether a group of this instrument was computed, and its kept
        // groups not yet through the chain.
        let mut dirty = false;
        let mut pending: Vec<aggregate::Group> = Vec::new();
        for group in groups {
            let i = index;
            index += 1;
            let t0 = std::time::Instant::now();
            let kept = match &previous {
                Some(p) => p.kept(group)?,
                None => None,
            };
            let table = match kept {
                // Unchanged after unchanged groups only: its rows, changes
                // included, are what they were.
                Some(kept) if !dirty => {
                    summary.groups_kept += 1;
                    summary.add(
                        kept.cells(),
                        kept.changes(),
                        kept.suppressed(privacy::MIN_N)?,
                        kept.suppressed(privacy::SECONDARY)?,
                    );
                    out.add_kept(kept)?;
                    pending.push(group.clone());
                    tracing::debug!(
                        group.instrument,
                        group.cycle,
                        seconds = t0.elapsed().as_secs_f64(),
                        "group kept"
                    );
                    continue;
                }
                // Unchanged after a changed group: its changes are made again.
                Some(kept) => {
                    summary.groups_kept += 1;
                    kept.into_table(cat)?
                }
                None => {
                    let t = match ahead.remove(&i) {
                        Some(t) => t,
                        None => {
                            // Two groups at a time, one per core: the next
                            // group to compute is made alongside this one.
                            let next = (i + 1..needed.len())
                                .find(|j| needed[*j] && !ahead.contains_key(j));
                            match next {
                                Some(j) => {
                                    let (t, u) = rayon::join(
                                        || protected(&plan, &plan.groups[i]),
                                        || protected(&plan, &plan.groups[j]),
                                    );
                                    ahead.insert(j, u?);
                                    t?
                                }
                                None => protected(&plan, group)?,
                            }
                        }
                    };
                    summary.groups_computed += 1;
                    dirty = true;
                    t
                }
            };
            // The changes from here on need the series' ends so far.
            if let Some(p) = &previous {
                chain.seed(p.series_ends(&pending, cat)?, cat);
                pending.clear();
            }
            let changes = chain.next(&table.cells, cat);
            let count = |r: &str| {
                table
                    .cells
                    .iter()
                    .filter(|c| c.suppression_reason.as_deref() == Some(r))
                    .count()
            };
            summary.add(
                table.cells.len(),
                changes.len(),
                count(privacy::MIN_N),
                count(privacy::SECONDARY),
            );
            out.add(group, &table, &changes)?;
            tracing::debug!(
                group.instrument,
                group.cycle,
                seconds = t0.elapsed().as_secs_f64(),
                "group made"
            );
        }
    }
    tracing::debug!(seconds = t.elapsed().as_secs_f64(), "computed");
    out.write(&config.paths.dataset)?;
    tracing::debug!(seconds = t.elapsed().as_secs_f64(), "written");
    job::write_stamp(config, stamp)?;
    Ok(summary)
}
