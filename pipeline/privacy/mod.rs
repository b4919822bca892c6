//! Privacy of published aggregates: small cells are suppressed, and so are
//! complementary cells, until no suppressed value can be recovered by
//! subtraction.
//!
//! Values are pooled over responses, so a parent cell's sum (mean × n) is the
//! sum of its children's: a department is its institution minus the other
//! departments, an RSO or a region minus its other parts, a year its cycle
//! minus the other year. This module owns those relations (found from the
//! atoms each cell is made of, so a department that changed RSO mid-cycle
//! is handled exactly), the checker that applies them to a published table
//! until nothing new is learnt, and the suppression that makes the checker
//! find nothing. Before complements are chosen, `publish` leaves out of
//! the published tables the parents the reports do not read where they
//! would need one (institution totals, department years), and `bound`
//! gives a lower bound on the complements any protection needs.
//! Pseudonymisation happens earlier, on ingest. It works on `table`'s
//! cells and writes nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::domain::SuppressionReason;
use crate::table::{Cell, Level, Table};

pub mod audit;
pub mod bound;
mod certify;
mod interval;
pub mod publish;

pub use publish::must_stay_hidden;

/// The comment gate, the one rule for open answers: a group's comments
/// are published only where the group's total cell of the instrument in
/// the period has at least `floor` distinct respondents.
pub fn comments_publishable(total: &Cell, floor: u32) -> bool {
    total.n_respondents >= floor as u64
}

/// An additive relation between cells of one block: the sum of `parent`
/// equals the sum of `children` (their atoms partition the parent's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relation {
    /// Index of the parent cell.
    pub parent: usize,
    /// Indices of the children.
    pub children: Vec<usize>,
}

impl Relation {
    fn members(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::once(self.parent).chain(self.children.iter().copied())
    }
}

/// Every relation among `cells` (indices into it), per block of the same
/// instrument, version and subscale.
pub fn relations(cells: &[Cell]) -> Vec<Relation> {
    let mut blocks: BTreeMap<(&str, &str, &str), Vec<usize>> = BTreeMap::new();
    for (i, c) in cells.iter().enumerate() {
        blocks.entry(c.block()).or_default().push(i);
    }
    let mut out = Vec::new();
    for idx in blocks.values() {
        out.extend(block_relations(cells, idx));
    }
    out
}

fn block_relations(cells: &[Cell], idx: &[usize]) -> Vec<Relation> {
    let mut out = Vec::new();
    // Per level and period: the cells holding each atom (a cell's possible
    // children share an atom with it), and the cells without atoms (inside
    // every parent).
    type Holders = HashMap<u32, Vec<usize>>;
    let mut holders: HashMap<(Level, &str), (Holders, Vec<usize>)> = HashMap::new();
    let mut by_unit_period: BTreeMap<(Level, &str, &str), usize> = BTreeMap::new();
    for &i in idx {
        let c = &cells[i];
        let (h, empty) = holders.entry((c.level, c.period.as_str())).or_default();
        for &a in &c.atoms {
            h.entry(a).or_default().push(i);
        }
        if c.atoms.is_empty() {
            empty.push(i);
        }
        by_unit_period.insert((c.level, c.unit_id.as_str(), c.period.as_str()), i);
    }
    for &p in idx {
        let parent = &cells[p];
        let mut atoms: Vec<u32> = parent.atoms.clone();
        atoms.sort_unstable();
        atoms.dedup();
        let has = |a: &u32| atoms.binary_search(a).is_ok();
        // The cells of a level whose atoms are all the parent's, in index
        // order.
        let inside = |level: Level| -> Vec<usize> {
            let Some((h, empty)) = holders.get(&(level, parent.period.as_str())) else {
                return Vec::new();
            };
            let mut v: Vec<usize> = atoms
                .iter()
                .filter_map(|a| h.get(a))
                .flatten()
                .chain(empty)
                .copied()
                .filter(|&c| c != p)
                .collect();
            v.sort_unstable();
            v.dedup();
            v.retain(|&c| cells[c].atoms.iter().all(has));
            v
        };
        // Parts at a coarser level first, the rest filled with departments:
        // "the region minus its RSOs" leaves the departments outside any RSO.
        let middles: &[Level] = match parent.level {
            Level::Department => &[],
            Level::Institution | Level::Rso => &[Level::Department],
            Level::Region => &[Level::Department, Level::Institution, Level::Rso],
        };
        for &middle in middles {
            let mut children = inside(middle);
            let mut covered: BTreeSet<u32> = children
                .iter()
                .flat_map(|&c| cells[c].atoms.iter().copied())
                .collect();
            if middle != Level::Department {
                for d in inside(Level::Department) {
                    if cells[d].atoms.iter().all(|a| !covered.contains(a)) {
                        covered.extend(cells[d].atoms.iter().copied());
                        children.push(d);
                    }
                }
            }
            if !children.is_empty() && covered.iter().eq(atoms.iter()) {
                children.sort_unstable();
                out.push(Relation {
                    parent: p,
                    children,
                });
            }
        }
        // A cycle is its two years.
        if parent.is_cycle() {
            let children: Vec<usize> = crate::score::years_of(&parent.period)
                .into_iter()
                .filter_map(|y| {
                    by_unit_period
                        .get(&(
                            parent.level,
                            parent.unit_id.as_str(),
                            y.to_string().as_str(),
                        ))
                        .copied()
                })
                .collect();
            let covered: BTreeSet<u32> = children
                .iter()
                .flat_map(|&c| cells[c].atoms.iter().copied())
                .collect();
            if !children.is_empty() && covered.iter().eq(atoms.iter()) {
                out.push(Relation {
                    parent: p,
                    children,
                });
            }
        }
    }
    out.sort_by(|a, b| (a.parent, &a.children).cmp(&(b.parent, &b.children)));
    out.dedup();
    out
}

