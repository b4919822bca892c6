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
//! only (the RSO and region cells, the benchmarks of every report, kept).
//! It writes nothing and changes no table.

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
}

/// The lower bounds for `cells` (suppression as found is ignored: only the
/// floor and the publication rules are applied to a copy).
pub fn complement_lower_bound(cells: &[Cell]) -> LowerBound {
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
    for r in &rels {
        let mut hidden = r.members().filter(|&m| base[m].suppressed);
        if let (Some(m), None) = (hidden.next(), hidden.next()) {
            if base[m].suppression_reason == Some(SuppressionReason::MinN) {
                needs.push(r.members().filter(|&c| c != m).collect());
            }
        }
    }
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
    }
}

/// The optimum of the hitting set's relaxation: minimise the sum of x over
/// the cells, each x in [0, 1], every set's x summing to at least 1. Solved
/// per group of sets joined by shared cells.
pub fn hitting_relaxation(sets: &[Vec<usize>]) -> f64 {
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
        for &c in set {
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
    let mut groups: BTreeMap<usize, Vec<&Vec<usize>>> = BTreeMap::new();
    for (s, set) in sets.iter().enumerate() {
        let root = find(&mut parent, s);
        groups.entry(root).or_default().push(set);
    }
    groups.values().map(|g| group_optimum(g)).sum()
}

fn group_optimum(sets: &[&Vec<usize>]) -> f64 {
    if sets.len() == 1 {
        return 1.0;
    }
    let mut p = Problem::new(OptimizationDirection::Minimize);
    let mut var: BTreeMap<usize, microlp::Variable> = BTreeMap::new();
    for set in sets {
        for &c in set.iter() {
            var.entry(c).or_insert_with(|| p.add_var(1.0, (0.0, 1.0)));
        }
    }
    for set in sets {
        let expr: Vec<_> = set.iter().map(|c| (var[c], 1.0)).collect();
        p.add_constraint(expr.as_slice(), ComparisonOp::Ge, 1.0);
    }
    match p.solve().map(|o| o.into_solution()) {
        Ok(Ok(solution)) => solution.objective(),
        // Every set is non-empty and x = 1 meets all: the LP is feasible
        // and bounded. Should the solver fail all the same, the largest
        // number of sets with no cell in common is still a bound.
        _ => disjoint_sets(sets) as f64,
    }
}

/// A greedy count of sets with no cell in common (each needs a cell of its
/// own): a weaker lower bound, the fallback.
fn disjoint_sets(sets: &[&Vec<usize>]) -> usize {
    let mut used = std::collections::BTreeSet::new();
    let mut count = 0;
    let mut order: Vec<&&Vec<usize>> = sets.iter().collect();
    order.sort_by_key(|s| s.len());
    for s in order {
        if s.iter().all(|c| !used.contains(c)) {
            used.extend(s.iter().copied());
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
        assert_eq!(disjoint_sets(&[&tri[0], &tri[1], &tri[2]]), 1);
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
        let b = complement_lower_bound(&cells_of(&atoms, 4));
        assert!(b.relations >= 1, "{b:?}");
        assert!(
            b.any_level >= 1.0 - 1e-9 && b.departments >= 1.0 - 1e-9,
            "{b:?}"
        );
        assert_eq!(b.without_department, 0, "{b:?}");
    }
}
