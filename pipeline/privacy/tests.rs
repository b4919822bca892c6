//! The privacy stage's tests: the checkers and the suppression on hand-made
//! and random hierarchies, the work list, and item distributions.

use super::test_rng::Rng;
use super::*;
use crate::table::Atom;

/// Builds the cells of one block from atoms with respondent counts, the
/// way `aggregate` groups them: department, institution, RSO and region,
/// per year and per cycle of two years.
pub(super) fn cells_of(atoms: &[(Atom, u64)], floor: u32) -> Vec<Cell> {
    cells_of_cycles(atoms, floor, |_, _| vec![2019])
}

/// `cells_of` with each unit's cycles counted from the starts `starts`
/// gives for its level and specialty (an RSO with cycles of its own, as
/// `aggregate` makes them: `org::Cycles`).
pub(super) fn cells_of_cycles(
    atoms: &[(Atom, u64)],
    floor: u32,
    starts: impl Fn(Level, &str) -> Vec<i32>,
) -> Vec<Cell> {
    let mut groups: BTreeMap<(Level, String, String), (Vec<u32>, u64)> = BTreeMap::new();
    for (i, (a, n)) in atoms.iter().enumerate() {
        for (l, u) in a.units() {
            let cycles = starts(l, &a.specialty)
                .into_iter()
                .map(|s| crate::score::cycle_of(a.year, s));
            for p in std::iter::once(a.year.to_string()).chain(cycles) {
                let g = groups.entry((l, u.clone(), p)).or_default();
                g.0.push(i as u32);
                g.1 += n;
            }
        }
    }
    groups
        .into_iter()
        .map(|((level, unit_id, period), (mut atoms, n))| {
            atoms.sort_unstable();
            Cell {
                level,
                unit_id,
                institution_id: None,
                specialty: None,
                rso_id: None,
                region_id: None,
                instrument: "d-rect".into(),
                instrument_version: "2016".into(),
                scale_id: "total".into(),
                period,
                n_respondents: n,
                n_responses: n,
                mean: Some(3.5),
                sd: Some(0.5),
                ci_low: Some(3.0),
                ci_high: Some(4.0),
                mean_pomp: Some(62.5),
                alpha: None,
                response_rate: None,
                reliable: true,
                suppressed: false,
                suppression_reason: None,
                scale_min: 1.0,
                scale_max: 5.0,
                floor,
                in_total: false,
                atoms,
            }
        })
        .collect()
}

pub(super) fn atom(inst: &str, spec: &str, rso: Option<&str>, year: i32) -> Atom {
    Atom {
        block: ("d-rect".into(), "2016".into(), "total".into()),
        institution_id: inst.into(),
        specialty: spec.into(),
        rso_id: rso.map(String::from),
        region_id: "r".into(),
        year,
    }
}

fn find<'a>(cells: &'a [Cell], level: Level, unit: &str, period: &str) -> &'a Cell {
    cells
        .iter()
        .find(|c| c.level == level && c.unit_id == unit && c.period == period)
        .unwrap_or_else(|| panic!("{unit} {period}"))
}

#[test]
fn a_small_department_cannot_be_recovered_from_its_parents() {
    // One RSO, one year, three departments of one specialty; b:x is small.
    let atoms = vec![
        (atom("a", "x", Some("R"), 2024), 10),
        (atom("b", "x", Some("R"), 2024), 3),
        (atom("c", "x", Some("R"), 2024), 9),
    ];
    let mut t = Table {
        cells: cells_of(&atoms, 4),
        atoms: Vec::new(),
        protected: false,
        ..Default::default()
    };
    // Unprotected, the checker finds the small department at once:
    // the RSO minus a:x and c:x.
    let mut naive = t.cells.clone();
    for c in naive.iter_mut().filter(|c| c.n_respondents < 4) {
        c.suppress(SuppressionReason::MinN);
    }
    assert!(!recover(&naive, &relations(&naive)).is_empty());
    protect(&mut t);
    let rels = relations(&t.cells);
    assert!(recover(&t.cells, &rels).is_empty());
    let b = find(&t.cells, Level::Department, "b:x", "2024");
    assert_eq!(b.suppression_reason, Some(SuppressionReason::MinN));
    assert_eq!(b.mean, None);
    assert_eq!(b.n_respondents, 3, "counts stay visible");
    // The complement is the smallest other department, c:x (9 < 10), in
    // the cycle the reports show. The departments' years are not
    // published: each cycle has one year, which the cycle stands for; nor
    // are the institutions' totals, each one department.
    let c = find(&t.cells, Level::Department, "c:x", "2023-2024");
    assert_eq!(c.suppression_reason, Some(SuppressionReason::Secondary));
    assert!(!find(&t.cells, Level::Department, "a:x", "2023-2024").suppressed);
    for (level, unit) in [(Level::Department, "a:x"), (Level::Institution, "a")] {
        assert_eq!(
            find(&t.cells, level, unit, "2024").suppression_reason,
            Some(SuppressionReason::NotPublished),
            "{unit}"
        );
    }
    assert!(!find(&t.cells, Level::Rso, "R", "2024").suppressed);
}

