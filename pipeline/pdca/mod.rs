//! Check and Act: strengths, improvement points and signals found by
//! explicit rules, each with a stable id; the development plan with the
//! measured effect of its actions; and the follow-up of the quality
//! register (`follow`: verdicts on last cycle's points, the year
//! calendar's status).
//!
//! This module owns the rules (their thresholds are the region's settings in
//! `[rules]`, never official norms: none exist), the year calendar check for
//! missing measurements, and the reading of the development plan (a CSV the
//! training group keeps). Every finding carries the rule that fired and the
//! numbers behind it, so a report can explain it in words. It reads only
//! published aggregates and changes: an indicative (unreliable) or
//! suppressed cell never triggers a rule. It renders nothing.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::Serialize;

pub mod follow;

use crate::config::register::Indicator;
pub use crate::config::Action;
use crate::config::{CalendarEntry, Register, Rules};
use crate::org::Registry;
use crate::score::{self, Summary, TOTAL};
use crate::table::{Cell, Change, Level, Published};

pub use crate::domain::{FindingId, Kind, Rule};

/// One finding, with the numbers behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Strength, improvement point or signal.
    pub kind: Kind,
    /// The rule that fired.
    pub rule: Rule,
    /// Level of the unit.
    pub level: Level,
    /// Unit id.
    pub unit_id: String,
    /// RSO the unit belongs to (for department and RSO findings).
    pub rso_id: Option<String>,
    /// Instrument.
    pub instrument: String,
    /// The instrument's version of the cell that fired.
    pub instrument_version: String,
    /// Subscale or total.
    pub scale_id: String,
    /// Period.
    pub period: String,
    /// Score on 0-100, where it applies.
    pub pomp: Option<f64>,
    /// Previous score on 0-100 (declines, two cycles running).
    pub previous_pomp: Option<f64>,
    /// Change on 0-100.
    pub diff_pomp: Option<f64>,
    /// p-value.
    pub p_value: Option<f64>,
    /// Hedges' g.
    pub hedges_g: Option<f64>,
    /// Response rate.
    pub response_rate: Option<f64>,
    /// Respondents.
    pub n: Option<u64>,
    /// Year of a missing measurement.
    pub year: Option<i32>,
    /// The change compares two instrument versions (on 0-100).
    pub version_changed: bool,
}

impl Finding {
    fn new(kind: Kind, rule: Rule, c: &Cell) -> Finding {
        Finding {
            kind,
            rule,
            level: c.level,
            unit_id: c.unit_id.clone(),
            rso_id: c
                .rso_id
                .clone()
                .or_else(|| (c.level == Level::Rso).then(|| c.unit_id.clone())),
            instrument: c.instrument.clone(),
            instrument_version: c.instrument_version.clone(),
            scale_id: c.scale_id.clone(),
            period: c.period.clone(),
            pomp: c.mean_pomp,
            previous_pomp: None,
            diff_pomp: None,
            p_value: None,
            hedges_g: None,
            response_rate: c.response_rate,
            n: Some(c.n_respondents),
            year: None,
            version_changed: false,
        }
    }
}

impl Finding {
    /// The finding's stable id.
    pub fn id(&self) -> FindingId {
        FindingId {
            cycle: self.period.clone(),
            unit_id: self.unit_id.clone(),
            instrument: self.instrument.clone(),
            scale_id: self.scale_id.clone(),
            rule: self.rule,
            year: self.year,
        }
    }
}

/// Cells that may trigger a rule: published and reliable.
fn usable(c: &Cell) -> bool {
    !c.suppressed && c.reliable && c.mean_pomp.is_some()
}

/// The cycle before a cycle (`2023-2024` → `2021-2022`).
pub fn previous_cycle(cycle: &str) -> Option<String> {
    crate::domain::Period::parse(cycle)
        .filter(|p| p.is_cycle())
        .map(|p| p.previous().to_string())
}