/// The checker: starting from the published cells, applies every relation
/// with exactly one unknown member (a parent minus its other children, a
/// sum of children, a cycle minus its other year), again and again until
/// nothing new is learnt. Returns the cells that must stay hidden
/// (`must_stay_hidden`) it recovers, in the order it recovers them, each
/// with the relation that gave it away. A cell left out of the published
/// tables that it works out is used in later steps, not returned.
pub fn recover(cells: &[Cell], relations: &[Relation]) -> Vec<(usize, usize)> {
    let mut known: Vec<bool> = cells.iter().map(|c| !c.suppressed).collect();
    let mut out = Vec::new();
    let mut changed = true;
    while changed {
        changed = false;
        for (r, rel) in relations.iter().enumerate() {
            let mut unknown = rel.members().filter(|&m| !known[m]);
            if let (Some(m), None) = (unknown.next(), unknown.next()) {
                known[m] = true;
                if must_stay_hidden(&cells[m]) {
                    out.push((m, r));
                }
                changed = true;
            }
        }
    }
    out
}

/// The relation that gives away the first cell that must stay hidden and
/// can be worked out, and that cell: the first relation with exactly one
/// suppressed member, when that member must stay hidden (`recover`'s first
/// sweep finds it before anything else is known); else the first found by
/// following the chains through cells left out of the published tables.
/// Also returns the relations of the chain that gave it away (the last
/// one first): hiding a published member of any of them may break it.
fn first_giveaway(
    cells: &[Cell],
    relations: &[Relation],
    member_of: &[Vec<usize>],
) -> Option<(usize, usize, Vec<usize>)> {
    let mut lone_left_out = false;
    for (r, rel) in relations.iter().enumerate() {
        let mut unknown = rel.members().filter(|&m| cells[m].suppressed);
        if let (Some(m), None) = (unknown.next(), unknown.next()) {
            if must_stay_hidden(&cells[m]) {
                return Some((r, m, vec![r]));
            }
            lone_left_out = true;
        }
    }
    if !lone_left_out {
        return None;
    }
    let mut known: Vec<bool> = cells.iter().map(|c| !c.suppressed).collect();
    let mut unknown: Vec<usize> = relations
        .iter()
        .map(|r| r.members().filter(|&m| !known[m]).count())
        .collect();
    let mut queue: std::collections::VecDeque<usize> =
        (0..relations.len()).filter(|&r| unknown[r] == 1).collect();
    // The relation that made each left-out cell known.
    let mut via: Vec<Option<usize>> = vec![None; cells.len()];
    while let Some(r) = queue.pop_front() {
        let Some(m) = relations[r].members().find(|&m| !known[m]) else {
            continue;
        };
        if must_stay_hidden(&cells[m]) {
            // The chain: r, then the relations that made its left-out
            // members known, and theirs.
            let mut chain = vec![r];
            let mut k = 0;
            while k < chain.len() {
                for x in relations[chain[k]].members() {
                    if let Some(q) = via[x] {
                        if !chain.contains(&q) {
                            chain.push(q);
                        }
                    }
                }
                k += 1;
            }
            return Some((r, m, chain));
        }
        known[m] = true;
        via[m] = Some(r);
        for &q in &member_of[m] {
            unknown[q] -= 1;
            if unknown[q] == 1 {
                queue.push_back(q);
            }
        }
    }
    None
}