#[test]
fn a_year_cannot_be_recovered_from_its_cycle() {
    // A department with 3 respondents in 2023 and 8 in 2024: the cycle
    // (11) minus 2024 would give 2023 away.
    let atoms = vec![
        (atom("a", "x", Some("R"), 2023), 3),
        (atom("a", "x", Some("R"), 2024), 8),
        (atom("b", "x", Some("R"), 2023), 7),
        (atom("b", "x", Some("R"), 2024), 6),
    ];
    let mut t = Table {
        cells: cells_of(&atoms, 4),
        atoms: Vec::new(),
        protected: false,
        ..Default::default()
    };
    protect(&mut t);
    assert!(recover(&t.cells, &relations(&t.cells)).is_empty());
    assert!(find(&t.cells, Level::Department, "a:x", "2023").suppressed);
    let a_cycle = find(&t.cells, Level::Department, "a:x", "2023-2024");
    let a_2024 = find(&t.cells, Level::Department, "a:x", "2024");
    assert!(a_cycle.suppressed || a_2024.suppressed);
    // Its other year is left out of the published tables, not hidden as a
    // complement, and the cycle the reports show stays: the RSO's 2024
    // minus b:x 2024 would give a:x 2024 and so 2023, so a year of b:x (the
    // cheapest cell of the chain) is hidden instead, and b:x's other year
    // left out with it.
    assert_eq!(
        a_2024.suppression_reason,
        Some(SuppressionReason::NotPublished)
    );
    assert!(!a_cycle.suppressed, "{a_cycle:?}");
    let b_years: Vec<_> = ["2023", "2024"]
        .map(|y| find(&t.cells, Level::Department, "b:x", y).suppression_reason)
        .to_vec();
    assert!(
        b_years.contains(&Some(SuppressionReason::Secondary))
            && b_years.contains(&Some(SuppressionReason::NotPublished)),
        "{b_years:?}"
    );
    assert!(!find(&t.cells, Level::Department, "b:x", "2023-2024").suppressed);
    assert!(recover_linear(&t.cells, &relations(&t.cells)).is_empty());
}

/// Every relation below has two unknowns, so chains of single steps
/// learn nothing; together they determine all three: a + b = t1,
/// b + u = t2 and a + u = t1 give b = u, then 2b = t2, then a.
#[test]
fn the_linear_checker_solves_what_single_steps_cannot() {
    let mk = |id: &str, suppressed: bool| {
        let mut c = cells_of(&[(atom(id, "x", Some("R"), 2024), 10)], 4).remove(0);
        c.unit_id = id.into();
        if suppressed {
            c.suppress(SuppressionReason::MinN);
        }
        c
    };
    let cells = vec![
        mk("t1", false),
        mk("a", true),
        mk("b", true),
        mk("t2", false),
        mk("u", true),
    ];
    let rels = vec![
        Relation {
            parent: 0,
            children: vec![1, 2],
        },
        Relation {
            parent: 3,
            children: vec![2, 4],
        },
        Relation {
            parent: 0,
            children: vec![1, 4],
        },
    ];
    assert!(recover(&cells, &rels).is_empty());
    let lin = recover_linear(&cells, &rels);
    assert_eq!(lin, vec![1, 2, 4]);
}

