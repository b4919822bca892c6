//! Which linked tables are published: the rules that leave a cell out of
//! the published tables (`not_published`) instead of hiding another cell
//! to protect it.
//!
//! Complementary suppression hides a cell that passes the floor because
//! subtracting it from a parent would give a small group away. Two kinds of
//! parent exist mainly to be subtracted from, and are not what the reports
//! read (issue #20):
//!
//! - **an institution's total** pools its specialties; the reports compare
//!   departments, RSOs and the region, never institutions. It is published
//!   only where it is more than one department and every department of it
//!   (any subscale of the instrument version, in that period) is published:
//!   otherwise it is not published, and needs no complement of its own.
//!   An institution total that is no sum of department cells of its own
//!   period (a department of an RSO on its own cycles has no cell in the
//!   region's cycle) is not published either.
//! - **a department's year**: the reports show a department per cycle (the
//!   trend charts are per RSO and region). A department's years are
//!   published only where its cycle has both years, and every cell of the
//!   cycle and of both years (any subscale) is published; otherwise the
//!   cycle stands for them.
//!
//! These rules do not depend on a cell's own value, only on which cells of
//! the department or institution are hidden. A cell left out by them may be
//! worked out by a reader (a single department's institution total equals
//! the department): that reveals nothing, since it passes the floor, so
//! the checkers do not count it, but it then protects nothing either (see
//! `known_cells`). It owns these rules and nothing else.

use std::collections::{BTreeMap, BTreeSet};

use super::Relation;
use crate::domain::SuppressionReason;
use crate::table::{Cell, Level};

/// Whether a hidden cell must stay hidden: too small, or hidden to protect
/// one. A cell left out of the published tables may be worked out.
pub fn must_stay_hidden(c: &Cell) -> bool {
    c.suppressed && c.suppression_reason != Some(SuppressionReason::NotPublished)
}