/// The relations each cell is a member of.
fn memberships(n_cells: usize, relations: &[Relation]) -> Vec<Vec<usize>> {
    let mut member_of = vec![Vec::new(); n_cells];
    for (r, rel) in relations.iter().enumerate() {
        for m in rel.members() {
            member_of[m].push(r);
        }
    }
    member_of
}

/// How many cells that must stay hidden `recover` recovers, found with a
/// work list: a
/// relation is looked at again only when one of its members became known,
/// instead of sweeping every relation until nothing changes. What the
/// single steps recover does not depend on their order, so the count is
/// `recover(..).len()`.
fn recovered_count(cells: &[Cell], relations: &[Relation], member_of: &[Vec<usize>]) -> usize {
    let mut known: Vec<bool> = cells.iter().map(|c| !c.suppressed).collect();
    let mut unknown: Vec<usize> = relations
        .iter()
        .map(|r| r.members().filter(|&m| !known[m]).count())
        .collect();
    let mut queue: Vec<usize> = (0..relations.len()).filter(|&r| unknown[r] == 1).collect();
    let mut count = 0;
    while let Some(r) = queue.pop() {
        let Some(m) = relations[r].members().find(|&m| !known[m]) else {
            continue;
        };
        known[m] = true;
        count += must_stay_hidden(&cells[m]) as usize;
        for &q in &member_of[m] {
            unknown[q] -= 1;
            if unknown[q] == 1 {
                queue.push(q);
            }
        }
    }
    count
}

/// The stronger checker: a suppressed cell is recovered when its sum follows
/// from the published cells through any combination of the relations, not
/// only through a chain of one-unknown steps (two suppressed rectangles
/// joined by a suppressed bridge cell can be solved together). Per block,
/// the relations restricted to the suppressed cells form a linear system; a
/// suppressed cell is determined exactly when its unit vector lies in the
/// system's row space, which the reduced row echelon form shows as a pivot
/// row with no other entry. Returns the recovered cells that must stay
/// hidden (`must_stay_hidden`), sorted.
pub fn recover_linear(cells: &[Cell], relations: &[Relation]) -> Vec<usize> {
    let mut by_block: BTreeMap<(&str, &str, &str), Vec<&Relation>> = BTreeMap::new();
    for r in relations {
        by_block.entry(cells[r.parent].block()).or_default().push(r);
    }
    let mut out = Vec::new();
    for rels in by_block.values() {
        let mut column: BTreeMap<usize, usize> = BTreeMap::new();
        for r in rels {
            for m in r.members().filter(|&m| cells[m].suppressed) {
                let next = column.len();
                column.entry(m).or_insert(next);
            }
        }
        if column.is_empty() {
            continue;
        }
        let width = column.len();
        let mut rows: Vec<Vec<f64>> = rels
            .iter()
            .map(|r| {
                let mut row = vec![0.0; width];
                if let Some(&c) = column.get(&r.parent) {
                    row[c] += 1.0;
                }
                for ch in &r.children {
                    if let Some(&c) = column.get(ch) {
                        row[c] -= 1.0;
                    }
                }
                row
            })
            .filter(|row| row.iter().any(|v| *v != 0.0))
            .collect();
        let pivots = rref(&mut rows, width);
        let cell_of: BTreeMap<usize, usize> =
            column.iter().map(|(&cell, &col)| (col, cell)).collect();
        for (row, col) in pivots {
            if rows[row]
                .iter()
                .enumerate()
                .all(|(j, v)| j == col || v.abs() < 1e-9)
                && must_stay_hidden(&cells[cell_of[&col]])
            {
                out.push(cell_of[&col]);
            }
        }
    }
    out.sort_unstable();
    out
}