#[test]
fn the_region_minus_its_rsos_is_a_relation() {
    // d:y is outside any RSO and small: region minus the RSO gives it.
    let atoms = vec![
        (atom("a", "x", Some("R"), 2024), 10),
        (atom("b", "x", Some("R"), 2024), 12),
        (atom("d", "y", None, 2024), 3),
    ];
    let cells = cells_of(&atoms, 4);
    let region = cells
        .iter()
        .position(|c| c.level == Level::Region && c.period == "2024")
        .unwrap();
    let rso = cells
        .iter()
        .position(|c| c.level == Level::Rso && c.period == "2024")
        .unwrap();
    let d = cells
        .iter()
        .position(|c| c.unit_id == "d:y" && c.period == "2024")
        .unwrap();
    let rels = relations(&cells);
    assert!(rels
        .iter()
        .any(|r| r.parent == region && r.children.contains(&rso) && r.children.contains(&d)));
}

/// Property: on random hierarchies (institutions, specialties, RSOs with
/// members joining and leaving, years, small and large groups), no
/// published cell is below its floor and the checker recovers nothing.
#[test]
fn property_random_hierarchies_leak_nothing() {
    let mut rng = Rng::new(7);
    for case in 0..300 {
        let n_inst = 2 + rng.below(5);
        let n_spec = 1 + rng.below(3);
        let first = 2019 + rng.below(2) as i32;
        let n_years = 1 + rng.below(4) as i32;
        let floor = 3 + rng.below(3) as u32;
        let mut atoms = Vec::new();
        for i in 0..n_inst {
            for s in 0..n_spec {
                if rng.chance(0.25) {
                    continue;
                }
                for y in first..first + n_years {
                    if rng.chance(0.15) {
                        continue;
                    }
                    let rso = (!rng.chance(0.2)).then(|| format!("R{s}"));
                    let n = if rng.chance(0.3) {
                        1 + rng.below(4)
                    } else {
                        1 + rng.below(15)
                    } as u64;
                    atoms.push((
                        atom(&format!("i{i}"), &format!("s{s}"), rso.as_deref(), y),
                        n,
                    ));
                }
            }
        }
        if atoms.is_empty() {
            continue;
        }
        let mut t = Table {
            cells: cells_of(&atoms, floor),
            atoms: Vec::new(),
            protected: false,
            ..Default::default()
        };
        protect(&mut t);
        for c in &t.cells {
            assert!(
                c.suppressed || c.n_respondents >= floor as u64,
                "case {case}: {} {} published below the floor",
                c.unit_id,
                c.period
            );
            assert_eq!(c.suppressed, c.mean.is_none(), "case {case}");
        }
        let rels = relations(&t.cells);
        let linear = recover_linear(&t.cells, &rels);
        assert!(
            linear.is_empty(),
            "case {case}: a combination of relations recovers {linear:?}"
        );
        let rec = recover(&t.cells, &rels);
        assert!(
            rec.is_empty(),
            "case {case}: recovered {:?}",
            rec.iter()
                .map(|(i, _)| (&t.cells[*i].unit_id, &t.cells[*i].period))
                .collect::<Vec<_>>()
        );
    }
}

