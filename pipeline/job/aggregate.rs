//! The aggregation step of a run: plan the groups, keep the unchanged ones,
//! compute and protect the others (two groups side by side), work out
//! the changes, write the four tables, then the stamp.
//!
//! It ties `aggregate` (compute), `privacy` (protect) and `dataset`
//! (write) together; it holds no statistics and no Polars of its own.

use std::collections::BTreeMap;

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

/// Why a cell is hidden, in the order of `AggregateSummary::add`'s counts.
const HIDDEN: [SuppressionReason; 3] = [
    SuppressionReason::MinN,
    SuppressionReason::Secondary,
    SuppressionReason::NotPublished,
];

/// One instrument's groups on their way out. Its changes run along its
/// cycles, so its groups go through the chain in time order, whichever
/// worker computed them; a group computed before its turn waits in
/// `ready`.
struct Line<'a> {
    groups: &'a [Group],
    /// The next group for the chain.
    next: usize,
    ready: BTreeMap<usize, Table>,
    chain: ChangeChain,
    /// Whether a group of the instrument was computed: the kept groups
    /// after it need their changes made again.
    dirty: bool,
    /// Kept groups not yet through the chain.
    pending: Vec<Group>,
    summary: AggregateSummary,
    added: Vec<Added>,
    error: Option<crate::error::Error>,
}

impl<'a> Line<'a> {
    fn new(groups: &'a [Group]) -> Self {
        Line {
            groups,
            next: 0,
            ready: BTreeMap::new(),
            chain: ChangeChain::default(),
            dirty: false,
            pending: Vec::new(),
            summary: AggregateSummary::default(),
            added: Vec::with_capacity(groups.len()),
            error: None,
        }
    }

    /// Takes the groups whose turn it is through the chain: kept, or
    /// computed (`ready`); stops at a group still being computed.
    fn advance(
        &mut self,
        config: &Config,
        previous: Option<&Previous>,
        out: &Output,
    ) -> Result<()> {
        let cat = &config.catalogue;
        while let Some(group) = self.groups.get(self.next) {
            let t0 = std::time::Instant::now();
            let kept = match previous {
                Some(p) => p.kept(group)?,
                None => None,
            };
            let table = match kept {
                // Unchanged after unchanged groups only: its rows, changes
                // included, are what they were.
                Some(kept) if !self.dirty => {
                    self.summary.groups_kept += 1;
                    self.summary.add(
                        kept.cells(),
                        kept.changes(),
                        HIDDEN.map(|r| kept.suppressed(r)),
                    );
                    self.added.push(Output::kept(kept));
                    self.pending.push(group.clone());
                    self.next += 1;
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
                    self.summary.groups_kept += 1;
                    kept.into_table(cat)?
                }
                None => match self.ready.remove(&self.next) {
                    Some(table) => {
                        self.summary.groups_computed += 1;
                        self.dirty = true;
                        table
                    }
                    None => return Ok(()),
                },
            };
            // The changes from here on need the series' ends so far.
            if let Some(p) = previous {
                self.chain.seed(p.series_ends(&self.pending, cat)?, cat);
                self.pending.clear();
            }
            let changes = self.chain.next(&table.cells, cat);
            let count = |r: SuppressionReason| {
                table
                    .cells
                    .iter()
                    .filter(|c| c.suppression_reason == Some(r))
                    .count()
            };
            self.summary
                .add(table.cells.len(), changes.len(), HIDDEN.map(count));
            self.added.push(out.computed(group, &table, &changes)?);
            self.next += 1;
            tracing::debug!(
                group.instrument,
                group.cycle,
                seconds = t0.elapsed().as_secs_f64(),
                "group through the chain"
            );
        }
        Ok(())
    }
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
    // Groups come by instrument, then cycle (in time order). Two workers
    // compute and protect them, the largest instrument first and each
    // instrument's groups in time order, so both usually work on one
    // instrument's consecutive cycles: memory holds about two groups, and
    // neither worker is left alone with a whole instrument at the end.
    // Each group then goes through its instrument's chain of changes in
    // turn (`Line`).
    let instruments: Vec<&[Group]> = plan
        .groups
        .chunk_by(|a, b| a.instrument == b.instrument)
        .collect();
    let is_kept = |g: &Group| previous.as_ref().is_some_and(|p| p.is_kept(g));
    let work =
        |groups: &[Group]| -> u64 { groups.iter().filter(|g| !is_kept(g)).map(|g| g.bytes).sum() };
    let mut order: Vec<usize> = (0..instruments.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(work(instruments[i])));
    let jobs: Vec<(usize, usize)> = order
        .iter()
        .flat_map(|&i| (0..instruments[i].len()).map(move |k| (i, k)))
        .collect();
    let lines: Vec<std::sync::Mutex<Line>> = instruments
        .iter()
        .map(|groups| std::sync::Mutex::new(Line::new(groups)))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    // After an error no further group is started.
    let failed = std::sync::atomic::AtomicBool::new(false);
    // Plain threads, not rayon tasks: a rayon worker that waits for Polars
    // takes on other rayon work meanwhile, and a worker can then wait on
    // the other one's group.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(2));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                use std::sync::atomic::Ordering::Relaxed;
                while let Some(&(i, k)) = jobs.get(next.fetch_add(1, Relaxed)) {
                    if failed.load(Relaxed) {
                        break;
                    }
                    let group = &instruments[i][k];
                    let computed = match is_kept(group) {
                        true => Ok(None),
                        false => protected(config, &plan, group).map(Some),
                    };
                    let mut line = lines[i].lock().unwrap_or_else(|p| p.into_inner());
                    if line.error.is_some() {
                        continue;
                    }
                    let r = computed.and_then(|table| {
                        if let Some(table) = table {
                            line.ready.insert(k, table);
                        }
                        line.advance(config, previous.as_ref(), &out)
                    });
                    if let Err(e) = r {
                        line.error = Some(e);
                        failed.store(true, Relaxed);
                    }
                }
            });
        }
    });
    // The first error in plan order (after an error, groups not yet
    // started were not made); without one, every group went through.
    let mut made = Vec::with_capacity(lines.len());
    for line in lines {
        let line = line.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = line.error {
            return Err(e);
        }
        assert!(
            failed.load(std::sync::atomic::Ordering::Relaxed) || line.next == line.groups.len(),
            "every group is made unless one failed"
        );
        made.push((line.summary, line.added));
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