/// Every finding for the cells of one cycle: strengths and improvement
/// points of reliable published cells, declines and improvements from the
/// changes, improvement points two cycles running, low response rates.
pub fn findings(published: &Published, cycle: &str, rules: &Rules) -> Vec<Finding> {
    let mut out = Vec::new();
    let prev = previous_cycle(cycle);
    let low = |c: &Cell| usable(c) && c.mean_pomp.is_some_and(|p| p < rules.improvement_pomp);
    for c in published
        .cells
        .iter()
        .filter(|c| c.period == cycle && c.level != Level::Institution)
    {
        if usable(c) {
            let p = c.mean_pomp.unwrap_or_default();
            if p >= rules.strength_pomp {
                out.push(Finding::new(Kind::Strength, Rule::HighScore, c));
            } else if p < rules.improvement_pomp {
                // Two cycles running: the same unit and subscale (construct)
                // was an improvement point in the previous cycle too.
                let before = published.unit_cells(c.level, &c.unit_id).iter().find(|b| {
                    Some(&b.period) == prev.as_ref()
                        && b.instrument == c.instrument
                        && b.scale_id == c.scale_id
                        && low(b)
                });
                let mut f = Finding::new(Kind::Improvement, Rule::LowScore, c);
                if let Some(b) = before {
                    f.previous_pomp = b.mean_pomp;
                    out.push(Finding {
                        kind: Kind::Signal,
                        rule: Rule::TwoCyclesRunning,
                        ..f.clone()
                    });
                }
                out.push(f);
            }
        }
        if c.scale_id == TOTAL && !c.suppressed {
            if let Some(r) = c.response_rate.filter(|r| *r < rules.min_response_rate) {
                let mut f = Finding::new(Kind::Signal, Rule::LowResponse, c);
                f.response_rate = Some(r);
                out.push(f);
            }
        }
    }
    for ch in published.changes.iter().filter(|ch| {
        ch.period == cycle && ch.level != Level::Institution && !ch.suppressed && ch.reliable
    }) {
        let (Some(p), Some(g)) = (ch.p_value, ch.hedges_g) else {
            continue;
        };
        if p >= rules.significance || g.abs() < rules.decline_effect {
            continue;
        }
        let cell = published
            .unit_cells(ch.level, &ch.unit_id)
            .iter()
            .find(|c| {
                c.instrument == ch.instrument
                    && c.scale_id == ch.scale_id
                    && c.period == ch.period
                    && c.instrument_version == ch.instrument_version
            });
        let Some(cell) = cell.filter(|c| c.reliable) else {
            continue;
        };
        // A significant decline is one finding, a signal (the R-COC looks
        // at it); it is not repeated as an improvement point.
        let (kind, rule) = if g < 0.0 {
            (Kind::Signal, Rule::Decline)
        } else {
            (Kind::Strength, Rule::Improved)
        };
        let mut f = Finding::new(kind, rule, cell);
        f.diff_pomp = ch.diff_pomp;
        f.p_value = Some(p);
        f.hedges_g = Some(g);
        f.version_changed = ch.version_changed;
        f.previous_pomp = cell.mean_pomp.zip(ch.diff_pomp).map(|(a, d)| a - d);
        out.push(f);
    }
    // A cycle whose instrument version changed has a cell per version: a
    // finding is about the cycle's latest version (as the report's
    // sections are), so each id occurs once.
    out.sort_by(|a, b| (a.id(), &b.instrument_version).cmp(&(b.id(), &a.instrument_version)));
    out.dedup_by(|later, first| later.id() == first.id());
    out.sort_by(|a, b| {
        (
            a.kind,
            a.rule,
            a.level,
            &a.unit_id,
            &a.instrument,
            &a.scale_id,
        )
            .cmp(&(
                b.kind,
                b.rule,
                b.level,
                &b.unit_id,
                &b.instrument,
                &b.scale_id,
            ))
    });
    out
}

/// Signals for measurements the year calendar expected in the cycle that
/// are not in the data: per department that was a member of its RSO that
/// year, unless the quality register exempts the RSO from it that year.
pub fn missing_measurements(
    published: &Published,
    cycle: &str,
    calendar: &[CalendarEntry],
    registry: &Registry,
    register: &Register,
) -> Vec<Finding> {
    let cycle_years = score::years_of(cycle);
    let years: Vec<String> = cycle_years.iter().map(|y| y.to_string()).collect();
    let have: BTreeSet<(&str, &str, &str)> = published
        .cells
        .iter()
        .filter(|c| c.level == Level::Department && years.contains(&c.period))
        .map(|c| (c.unit_id.as_str(), c.instrument.as_str(), c.period.as_str()))
        .collect();
    let mut out = Vec::new();
    for (&year, y) in cycle_years.iter().zip(&years) {
        let Some(mid) = NaiveDate::from_ymd_opt(year, 7, 1) else {
            continue;
        };
        for rso in registry.rsos.values() {
            for m in rso.members.iter().filter(|m| m.covers(mid)) {
                let unit =
                    crate::domain::DepartmentId::new(&m.institution, &rso.specialty).unit_id();
                for entry in calendar.iter().filter(|e| {
                    e.expects(&rso.specialty, year)
                        && !register.exempt(&rso.id, &m.institution, &e.instrument, year)
                }) {
                    if !have.contains(&(unit.as_str(), entry.instrument.as_str(), y.as_str())) {
                        out.push(Finding {
                            kind: Kind::Signal,
                            rule: Rule::Missing,
                            level: Level::Department,
                            unit_id: unit.clone(),
                            rso_id: Some(rso.id.clone()),
                            instrument: entry.instrument.clone(),
                            instrument_version: String::new(),
                            scale_id: TOTAL.into(),
                            period: cycle.to_string(),
                            pomp: None,
                            previous_pomp: None,
                            diff_pomp: None,
                            p_value: None,
                            hedges_g: None,
                            response_rate: None,
                            n: None,
                            year: Some(year),
                            version_changed: false,
                        });
                    }
                }
            }
        }
    }
    out
}