/// Property (issue #18): one RSO keeps cycles of its own (from 2020, the
/// region's from 2019), as do its specialty's departments; the region has
/// cells on both grids, institutions on the region's. The relations are
/// found from the atoms as before, so what is published is what the
/// suppression protects: neither checker recovers anything.
#[test]
fn property_an_rso_with_its_own_cycles_leaks_nothing() {
    let mut rng = Rng::new(18);
    let mut own_cycles_seen = 0;
    for case in 0..200 {
        let n_inst = 2 + rng.below(4);
        let n_spec = 2 + rng.below(2);
        let n_years = 2 + rng.below(4) as i32;
        let floor = 3 + rng.below(3) as u32;
        let mut atoms = Vec::new();
        for i in 0..n_inst {
            for s in 0..n_spec {
                if rng.chance(0.2) {
                    continue;
                }
                for y in 2019..2019 + n_years {
                    if rng.chance(0.15) {
                        continue;
                    }
                    let rso = (!rng.chance(0.15)).then(|| format!("R{s}"));
                    let n = if rng.chance(0.3) {
                        1 + rng.below(4)
                    } else {
                        1 + rng.below(15)
                    } as u64;
                    atoms.push((
                        atom(&format!("i{i}"), &format!("s{s}"), rso.as_deref(), y),
                        n,
                    ));
                }
            }
        }
        // Specialty s1 (RSO R1 and its departments) from 2020.
        let starts = |level: Level, spec: &str| match level {
            Level::Region => vec![2019, 2020],
            Level::Institution => vec![2019],
            Level::Rso | Level::Department if spec == "s1" => vec![2020],
            _ => vec![2019],
        };
        let mut t = Table {
            cells: cells_of_cycles(&atoms, floor, starts),
            ..Default::default()
        };
        own_cycles_seen += t
            .cells
            .iter()
            .filter(|c| c.level == Level::Rso && c.period == "2020-2021")
            .count();
        assert!(
            !t.cells
                .iter()
                .any(|c| c.level == Level::Rso && c.unit_id == "R1" && c.period == "2019-2020"),
            "case {case}: R1 has no region cycles"
        );
        protect(&mut t);
        for c in &t.cells {
            assert!(
                c.suppressed || c.n_respondents >= floor as u64,
                "case {case}: {} {} published below the floor",
                c.unit_id,
                c.period
            );
        }
        let rels = relations(&t.cells);
        let linear = recover_linear(&t.cells, &rels);
        assert!(linear.is_empty(), "case {case}: recovers {linear:?}");
        let rec = recover(&t.cells, &rels);
        assert!(rec.is_empty(), "case {case}: recovered {rec:?}");
    }
    assert!(own_cycles_seen > 50, "{own_cycles_seen}");
}

/// A random hierarchy of one block with random means (each atom's mean
/// uniform on the 1-5 scale; the cells' means pooled from them), many tiny
/// groups (four in ten below any floor), not yet protected; None when the
/// draw has no atoms.
pub(super) fn random_table(rng: &mut Rng) -> Option<Table> {
    let floor = 3 + rng.below(3) as u32;
    let mut atoms = Vec::new();
    let mut means = Vec::new();
    for i in 0..2 + rng.below(5) {
        for sp in 0..1 + rng.below(3) {
            for y in 2019..2019 + 1 + rng.below(4) as i32 {
                if rng.chance(0.2) {
                    continue;
                }
                let rso = (!rng.chance(0.2)).then(|| format!("R{sp}"));
                let n = if rng.chance(0.4) {
                    1 + rng.below(3)
                } else {
                    3 + rng.below(12)
                } as u64;
                atoms.push((
                    atom(&format!("i{i}"), &format!("s{sp}"), rso.as_deref(), y),
                    n,
                ));
                means.push(1.0 + 4.0 * rng.unit());
            }
        }
    }
    if atoms.is_empty() {
        return None;
    }
    let mut cells = cells_of(&atoms, floor);
    for c in cells.iter_mut() {
        let (sum, n) = c.atoms.iter().fold((0.0, 0u64), |(s, k), &a| {
            let (_, n) = atoms[a as usize];
            (s + means[a as usize] * n as f64, k + n)
        });
        c.mean = Some(sum / n as f64);
    }
    Some(Table {
        cells,
        atoms: Vec::new(),
        protected: false,
        ..Default::default()
    })
}