/// Reduces `rows` (each `width` long) to reduced row echelon form in place;
/// returns (row, pivot column) pairs. Entries are small integers, so a
/// tolerance of 1e-9 separates zero from non-zero safely.
fn rref(rows: &mut [Vec<f64>], width: usize) -> Vec<(usize, usize)> {
    let mut pivots = Vec::new();
    let mut r = 0;
    for col in 0..width {
        if r == rows.len() {
            break;
        }
        let Some(best) =
            (r..rows.len()).max_by(|&a, &b| rows[a][col].abs().total_cmp(&rows[b][col].abs()))
        else {
            break;
        };
        if rows[best][col].abs() < 1e-9 {
            continue;
        }
        rows.swap(r, best);
        let p = rows[r][col];
        for v in rows[r].iter_mut() {
            *v /= p;
        }
        let pivot_row = rows[r].clone();
        for (i, row) in rows.iter_mut().enumerate() {
            if i != r && row[col].abs() > 1e-12 {
                let f = row[col];
                for (v, pv) in row.iter_mut().zip(&pivot_row) {
                    *v -= f * pv;
                }
            }
        }
        pivots.push((r, col));
        r += 1;
    }
    pivots
}

/// Suppresses every cell below its floor (`min_n`), then, while the checker
/// recovers a suppressed cell, suppresses one more published member of the
/// relation that gave it away (`secondary`). Of the candidates it takes the
/// one after whose suppression the checker recovers the fewest cells, then
/// the one with the fewest respondents: hide as little as possible, and
/// avoid complements that need complements of their own. Then, while a
/// too-small cell's feasible interval may be narrower than the default
/// minimum width (`audit::MIN_WIDTH_FRACTION` of its scale), one more
/// (`interval`). Marks the table protected.
pub fn protect(table: &mut Table) {
    protect_with(table, audit::MIN_WIDTH_FRACTION);
}

/// `protect` with the minimum width of a too-small cell's feasible
/// interval, as a fraction of its scale range (`privacy.min_interval_width`).
pub fn protect_with(table: &mut Table, min_width: f64) {
    // The true means, before any is suppressed: the interval protection
    // fixes the hidden cells far from the one it checks at these.
    let truth: Vec<Option<f64>> = table.cells.iter().map(|c| c.mean).collect();
    // What the interval protection knows of each too-small cell, kept
    // across the passes below (`interval::Verdict`).
    let mut verdicts = vec![interval::Verdict::Open; table.cells.len()];
    for c in table.cells.iter_mut() {
        if c.n_respondents < c.floor as u64 {
            c.suppress(SuppressionReason::MinN);
        }
    }
    // Which linked tables are published (`publish`): institution totals and
    // department years that would exist only to be subtracted from are
    // left out first, and again as complements are chosen.
    publish::table_rules(&mut table.cells);
    // The relations depend on the cells' units, periods and atoms only, not
    // on what is hidden: found once.
    let rels = relations(&table.cells);
    let blocks = components(&table.cells, rels.clone());
    protect_blocks(&mut table.cells, &blocks, &truth, min_width, &mut verdicts);
    // Across subscales: a unit's total is (near) the item-weighted mean of
    // the subscales that count towards it, so of those cells of one unit,
    // instrument version and period never exactly one may be hidden. Each
    // cell hidden for that needs protecting in its own block in turn.
    loop {
        let extra = across_subscales(&table.cells, &rels);
        if extra.is_empty() {
            break;
        }
        for i in extra {
            table.cells[i].suppress(SuppressionReason::Secondary);
        }
        protect_blocks(&mut table.cells, &blocks, &truth, min_width, &mut verdicts);
    }
    // The rules across subscales once more, for the departments hidden as
    // complements: hiding more never gives a hidden cell away.
    publish::table_rules(&mut table.cells);
    let verdict = |v: interval::Verdict| verdicts.iter().filter(|&&w| w == v).count();
    tracing::debug!(
        wide = verdict(interval::Verdict::Wide),
        narrow = verdict(interval::Verdict::Narrow),
        unchecked = verdict(interval::Verdict::Unchecked),
        "interval protection of the too-small cells"
    );
    // Item answer counts are published for RSOs only, and only where the
    // RSO's cell of the item's own subscale is published and at least a
    // floor of respondents answered the item (not-applicable aside): a
    // one-item subscale's distribution is its mean.
    let published: HashMap<[&str; 5], u32> = table
        .cells
        .iter()
        .filter(|c| c.level == Level::Rso && !c.suppressed)
        .map(|c| {
            (
                [
                    c.unit_id.as_str(),
                    &c.instrument,
                    &c.instrument_version,
                    &c.scale_id,
                    &c.period,
                ],
                c.floor,
            )
        })
        .collect();
    // Per item: how many answered it, and how many different answers.
    let mut answered: HashMap<[&str; 5], u64> = HashMap::new();
    let mut answers: HashMap<[&str; 5], u32> = HashMap::new();
    for k in table
        .item_counts
        .iter()
        .filter(|k| k.value.is_some() && k.n > 0)
    {
        let key = [
            k.rso_id.as_str(),
            &k.instrument,
            &k.instrument_version,
            &k.item_id,
            &k.period,
        ];
        *answered.entry(key).or_default() += k.n;
        *answers.entry(key).or_default() += 1;
    }
    let keep: Vec<bool> = table
        .item_counts
        .iter()
        .map(|k| {
            let key = [
                k.rso_id.as_str(),
                &k.instrument,
                &k.instrument_version,
                &k.scale_id,
                &k.period,
            ];
            let item = [
                k.rso_id.as_str(),
                &k.instrument,
                &k.instrument_version,
                &k.item_id,
                &k.period,
            ];
            let n = answered.get(&item).copied().unwrap_or(0);
            let one_answer = answers.get(&item).copied().unwrap_or(0) == 1;
            published.get(&key).is_some_and(|&floor| {
                // Where everyone in a small group gave the same answer, the
                // distribution tells each one's answer: not published
                // below twice the floor (k-anonymity of the answer).
                n >= floor as u64 && !(one_answer && n < 2 * floor as u64)
            })
        })
        .collect();
    let mut keep = keep.into_iter();
    table.item_counts.retain(|_| keep.next().unwrap_or(false));
    table.protected = true;
}