/// The measured change of an action's indicator: from the last year before
/// the action started to the latest year with data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Effect {
    /// Baseline year.
    pub before: String,
    /// Latest year.
    pub after: String,
    /// Baseline on 0-100.
    pub before_pomp: Option<f64>,
    /// Latest on 0-100.
    pub after_pomp: Option<f64>,
    /// Change on 0-100.
    pub diff_pomp: Option<f64>,
    /// Welch's p.
    pub p_value: Option<f64>,
    /// Hedges' g.
    pub hedges_g: Option<f64>,
    /// A cell is suppressed or indicative: no conclusion.
    pub not_measurable: bool,
}

/// The effect of an action on an indicator (the department's cell when the
/// action names an institution, else the RSO's): the last year before the
/// start against the last year after it up to `until` (the report's last
/// year: a cycle's report stays what it was when later data arrive), or
/// None when there is no year before the start or none after it.
pub fn effect(
    action: &Action,
    indicator: &Indicator,
    published: &Published,
    registry: &Registry,
    until: i32,
) -> Option<Effect> {
    let start_year = chrono::Datelike::year(&action.start?);
    let unit = match &action.institution_id {
        Some(inst) => format!("{inst}:{}", registry.rsos.get(&action.rso_id)?.specialty),
        None => action.rso_id.clone(),
    };
    let level = if action.institution_id.is_some() {
        Level::Department
    } else {
        Level::Rso
    };
    // Each year as a reader sees it (a year left out of the tables because
    // its cycle holds no other year is read from the cycle).
    let years: BTreeSet<i32> = published
        .unit_cells(level, &unit)
        .iter()
        .filter(|c| {
            c.instrument == indicator.instrument
                && c.scale_id == indicator.scale_id
                && !c.is_cycle()
        })
        .filter_map(|c| c.period.parse::<i32>().ok())
        .collect();
    let cell =
        |y: i32| published.year_cell(level, &unit, &indicator.instrument, &indicator.scale_id, y);
    let before_year = years.iter().copied().filter(|y| *y < start_year).max()?;
    let after_year = years
        .iter()
        .copied()
        .filter(|y| *y > start_year && *y <= until)
        .max()?;
    let (before, after) = (cell(before_year)?, cell(after_year)?);
    let summary = |c: &Cell| -> Option<Summary> {
        Some(Summary {
            mean: c.mean_pomp?,
            sd: c.sd? / (c.scale_max - c.scale_min) * 100.0,
            n: c.n_responses,
        })
    };
    let not_measurable = !(usable(before) && usable(after));
    let (a, b) = if not_measurable {
        (None, None)
    } else {
        (summary(before), summary(after))
    };
    let (p, g) = match (a, b) {
        (Some(a), Some(b)) => (score::welch(a, b).map(|x| x.2), score::hedges_g(a, b)),
        _ => (None, None),
    };
    Some(Effect {
        before: before_year.to_string(),
        after: after_year.to_string(),
        before_pomp: if not_measurable {
            None
        } else {
            before.mean_pomp
        },
        after_pomp: if not_measurable {
            None
        } else {
            after.mean_pomp
        },
        diff_pomp: if not_measurable {
            None
        } else {
            after.mean_pomp.zip(before.mean_pomp).map(|(a, b)| a - b)
        },
        p_value: p,
        hedges_g: g,
        not_measurable,
    })
}

