//! Interval protection (issue #20): a too-small cell must not be narrowed
//! by the published sums to less than a minimum width of its scale.
//!
//! `audit` computes each hidden cell's feasible interval by linear
//! programming over a whole set of unknowns; in a large region's tables
//! those sets join thousands of cells, too slow to solve while choosing
//! complements. This module solves the same programme on a
//! *neighbourhood* of a cell: the hidden cells nearest to it through the
//! relations (the smallest relations first), every other hidden cell fixed
//! at its true sum. Fixing variables at a feasible point only adds
//! constraints, so the interval found lies *inside* the true one (an inner
//! bound); when the neighbourhood holds the cell's whole set of unknowns it
//! is the true one (both tested against `audit`).
//!
//! A too-small cell whose set of unknowns is at most `FAR` cells gets its
//! exact interval. If that is narrower than the minimum, one more
//! published cell of the neighbourhood is hidden: of the nearest
//! `CANDIDATES`, the one that widens the interval to the minimum at the
//! lowest cost (`super::cost`), else the one that widens it most, else
//! (when no single cell widens it; two together may, and for a cell in a
//! larger set, where the neighbourhood's interval is only a lower bound)
//! the cheapest published member of its own relations; then the next
//! narrow cell, in rounds. A cell in a larger set is decided by
//! `decide_large`: a walk
//! through the null space (`super::certify`) shows most wide, the
//! neighbourhood's outer bound most of the rest narrow, and the auditor's
//! programme over the whole set decides the few left (README, Privacy).
//!
//! Only the primary cells (`min_n`) are protected so: in statistical
//! disclosure control the protection interval is a requirement on the
//! cells that are too small to publish. A complement passes the floor;
//! narrowing it tells a reader no more than publishing it would have.
//! Measured on the sample region: protecting the complements' intervals
//! too would hide 18.4% of the department cells that pass the floor as
//! complements instead of 8.4%, and any protection that does needs more
//! than 10% (`super::bound::StrictBound`; README, Privacy).

use std::cell::RefCell;
use std::collections::HashMap;

use microlp::{ComparisonOp, OptimizationDirection, Problem};

use super::Relation;
use crate::domain::SuppressionReason;
use crate::table::Cell;

/// A smaller neighbourhood, for the tests: its interval lies inside the
/// larger one's.
#[cfg(test)]
const NEAR: usize = 12;
/// The largest set of unknowns the protection solves, and the
/// neighbourhood of the search for what to hide.
const FAR: usize = 48;
/// Rounds of "find the narrow cells, hide one neighbour of each".
const MAX_ROUNDS: usize = 12;
/// The published cells tried as the next complement of a narrow cell.
const CANDIDATES: usize = 16;

/// What the protection needs besides the cells: the relations, the true
/// mean of every cell (before any was suppressed), and each cell's
/// relations, the smallest first (`by_size`): a neighbourhood grows
/// through the tight relations (a cycle's years, an institution's
/// departments) before the wide ones (a region's departments).
pub(super) struct Neighbourhoods<'a> {
    rels: &'a [Relation],
    truth: &'a [Option<f64>],
    member_of: &'a [Vec<usize>],
    /// The inner widths found, by neighbourhood (`x` first). With the cells
    /// beyond at their true sums, which a published cell's sum also is, the
    /// inner programme depends on nothing else: a cell whose neighbourhood
    /// has not changed since the last look is not solved again.
    inner: RefCell<HashMap<Vec<usize>, f64>>,
}

/// Each cell's relations, the fewest members first.
pub(super) fn by_size(mut member_of: Vec<Vec<usize>>, rels: &[Relation]) -> Vec<Vec<usize>> {
    for m in member_of.iter_mut() {
        m.sort_by_key(|&r| (rels[r].children.len(), r));
    }
    member_of
}

impl<'a> Neighbourhoods<'a> {
    pub fn new(
        rels: &'a [Relation],
        truth: &'a [Option<f64>],
        member_of: &'a [Vec<usize>],
    ) -> Self {
        Neighbourhoods {
            rels,
            truth,
            member_of,
            inner: RefCell::new(HashMap::new()),
        }
    }