/// Complementary suppression in every block: relations only join cells
/// of one block, and within a block only the cells of one region and cycle,
/// so a suppression in one such component changes nothing another can
/// learn. Each component is protected on its own (in parallel), with the
/// same choices as over the whole table.
fn protect_blocks(
    cells: &mut [Cell],
    components: &[(Vec<usize>, Vec<Relation>)],
    truth: &[Option<f64>],
    min_width: f64,
    verdicts: &mut [interval::Verdict],
) {
    type Done = (
        Vec<(usize, SuppressionReason)>,
        Vec<(usize, interval::Verdict)>,
    );
    let done: Vec<Done> = {
        use rayon::prelude::*;
        let cells = &*cells;
        let verdicts = &*verdicts;
        components
            .par_iter()
            .map(|(members, rels)| {
                let mut local: Vec<Cell> = members.iter().map(|&m| cells[m].clone()).collect();
                let truth: Vec<Option<f64>> = members.iter().map(|&m| truth[m]).collect();
                let mut known: Vec<interval::Verdict> =
                    members.iter().map(|&m| verdicts[m]).collect();
                protect_component(&mut local, rels, &truth, min_width, &mut known);
                let hidden = members
                    .iter()
                    .zip(&local)
                    .filter(|(&m, c)| c.suppressed && !cells[m].suppressed)
                    .map(|(&m, c)| {
                        (
                            m,
                            c.suppression_reason.unwrap_or(SuppressionReason::Secondary),
                        )
                    })
                    .collect();
                (hidden, members.iter().copied().zip(known).collect())
            })
            .collect()
    };
    for (hidden, known) in done {
        for (m, reason) in hidden {
            cells[m].suppress(reason);
        }
        for (m, v) in known {
            verdicts[m] = v;
        }
    }
}

