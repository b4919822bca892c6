//! A lower bound on the complements a table needs, to judge the
//! suppression's figures by (issue #20): how many cells that pass the floor
//! any protection must hide, whatever it chooses.
//!
//! Start from the cells too small to publish and what the publication rules
//! (`super::publish`) leave out because of them. A relation in which a too
//! small cell is then the only hidden member gives it away unless one of
//! its published members is hidden too: every protection hides at least
//! one member of each such relation. The fewest cells that meet every such
//! relation (a minimum hitting set) is a lower bound on what any protection
//! hides beyond the rules, counting only these single steps (chains and
//! combinations of relations can only ask for more). Its linear programming
//! relaxation (each cell hidden by a fraction in [0, 1], each relation's
//! fractions summing to at least 1) is below it again, and is solved
//! exactly per set of relations that share cells, with `microlp` as the
//! interval auditor does.
//!
//! Two bounds: with any cell allowed as a complement, and with departments
//! only (the RSO and region cells, the benchmarks of every report, kept);
//! and both again for a protection that keeps the complements' intervals
//! as wide as the too-small cells' (`StrictBound`), which the program does
//! not do (README, Privacy: these bounds are why). It writes nothing and
//! changes no table.

use std::collections::BTreeMap;

use microlp::{ComparisonOp, OptimizationDirection, Problem};

use super::{publish, relations};
use crate::domain::SuppressionReason;
use crate::table::{Cell, Level};

/// The lower bounds of one table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LowerBound {
    /// Relations in which one too-small cell is the only hidden member,
    /// after the publication rules.
    pub relations: usize,
    /// The fewest cells that pass the floor any protection hides beyond
    /// the rules (the relaxation's optimum, any level).
    pub any_level: f64,
    /// The fewest departments hidden beyond the rules when only departments
    /// may be hidden (relations without a published department aside).
    pub departments: f64,
    /// Relations whose only published members are institutions, RSOs or
    /// the region.
    pub without_department: usize,
    /// Cells that pass the floor and that the rules leave out because of
    /// the too-small cells alone (before any complement): what a
    /// protection hides "beyond the rules" is counted above these.
    pub left_out: usize,
    /// Of which departments.
    pub left_out_departments: usize,
    /// The same two bounds when the complements' intervals must be as wide
    /// as the too-small cells' (`strict`): where hiding one published
    /// member of such a relation would leave that member narrower than the
    /// minimum width, two must be hidden.
    pub strict: StrictBound,
}

/// The lower bounds with the complements' intervals protected too.
///
/// In a relation whose only hidden member is a too-small cell of `k`
/// responses, hiding one published member of `n` responses (and nothing
/// else there) pins that member's mean to within `k / n` of its scale
/// range: the relation fixes the sum of the two, and the small cell's sum
/// can vary over `k` times the range only. So such a member protects the
/// relation strictly only if `k / n` reaches the minimum width; else two
/// members must be hidden. Relaxed: each member hidden by a fraction, a
/// member that suffices alone counting twice, at least two per relation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StrictBound {
    /// The minimum width, a fraction of the scale range.
    pub min_width: f64,
    /// Any level.
    pub any_level: f64,
    /// Departments only.
    pub departments: f64,
    /// Relations that departments alone cannot protect so.
    pub without_department: usize,
}