    /// A lower bound on the width of cell `x`'s feasible interval, as a
    /// fraction of its scale range, with the hidden cells `also` counted
    /// as hidden too (a candidate complement): the linear programme over
    /// the `cap` hidden cells nearest to `x`, the others fixed at their
    /// true sums. 1.0 for a cell in no relation.
    pub fn inner_width(&self, cells: &[Cell], x: usize, also: Option<usize>, cap: usize) -> f64 {
        let (order, _) = self.nearest(cells, x, also, cap);
        if let Some(&w) = self.inner.borrow().get(&order) {
            return w;
        }
        let w = self.width(cells, x, also, &order, Bound::Inner);
        self.inner.borrow_mut().insert(order, w);
        w
    }

    /// An upper bound on the same width: the programme over the `cap`
    /// hidden cells nearest to `x` in which the hidden cells beyond are
    /// free within their scale bounds (a relation holding one then bounds
    /// the sum of its members in the neighbourhood from both sides,
    /// instead of fixing it). Dropping what ties the cells beyond only
    /// widens the interval, so a cell narrow here is narrow.
    fn outer_width(&self, cells: &[Cell], x: usize, cap: usize) -> f64 {
        let (order, _) = self.nearest(cells, x, None, cap);
        self.width(cells, x, None, &order, Bound::Outer)
    }

    fn width(
        &self,
        cells: &[Cell],
        x: usize,
        also: Option<usize>,
        order: &[usize],
        bound: Bound,
    ) -> f64 {
        let range = cells[x].scale_max - cells[x].scale_min;
        let n = cells[x].n_responses as f64;
        if range <= 0.0 || n == 0.0 {
            return 1.0;
        }
        let hidden =
            |m: usize| (cells[m].suppressed || Some(m) == also) && cells[m].n_responses > 0;
        let var: HashMap<usize, usize> = order.iter().enumerate().map(|(u, &m)| (m, u)).collect();
        // Every relation with an unknown, the rest of its members moved to
        // the right-hand side: published sums, and the hidden cells
        // outside the neighbourhood at their true sums (inner) or anywhere
        // within their bounds (outer): the right-hand side is then a range.
        let mut touched: Vec<usize> = order
            .iter()
            .flat_map(|&v| self.member_of[v].iter().copied())
            .collect();
        touched.sort_unstable();
        touched.dedup();
        let sum_of = |m: usize| -> Option<(f64, f64)> {
            let c = &cells[m];
            if c.n_responses == 0 {
                return Some((0.0, 0.0));
            }
            let k = c.n_responses as f64;
            if !hidden(m) {
                return c.mean.map(|v| (v * k, v * k));
            }
            match bound {
                Bound::Inner => self.truth[m].map(|v| (v * k, v * k)),
                Bound::Outer => Some((k * c.scale_min, k * c.scale_max)),
            }
        };
        let mut rows: Vec<RangeRow> = Vec::with_capacity(touched.len());
        for &r in &touched {
            let rel = &self.rels[r];
            let mut row: Vec<(usize, f64)> = Vec::new();
            let (mut low, mut high) = (0.0, 0.0);
            let mut complete = true;
            let terms =
                std::iter::once((rel.parent, 1.0)).chain(rel.children.iter().map(|&c| (c, -1.0)));
            for (m, coef) in terms {
                match var.get(&m) {
                    Some(&u) => match row.iter_mut().find(|(w, _)| *w == u) {
                        Some((_, k)) => *k += coef,
                        None => row.push((u, coef)),
                    },
                    None => match sum_of(m) {
                        Some((a, b)) => {
                            let (a, b) = (-coef * a, -coef * b);
                            low += a.min(b);
                            high += a.max(b);
                        }
                        None => complete = false,
                    },
                }
            }
            row.retain(|(_, k)| *k != 0.0);
            // A member without a known or true sum (no mean computed):
            // leaving the relation out only widens the interval. That
            // suits the outer bound; the inner one would no longer be a
            // lower bound, so the cell counts as narrow there instead.
            if !complete {
                match bound {
                    Bound::Inner => return 0.0,
                    Bound::Outer => continue,
                }
            }
            if !row.is_empty() {
                rows.push((row, low, high));
            }
        }
        if rows.is_empty() {
            return 1.0;
        }
        let bounds: Vec<(f64, f64)> = order
            .iter()
            .map(|&m| {
                let c = &cells[m];
                let k = c.n_responses as f64;
                (k * c.scale_min, k * c.scale_max)
            })
            .collect();
        let solve = |dir: OptimizationDirection| -> Option<f64> {
            let mut p = Problem::new(dir);
            let vars: Vec<_> = bounds
                .iter()
                .enumerate()
                .map(|(u, &b)| p.add_var(f64::from(u8::from(u == 0)), b))
                .collect();
            for (row, low, high) in &rows {
                let expr: Vec<_> = row.iter().map(|&(u, k)| (vars[u], k)).collect();
                if high - low <= 1e-9 * low.abs().max(1.0) {
                    p.add_constraint(expr.as_slice(), ComparisonOp::Eq, *low);
                } else {
                    p.add_constraint(expr.as_slice(), ComparisonOp::Ge, *low);
                    p.add_constraint(expr.as_slice(), ComparisonOp::Le, *high);
                }
            }
            let solution = p.solve().ok()?.into_solution().ok()?;
            Some(solution.var_value(vars[0]))
        };
        match (
            solve(OptimizationDirection::Minimize),
            solve(OptimizationDirection::Maximize),
        ) {
            (Some(lo), Some(hi)) => ((hi - lo).max(0.0) / n / range).min(1.0),
            // No solution found (rounding in the fixed sums): nothing shows
            // the cell to be wide (inner), or narrow (outer).
            _ => match bound {
                Bound::Inner => 0.0,
                Bound::Outer => 1.0,
            },
        }
    }