/// The cells to hide so that no unit has exactly one hidden cell among its
/// total and the subscales that count towards it (one instrument version,
/// one period), where that cell must stay hidden: per such unit, the
/// published subscale with the fewest respondents (the total last). A cell
/// left out of the published tables that follows from the published ones
/// (`publish::known_cells`) counts as shown.
fn across_subscales(cells: &[Cell], rels: &[Relation]) -> Vec<usize> {
    let known = publish::known_cells(cells, rels);
    let mut profiles: BTreeMap<(Level, &str, &str, &str, &str), Vec<usize>> = BTreeMap::new();
    for (i, c) in cells.iter().enumerate().filter(|(_, c)| c.in_total) {
        profiles
            .entry((
                c.level,
                &c.unit_id,
                &c.instrument,
                &c.instrument_version,
                &c.period,
            ))
            .or_default()
            .push(i);
    }
    profiles
        .values()
        .filter(|members| members.len() > 1)
        .filter(|members| {
            let mut hidden = members.iter().filter(|&&i| !known[i]);
            matches!((hidden.next(), hidden.next()), (Some(&i), None) if must_stay_hidden(&cells[i]))
        })
        .filter_map(|members| {
            members
                .iter()
                .copied()
                .filter(|&i| !cells[i].suppressed)
                .min_by_key(|&i| {
                    let c = &cells[i];
                    (
                        c.scale_id == crate::domain::TOTAL,
                        c.n_respondents,
                        &c.scale_id,
                    )
                })
        })
        .collect()
}

