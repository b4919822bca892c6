//! The aggregation step of a run: plan the groups, keep the unchanged ones,
//! compute and protect the others (two instruments side by side), work out
//! the changes, write the four tables, then the stamp.
//!
//! It ties `aggregate` (compute), `privacy` (protect) and `dataset`
//! (write) together; it holds no statistics and no Polars of its own.

use crate::aggregate::{self, ChangeChain, Group, Plan};
use crate::config::Config;
use crate::dataset::tables::{Added, Output, Previous};
use crate::domain::SuppressionReason;
use crate::error::Result;
use crate::privacy;
use crate::table::Table;

/// What `aggregate_dataset` wrote.
#[derive(Debug, Clone, Default)]
pub struct AggregateSummary {
    /// Cells written.
    pub cells: usize,
    /// Of which suppressed below the floor.
    pub suppressed_min_n: usize,
    /// Of which suppressed to protect others.
    pub suppressed_secondary: usize,
    /// Of which left out of the published tables (`not_published`: an
    /// institution total or department year that would only be there to
    /// be subtracted from; its cycle or departments stand for it).
    pub not_published: usize,
    /// Change rows written.
    pub changes: usize,
    /// Groups (an instrument in a cycle) computed.
    pub groups_computed: usize,
    /// Groups kept from the previous aggregation, unchanged.
    pub groups_kept: usize,
}

impl AggregateSummary {
    fn add(&mut self, cells: usize, changes: usize, hidden: [usize; 3]) {
        let [min_n, secondary, not_published] = hidden;
        self.cells += cells;
        self.changes += changes;
        self.suppressed_min_n += min_n;
        self.suppressed_secondary += secondary;
        self.not_published += not_published;
    }

    fn merge(&mut self, other: &AggregateSummary) {
        self.add(
            other.cells,
            other.changes,
            [
                other.suppressed_min_n,
                other.suppressed_secondary,
                other.not_published,
            ],
        );
        self.groups_computed += other.groups_computed;
        self.groups_kept += other.groups_kept;
    }
}

/// A group's cells, computed and protected.
fn protected(config: &Config, plan: &Plan, group: &Group) -> Result<Table> {
    let mut t = plan.compute(group)?;
    privacy::protect_with(&mut t, config.min_interval_width);
    Ok(t)
}

/// One instrument's groups, in time order: kept or computed, then their
/// changes.
fn instrument_output(
    config: &Config,
    plan: &Plan,
    previous: Option<&Previous>,
    out: &Output,
    groups: &[Group],
) -> Result<(AggregateSummary, Vec<Added>)> {
    let cat = &config.catalogue;
    let mut chain = ChangeChain::default();
    let mut summary = AggregateSummary::default();
    let mut added = Vec::with_capacity(groups.len());
    // Whether a group was computed, and the kept groups not yet through the
    // chain.
    let mut dirty = false;
    let mut pending: Vec<Group> = Vec::new();
    for group in groups {
        let t0 = std::time::Instant::now();
        let kept = match previous {
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
                    [
                        SuppressionReason::MinN,
                        SuppressionReason::Secondary,
                        SuppressionReason::NotPublished,
                    ]
                    .map(|r| kept.suppressed(r)),
                );
                added.push(Output::kept(kept));
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
                summary.groups_computed += 1;
                dirty = true;
                protected(config, plan, group)?
            }
        };
        // The changes from here on need the series' ends so far.
        if let Some(p) = previous {
            chain.seed(p.series_ends(&pending, cat)?, cat);
            pending.clear();
        }
        let changes = chain.next(&table.cells, cat);
        let count = |r: SuppressionReason| {
            table
                .cells
                .iter()
                .filter(|c| c.suppression_reason == Some(r))
                .count()
        };
        summary.add(
            table.cells.len(),
            changes.len(),
            [
                SuppressionReason::MinN,
                SuppressionReason::Secondary,
                SuppressionReason::NotPublished,
            ]
            .map(count),
        );
        added.push(out.computed(group, &table, &changes)?);
        tracing::debug!(
            group.instrument,
            group.cycle,
            seconds = t0.elapsed().as_secs_f64(),
            "group made"
        );
    }
    Ok((summary, added))
}