    /// Whether cell `x` is at least `min_width` wide, exactly: where its
    /// whole set of unknowns is at most `FAR` cells, by the programme over
    /// all of them; beyond that as `decide_large` decides.
    fn verdict(&self, cells: &[Cell], x: usize, min_width: f64) -> Verdict {
        if !self.fits(cells, x, FAR) {
            return self.decide_large(cells, &[x], min_width)[0].1;
        }
        if self.inner_width(cells, x, None, FAR) >= min_width - super::audit::TOLERANCE {
            Verdict::Wide
        } else {
            Verdict::Narrow
        }
    }

    /// The verdicts of cells in sets of unknowns larger than `FAR`, in
    /// three steps from cheap to exact, each only for the cells the one
    /// before left open: a walk through the null space from the true sums
    /// (`certify`, no programme), which shows most wide; the neighbourhood's
    /// outer bound (`outer_width`), which shows most of the rest narrow;
    /// and the auditor's own interval over the whole set (`audit`) for the
    /// few left. A cell the solver fails on is `Unchecked`.
    fn decide_large(&self, cells: &[Cell], xs: &[usize], min_width: f64) -> Vec<(usize, Verdict)> {
        let enough = |w: f64| w >= min_width - super::audit::TOLERANCE;
        let mut out: Vec<(usize, Verdict)> = Vec::with_capacity(xs.len());
        let walked = super::certify::widths(cells, self.rels, self.truth, xs);
        let mut open: Vec<usize> = Vec::new();
        for &x in xs {
            if walked.get(&x).copied().is_some_and(enough) {
                out.push((x, Verdict::Wide));
            } else {
                open.push(x);
            }
        }
        if open.is_empty() {
            return out;
        }
        let mut rest = vec![false; cells.len()];
        let mut left = 0;
        for x in open {
            if enough(self.outer_width(cells, x, FAR)) {
                rest[x] = true;
                left += 1;
            } else {
                out.push((x, Verdict::Narrow));
            }
        }
        if left > 0 {
            for iv in super::audit::intervals_where(cells, self.rels, &rest) {
                let verdict = match iv.width_fraction() {
                    Some(w) if enough(w) => Verdict::Wide,
                    Some(_) => Verdict::Narrow,
                    None => Verdict::Unchecked,
                };
                out.push((iv.cell, verdict));
            }
        }
        // A cell no step answered for (not hidden, or without a true mean).
        let answered: std::collections::HashSet<usize> = out.iter().map(|&(y, _)| y).collect();
        for &x in xs {
            if !answered.contains(&x) {
                out.push((x, Verdict::Unchecked));
            }
        }
        out
    }

    /// Whether the hidden cells the relations join to `x` are at most
    /// `cap` (no programme).
    fn fits(&self, cells: &[Cell], x: usize, cap: usize) -> bool {
        self.nearest(cells, x, None, cap).1
    }