/// The lower bounds for `cells` (suppression as found is ignored: only the
/// floor and the publication rules are applied to a copy), the strict ones
/// for a minimum interval width of `min_width` of the scale.
pub fn complement_lower_bound(cells: &[Cell], min_width: f64) -> LowerBound {
    let mut base: Vec<Cell> = cells.to_vec();
    for c in base.iter_mut() {
        c.suppressed = false;
        c.suppression_reason = None;
        if c.n_respondents < c.floor as u64 {
            c.suppress(SuppressionReason::MinN);
        }
    }
    let rels = relations(&base);
    loop {
        let a = publish::table_rules(&mut base);
        let b = publish::block_rules(&mut base, &rels).len();
        if a + b == 0 {
            break;
        }
    }
    // Each relation whose only hidden member is too small: its published
    // members, one of which must be hidden.
    let mut needs: Vec<Vec<usize>> = Vec::new();
    // The same relations, strictly: each published member with its weight
    // (2 where it suffices alone).
    let mut strict: Vec<Vec<(usize, f64)>> = Vec::new();
    for r in &rels {
        let mut hidden = r.members().filter(|&m| base[m].suppressed);
        if let (Some(m), None) = (hidden.next(), hidden.next()) {
            if base[m].suppression_reason == Some(SuppressionReason::MinN) {
                let others: Vec<usize> = r.members().filter(|&c| c != m).collect();
                strict.push(
                    others
                        .iter()
                        .map(|&c| {
                            (
                                c,
                                if alone_wide(&base[m], &base[c], min_width) {
                                    2.0
                                } else {
                                    1.0
                                },
                            )
                        })
                        .collect(),
                );
                needs.push(others);
            }
        }
    }
    let strict_departments: Vec<Vec<(usize, f64)>> = strict
        .iter()
        .map(|n| {
            n.iter()
                .copied()
                .filter(|&(c, _)| base[c].level == Level::Department)
                .collect()
        })
        .collect();
    let reachable = |n: &Vec<(usize, f64)>| n.iter().map(|&(_, a)| a).sum::<f64>() >= 2.0;
    let strict_without_department = strict_departments.iter().filter(|n| !reachable(n)).count();
    let strict_departments: Vec<Vec<(usize, f64)>> =
        strict_departments.into_iter().filter(reachable).collect();
    let departments: Vec<Vec<usize>> = needs
        .iter()
        .map(|n| {
            n.iter()
                .copied()
                .filter(|&c| base[c].level == Level::Department)
                .collect()
        })
        .collect();
    let without_department = departments.iter().filter(|n| n.is_empty()).count();
    let departments: Vec<Vec<usize>> = departments.into_iter().filter(|n| !n.is_empty()).collect();
    let left_out = |level: Option<Level>| {
        base.iter()
            .filter(|c| c.suppression_reason == Some(SuppressionReason::NotPublished))
            .filter(|c| level.is_none_or(|l| c.level == l))
            .count()
    };
    LowerBound {
        left_out: left_out(None),
        left_out_departments: left_out(Some(Level::Department)),
        relations: needs.len(),
        any_level: hitting_relaxation(&needs),
        departments: hitting_relaxation(&departments),
        without_department,
        strict: StrictBound {
            min_width,
            any_level: covering_relaxation(&strict, 2.0),
            departments: covering_relaxation(&strict_departments, 2.0),
            without_department: strict_without_department,
        },
    }
}

/// Whether hiding published member `c` beside too-small cell `m` alone
/// leaves `c`'s mean an interval of at least `min_width` of its scale: `m`'s
/// sum varies over its responses times its range, spread over `c`'s.
fn alone_wide(m: &Cell, c: &Cell, min_width: f64) -> bool {
    let range = |x: &Cell| (x.scale_max - x.scale_min) * x.n_responses as f64;
    let (slack, spread) = (range(m), range(c));
    spread <= 0.0 || slack >= min_width * spread - 1e-9
}

/// The optimum of the hitting set's relaxation: minimise the sum of x over
/// the cells, each x in [0, 1], every set's x summing to at least 1. Solved
/// per group of sets joined by shared cells.
pub fn hitting_relaxation(sets: &[Vec<usize>]) -> f64 {
    let weighted: Vec<Vec<(usize, f64)>> = sets
        .iter()
        .map(|s| s.iter().map(|&c| (c, 1.0)).collect())
        .collect();
    covering_relaxation(&weighted, 1.0)
}