/// The rules within one block (one subscale), from its relations:
/// an institution's total that is one department or has a hidden
/// department, and a department's years where the cycle has one year or a
/// hidden member, are left out. Returns the cells it left out (local
/// indices), to a fixed point.
pub(super) fn block_rules(cells: &mut [Cell], rels: &[Relation]) -> Vec<usize> {
    let mut out = Vec::new();
    // An institution's total that is no sum of its departments' cells of
    // the same period (a department of an RSO on its own cycles has no
    // cell in the region's cycle) cannot be published by the rule below,
    // which needs every department of it published: it is left out.
    let sums: std::collections::HashSet<usize> = rels
        .iter()
        .filter(|r| {
            r.children
                .first()
                .is_some_and(|&c| cells[c].level == Level::Department)
        })
        .map(|r| r.parent)
        .collect();
    for (i, c) in cells.iter_mut().enumerate() {
        if c.level == Level::Institution && !c.suppressed && !sums.contains(&i) {
            c.suppress(SuppressionReason::NotPublished);
            out.push(i);
        }
    }
    loop {
        let before = out.len();
        for r in rels {
            let parent = &cells[r.parent];
            let Some(&first) = r.children.first() else {
                continue;
            };
            let of_departments = cells[first].level == Level::Department;
            match parent.level {
                Level::Institution if of_departments => {
                    let left_out =
                        r.children.len() == 1 || r.children.iter().any(|&c| cells[c].suppressed);
                    if left_out && !parent.suppressed {
                        cells[r.parent].suppress(SuppressionReason::NotPublished);
                        out.push(r.parent);
                    }
                }
                // A department's only relation: its cycle and its years.
                Level::Department => {
                    let left_out =
                        r.children.len() == 1 || r.members().any(|m| cells[m].suppressed);
                    if left_out {
                        for &c in &r.children {
                            if !cells[c].suppressed {
                                cells[c].suppress(SuppressionReason::NotPublished);
                                out.push(c);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

/// The same rules across the subscales of an instrument version: an
/// institution's cells of a period are all left out when one is, and a
/// department's year cells of a cycle are all left out when one cell of
/// the cycle or of its years is hidden. Returns how many cells it left
/// out. Hiding more never makes a hidden cell easier to work out, so it
/// may run after the complements are chosen.
pub(super) fn table_rules(cells: &mut [Cell]) -> usize {
    type Key<'a> = (&'a str, &'a str, &'a str, &'a str);
    fn key(c: &Cell) -> Key<'_> {
        (&c.unit_id, &c.instrument, &c.instrument_version, &c.period)
    }
    // Institutions (unit, instrument, version, period) left out somewhere.
    let mut institution_out: BTreeSet<Key> = BTreeSet::new();
    // A department's cycles (unit, instrument, version, cycle): the years
    // with cells, and whether a cell of the cycle or its years is hidden.
    let mut years: BTreeMap<Key, BTreeSet<i32>> = BTreeMap::new();
    let mut hidden: BTreeSet<Key> = BTreeSet::new();
    let mut cycle_by_year: BTreeMap<(&str, &str, &str, i32), Key> = BTreeMap::new();
    for c in cells.iter() {
        match c.level {
            Level::Institution if c.suppression_reason == Some(SuppressionReason::NotPublished) => {
                institution_out.insert(key(c));
            }
            Level::Department if c.is_cycle() => {
                let k = key(c);
                years.entry(k).or_default();
                if c.suppressed {
                    hidden.insert(k);
                }
                for y in crate::score::years_of(&c.period) {
                    cycle_by_year.insert((k.0, k.1, k.2, y), k);
                }
            }
            _ => {}
        }
    }
    let cycle_of = |c: &Cell| -> Option<Key> {
        let y = c.period.parse::<i32>().ok()?;
        cycle_by_year
            .get(&(
                c.unit_id.as_str(),
                c.instrument.as_str(),
                c.instrument_version.as_str(),
                y,
            ))
            .copied()
    };
    for c in cells
        .iter()
        .filter(|c| c.level == Level::Department && !c.is_cycle())
    {
        if let (Some(k), Ok(y)) = (cycle_of(c), c.period.parse::<i32>()) {
            years.entry(k).or_default().insert(y);
            if c.suppressed {
                hidden.insert(k);
            }
        }
    }
    for (k, ys) in &years {
        if ys.len() < 2 {
            hidden.insert(*k);
        }
    }
    let left_out: Vec<usize> = cells
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.suppressed)
        .filter(|(_, c)| match c.level {
            Level::Institution => institution_out.contains(&key(c)),
            Level::Department if !c.is_cycle() => cycle_of(c).is_some_and(|k| hidden.contains(&k)),
            _ => false,
        })
        .map(|(i, _)| i)
        .collect();
    for &i in &left_out {
        cells[i].suppress(SuppressionReason::NotPublished);
    }
    left_out.len()
}

/// Which cells a reader knows or can work out by single steps of the
/// relations (`super::recover`'s chains): the published cells and the
/// cells left out of the published tables that follow from them. A cell
/// left out protects its neighbours only when it is not known.
pub(super) fn known_cells(cells: &[Cell], rels: &[Relation]) -> Vec<bool> {
    let member_of = super::memberships(cells.len(), rels);
    let mut known: Vec<bool> = cells.iter().map(|c| !c.suppressed).collect();
    let mut unknown: Vec<usize> = rels
        .iter()
        .map(|r| r.members().filter(|&m| !known[m]).count())
        .collect();
    let mut queue: Vec<usize> = (0..rels.len()).filter(|&r| unknown[r] == 1).collect();
    while let Some(r) = queue.pop() {
        let Some(m) = rels[r].members().find(|&m| !known[m]) else {
            continue;
        };
        known[m] = true;
        for &q in &member_of[m] {
            unknown[q] -= 1;
            if unknown[q] == 1 {
                queue.push(q);
            }
        }
    }
    known
}
