//! Wide by certificate: a lower bound on the feasible-interval width of a
//! hidden cell in a set of unknowns of any size, without a linear
//! programme (issue #20).
//!
//! The sums an attacker cannot see are the points `y` with `A·y = b` (the
//! published relations) inside the scale bounds. The true sums are one
//! such point. Every other one differs from it by a vector of the null
//! space of `A`, and the reduced row echelon form of `A` (one row per
//! relation, one column per hidden cell) gives a basis of that null space:
//! one direction per free column `j`, which moves cell `j` by 1 and each
//! pivot cell `p` by minus its row's entry in column `j`. Walking from the
//! true sums along the directions that move a cell `x`, each as far as the
//! bounds of the cells it moves allow, first so that `x` rises and then,
//! from the true sums again, so that it falls, gives two feasible points.
//! Their difference in `x` is a width the attacker cannot narrow: a lower
//! bound on the interval (`audit` computes the interval itself; a test
//! checks the bound against it).
//!
//! The walk costs one elimination per set of unknowns and a pass over a
//! few sparse directions per cell, so it decides the cells of sets far too
//! large for `interval`'s programmes: on a national-size region nearly all
//! (BENCHMARKS.md). A cell it cannot show wide stays for the programmes.

use std::collections::{HashMap, HashSet};

use super::audit::System;
use super::Relation;
use crate::table::Cell;

/// How often the walk goes through the directions that move a cell: a
/// direction blocked by one cell's bound may go on after another
/// direction has moved that cell.
const SWEEPS: usize = 3;

/// The null-space directions of one set of unknowns.
struct Set {
    /// The column of each of the system's variables.
    column: Vec<usize>,
    /// Per free column: the columns it moves and by how much.
    dirs: Vec<Vec<(usize, f64)>>,
    /// Per column: the directions that move it, with its coefficient.
    moves: Vec<Vec<(usize, f64)>>,
    /// True sums and bounds per column.
    start: Vec<f64>,
    lo: Vec<f64>,
    hi: Vec<f64>,
}

/// A lower bound on the width of each wanted hidden cell's feasible
/// interval, as a fraction of its scale range; a cell is missing whose set
/// holds a cell without a true mean (no start point), or which is not
/// hidden. The sets of unknowns are the auditor's (`audit::systems`).
pub(super) fn widths(
    cells: &[Cell],
    rels: &[Relation],
    truth: &[Option<f64>],
    wanted: &[usize],
) -> HashMap<usize, f64> {
    let want: HashSet<usize> = wanted.iter().copied().collect();
    let mut out = HashMap::new();
    for sys in super::audit::systems(cells, rels) {
        // (Each wanted cell with its variable in the set.)
        let xs: Vec<(usize, usize)> = sys
            .cells
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, c)| want.contains(c))
            .collect();
        if xs.is_empty() {
            continue;
        }
        let Some(set) = Set::new(cells, &sys, truth) else {
            continue;
        };
        for (u, x) in xs {
            out.insert(x, set.width(cells, x, set.column[u]));
        }
    }
    out
}

impl Set {
    fn new(cells: &[Cell], sys: &System, truth: &[Option<f64>]) -> Option<Set> {
        // The largest cells first, so that they become the pivots: each
        // small cell then moves along a direction of its own, and the
        // large cells, with the most room between their bounds, absorb it.
        let mut order: Vec<usize> = (0..sys.cells.len()).collect();
        order.sort_by_key(|&u| (std::cmp::Reverse(cells[sys.cells[u]].n_responses), u));
        let mut column = vec![0; order.len()];
        for (j, &u) in order.iter().enumerate() {
            column[u] = j;
        }
        let members: Vec<usize> = order.iter().map(|&u| sys.cells[u]).collect();
        let members = &members[..];
        let width = members.len();
        let mut rows: Vec<Vec<f64>> = sys
            .rows
            .iter()
            .map(|(terms, _)| {
                let mut row = vec![0.0; width];
                for &(u, k) in terms {
                    row[column[u]] += k;
                }
                row
            })
            .filter(|row| row.iter().any(|v| *v != 0.0))
            .collect();
        let pivots = super::rref(&mut rows, width);
        let mut free = vec![true; width];
        for &(_, p) in &pivots {
            free[p] = false;
        }
        let mut dirs: Vec<Vec<(usize, f64)>> = (0..width)
            .map(|j| if free[j] { vec![(j, 1.0)] } else { Vec::new() })
            .collect();
        for &(i, p) in &pivots {
            for (j, &v) in rows[i].iter().enumerate() {
                if j != p && v.abs() > 1e-9 {
                    dirs[j].push((p, -v));
                }
            }
        }
        let mut moves: Vec<Vec<(usize, f64)>> = vec![Vec::new(); width];
        for (d, dir) in dirs.iter().enumerate() {
            for &(c, k) in dir {
                moves[c].push((d, k));
            }
        }
        // The directions that move a cell most first.
        for m in moves.iter_mut() {
            m.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()).then(a.0.cmp(&b.0)));
        }
        let mut start = Vec::with_capacity(width);
        let (mut lo, mut hi) = (Vec::with_capacity(width), Vec::with_capacity(width));
        for &m in members {
            let c = &cells[m];
            let k = c.n_responses as f64;
            start.push(truth[m]? * k);
            lo.push(k * c.scale_min);
            hi.push(k * c.scale_max);
        }
        Some(Set {
            column,
            dirs,
            moves,
            start,
            lo,
            hi,
        })
    }

    /// The walk up minus the walk down of cell `x` (column `col`), as a
    /// fraction of the scale.
    fn width(&self, cells: &[Cell], x: usize, col: usize) -> f64 {
        let c = &cells[x];
        let range = (c.scale_max - c.scale_min) * c.n_responses as f64;
        if range <= 0.0 {
            return 1.0;
        }
        let up = self.walk(col, 1.0);
        let down = self.walk(col, -1.0);
        ((up - down) / range).clamp(0.0, 1.0)
    }

    /// Where column `col` ends when every direction that moves it is
    /// followed as far as the bounds allow, in the direction `sign`, from
    /// the true sums.
    fn walk(&self, col: usize, sign: f64) -> f64 {
        let mut y: HashMap<usize, f64> = HashMap::new();
        let at = |y: &HashMap<usize, f64>, c: usize| y.get(&c).copied().unwrap_or(self.start[c]);
        for &(d, k) in self.moves[col]
            .iter()
            .cycle()
            .take(SWEEPS * self.moves[col].len())
        {
            let s = if (k > 0.0) == (sign > 0.0) { 1.0 } else { -1.0 };
            let mut t = f64::INFINITY;
            for &(c, v) in &self.dirs[d] {
                let step = s * v;
                let room = if step > 0.0 {
                    (self.hi[c] - at(&y, c)) / step
                } else {
                    (self.lo[c] - at(&y, c)) / step
                };
                t = t.min(room.max(0.0));
            }
            if t.is_finite() && t > 0.0 {
                for &(c, v) in &self.dirs[d] {
                    let now = at(&y, c);
                    y.insert(c, now + t * s * v);
                }
            }
        }
        at(&y, col)
    }
}