    /// The hidden cells (with `also`) nearest to `x` through the relations,
    /// breadth first and the smallest relations first, `x` first, at most
    /// `cap`; and whether they are all the relations join to it.
    fn nearest(
        &self,
        cells: &[Cell],
        x: usize,
        also: Option<usize>,
        cap: usize,
    ) -> (Vec<usize>, bool) {
        let hidden =
            |m: usize| (cells[m].suppressed || Some(m) == also) && cells[m].n_responses > 0;
        let mut order = vec![x];
        let mut seen: std::collections::HashSet<usize> = std::collections::HashSet::from([x]);
        let mut next = 0;
        while next < order.len() {
            let v = order[next];
            next += 1;
            for &r in &self.member_of[v] {
                for m in self.rels[r].members() {
                    if hidden(m) && seen.insert(m) {
                        if order.len() >= cap {
                            return (order, false);
                        }
                        order.push(m);
                    }
                }
            }
        }
        (order, true)
    }

    /// The published cells that could widen `x`, at most `CANDIDATES`: the
    /// members of the relations of `x` and of the hidden cells nearest to
    /// it, the smallest relations first (a region's relation holds every
    /// department; a cycle's holds two years).
    fn candidates(&self, cells: &[Cell], x: usize) -> Vec<usize> {
        let mut seen = vec![x];
        let mut next = 0;
        let mut out = Vec::new();
        while next < seen.len() && seen.len() < FAR && out.len() < CANDIDATES {
            let v = seen[next];
            next += 1;
            for &r in &self.member_of[v] {
                for m in self.rels[r].members() {
                    if seen.contains(&m) || out.contains(&m) || out.len() >= CANDIDATES {
                        continue;
                    }
                    if cells[m].suppressed {
                        seen.push(m);
                    } else if cells[m].n_responses > 0 {
                        out.push(m);
                    }
                }
            }
        }
        out
    }
}

/// A relation over the neighbourhood's unknowns: (unknown, coefficient)
/// and the range its sum must lie in.
type RangeRow = (Vec<(usize, f64)>, f64, f64);

/// Which bound of an interval a neighbourhood's programme gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    /// The cells beyond the neighbourhood fixed at their true sums.
    Inner,
    /// The cells beyond the neighbourhood free within their bounds.
    Outer,
}

/// What the protection knows of a too-small cell's interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Not looked at yet.
    Open,
    /// At least the minimum wide (an inner bound shows it): hiding more
    /// only widens an interval, so it stays so.
    Wide,
    /// Narrower than the minimum, exactly.
    Narrow,
    /// Not decided: the solver failed on its set of unknowns, or a cell of
    /// the set has no true mean. Left as the exact protection left it
    /// (counted in the debug log) and not looked at again.
    Unchecked,
}