/// Property (issue #20, "how it is checked"): on random hierarchies with
/// many tiny groups and random means, after `protect` neither checker
/// recovers a cell that must stay hidden, and the interval auditor pins
/// none of them to within 0.05 on the scale (the issue's "recovery"); the
/// share of complements among the published tables' cells that pass the
/// floor is printed, with a loose bound. Each atom gets its own mean, so
/// the cells' means add up as pooled means do.
#[test]
fn property_random_hierarchies_the_checkers_and_the_auditor_recover_nothing() {
    let started = std::time::Instant::now();
    let mut rng = Rng::new(20);
    let (mut passing, mut complements, mut left_out, mut narrow) = (0usize, 0, 0, 0);
    let (mut too_small, mut narrow_small) = (0usize, Vec::new());
    let mut near = Vec::new();
    for case in 0..60 {
        let Some(mut t) = random_table(&mut rng) else {
            continue;
        };
        protect(&mut t);
        let rels = relations(&t.cells);
        assert!(recover(&t.cells, &rels).is_empty(), "case {case}");
        assert!(recover_linear(&t.cells, &rels).is_empty(), "case {case}");
        for iv in audit::feasible_intervals(&t.cells, &rels) {
            let c = &t.cells[iv.cell];
            if !must_stay_hidden(c) {
                continue;
            }
            assert!(
                !iv.is_point(),
                "case {case}: {} {} pinned to {:?}",
                c.unit_id,
                c.period,
                iv.bounds
            );
            let w = iv.width().unwrap_or(0.0);
            if w < 0.05 {
                near.push((
                    case,
                    c.unit_id.clone(),
                    c.period.clone(),
                    c.suppression_reason,
                    w,
                ));
            }
            let fraction = iv.width_fraction().unwrap_or(0.0);
            if fraction < audit::MIN_WIDTH_FRACTION - audit::TOLERANCE {
                narrow += 1;
                if c.suppression_reason == Some(SuppressionReason::MinN) {
                    narrow_small.push((case, c.unit_id.clone(), c.period.clone(), fraction));
                }
            }
        }
        for c in &t.cells {
            match c.suppression_reason {
                Some(SuppressionReason::MinN) => too_small += 1,
                Some(SuppressionReason::NotPublished) => left_out += 1,
                Some(SuppressionReason::Secondary) => {
                    complements += 1;
                    passing += 1;
                }
                None => passing += 1,
            }
        }
    }
    let share = complements as f64 / passing as f64;
    eprintln!(
        "random hierarchies: {too_small} too small, {left_out} left out, {complements} complements of {passing} cells that pass the floor ({:.1}%), {narrow} hidden cells pinned below 20% of the scale ({} too small), {} within 0.05: {near:?}; {:.1} s",
        100.0 * share,
        narrow_small.len(),
        near.len(),
        started.elapsed().as_secs_f64()
    );
    // The interval protection: no too-small cell narrower than a fifth of
    // its scale by the full auditor (an independent LP over the whole set
    // of unknowns, not the neighbourhoods the protection looks at).
    assert!(narrow_small.is_empty(), "{narrow_small:?}");
    // Measured before interval protection: 22.5% complements; 218 hidden
    // cells pinned below a fifth of their scale, one (a complement, an RSO
    // year) to within 0.03. Four groups in ten below the floor is far more
    // than a real region has (the sample: one department cell in five).
    // Loose bounds keep the figures from growing.
    assert!(share < 0.30, "{share}");
    assert!(near.len() <= 1, "{near:?}");
    assert!(
        near.iter().all(|n| n.3 != Some(SuppressionReason::MinN)),
        "a too-small cell pinned: {near:?}"
    );
    assert!(complements > 0 && too_small > 100);
}

mod work_list_tests {
    use super::test_rng::Rng;
    use super::*;

    /// The work-list checker against the sweeping one, on random tables
    /// with random suppressions: the same count, the same first giveaway.
    #[test]
    fn the_work_list_recovers_what_the_sweeps_recover() {
        let mut rng = Rng::new(11);
        let mut compared = 0;
        for case in 0..200 {
            let mut atoms = Vec::new();
            for i in 0..2 + rng.below(4) {
                for s in 0..1 + rng.below(3) {
                    for y in 2019..2019 + 1 + rng.below(3) as i32 {
                        if rng.chance(0.2) {
                            continue;
                        }
                        let rso = (!rng.chance(0.2)).then(|| format!("R{s}"));
                        let a = tests::atom(&format!("i{i}"), &format!("s{s}"), rso.as_deref(), y);
                        atoms.push((a, 1 + rng.below(10) as u64));
                    }
                }
            }
            if atoms.is_empty() {
                continue;
            }
            let mut cells = tests::cells_of(&atoms, 1);
            // Every other case also has cells left out of the published
            // tables, which may be worked out and are not counted.
            let left_out = case % 2 == 1;
            for c in cells.iter_mut() {
                if rng.chance(0.3) {
                    c.suppress(SuppressionReason::MinN);
                } else if left_out && rng.chance(0.15) {
                    c.suppress(SuppressionReason::NotPublished);
                }
            }
            let rels = relations(&cells);
            let member_of = memberships(cells.len(), &rels);
            let swept = recover(&cells, &rels);
            assert!(swept.iter().all(|&(m, _)| must_stay_hidden(&cells[m])));
            assert_eq!(recovered_count(&cells, &rels, &member_of), swept.len());
            let first = first_giveaway(&cells, &rels, &member_of);
            if left_out {
                // Found by another order, but a cell the sweeps find too.
                assert_eq!(first.is_some(), !swept.is_empty());
                if let Some((_, m, _)) = first {
                    assert!(swept.iter().any(|&(s, _)| s == m));
                }
            } else {
                assert_eq!(first.map(|(r, _, _)| r), swept.first().map(|&(_, r)| r));
            }
            compared += usize::from(!swept.is_empty());
        }
        assert!(compared > 50, "too few cases recover anything: {compared}");
    }
}