/// The optimum of a covering programme's relaxation: minimise the sum of x
/// over the cells, each x in [0, 1], every set's weighted x summing to at
/// least `need`. Solved per group of sets joined by shared cells.
pub fn covering_relaxation(sets: &[Vec<(usize, f64)>], need: f64) -> f64 {
    // Union-find over the sets by their cells.
    let mut parent: Vec<usize> = (0..sets.len()).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    let mut first_set_of: BTreeMap<usize, usize> = BTreeMap::new();
    for (s, set) in sets.iter().enumerate() {
        for &(c, _) in set {
            match first_set_of.get(&c) {
                Some(&t) => {
                    let (a, b) = (find(&mut parent, s), find(&mut parent, t));
                    parent[a] = b;
                }
                None => {
                    first_set_of.insert(c, s);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<&Vec<(usize, f64)>>> = BTreeMap::new();
    for (s, set) in sets.iter().enumerate() {
        let root = find(&mut parent, s);
        groups.entry(root).or_default().push(set);
    }
    groups.values().map(|g| group_optimum(g, need)).sum()
}

fn group_optimum(sets: &[&Vec<(usize, f64)>], need: f64) -> f64 {
    let mut p = Problem::new(OptimizationDirection::Minimize);
    let mut var: BTreeMap<usize, microlp::Variable> = BTreeMap::new();
    for set in sets {
        for &(c, _) in set.iter() {
            var.entry(c).or_insert_with(|| p.add_var(1.0, (0.0, 1.0)));
        }
    }
    for set in sets {
        let expr: Vec<_> = set.iter().map(|&(c, a)| (var[&c], a)).collect();
        p.add_constraint(expr.as_slice(), ComparisonOp::Ge, need);
    }
    match p.solve().map(|o| o.into_solution()) {
        Ok(Ok(solution)) => solution.objective(),
        // Every set can reach `need` with x = 1 (the callers keep only
        // such sets): the LP is feasible and bounded. Should the solver
        // fail all the same, the largest number of sets with no cell in
        // common is still a bound.
        _ => disjoint_sets(sets) as f64,
    }
}

/// A greedy count of sets with no cell in common (each needs a cell of its
/// own): a weaker lower bound, the fallback.
fn disjoint_sets(sets: &[&Vec<(usize, f64)>]) -> usize {
    let mut used = std::collections::BTreeSet::new();
    let mut count = 0;
    let mut order: Vec<&&Vec<(usize, f64)>> = sets.iter().collect();
    order.sort_by_key(|s| s.len());
    for s in order {
        if s.iter().all(|(c, _)| !used.contains(c)) {
            used.extend(s.iter().map(|&(c, _)| c));
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relaxation_of_small_hitting_sets_is_worked_by_hand() {
        // Two sets sharing cell 2: one cell (2) hits both.
        assert!((hitting_relaxation(&[vec![1, 2], vec![2, 3]]) - 1.0).abs() < 1e-9);
        // Three sets pairwise sharing one cell each (a triangle): the
        // integer optimum is 2, the relaxation 1.5 (x = 1/2 on each).
        let tri = [vec![1, 2], vec![2, 3], vec![1, 3]];
        assert!((hitting_relaxation(&tri) - 1.5).abs() < 1e-9);
        // Disjoint sets each need their own cell.
        assert!((hitting_relaxation(&[vec![1], vec![2, 3], vec![4]]) - 3.0).abs() < 1e-9);
        assert_eq!(hitting_relaxation(&[]), 0.0);
        let unit: Vec<Vec<(usize, f64)>> = tri
            .iter()
            .map(|s| s.iter().map(|&c| (c, 1.0)).collect())
            .collect();
        assert_eq!(disjoint_sets(&[&unit[0], &unit[1], &unit[2]]), 1);
        // Weighted: one set needing 2, cell 1 counting twice: x1 = 1; else
        // two cells.
        let w = [vec![(1, 2.0), (2, 1.0), (3, 1.0)]];
        assert!((covering_relaxation(&w, 2.0) - 1.0).abs() < 1e-9);
        let w = [vec![(1, 1.0), (2, 1.0), (3, 1.0)]];
        assert!((covering_relaxation(&w, 2.0) - 2.0).abs() < 1e-9);
    }

    #[test]
    fn a_small_department_needs_one_complement_beside_its_rso() {
        // One RSO, three departments of one institution each, one year:
        // b:x is small. Institution totals of one department are left out
        // by the rules; the RSO relation needs one more hidden cell, a
        // department if the RSO stays.
        use super::super::tests::{atom, cells_of};
        let atoms = vec![
            (atom("a", "x", Some("R"), 2024), 10),
            (atom("b", "x", Some("R"), 2024), 3),
            (atom("c", "x", Some("R"), 2024), 9),
        ];
        let b = complement_lower_bound(&cells_of(&atoms, 4), 0.2);
        assert!(b.relations >= 1, "{b:?}");
        assert!(
            b.any_level >= 1.0 - 1e-9 && b.departments >= 1.0 - 1e-9,
            "{b:?}"
        );
        assert_eq!(b.without_department, 0, "{b:?}");
        // b:x's 3 responses beside a:x's 10 leave a:x hidden alone an
        // interval of 3/10 of the scale: one complement suffices strictly.
        assert!((b.strict.departments - b.departments).abs() < 1e-9, "{b:?}");
    }

    #[test]
    fn a_department_of_one_beside_large_ones_needs_two_complements_strictly() {
        // b:x has 1 response: a:x (10) or c:x (9) hidden alone is pinned to
        // within 1/10 or 1/9 of its scale, the RSO (20) to 1/20. Strictly
        // two of the three must be hidden; the departments-only bound is
        // both departments.
        use super::super::tests::{atom, cells_of};
        let atoms = vec![
            (atom("a", "x", Some("R"), 2024), 10),
            (atom("b", "x", Some("R"), 2024), 1),
            (atom("c", "x", Some("R"), 2024), 9),
        ];
        let cells = cells_of(&atoms, 4);
        let b = complement_lower_bound(&cells, 0.2);
        assert!(b.departments < 1.0 + 1e-9, "{b:?}");
        assert!(b.strict.departments >= 2.0 - 1e-9, "{b:?}");
        assert!(b.strict.any_level >= 2.0 - 1e-9, "{b:?}");
        // With a minimum of 1/10, a:x alone is wide enough (c:x is not).
        let loose = complement_lower_bound(&cells, 0.1).strict;
        assert!((loose.departments - 1.0).abs() < 1e-9, "{loose:?}");
    }
}