/// Hides published cells until no too-small cell of the component is
/// known to be narrower than `min_width` of its scale (see the module
/// documentation); calls `after_hiding` after each, for the publication
/// rules. `verdicts` keeps what is known of each cell across calls (wide
/// and unchecked cells are not looked at again). Returns the too-small
/// cells left narrow.
pub(super) fn protect(
    cells: &mut [Cell],
    near: &Neighbourhoods,
    min_width: f64,
    verdicts: &mut [Verdict],
    mut after_hiding: impl FnMut(&mut [Cell]),
) -> Vec<usize> {
    let primary = |c: &Cell| c.suppression_reason == Some(SuppressionReason::MinN);
    let check = |cells: &[Cell], verdicts: &mut [Verdict], i: usize| -> Verdict {
        if matches!(verdicts[i], Verdict::Open | Verdict::Narrow) {
            verdicts[i] = near.verdict(cells, i, min_width);
        }
        verdicts[i]
    };
    for _ in 0..MAX_ROUNDS {
        // The cells of large sets of unknowns together: their cheap
        // certificates work per set, not per cell.
        let large: Vec<usize> = (0..cells.len())
            .filter(|&i| primary(&cells[i]) && cells[i].n_responses > 0)
            .filter(|&i| matches!(verdicts[i], Verdict::Open | Verdict::Narrow))
            .filter(|&i| !near.fits(cells, i, FAR))
            .collect();
        if !large.is_empty() {
            for (x, v) in near.decide_large(cells, &large, min_width) {
                verdicts[x] = v;
            }
        }
        let narrow: Vec<usize> = (0..cells.len())
            .filter(|&i| primary(&cells[i]) && cells[i].n_responses > 0)
            .filter(|&i| match large.binary_search(&i) {
                Ok(_) => verdicts[i] == Verdict::Narrow,
                Err(_) => check(cells, verdicts, i) == Verdict::Narrow,
            })
            .collect();
        if narrow.is_empty() {
            return narrow;
        }
        let mut hid = false;
        for x in narrow {
            // An earlier complement of this round may have widened it.
            if hid && check(cells, verdicts, x) != Verdict::Narrow {
                continue;
            }
            let enough = |w: f64| w >= min_width - super::audit::TOLERANCE;
            let key = |m: usize| {
                let c = &cells[m];
                (super::cost(c), c.level, &c.unit_id, &c.period, m)
            };
            // The candidates the cheapest first: the first that widens the
            // cell enough is the pick, and the rest need no programme. Only
            // in a set of unknowns of at most `FAR` cells, where the
            // neighbourhood's interval is exact: beyond, it holds the far
            // cells at their true sums, and one more hidden cell next to
            // the narrow one hardly ever widens it there (national data:
            // 1 of 2,457 narrow cells, after 24,087 programmes), so the
            // fallback below decides at once.
            let mut candidates = if near.fits(cells, x, FAR) {
                near.candidates(cells, x)
            } else {
                Vec::new()
            };
            candidates.sort_by(|&a, &b| key(a).cmp(&key(b)));
            let now = if candidates.is_empty() {
                0.0
            } else {
                near.inner_width(cells, x, None, FAR)
            };
            let mut scored: Vec<(usize, f64)> = Vec::with_capacity(candidates.len());
            for m in candidates {
                let w = near.inner_width(cells, x, Some(m), FAR);
                if w > now + super::audit::TOLERANCE {
                    scored.push((m, w));
                    if enough(w) {
                        break;
                    }
                }
            }
            let pick = scored
                .last()
                .filter(|&&(_, w)| enough(w))
                .or_else(|| {
                    // None widens it enough: the one that widens it most
                    // (the cheapest of equals).
                    scored
                        .iter()
                        .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| key(b.0).cmp(&key(a.0))))
                })
                .map(|&(m, _)| m)
                // When no single cell widens it (two together may), the
                // cheapest published member of its own relations, so that
                // the next round starts from more unknowns.
                .or_else(|| {
                    near.member_of[x]
                        .iter()
                        .flat_map(|&r| near.rels[r].members())
                        .filter(|&m| !cells[m].suppressed && cells[m].n_responses > 0)
                        .min_by(|&a, &b| key(a).cmp(&key(b)))
                });
            if let Some(m) = pick {
                cells[m].suppress(SuppressionReason::Secondary);
                after_hiding(cells);
                hid = true;
            }
        }
    }
    (0..cells.len())
        .filter(|&i| primary(&cells[i]) && cells[i].n_responses > 0)
        .filter(|&i| check(cells, verdicts, i) == Verdict::Narrow)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::test_rng::Rng;
    use super::super::tests::{atom, cells_of, random_table};
    use super::super::{audit, memberships, protect, protect_with, relations};
    use super::*;
    use crate::table::{Level, Table};

    /// Three departments of one RSO in one year: a too-small one (2
    /// respondents, every answer 5) and two of 10 (means 5 and 3).
    fn three_departments() -> Table {
        let atoms = vec![
            (atom("i0", "s0", Some("R0"), 2019), 2),
            (atom("i1", "s0", Some("R0"), 2019), 10),
            (atom("i2", "s0", Some("R0"), 2019), 10),
        ];
        let means = [5.0, 5.0, 3.0];
        let mut cells = cells_of(&atoms, 4);
        for c in cells.iter_mut() {
            let (sum, n) = c.atoms.iter().fold((0.0, 0u64), |(s, k), &a| {
                let n = atoms[a as usize].1;
                (s + means[a as usize] * n as f64, k + n)
            });
            c.mean = Some(sum / n as f64);
        }
        Table {
            cells,
            ..Default::default()
        }
    }

    fn width_of_small(t: &Table) -> f64 {
        let rels = relations(&t.cells);
        audit::feasible_intervals(&t.cells, &rels)
            .iter()
            .filter(|iv| t.cells[iv.cell].suppression_reason == Some(SuppressionReason::MinN))
            .map(|iv| iv.width_fraction().unwrap_or(0.0))
            .fold(1.0, f64::min)
    }

    /// By hand: with one complement (a department of 10 answering 5), the
    /// RSO's sum 90 minus the other department's 30 leaves 60 for the
    /// small department and the complement; the complement gives at most
    /// 50, so the small department's sum is at least 10: its mean is 5,
    /// exactly, though neither exact checker sees it (they ignore the
    /// scale bounds). The interval protection hides the third department
    /// too: 90 = x + y + z leaves x anywhere in [2, 10], the whole scale.
    #[test]
    fn a_cell_pinned_by_its_scale_bounds_gets_a_second_complement() {
        let mut exact = three_departments();
        protect_with(&mut exact, 0.0);
        assert!(width_of_small(&exact) < 1e-6, "{}", width_of_small(&exact));
        let mut t = three_departments();
        protect(&mut t);
        assert!(
            (width_of_small(&t) - 1.0).abs() < 1e-6,
            "{}",
            width_of_small(&t)
        );
        let hidden = |t: &Table| {
            t.cells
                .iter()
                .filter(|c| c.level == Level::Department && super::super::must_stay_hidden(c))
                .map(|c| c.unit_id.clone())
                .collect::<std::collections::BTreeSet<_>>()
        };
        assert_eq!(hidden(&exact).len(), 2);
        assert_eq!(hidden(&t).len(), 3);
        assert_eq!(
            hidden(&exact).iter().next().map(String::as_str),
            Some("i0:s0")
        );
        // The RSO and region stay published.
        assert!(t
            .cells
            .iter()
            .filter(|c| matches!(c.level, Level::Rso | Level::Region))
            .all(|c| !c.suppressed));
    }

    /// The neighbourhood's interval lies inside the full auditor's (it
    /// fixes cells the auditor leaves free), its outer bound around it, and
    /// the walk (`certify`) is no wider, on random hierarchies
    /// protected against exact recovery only; and with a neighbourhood as
    /// large as the whole set of unknowns they agree.
    #[test]
    fn the_neighbourhood_is_an_inner_bound_of_the_audited_interval() {
        let mut rng = Rng::new(7);
        let (mut compared, mut equal) = (0, 0);
        let (mut walks, mut walk_wide, mut audit_wide) = (0, 0, 0);
        for case in 0..40 {
            let Some(mut t) = random_table(&mut rng) else {
                continue;
            };
            let truth: Vec<Option<f64>> = t.cells.iter().map(|c| c.mean).collect();
            protect_with(&mut t, 0.0);
            let rels = relations(&t.cells);
            let member_of = memberships(t.cells.len(), &rels);
            let near = Neighbourhoods::new(&rels, &truth, &member_of);
            let hidden: Vec<usize> = (0..t.cells.len())
                .filter(|&i| t.cells[i].suppressed)
                .collect();
            let walked = super::super::certify::widths(&t.cells, &rels, &truth, &hidden);
            for iv in audit::feasible_intervals(&t.cells, &rels) {
                let full = iv.width_fraction().unwrap_or(0.0);
                if let Some(&w) = walked.get(&iv.cell) {
                    assert!(w <= full + 1e-6, "case {case}: walk {w} > {full}");
                    walks += 1;
                    walk_wide += usize::from(w >= 0.2);
                    audit_wide += usize::from(full >= 0.2);
                }
                for cap in [NEAR, FAR] {
                    let inner = near.inner_width(&t.cells, iv.cell, None, cap);
                    assert!(inner <= full + 1e-6, "case {case}: {inner} > {full}");
                }
                for cap in [NEAR, FAR] {
                    let outer = near.outer_width(&t.cells, iv.cell, cap);
                    assert!(outer >= full - 1e-6, "case {case}: outer {outer} < {full}");
                }
                let whole = near.inner_width(&t.cells, iv.cell, None, usize::MAX);
                assert!(
                    (whole - full).abs() < 1e-6,
                    "case {case}: {whole} vs {full}"
                );
                compared += 1;
                equal += usize::from(
                    (near.inner_width(&t.cells, iv.cell, None, NEAR) - full).abs() < 1e-6,
                );
            }
        }
        eprintln!("{compared} hidden cells; the first look found {equal} at their full width");
        assert!(compared > 200, "{compared}");
        // The walk is a lower bound of every hidden cell's width, and shows
        // most of the cells the auditor finds wide to be so.
        eprintln!("{walks} walks; {walk_wide} of {audit_wide} wide cells shown wide");
        assert!(walks > 200, "{walks}");
        assert!(walk_wide * 2 > audit_wide, "{walk_wide} of {audit_wide}");
    }
}