/// Splits relations into connected components (cells joined by any
/// relation): per component its cells (sorted global indices) and its
/// relations in local indices, in the original order.
fn components(cells: &[Cell], rels: Vec<Relation>) -> Vec<(Vec<usize>, Vec<Relation>)> {
    let mut parent: Vec<usize> = (0..cells.len()).collect();
    fn find(parent: &mut [usize], mut x: usize) -> usize {
        while parent[x] != x {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        x
    }
    for r in &rels {
        let a = find(&mut parent, r.parent);
        for c in &r.children {
            let b = find(&mut parent, *c);
            if a != b {
                parent[b] = a;
            }
        }
    }
    let mut by_root: BTreeMap<usize, (Vec<usize>, Vec<Relation>)> = BTreeMap::new();
    for r in rels {
        let root = find(&mut parent, r.parent);
        by_root.entry(root).or_default().1.push(r);
    }
    by_root
        .into_values()
        .map(|(_, rels)| {
            let mut members: Vec<usize> = rels.iter().flat_map(|r| r.members()).collect();
            members.sort_unstable();
            members.dedup();
            let local = |g: usize| members.binary_search(&g).expect("member");
            let rels = rels
                .iter()
                .map(|r| Relation {
                    parent: local(r.parent),
                    children: r.children.iter().map(|&c| local(c)).collect(),
                })
                .collect();
            (members, rels)
        })
        .collect()
}

/// Complementary suppression within one component (cells and relations in
/// local indices): first until the single-step checker recovers nothing,
/// then until the linear checker recovers nothing. After each complement
/// the publication rules (`publish::block_rules`) leave out what they say.
/// Last, the interval protection (`interval`), with the cells' true means.
fn protect_component(
    cells: &mut [Cell],
    rels: &[Relation],
    truth: &[Option<f64>],
    min_width: f64,
    verdicts: &mut [interval::Verdict],
) {
    let member_of = memberships(cells.len(), rels);
    let by_size = interval::by_size(member_of.clone(), rels);
    let near = interval::Neighbourhoods::new(rels, truth, &by_size);
    let hidden = |cells: &[Cell]| cells.iter().filter(|c| c.suppressed).count();
    // A complement the interval protection hides may itself be worked out
    // by subtraction: the exact protection again, until neither hides
    // more.
    let mut uncertain = Vec::new();
    for _ in 0..MAX_PASSES {
        protect_exact(cells, rels, &member_of);
        let before = hidden(cells);
        uncertain = interval::protect(cells, &near, min_width, verdicts, |cells| {
            publish::block_rules(cells, rels);
        });
        if hidden(cells) == before {
            break;
        }
    }
    if !uncertain.is_empty() {
        tracing::debug!(
            cells = uncertain.len(),
            "too-small cells the interval protection left narrow"
        );
    }
}

/// How often a component goes through the exact and then the interval
/// protection at most (each pass hides more, so it ends anyway).
const MAX_PASSES: usize = 8;

/// The exact protection of one component: until neither checker recovers
/// a cell that must stay hidden.
fn protect_exact(cells: &mut [Cell], rels: &[Relation], member_of: &[Vec<usize>]) {
    publish::block_rules(cells, rels);
    while let Some((_, k, chain)) = first_giveaway(cells, rels, member_of) {
        // The relation's other members are published, or left out of the
        // published tables and worked out through the chain: a published
        // member of any relation of the chain breaks it (else a neighbour).
        let mut candidates: Vec<usize> = chain
            .iter()
            .flat_map(|&q| rels[q].members())
            .filter(|&m| !cells[m].suppressed)
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        if candidates.is_empty() {
            candidates = candidates_for(cells, rels, k);
        }
        if candidates.is_empty() {
            return;
        }
        let left: Vec<(usize, usize)> = candidates
            .into_iter()
            .map(|m| {
                cells[m].suppressed = true;
                let left = recovered_count(cells, rels, member_of);
                cells[m].suppressed = false;
                (left, m)
            })
            .collect();
        // The first of the smallest keys.
        let key = |&(left, m): &(usize, usize)| {
            let c = &cells[m];
            let (tier, n) = cost(c);
            (tier, left, n, c.level, &c.unit_id, &c.period)
        };
        let pick = left
            .iter()
            .min_by(|a, b| key(a).cmp(&key(b)))
            .map(|&(_, m)| m)
            .expect("candidates were found");
        cells[pick].suppress(SuppressionReason::Secondary);
        publish::block_rules(cells, rels);
    }
    // What no chain of single steps reveals, a combination of relations
    // may: suppress further until the linear checker recovers nothing. The
    // reduced system is kept up to date as cells are added (`Elimination`)
    // instead of being solved again for every candidate; the full checker
    // confirms the end result, and the loop goes on if it finds anything.
    while let Some(&first) = recover_linear(cells, rels).first() {
        let mut sys = Elimination::new(cells, rels);
        let mut progressed = false;
        while let Some(k) = sys.recovered(cells).first().copied() {
            let candidates = candidates_for(cells, rels, k);
            let Some(&fallback) = candidates.first() else {
                return;
            };
            let pick = candidates
                .iter()
                .copied()
                .find(|&m| sys.would_hide(m, k))
                .unwrap_or(fallback);
            cells[pick].suppress(SuppressionReason::Secondary);
            sys.add(pick);
            for m in publish::block_rules(cells, rels) {
                sys.add(m);
            }
            progressed = true;
        }
        if !progressed {
            // The two checkers disagree (rounding): hide a neighbour of
            // what the full checker recovers, and check again.
            match candidates_for(cells, rels, first).first() {
                Some(&m) => {
                    cells[m].suppress(SuppressionReason::Secondary);
                    publish::block_rules(cells, rels);
                }
                None => return,
            }
        }
    }
}

/// What hiding a cell costs the reader, lowest first: the level's value
/// to the reports, then the respondents hidden. An institution's total
/// mixes its specialties and is read least (the reports compare
/// departments, RSOs and the region), so it is the first complement
/// considered; a department's year next (the reports show departments per
/// cycle), then its cycle; an RSO or the region, the benchmarks of every
/// report, last.
fn cost(c: &Cell) -> (u8, u64) {
    let level = match c.level {
        Level::Institution => 0,
        Level::Department if !c.is_cycle() => 1,
        Level::Department => 2,
        Level::Rso => 3,
        Level::Region => 4,
    };
    (level, c.n_respondents)
}

/// Published cells that could protect `k`: members of the relations with
/// `k` (or, when all those are suppressed, of any relation), fewest
/// respondents first.
fn candidates_for(cells: &[Cell], rels: &[Relation], k: usize) -> Vec<usize> {
    let members = |all: bool| -> Vec<usize> {
        let mut v: Vec<usize> = rels
            .iter()
            .filter(|r| all || r.members().any(|m| m == k))
            .flat_map(|r| r.members().collect::<Vec<_>>())
            .filter(|&m| !cells[m].suppressed)
            .collect();
        v.sort_by(|&a, &b| {
            let (x, y) = (&cells[a], &cells[b]);
            (cost(x), x.level, &x.unit_id, &x.period, a).cmp(&(
                cost(y),
                y.level,
                &y.unit_id,
                &y.period,
                b,
            ))
        });
        v.dedup();
        v
    };
    let near = members(false);
    if near.is_empty() {
        members(true)
    } else {
        near
    }
}

/// The relations of one component as a linear system over its suppressed
/// cells, in reduced row echelon form `R = E·A`, with `E` kept so that a
/// new suppressed cell's column can be reduced in one product. A suppressed
/// cell is recovered when its pivot row has no other entry (as in
/// `recover_linear`).
struct Elimination {
    /// Relation rows: parent +1, children -1.
    a: Vec<Vec<(usize, f64)>>,
    /// R: rows × columns (one column per suppressed cell).
    r: Vec<Vec<f64>>,
    /// E: rows × rows.
    e: Vec<Vec<f64>>,
    /// The cell of each column.
    cell_of: Vec<usize>,
    /// The pivot column of each row, if any.
    pivot: Vec<Option<usize>>,
}

const EPS: f64 = 1e-9;

impl Elimination {
    fn new(cells: &[Cell], rels: &[Relation]) -> Elimination {
        let n = rels.len();
        let a = rels
            .iter()
            .map(|r| {
                let mut row = vec![(r.parent, 1.0)];
                row.extend(r.children.iter().map(|&c| (c, -1.0)));
                row
            })
            .collect();
        let mut sys = Elimination {
            a,
            r: vec![Vec::new(); n],
            e: (0..n)
                .map(|i| {
                    let mut v = vec![0.0; n];
                    v[i] = 1.0;
                    v
                })
                .collect(),
            cell_of: Vec::new(),
            pivot: vec![None; n],
        };
        for (i, c) in cells.iter().enumerate() {
            if c.suppressed {
                sys.add(i);
            }
        }
        sys
    }

    /// E·(column of `cell` in A).
    fn reduced_column(&self, cell: usize) -> Vec<f64> {
        let mut col = vec![0.0; self.a.len()];
        for (j, row) in self.a.iter().enumerate() {
            for &(c, v) in row {
                if c == cell {
                    for (i, out) in col.iter_mut().enumerate() {
                        *out += self.e[i][j] * v;
                    }
                }
            }
        }
        col
    }

    /// Whether suppressing `m` too leaves `k` (recovered now) unrecoverable:
    /// `m`'s reduced column must be free (zero outside the pivot rows) and
    /// touch `k`'s pivot row.
    fn would_hide(&self, m: usize, k: usize) -> bool {
        let col = self.reduced_column(m);
        let free = self
            .pivot
            .iter()
            .zip(&col)
            .all(|(p, v)| p.is_some() || v.abs() < EPS);
        let Some(kc) = self.cell_of.iter().position(|&c| c == k) else {
            return false;
        };
        let row_k = self.pivot.iter().position(|p| *p == Some(kc));
        free && row_k.is_some_and(|r| col[r].abs() > EPS)
    }

    /// Adds a suppressed cell as a new column and restores the form.
    fn add(&mut self, cell: usize) {
        let col = self.reduced_column(cell);
        let c = self.cell_of.len();
        self.cell_of.push(cell);
        for (row, v) in self.r.iter_mut().zip(&col) {
            row.push(*v);
        }
        // A row without a pivot that has an entry here: the new column
        // becomes its pivot (largest entry, for stability).
        let best = (0..self.r.len())
            .filter(|&i| self.pivot[i].is_none() && self.r[i][c].abs() > EPS)
            .max_by(|&x, &y| self.r[x][c].abs().total_cmp(&self.r[y][c].abs()));
        let Some(p) = best else { return };
        let f = self.r[p][c];
        self.r[p].iter_mut().for_each(|v| *v /= f);
        self.e[p].iter_mut().for_each(|v| *v /= f);
        self.pivot[p] = Some(c);
        let (rp, ep) = (self.r[p].clone(), self.e[p].clone());
        for i in 0..self.r.len() {
            if i == p {
                continue;
            }
            let g = self.r[i][c];
            if g.abs() > EPS {
                self.r[i].iter_mut().zip(&rp).for_each(|(v, w)| *v -= g * w);
                self.e[i].iter_mut().zip(&ep).for_each(|(v, w)| *v -= g * w);
            }
            self.r[i][c] = 0.0;
        }
    }

    /// Suppressed cells the system determines that must stay hidden,
    /// sorted.
    fn recovered(&self, cells: &[Cell]) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .pivot
            .iter()
            .enumerate()
            .filter_map(|(i, p)| {
                let pc = (*p)?;
                self.r[i]
                    .iter()
                    .enumerate()
                    .all(|(j, v)| j == pc || v.abs() < EPS)
                    .then(|| self.cell_of[pc])
            })
            .filter(|&c| must_stay_hidden(&cells[c]))
            .collect();
        out.sort_unstable();
        out
    }
}

/// The sample generator's random numbers, for the property tests below.
#[cfg(test)]
#[allow(dead_code)]
#[path = "../../synth/rng.rs"]
mod test_rng;

#[cfg(test)]
mod tests;
