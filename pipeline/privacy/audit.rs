//! The interval auditor: how far an attacker can narrow each suppressed
//! mean, not only whether they can solve it exactly (issue #20).
//!
//! `recover` and `recover_linear` ask whether a suppressed value follows
//! *exactly* from what is published. Often it does not, yet the published
//! numbers still pin it down: in the sample region's exit survey
//! (supervision, 2019) the RSO neu-nv (sum 35) minus umcl:neu (16) leaves
//! four responses summing to 19, of which one is Brakelduin's, so
//! Meerhaven's neurology mean (n = 3) lies in [4.67, 5.00]. This module
//! computes, for every suppressed cell, the interval its mean can take, by
//! linear programming, and lists the cells whose interval is too narrow.
//!
//! **What the auditor considers.** An attacker who holds
//! - every published mean and every count (`n_responses` stays published for
//!   suppressed cells), so every published cell's sum (mean × n_responses)
//!   is a constant;
//! - the scale bounds of every response (`scale_min`, `scale_max`), so a
//!   suppressed cell's sum lies in [n·scale_min, n·scale_max];
//! - the relations between cells (`super::relations`: a parent's sum is the
//!   sum of its children's, within one block, region and cycle).
//!
//! The unknowns are the suppressed cells' sums; for each, the auditor
//! minimises and maximises it subject to the relations and the bounds, and
//! divides by n. The interval is exact for that model (a linear programme
//! over real sums). With whole answers the sums are whole numbers, which
//! can narrow it further: the whole-number interval lies inside, and on the
//! property test's small regions within one response's worth (1/n on the
//! mean) of each end.
//!
//! **What it does not consider**, and an attacker could:
//! - the published sd, confidence interval and Cronbach's alpha, which
//!   reveal sums of squares (and, with them, further bounds on the sums);
//! - relations across subscales (a total scale as a combination of its
//!   subscales) and across instrument versions;
//! - item answer distributions (`ItemCount`), and any outside knowledge.
//!
//! So an interval here is an upper bound on what remains hidden, not a
//! guarantee: a cell this auditor calls wide can be narrower in truth.
//!
//! **The solver** is `microlp` (pure Rust, no C or system library: a
//! bounded-variable primal/dual simplex with a sparse LU, the maintained
//! successor of `minilp`, with a problem-based correctness suite; it checks
//! every solution against the model as written and returns an error rather
//! than an answer it cannot verify). `good_lp` would only add a modelling
//! layer over the same solver, and a simplex of our own would be code to
//! keep correct. Each LP is built afresh (microlp cannot change an
//! objective in place); three things keep the number of LPs down:
//! - the unknowns are split into the sets that relations join through
//!   *suppressed* cells only (published cells are constants and join
//!   nothing), which are usually much smaller than `super::components`;
//! - one LP per direction first pushes every suppressed sum towards its
//!   bound at once (each weighted by its range);
//! - every solution is harvested: an unknown that sits at its own bound in
//!   any solution has that bound as its extreme, so its own LP is skipped.
//!
//! **Speed** (release build, one thread; `a_component_of_300_cells_is_fast`
//! with `--ignored --nocapture`): a region of 282 cells after `protect`,
//! 78 of them suppressed and all joined into one system, takes about 34 ms
//! of processor time: 85 LPs instead of the 156 that two per cell would
//! take, about 0.4 ms each (microlp factorises afresh for every LP). A
//! country of a few hundred thousand cells in components of this size is
//! then some 30 processor-seconds, spread over the cores by rayon. (In
//! that region none of the 43 `min_n` cells is narrower than 0.20 of the
//! scale; 18 of the 35 complements are.)

use std::collections::BTreeMap;

use microlp::{ComparisonOp, OptimizationDirection, Problem};

use super::Relation;
use crate::table::Cell;

/// The default minimum width of a suppressed mean's interval, as a fraction
/// of the scale range (`scale_max - scale_min`; `domain::MIN_INTERVAL_WIDTH`).
pub const MIN_WIDTH_FRACTION: f64 = crate::domain::MIN_INTERVAL_WIDTH;

/// Two interval ends closer than this (on the mean's scale) are equal:
/// published means are f64 at full precision, and the solver meets its
/// constraints to 1e-7 in sums.
pub const TOLERANCE: f64 = 1e-6;

/// Within this fraction of a sum's range a solution's value counts as
/// sitting on its bound (the solver's own feasibility tolerance is 1e-7).
/// Settling a side this way is off by at most that much.
const AT_BOUND: f64 = 1e-7;

/// The interval a suppressed cell's mean can take, given what is published.
#[derive(Debug, Clone, PartialEq)]
pub struct Interval {
    /// Index of the suppressed cell in the `cells` given to
    /// `feasible_intervals`.
    pub cell: usize,
    /// The lowest and highest mean the published table allows, or why the
    /// solver could not say.
    pub bounds: Result<(f64, f64), Unsolved>,
    /// The cell's scale minimum.
    pub scale_min: f64,
    /// The cell's scale maximum.
    pub scale_max: f64,
}