/// Changes of a cycle, largest improvements first: good practice to share.
pub fn largest_improvements<'a>(
    published: &'a Published,
    cycle: &str,
    rules: &Rules,
    n: usize,
) -> Vec<&'a Change> {
    let mut v: Vec<&Change> = published
        .changes
        .iter()
        .filter(|c| {
            c.period == cycle
                && !c.suppressed
                && c.reliable
                && matches!(c.level, Level::Department | Level::Rso)
        })
        .filter(|c| {
            c.p_value.is_some_and(|p| p < rules.significance)
                && c.diff_pomp.is_some_and(|d| d > 0.0)
        })
        .collect();
    v.sort_by(|a, b| {
        b.diff_pomp
            .partial_cmp(&a.diff_pomp)
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    v.truncate(n);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(unit: &str, period: &str, pomp: f64, n: u64, reliable: bool) -> Cell {
        Cell {
            level: Level::Department,
            unit_id: unit.into(),
            institution_id: None,
            specialty: None,
            rso_id: Some("R".into()),
            region_id: None,
            instrument: "d-rect".into(),
            instrument_version: "2016".into(),
            scale_id: "teamwork".into(),
            period: period.into(),
            n_respondents: n,
            n_responses: n,
            mean: Some(1.0 + pomp / 25.0),
            sd: Some(0.5),
            ci_low: None,
            ci_high: None,
            mean_pomp: Some(pomp),
            alpha: None,
            response_rate: Some(0.9),
            reliable,
            suppressed: false,
            suppression_reason: None,
            scale_min: 1.0,
            scale_max: 5.0,
            floor: 4,
            in_total: false,
            atoms: vec![],
        }
    }

    #[test]
    fn thresholds_fire_only_on_reliable_cells() {
        let rules = Rules::default();
        let p = Published {
            cells: vec![
                // Sorted by level and unit, as `Published` keeps them.
                cell("a:x", "2023-2024", 80.0, 10, true),
                cell("b:x", "2021-2022", 55.0, 10, true),
                cell("b:x", "2023-2024", 50.0, 10, true),
                cell("c:x", "2023-2024", 40.0, 5, false),
                cell("d:x", "2023-2024", 70.0, 10, true),
            ],
            ..Default::default()
        };
        let f = findings(&p, "2023-2024", &rules);
        let has = |unit: &str, k: Kind, r: Rule| {
            f.iter()
                .any(|x| x.unit_id == unit && x.kind == k && x.rule == r)
        };
        assert!(has("a:x", Kind::Strength, Rule::HighScore));
        assert!(has("b:x", Kind::Improvement, Rule::LowScore));
        assert!(has("b:x", Kind::Signal, Rule::TwoCyclesRunning));
        // Indicative: never a conclusion, however low.
        assert!(!f.iter().any(|x| x.unit_id == "c:x"));
        // Between the thresholds: nothing.
        assert!(!f.iter().any(|x| x.unit_id == "d:x"));
    }

    /// Regression: a change whose previous cell was indicative (below the
    /// reliability minimum) raised a decline signal.
    #[test]
    fn an_indicative_change_leads_to_no_conclusion() {
        let rules = Rules::default();
        let change = |reliable: bool| Change {
            level: Level::Department,
            unit_id: "a:x".into(),
            institution_id: None,
            specialty: None,
            rso_id: Some("R".into()),
            region_id: None,
            instrument: "d-rect".into(),
            scale_id: "teamwork".into(),
            construct: "teamwork".into(),
            period: "2023-2024".into(),
            previous_period: "2021-2022".into(),
            instrument_version: "2016".into(),
            previous_version: "2016".into(),
            version_changed: false,
            diff: Some(-0.6),
            diff_pomp: Some(-15.0),
            p_value: Some(0.001),
            hedges_g: Some(-1.2),
            suppressed: false,
            reliable,
        };
        let with = |reliable: bool| Published {
            cells: vec![cell("a:x", "2023-2024", 65.0, 12, true)],
            changes: vec![change(reliable)],
            ..Default::default()
        };
        let declines = |p: &Published| {
            findings(p, "2023-2024", &rules)
                .into_iter()
                .filter(|f| f.rule == Rule::Decline)
                .count()
        };
        assert_eq!(declines(&with(true)), 1, "one signal, not repeated");
        assert_eq!(declines(&with(false)), 0);
    }

    #[test]
    fn overdue_and_calendar() {
        let a = Action {
            action_id: "A".into(),
            rso_id: "R".into(),
            institution_id: None,
            finding_ids: vec![],
            indicator: None,
            description: String::new(),
            owner_role: String::new(),
            start: None,
            due: NaiveDate::from_ymd_opt(2024, 6, 30),
            status: crate::config::ActionStatus::Lopend,
            status_text: "lopend".into(),
            target: String::new(),
            target_check: None,
        };
        let today = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        assert!(a.overdue(today));
        assert!(!Action {
            status: crate::config::ActionStatus::Afgerond,
            ..a.clone()
        }
        .overdue(today));
        let e = CalendarEntry {
            instrument: "effect".into(),
            every: 2,
            from: 2019,
            specialties: vec!["int".into()],
        };
        assert!(e.expects("int", 2021) && !e.expects("int", 2022) && !e.expects("anes", 2021));
    }
}