mod item_count_tests {
    use super::*;
    use crate::table::ItemCount;

    fn rso_cell(scale: &str, n: u64, suppressed: bool) -> Cell {
        Cell {
            level: Level::Rso,
            unit_id: "R".into(),
            institution_id: None,
            specialty: None,
            rso_id: None,
            region_id: None,
            instrument: "d-rect".into(),
            instrument_version: "2016".into(),
            scale_id: scale.into(),
            period: "2023-2024".into(),
            n_respondents: n,
            n_responses: n,
            mean: (!suppressed).then_some(4.0),
            sd: None,
            ci_low: None,
            ci_high: None,
            mean_pomp: (!suppressed).then_some(75.0),
            alpha: None,
            response_rate: None,
            reliable: true,
            suppressed,
            suppression_reason: suppressed.then_some(SuppressionReason::MinN),
            scale_min: 1.0,
            scale_max: 5.0,
            floor: 4,
            in_total: false,
            atoms: vec![],
        }
    }

    fn count(item: &str, scale: &str, value: Option<f64>, n: u64) -> ItemCount {
        ItemCount {
            rso_id: "R".into(),
            instrument: "d-rect".into(),
            instrument_version: "2016".into(),
            scale_id: scale.into(),
            item_id: item.into(),
            period: "2023-2024".into(),
            value,
            n,
        }
    }

    /// Regression: item counts were kept whenever the RSO total was
    /// published, even when the item's own subscale was suppressed or only
    /// two people answered the item.
    #[test]
    fn item_counts_follow_their_own_subscale_and_the_floor() {
        let mut t = Table {
            cells: vec![
                rso_cell("total", 10, false),
                rso_cell("a", 10, false),
                rso_cell("b", 2, true),
            ],
            item_counts: vec![
                count("a1", "a", Some(4.0), 6),
                count("a1", "a", Some(5.0), 4),
                count("a2", "a", Some(5.0), 2),
                count("a2", "a", None, 8),
                count("b1", "b", Some(3.0), 2),
            ],
            ..Default::default()
        };
        protect(&mut t);
        let kept: Vec<&str> = t.item_counts.iter().map(|k| k.item_id.as_str()).collect();
        assert_eq!(
            kept,
            vec!["a1", "a1"],
            "a2: 2 answers below the floor; b1: its subscale is suppressed"
        );
    }

    #[test]
    fn a_small_group_that_answered_as_one_gets_no_distribution() {
        // Floor 4: a3's five answers are all "5" (below 2 x 4: each one's
        // answer would be known); a4's nine are all "4" (a large group may
        // agree); a1 has two answers.
        let mut t = Table {
            cells: vec![rso_cell("total", 20, false), rso_cell("a", 20, false)],
            item_counts: vec![
                count("a1", "a", Some(4.0), 3),
                count("a1", "a", Some(5.0), 2),
                count("a3", "a", Some(5.0), 5),
                count("a3", "a", None, 3),
                count("a4", "a", Some(4.0), 9),
            ],
            ..Default::default()
        };
        protect(&mut t);
        let kept: Vec<&str> = t.item_counts.iter().map(|k| k.item_id.as_str()).collect();
        assert_eq!(kept, vec!["a1", "a1", "a4"]);
    }
}