/// Why a cell has no interval: `too_narrow` lists such cells, since nothing
/// shows them to be wide.
#[derive(Debug, Clone, PartialEq)]
pub enum Unsolved {
    /// No sums meet the relations within the bounds: the published table
    /// contradicts itself (a relation or a count that does not add up).
    Infeasible,
    /// The solver failed (a numerical failure it could not verify).
    Solver(String),
}

impl Interval {
    /// The interval's width on the mean's scale.
    pub fn width(&self) -> Option<f64> {
        self.bounds.as_ref().ok().map(|(lo, hi)| hi - lo)
    }

    /// The width as a fraction of the scale range (0: the mean is known
    /// exactly; 1: nothing narrows it). A scale without range is known.
    pub fn width_fraction(&self) -> Option<f64> {
        let range = self.scale_max - self.scale_min;
        let w = self.width()?;
        Some(if range > 0.0 { w / range } else { 0.0 })
    }

    /// Whether the mean is determined (the exact-recovery case).
    pub fn is_point(&self) -> bool {
        self.width().is_some_and(|w| w < TOLERANCE)
    }
}

/// For every suppressed cell with responses, the interval its mean can
/// take given the published cells' sums, the counts, the scale bounds and
/// `relations` (as `super::relations` finds them); sorted by cell. See the
/// module documentation for what this does and does not consider.
pub fn feasible_intervals(cells: &[Cell], relations: &[Relation]) -> Vec<Interval> {
    feasible_intervals_of(cells, relations, |_| true)
}

/// `feasible_intervals` for the suppressed cells `wanted` picks only (for
/// example the too-small ones): a set of unknowns without a wanted cell is
/// not solved at all, and within a set only the wanted cells get LPs of
/// their own.
pub fn feasible_intervals_of(
    cells: &[Cell],
    relations: &[Relation],
    wanted: impl Fn(&Cell) -> bool + Sync,
) -> Vec<Interval> {
    let wanted: Vec<bool> = cells.iter().map(wanted).collect();
    intervals_where(cells, relations, &wanted)
}