/// Scores and aggregates the dataset group by group (an instrument in a
/// cycle), protects each group's cells, and writes `aggregates/`,
/// `changes/`, `distributions/` and `sources/`, then `stamp` (what they
/// were made from: `super::current_stamp`). With `reuse`, a group whose fingerprint is the
/// one written last time keeps its rows instead of being computed again
/// (`Previous`); the output is the same bytes either way. The
/// caller holds the dataset's `RunLock`.
pub fn aggregate_dataset(config: &Config, reuse: bool, stamp: &str) -> Result<AggregateSummary> {
    let t = std::time::Instant::now();
    // The plan and the previous output side by side.
    let (plan, previous) = std::thread::scope(|s| {
        let previous = s.spawn(|| match reuse {
            true => Previous::open(&config.paths.dataset),
            false => Ok(None),
        });
        (
            aggregate::plan(config),
            previous
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        )
    });
    let (plan, previous) = (plan?, previous?);
    let mut out = Output::new(&config.paths.dataset)?;
    // Groups come by instrument, then cycle (in time order). An
    // instrument's changes run along its cycles, so its groups are made
    // one after the other; instruments are independent and are made side
    // by side, two at a time (memory holds two groups), the largest first
    // so that neither worker is left with a large one at the end.
    let instruments: Vec<&[Group]> = plan
        .groups
        .chunk_by(|a, b| a.instrument == b.instrument)
        .collect();
    let work = |groups: &[Group]| -> u64 {
        groups
            .iter()
            .filter(|g| previous.as_ref().is_none_or(|p| !p.is_kept(g)))
            .map(|g| g.bytes)
            .sum()
    };
    let mut order: Vec<usize> = (0..instruments.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(work(instruments[i])));
    let next = std::sync::atomic::AtomicUsize::new(0);
    // After an error no further instrument is started.
    let failed = std::sync::atomic::AtomicBool::new(false);
    let results: Vec<std::sync::Mutex<Option<Result<_>>>> =
        instruments.iter().map(|_| Default::default()).collect();
    // Plain threads, not rayon tasks: a rayon worker that waits for Polars
    // takes on other rayon work meanwhile, and a worker can then wait on
    // the other one's group.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                use std::sync::atomic::Ordering::Relaxed;
                while let Some(&i) = order.get(next.fetch_add(1, Relaxed)) {
                    if failed.load(Relaxed) {
                        break;
                    }
                    let r =
                        instrument_output(config, &plan, previous.as_ref(), &out, instruments[i]);
                    if r.is_err() {
                        failed.store(true, Relaxed);
                    }
                    *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
                }
            });
        }
    });
    // The first error in plan order (after an error, instruments not yet
    // started were not made); without one, every instrument was made.
    let mut made = Vec::with_capacity(results.len());
    let mut error = None;
    for r in results {
        match r.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(Ok(m)) => made.push(m),
            Some(Err(e)) => {
                error.get_or_insert(e);
            }
            None => assert!(
                failed.load(std::sync::atomic::Ordering::Relaxed),
                "every instrument is made unless one failed"
            ),
        }
    }
    if let Some(e) = error {
        return Err(e);
    }
    let mut summary = AggregateSummary::default();
    for (s, added) in made {
        summary.merge(&s);
        for a in added {
            out.add(a);
        }
    }
    tracing::debug!(seconds = t.elapsed().as_secs_f64(), "computed");
    out.write(&config.paths.dataset)?;
    tracing::debug!(seconds = t.elapsed().as_secs_f64(), "written");
    super::write_stamp(config, stamp)?;
    Ok(summary)
}