/// `feasible_intervals_of` the cells whose flag in `wanted` is set.
pub(super) fn intervals_where(
    cells: &[Cell],
    relations: &[Relation],
    wanted: &[bool],
) -> Vec<Interval> {
    use rayon::prelude::*;
    let mut systems = systems(cells, relations);
    for sys in systems.iter_mut() {
        for (w, &c) in sys.wanted.iter_mut().zip(&sys.cells) {
            *w = *w && wanted[c];
        }
    }
    systems.retain(|sys| sys.wanted.iter().any(|&w| w));
    let mut out: Vec<Interval> = systems
        .par_iter()
        .flat_map_iter(|sys| {
            let bounds = sys.solve();
            sys.cells
                .iter()
                .zip(bounds)
                .zip(&sys.wanted)
                .filter(|(_, &w)| w)
                .map(|(cb, _)| cb)
                .map(|(&c, b)| {
                    let cell = &cells[c];
                    let n = cell.n_responses as f64;
                    Interval {
                        cell: c,
                        bounds: b.map(|(lo, hi)| (lo / n, hi / n)),
                        scale_min: cell.scale_min,
                        scale_max: cell.scale_max,
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort_by_key(|i| i.cell);
    out
}

/// The cells whose interval is narrower than `min_width_fraction` of their
/// scale range (pass `MIN_WIDTH_FRACTION` for the default), and those
/// without an interval (nothing shows them to be safe); sorted. An interval
/// exactly as wide as the minimum, within `TOLERANCE`, passes.
///
/// Every suppressed cell is listed, complements too. In statistical
/// disclosure control the protection interval is a requirement on the
/// primary cells (here `min_n`); a complement is a group above the floor,
/// hidden only to shield one, and is typically narrow: a large complement
/// paired with a small cell varies by the small cell's range only. Filter
/// on the cells' `suppression_reason` for the primary rule.
pub fn too_narrow(intervals: &[Interval], min_width_fraction: f64) -> Vec<usize> {
    let mut out: Vec<usize> = intervals
        .iter()
        .filter(|i| match i.width() {
            Some(w) => w < min_width_fraction * (i.scale_max - i.scale_min) - TOLERANCE,
            None => true,
        })
        .map(|i| i.cell)
        .collect();
    out.sort_unstable();
    out
}

/// A cell that gets an interval: suppressed, with responses (a cell
/// without responses has no mean to hide).
fn is_target(c: &Cell) -> bool {
    c.suppressed && c.n_responses > 0
}

/// What the attacker knows of a cell's sum: mean × n for a published cell,
/// 0 for a cell without responses, nothing otherwise.
fn known_sum(c: &Cell) -> Option<f64> {
    if c.n_responses == 0 {
        return Some(0.0);
    }
    if c.suppressed {
        return None;
    }
    c.mean.map(|m| m * c.n_responses as f64)
}

/// One set of unknown sums joined by relations, and the relations over
/// them: an LP of its own.
#[derive(Debug)]
pub(super) struct System {
    /// The cell (global index) of each variable, ascending.
    pub(super) cells: Vec<usize>,
    /// Each variable's bounds: n·scale_min and n·scale_max.
    lower: Vec<f64>,
    upper: Vec<f64>,
    /// Each relation with an unknown: (variable, coefficient) and the
    /// right-hand side (the known members moved across).
    pub(super) rows: Vec<(Vec<(usize, f64)>, f64)>,
    /// Whether a variable needs its interval (a target), not only a place
    /// in the rows (an unpublished cell that is not suppressed).
    wanted: Vec<bool>,
}

/// Splits the unknown sums into the sets that relations join. Published
/// cells are constants, so they join nothing: two suppressed departments of
/// one RSO are in one set only if some relation holds both (or holds
/// suppressed cells that do); the sets are finer than `super::components`'.
pub(super) fn systems(cells: &[Cell], relations: &[Relation]) -> Vec<System> {
    let known: Vec<Option<f64>> = cells.iter().map(known_sum).collect();
    let mut root: Vec<usize> = (0..cells.len()).collect();
    fn find(root: &mut [usize], mut x: usize) -> usize {
        while root[x] != x {
            root[x] = root[root[x]];
            x = root[x];
        }
        x
    }
    for r in relations {
        let mut unknown = r.members().filter(|&m| known[m].is_none());
        if let Some(first) = unknown.next() {
            let a = find(&mut root, first);
            for m in unknown {
                let b = find(&mut root, m);
                if a != b {
                    root[b] = a;
                }
            }
        }
    }
    // Variables in cell order; a system per root, in the order of its
    // first cell.
    let mut by_root: BTreeMap<usize, usize> = BTreeMap::new();
    let mut out: Vec<System> = Vec::new();
    let mut local = vec![usize::MAX; cells.len()];
    for (i, c) in cells.iter().enumerate() {
        if known[i].is_some() {
            continue;
        }
        let r = find(&mut root, i);
        let s = *by_root.entry(r).or_insert_with(|| {
            out.push(System {
                cells: Vec::new(),
                lower: Vec::new(),
                upper: Vec::new(),
                rows: Vec::new(),
                wanted: Vec::new(),
            });
            out.len() - 1
        });
        let sys = &mut out[s];
        local[i] = sys.cells.len();
        sys.cells.push(i);
        let n = c.n_responses as f64;
        sys.lower.push(n * c.scale_min);
        sys.upper.push(n * c.scale_max);
        sys.wanted.push(is_target(c));
    }
    for r in relations {
        let mut row: Vec<(usize, f64)> = Vec::new();
        let mut rhs = 0.0;
        let mut sys = None;
        let terms = std::iter::once((r.parent, 1.0)).chain(r.children.iter().map(|&c| (c, -1.0)));
        for (m, coef) in terms {
            match known[m] {
                Some(s) => rhs -= coef * s,
                None => {
                    sys = Some(by_root[&find(&mut root, m)]);
                    match row.iter_mut().find(|(v, _)| *v == local[m]) {
                        Some((_, c)) => *c += coef,
                        None => row.push((local[m], coef)),
                    }
                }
            }
        }
        row.retain(|(_, c)| *c != 0.0);
        if let Some(s) = sys {
            out[s].rows.push((row, rhs));
        }
    }
    out
}

impl System {
    /// Each variable's lowest and highest sum (for the wanted ones; the
    /// others are left at their bounds).
    fn solve(&self) -> Vec<Result<(f64, f64), Unsolved>> {
        use OptimizationDirection::{Maximize, Minimize};
        let k = self.cells.len();
        let mut low: Vec<Option<f64>> = vec![None; k];
        let mut high: Vec<Option<f64>> = vec![None; k];
        let mut failed: Vec<Option<Unsolved>> = vec![None; k];
        if self.rows.is_empty() {
            // In no relation: nothing narrows it.
            low = self.lower.iter().copied().map(Some).collect();
            high = self.upper.iter().copied().map(Some).collect();
        }
        // First one LP per direction that pushes every wanted sum down (up)
        // at once, each in units of its range: most suppressed cells can
        // reach their bound, and the harvest settles them all together.
        for dir in [Minimize, Maximize] {
            let side = if dir == Minimize { &low } else { &high };
            let weights: Vec<f64> = (0..k)
                .map(|u| {
                    let open = self.wanted[u] && side[u].is_none();
                    f64::from(u8::from(open)) / (self.upper[u] - self.lower[u]).max(1.0)
                })
                .collect();
            if weights.iter().all(|w| *w == 0.0) {
                continue;
            }
            match self.optimum(&weights, dir) {
                Ok(values) => self.harvest(&values, &mut low, &mut high),
                Err(Unsolved::Infeasible) => return vec![Err(Unsolved::Infeasible); k],
                // The single LPs below will say which cells fail.
                Err(Unsolved::Solver(_)) => {}
            }
        }
        // Then one LP per side still open.
        for v in (0..k).filter(|&v| self.wanted[v]) {
            for dir in [Minimize, Maximize] {
                let side = if dir == Minimize { &low } else { &high };
                if side[v].is_some() || failed[v].is_some() {
                    continue;
                }
                let objective: Vec<f64> = (0..k).map(|u| f64::from(u8::from(u == v))).collect();
                match self.optimum(&objective, dir) {
                    Ok(values) => {
                        let x = values[v].clamp(self.lower[v], self.upper[v]);
                        match dir {
                            Minimize => low[v] = Some(x),
                            Maximize => high[v] = Some(x),
                        }
                        self.harvest(&values, &mut low, &mut high);
                    }
                    Err(Unsolved::Infeasible) => return vec![Err(Unsolved::Infeasible); k],
                    Err(e) => failed[v] = Some(e),
                }
            }
        }
        (0..k)
            .map(|v| match (&failed[v], low[v], high[v]) {
                (Some(e), _, _) => Err(e.clone()),
                (None, Some(lo), Some(hi)) => Ok((lo.min(hi), hi.max(lo))),
                _ => Ok((self.lower[v], self.upper[v])),
            })
            .collect()
    }

    /// A variable that sits on its own bound in a feasible solution has
    /// that bound as its extreme: no LP of its own is needed for that side.
    fn harvest(&self, values: &[f64], low: &mut [Option<f64>], high: &mut [Option<f64>]) {
        for (u, &x) in values.iter().enumerate() {
            let eps = AT_BOUND * (self.upper[u] - self.lower[u]).max(1.0);
            if low[u].is_none() && x <= self.lower[u] + eps {
                low[u] = Some(self.lower[u]);
            }
            if high[u].is_none() && x >= self.upper[u] - eps {
                high[u] = Some(self.upper[u]);
            }
        }
    }

    /// Minimises or maximises `objective` (a weight per variable): the
    /// solution's values.
    fn optimum(&self, objective: &[f64], dir: OptimizationDirection) -> Result<Vec<f64>, Unsolved> {
        let mut p = Problem::new(dir);
        let vars: Vec<_> = (0..self.cells.len())
            .map(|u| p.add_var(objective[u], (self.lower[u], self.upper[u])))
            .collect();
        for (row, rhs) in &self.rows {
            let expr: Vec<_> = row.iter().map(|&(u, c)| (vars[u], c)).collect();
            p.add_constraint(expr.as_slice(), ComparisonOp::Eq, *rhs);
        }
        let solution = match p.solve() {
            Ok(outcome) => outcome
                .into_solution()
                .map_err(|e| Unsolved::Solver(format!("{e:?}")))?,
            Err(microlp::Error::Infeasible) => return Err(Unsolved::Infeasible),
            Err(e) => return Err(Unsolved::Solver(e.to_string())),
        };
        Ok(vars.iter().map(|&x| solution.var_value(x)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_rng::Rng;
    use super::super::{protect, recover_linear, relations};
    use super::*;
    use crate::domain::SuppressionReason;
    use crate::table::{Atom, Level, Table};

    /// A cell on a 1-5 scale with `n` responses: published with `sum`, or
    /// suppressed (`None`).
    fn cell(unit: &str, n: u64, sum: Option<f64>) -> Cell {
        let mut c = Cell {
            level: Level::Department,
            unit_id: unit.into(),
            institution_id: None,
            specialty: None,
            rso_id: None,
            region_id: None,
            instrument: "exit".into(),
            instrument_version: "2016".into(),
            scale_id: "supervision".into(),
            period: "2019".into(),
            n_respondents: n,
            n_responses: n,
            mean: sum.map(|s| s / n as f64),
            sd: None,
            ci_low: None,
            ci_high: None,
            mean_pomp: None,
            alpha: None,
            response_rate: None,
            reliable: true,
            suppressed: false,
            suppression_reason: None,
            scale_min: 1.0,
            scale_max: 5.0,
            floor: 4,
            in_total: false,
            atoms: Vec::new(),
        };
        if sum.is_none() {
            c.suppress(SuppressionReason::MinN);
        }
        c
    }

    fn rel(parent: usize, children: &[usize]) -> Relation {
        Relation {
            parent,
            children: children.to_vec(),
        }
    }

    fn assert_bounds(i: &Interval, lo: f64, hi: f64) {
        let (l, h) = i.bounds.clone().expect("solved");
        assert!(
            (l - lo).abs() < TOLERANCE && (h - hi).abs() < TOLERANCE,
            "cell {}: [{l}, {h}], expected [{lo}, {hi}]",
            i.cell
        );
    }

    /// (a) A parent of 5 responses summing to 17, one child published (2
    /// responses, 7), the other suppressed (3 responses): its sum is
    /// 17 - 7 = 10, its mean 10/3, a point.
    #[test]
    fn one_suppressed_child_is_a_point() {
        let cells = vec![
            cell("parent", 5, Some(17.0)),
            cell("a", 2, Some(7.0)),
            cell("b", 3, None),
        ];
        let iv = feasible_intervals(&cells, &[rel(0, &[1, 2])]);
        assert_eq!(iv.len(), 1);
        assert_eq!(iv[0].cell, 2);
        assert_bounds(&iv[0], 10.0 / 3.0, 10.0 / 3.0);
        assert!(iv[0].is_point());
        assert!(iv[0].width_fraction().unwrap() < TOLERANCE);
        assert_eq!(too_narrow(&iv, MIN_WIDTH_FRACTION), vec![2]);
        // The exact checker agrees.
        assert_eq!(recover_linear(&cells, &[rel(0, &[1, 2])]), vec![2]);
    }

    /// (b) The sample region's case, exit survey, supervision, 2019: RSO
    /// neu-nv, 8 responses summing to 35; umcl:neu published, 4 responses
    /// summing to 16; Brakelduin (1 response) and Meerhaven (3) suppressed.
    /// The two share 35 - 16 = 19 over 4 responses. By hand:
    /// - Meerhaven's sum is 19 minus Brakelduin's, which lies in [1, 5], so
    ///   in [14, 18]; its own bounds are [3, 15]; together [14, 15], a mean
    ///   in [14/3, 5] = [4.67, 5.00], width 1/3 of 4 points (0.083 < 0.20).
    /// - Brakelduin's is 19 minus Meerhaven's [3, 15], so in [4, 16], and
    ///   its own bounds are [1, 5]: [4, 5], width 1 of 4 points (0.25).
    #[test]
    fn the_leftover_of_a_parent_bounds_its_suppressed_children() {
        let cells = vec![
            cell("neu-nv", 8, Some(35.0)),
            cell("umcl:neu", 4, Some(16.0)),
            cell("brakelduin:neu", 1, None),
            cell("meerhaven:neu", 3, None),
        ];
        let iv = feasible_intervals(&cells, &[rel(0, &[1, 2, 3])]);
        assert_eq!(iv.iter().map(|i| i.cell).collect::<Vec<_>>(), vec![2, 3]);
        assert_bounds(&iv[0], 4.0, 5.0);
        assert_bounds(&iv[1], 14.0 / 3.0, 5.0);
        assert!((iv[0].width_fraction().unwrap() - 0.25).abs() < TOLERANCE);
        assert!((iv[1].width_fraction().unwrap() - 1.0 / 12.0).abs() < TOLERANCE);
        // Neither is recovered exactly, yet Meerhaven is too narrow.
        assert!(recover_linear(&cells, &[rel(0, &[1, 2, 3])]).is_empty());
        assert_eq!(too_narrow(&iv, MIN_WIDTH_FRACTION), vec![3]);
        // At the edge: Brakelduin's 0.25 passes a minimum of 0.25 and fails
        // one just above it.
        assert_eq!(too_narrow(&iv, 0.25), vec![3]);
        assert_eq!(too_narrow(&iv, 0.2501), vec![2, 3]);
    }

    /// (c) A parent of 4 responses summing to 12 and two suppressed
    /// children of 2 each: a child's sum is 12 minus the other's [2, 10],
    /// so [2, 10], exactly its own bounds. Nothing narrows it: [1, 5].
    #[test]
    fn a_balanced_leftover_narrows_nothing() {
        let cells = vec![
            cell("parent", 4, Some(12.0)),
            cell("a", 2, None),
            cell("b", 2, None),
            // In no relation at all.
            cell("alone", 3, None),
        ];
        let iv = feasible_intervals(&cells, &[rel(0, &[1, 2])]);
        assert_eq!(iv.len(), 3);
        for i in &iv {
            assert_bounds(i, 1.0, 5.0);
            assert!((i.width_fraction().unwrap() - 1.0).abs() < TOLERANCE);
        }
        assert!(too_narrow(&iv, MIN_WIDTH_FRACTION).is_empty());
    }

    /// A table that does not add up has no intervals, and `too_narrow`
    /// lists its cells: nothing shows them to be safe. Here the parent's
    /// 20 minus a's 4 leaves 16 for b's 3 responses, more than 3 × 5.
    #[test]
    fn a_table_that_does_not_add_up_is_flagged() {
        let cells = vec![
            cell("parent", 5, Some(20.0)),
            cell("a", 2, Some(4.0)),
            cell("b", 3, None),
        ];
        let iv = feasible_intervals(&cells, &[rel(0, &[1, 2])]);
        assert_eq!(iv[0].bounds, Err(Unsolved::Infeasible));
        assert_eq!(too_narrow(&iv, MIN_WIDTH_FRACTION), vec![2]);
    }

    /// Two relations with two unknowns each, joined through a suppressed
    /// cell, over a different scale (0-10): a + b = 30 (n 3 + 3) and
    /// b + c = 12 (n 3 + 2). By hand: c in [0, 20] gives b in [0, 12]
    /// (its own bounds [0, 30]), so b's mean is in [0, 4]; then a = 30 - b
    /// is in [18, 30], a mean in [6, 10]; c = 12 - b in [0, 12], a mean in
    /// [0, 6]. Widths 0.4, 0.4, 0.6 of the range of 10.
    #[test]
    fn bounds_travel_through_a_suppressed_bridge() {
        let mut cells = vec![
            cell("t1", 6, Some(30.0)),
            cell("a", 3, None),
            cell("b", 3, None),
            cell("t2", 5, Some(12.0)),
            cell("c", 2, None),
        ];
        for c in cells.iter_mut() {
            c.scale_min = 0.0;
            c.scale_max = 10.0;
        }
        let iv = feasible_intervals(&cells, &[rel(0, &[1, 2]), rel(3, &[2, 4])]);
        assert_bounds(&iv[0], 6.0, 10.0);
        assert_bounds(&iv[1], 0.0, 4.0);
        assert_bounds(&iv[2], 0.0, 6.0);
        assert!(too_narrow(&iv, MIN_WIDTH_FRACTION).is_empty());
        assert_eq!(too_narrow(&iv, 0.5), vec![1, 2]);
    }

    fn atom(inst: usize, spec: usize, rso: Option<usize>, year: i32) -> Atom {
        Atom {
            block: ("exit".into(), "2016".into(), "supervision".into()),
            institution_id: format!("i{inst}"),
            specialty: format!("s{spec}"),
            rso_id: rso.map(|r| format!("R{r}")),
            region_id: "r".into(),
            year,
        }
    }

    /// The cells of one block made from atoms with their responses (whole
    /// answers), the way `aggregate` pools them: per unit, per year and per
    /// cycle. Returns the cells (all published, full-precision means) and
    /// their true sums.
    fn pooled(atoms: &[(Atom, Vec<u32>)]) -> (Vec<Cell>, Vec<u64>) {
        type Pool = (Vec<u32>, u64, u64);
        let mut groups: BTreeMap<(Level, String, String), Pool> = BTreeMap::new();
        for (i, (a, responses)) in atoms.iter().enumerate() {
            let cycle = crate::score::cycle_of(a.year, 2019);
            for (l, u) in a.units() {
                for p in [a.year.to_string(), cycle.clone()] {
                    let g = groups.entry((l, u.clone(), p)).or_default();
                    g.0.push(i as u32);
                    g.1 += responses.len() as u64;
                    g.2 += responses.iter().map(|&r| r as u64).sum::<u64>();
                }
            }
        }
        groups
            .into_iter()
            .map(|((level, unit_id, period), (atoms, n, sum))| {
                let mut c = cell(&unit_id, n, Some(sum as f64));
                c.level = level;
                c.period = period;
                c.atoms = atoms;
                (c, sum)
            })
            .unzip()
    }

    /// A random small region: institutions, specialties, RSOs per specialty
    /// (some departments outside), one or two years, `max_n` responses at
    /// most per department and year, answers 1-5.
    fn random_region(rng: &mut Rng, n_inst: usize, n_spec: usize, max_n: usize) -> Vec<Cell> {
        let years = 1 + rng.below(2) as i32;
        let mut atoms = Vec::new();
        for i in 0..n_inst {
            for s in 0..n_spec {
                if rng.chance(0.2) {
                    continue;
                }
                let rso = (!rng.chance(0.2)).then_some(s % 2);
                for y in 2019..2019 + years {
                    if rng.chance(0.1) {
                        continue;
                    }
                    let n = 1 + rng.below(max_n);
                    let responses = (0..n).map(|_| 1 + rng.below(5) as u32).collect();
                    atoms.push((atom(i, s, rso, y), responses));
                }
            }
        }
        pooled(&atoms).0
    }

    /// Every integer sum of each unknown cell that some whole-number
    /// solution of the relations allows, by depth-first enumeration over
    /// the unknowns (pruned by the rows' remaining ranges): (lowest,
    /// highest) per unknown, or None when the search exceeds `budget`.
    fn enumerate(cells: &[Cell], rels: &[Relation], budget: usize) -> Option<Vec<(i64, i64)>> {
        let unknown: Vec<usize> = (0..cells.len())
            .filter(|&i| known_sum(&cells[i]).is_none())
            .collect();
        let var = |c: usize| unknown.iter().position(|&u| u == c);
        let lower: Vec<i64> = unknown
            .iter()
            .map(|&c| cells[c].n_responses as i64)
            .collect();
        let upper: Vec<i64> = lower.iter().map(|n| 5 * n).collect();
        // Rows over the unknowns, right-hand sides in whole numbers.
        let rows: Vec<(Vec<(usize, i64)>, i64)> = rels
            .iter()
            .map(|r| {
                let mut row = Vec::new();
                let mut rhs = 0i64;
                let terms =
                    std::iter::once((r.parent, 1)).chain(r.children.iter().map(|&c| (c, -1)));
                for (m, coef) in terms {
                    match var(m) {
                        Some(v) => row.push((v, coef)),
                        None => rhs -= coef * known_sum(&cells[m]).unwrap().round() as i64,
                    }
                }
                (row, rhs)
            })
            .filter(|(row, _)| !row.is_empty())
            .collect();
        let k = unknown.len();
        let mut x = vec![0i64; k];
        let mut best: Vec<(i64, i64)> = vec![(i64::MAX, i64::MIN); k];
        let mut nodes = 0usize;
        // Whether the rows can still hold with the first `depth` assigned.
        let possible = |x: &[i64], depth: usize| {
            rows.iter().all(|(row, rhs)| {
                let (mut lo, mut hi) = (0i64, 0i64);
                for &(v, c) in row {
                    if v < depth {
                        lo += c * x[v];
                        hi += c * x[v];
                    } else if c > 0 {
                        lo += c * lower[v];
                        hi += c * upper[v];
                    } else {
                        lo += c * upper[v];
                        hi += c * lower[v];
                    }
                }
                lo <= *rhs && *rhs <= hi
            })
        };
        fn dfs(
            depth: usize,
            x: &mut Vec<i64>,
            ctx: &dyn Fn(&[i64], usize) -> bool,
            bounds: (&[i64], &[i64]),
            best: &mut [(i64, i64)],
            nodes: &mut usize,
            budget: usize,
        ) -> bool {
            *nodes += 1;
            if *nodes > budget {
                return false;
            }
            if depth == x.len() {
                for (b, &v) in best.iter_mut().zip(x.iter()) {
                    b.0 = b.0.min(v);
                    b.1 = b.1.max(v);
                }
                return true;
            }
            for val in bounds.0[depth]..=bounds.1[depth] {
                x[depth] = val;
                if ctx(x, depth + 1) && !dfs(depth + 1, x, ctx, bounds, best, nodes, budget) {
                    return false;
                }
            }
            true
        }
        dfs(
            0,
            &mut x,
            &possible,
            (&lower, &upper),
            &mut best,
            &mut nodes,
            budget,
        )
        .then_some(best)
        .map(|b| {
            // Per cell index, not per unknown.
            let mut out = vec![(0, 0); cells.len()];
            for (v, &c) in unknown.iter().enumerate() {
                out[c] = b[v];
            }
            out
        })
    }

    /// The sample's case again, with the relations `super::relations`
    /// finds from the atoms: each department is its institution too, and
    /// the 2019 cells are their cycle's, so the suppression takes those
    /// copies along. Umcl 4 responses summing to 16, Brakelduin 1 (4),
    /// Meerhaven 3 (5, 5, 5): the same [14/3, 5] for Meerhaven, [4, 5] for
    /// Brakelduin, in the year and in the cycle, as department and as
    /// institution.
    #[test]
    fn the_sample_case_through_the_found_relations() {
        let atoms = vec![
            (atom(0, 0, Some(0), 2019), vec![4, 4, 4, 4]),
            (atom(1, 0, Some(0), 2019), vec![4]),
            (atom(2, 0, Some(0), 2019), vec![5, 5, 5]),
        ];
        let (mut cells, _) = pooled(&atoms);
        for c in cells.iter_mut() {
            if c.unit_id.starts_with("i1") || c.unit_id.starts_with("i2") {
                c.suppress(SuppressionReason::MinN);
            }
        }
        let rels = relations(&cells);
        assert!(recover_linear(&cells, &rels).is_empty());
        let iv = feasible_intervals(&cells, &rels);
        assert_eq!(iv.len(), 8, "2 departments and 2 institutions, 2 periods");
        for i in &iv {
            if cells[i.cell].unit_id.starts_with("i2") {
                assert_bounds(i, 14.0 / 3.0, 5.0);
            } else {
                assert_bounds(i, 4.0, 5.0);
            }
        }
        let narrow = too_narrow(&iv, MIN_WIDTH_FRACTION);
        assert!(narrow.iter().all(|&c| cells[c].unit_id.starts_with("i2")));
        assert_eq!(narrow.len(), 4);
    }

    /// (d) Property: on random small regions with random suppressions, the
    /// LP interval of every suppressed mean contains the mean of every
    /// whole-number solution (found by enumeration, a second source), and
    /// its ends lie within 1/n of the extreme whole-number solutions (a
    /// sum of whole answers is a whole number; the LP's ends need not be).
    #[test]
    fn property_intervals_match_enumeration_on_small_regions() {
        let mut rng = Rng::new(20);
        let (mut compared, mut partial, mut skipped) = (0, 0, 0);
        for case in 0..400 {
            let (n_inst, n_spec) = (2 + rng.below(2), 1 + rng.below(2));
            let mut cells = random_region(&mut rng, n_inst, n_spec, 4);
            let truth: Vec<f64> = cells.iter().map(|c| c.mean.unwrap()).collect();
            // Half the cases suppressed at random (exact recoveries among
            // them), half by `protect` (none: the intervals in between).
            if case % 2 == 0 {
                let p = 0.15 + 0.25 * rng.unit();
                for c in cells.iter_mut() {
                    if rng.chance(p) {
                        c.suppress(SuppressionReason::MinN);
                    }
                }
            } else {
                let floor = 3 + rng.below(3) as u32;
                let mut table = Table {
                    cells,
                    ..Default::default()
                };
                table.cells.iter_mut().for_each(|c| c.floor = floor);
                protect(&mut table);
                cells = table.cells;
            }
            let rels = relations(&cells);
            let Some(whole) = enumerate(&cells, &rels, 200_000) else {
                skipped += 1;
                continue;
            };
            let iv = feasible_intervals(&cells, &rels);
            assert_eq!(iv.len(), cells.iter().filter(|c| c.suppressed).count());
            for i in &iv {
                let (lo, hi) = i.bounds.clone().expect("a true table is feasible");
                let n = cells[i.cell].n_responses as f64;
                let (wlo, whi) = (whole[i.cell].0 as f64 / n, whole[i.cell].1 as f64 / n);
                let ctx = format!(
                    "case {case}, cell {} ({} {}): LP [{lo}, {hi}], whole [{wlo}, {whi}]",
                    i.cell, cells[i.cell].unit_id, cells[i.cell].period
                );
                assert!(lo <= truth[i.cell] + TOLERANCE, "{ctx}, truth");
                assert!(hi >= truth[i.cell] - TOLERANCE, "{ctx}, truth");
                assert!(lo <= wlo + TOLERANCE && hi >= whi - TOLERANCE, "{ctx}");
                assert!(wlo - lo <= 1.0 / n + TOLERANCE, "{ctx}");
                assert!(hi - whi <= 1.0 / n + TOLERANCE, "{ctx}");
                compared += 1;
                // Neither known nor free: the case the 1/n check is about.
                partial +=
                    usize::from(!i.is_point() && i.width_fraction().unwrap() < 1.0 - TOLERANCE);
            }
        }
        assert!(skipped < 40, "too many searches over budget: {skipped}");
        assert!(compared > 1000, "too few cells compared: {compared}");
        assert!(
            partial > 200,
            "too few cells narrowed but not known: {partial}"
        );
    }

    /// Whatever the exact linear checker recovers (linear algebra, another
    /// method) the auditor finds as a point; on random suppressions of
    /// larger regions.
    #[test]
    fn what_the_linear_checker_recovers_is_a_point() {
        let mut rng = Rng::new(21);
        let mut recovered = 0;
        for _ in 0..100 {
            let (n_inst, n_spec) = (3 + rng.below(4), 1 + rng.below(4));
            let mut cells = random_region(&mut rng, n_inst, n_spec, 12);
            for c in cells.iter_mut() {
                if rng.chance(0.3) {
                    c.suppress(SuppressionReason::MinN);
                }
            }
            let rels = relations(&cells);
            let iv = feasible_intervals(&cells, &rels);
            for k in recover_linear(&cells, &rels) {
                let i = iv.iter().find(|i| i.cell == k).expect("an interval");
                assert!(i.is_point(), "{k}: {:?}", i.bounds);
                recovered += 1;
            }
        }
        assert!(recovered > 100, "too few recovered: {recovered}");
    }

    /// The speed of the auditor on one component of about 300 cells after
    /// `protect`, on one thread. Run with
    /// `cargo test --release --lib privacy::audit -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn a_component_of_300_cells_is_fast() {
        let mut rng = Rng::new(300);
        let mut atoms = Vec::new();
        for i in 0..10 {
            for s in 0..8 {
                for y in 2023..2025 {
                    let n = if rng.chance(0.3) {
                        1 + rng.below(4)
                    } else {
                        4 + rng.below(20)
                    };
                    let responses = (0..n).map(|_| 1 + rng.below(5) as u32).collect();
                    atoms.push((atom(i, s, Some(s % 3), y), responses));
                }
            }
        }
        let mut table = Table {
            cells: pooled(&atoms).0,
            ..Default::default()
        };
        protect(&mut table);
        let cells = &table.cells;
        let rels = relations(cells);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        // Processor time, not wall time: a shared machine's load does not
        // count (the pool's one thread does the work).
        let cpu = || {
            let mut t = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            // SAFETY: clock_gettime writes one timespec through the pointer.
            unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
            std::time::Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
        };
        let rounds = 10;
        let start = cpu();
        let mut iv = Vec::new();
        for _ in 0..rounds {
            iv = pool.install(|| feasible_intervals(cells, &rels));
        }
        let per = (cpu() - start) / rounds;
        let systems = systems(cells, &rels);
        let narrow = too_narrow(&iv, MIN_WIDTH_FRACTION);
        let primary = |k: &&usize| cells[**k].suppression_reason == Some(SuppressionReason::MinN);
        println!(
            "{} cells, {} relations, {} suppressed ({} min_n) in {} systems (largest {}): \
             {per:?} processor time per audit; {} too narrow ({} min_n)",
            cells.len(),
            rels.len(),
            iv.len(),
            iv.iter().filter(|i| primary(&&i.cell)).count(),
            systems.len(),
            systems.iter().map(|s| s.cells.len()).max().unwrap_or(0),
            narrow.len(),
            narrow.iter().filter(primary).count()
        );
        assert!(iv.iter().all(|i| i.bounds.is_ok()), "unsolved cells");
    }

    #[test]
    fn intervals_of_some_cells_are_those_cells_intervals() {
        // The sample-like random regions of the property test: asking for
        // the too-small cells only gives their intervals, the same as
        // asking for all.
        let mut rng = Rng::new(5);
        let mut compared = 0;
        for _ in 0..20 {
            let mut table = Table {
                cells: random_region(&mut rng, 4, 3, 8),
                ..Default::default()
            };
            table.cells.iter_mut().for_each(|c| c.floor = 4);
            protect(&mut table);
            let cells = table.cells;
            let rels = relations(&cells);
            let all = feasible_intervals(&cells, &rels);
            let small = |c: &Cell| c.suppression_reason == Some(SuppressionReason::MinN);
            let some = feasible_intervals_of(&cells, &rels, small);
            let expected: Vec<&Interval> = all.iter().filter(|i| small(&cells[i.cell])).collect();
            assert_eq!(some.len(), expected.len());
            compared += some.len();
            for (a, b) in some.iter().zip(expected) {
                assert_eq!(a.cell, b.cell);
                let (x, y) = (a.bounds.clone().unwrap(), b.bounds.clone().unwrap());
                assert!((x.0 - y.0).abs() < 1e-6 && (x.1 - y.1).abs() < 1e-6);
            }
        }
        assert!(
            compared > 20,
            "the regions have too-small cells: {compared}"
        );
    }
}
