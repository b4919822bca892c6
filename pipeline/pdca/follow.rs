//! Act, followed up: what the quality register says about the findings.
//! Which actions answer a finding, whether an action's target was met by
//! the measurement, what became of last cycle's improvement points and
//! signals, and the status of every event in the year calendar.
//!
//! A verdict is a comparison of published numbers with a target the group
//! wrote down; it is never proof that the action caused the change, and a
//! report says so beside it.

use chrono::NaiveDate;
use serde::Serialize;

use super::{effect, Effect, Finding, Kind, Rule};
use crate::config::register::{Indicator, PlannedEvent, Register};
use crate::config::Action;
use crate::org::Registry;
use crate::table::{Level, Published};

/// What the measurement says about an action's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The target is met.
    Met,
    /// The target is not met.
    NotMet,
    /// A target in words: the group judges it.
    Judged,
    /// No measurement after the start yet (or none before it).
    NotYet,
    /// The cells are hidden or indicative: no conclusion.
    NotMeasurable,
    /// The action names no indicator and answers no finding.
    NoIndicator,
}

/// An action with its indicator, its measured effect and its verdict.
#[derive(Debug, Clone, Serialize)]
pub struct ActionResult {
    /// The action.
    pub action: Action,
    /// The indicator measured: the action's own, or that of the first
    /// finding it answers.
    pub indicator: Option<Indicator>,
    /// The indicator is the finding's, not the action's own.
    pub indicator_from_finding: bool,
    /// The measured change.
    pub effect: Option<Effect>,
    /// The verdict on its target.
    pub verdict: Verdict,
    /// Past its due date and not done.
    pub overdue: bool,
}

/// The indicator of an action: its own, else its first finding's.
pub fn indicator_of(action: &Action) -> (Option<Indicator>, bool) {
    if let Some(i) = &action.indicator {
        return (Some(i.clone()), false);
    }
    let from_finding = action.finding_ids.iter().find_map(|id| {
        let id = crate::domain::FindingId::parse(id).ok()?;
        (id.rule != Rule::Missing).then_some(Indicator {
            instrument: id.instrument,
            scale_id: id.scale_id,
        })
    });
    let found = from_finding.is_some();
    (from_finding, found)
}

/// An action measured against its target, with data up to `until`.
pub fn result(
    action: &Action,
    published: &Published,
    registry: &Registry,
    until: i32,
    today: NaiveDate,
) -> ActionResult {
    let (indicator, indicator_from_finding) = indicator_of(action);
    let effect = indicator
        .as_ref()
        .and_then(|i| effect(action, i, published, registry, until));
    let verdict = match (&indicator, &effect) {
        (None, _) => Verdict::NoIndicator,
        (Some(_), None) => Verdict::NotYet,
        (Some(_), Some(e)) if e.not_measurable => Verdict::NotMeasurable,
        (Some(_), Some(e)) => match action.target_check {
            None => Verdict::Judged,
            Some(t) => match e.after_pomp.and_then(|s| t.met(s, e.diff_pomp)) {
                Some(true) => Verdict::Met,
                Some(false) => Verdict::NotMet,
                None => Verdict::NotMeasurable,
            },
        },
    };
    ActionResult {
        action: action.clone(),
        indicator,
        indicator_from_finding,
        effect,
        verdict,
        overdue: action.overdue(today),
    }
}

/// Whether a finding asks for an action: improvement points and signals,
/// except a strength.
pub fn asks_for_action(f: &Finding) -> bool {
    matches!(f.kind, Kind::Improvement | Kind::Signal)
}

/// The actions of the register that answer a finding: that name its id,
/// or another finding's about the same subject (a low score and "two
/// cycles running" of one subscale are answered together).
pub fn actions_for<'r>(register: &'r Register, finding_id: &str) -> Vec<&'r Action> {
    let id = crate::domain::FindingId::parse(finding_id).ok();
    register
        .actions
        .iter()
        .filter(|a| {
            a.finding_ids.iter().any(|f| {
                f == finding_id
                    || id.as_ref().is_some_and(|id| {
                        crate::domain::FindingId::parse(f).is_ok_and(|o| o.same_subject(id))
                    })
            })
        })
        .collect()
}

/// Whether a finding still needs an action: it asks for one, none answers
/// it, and the group did not decide it does not recognise it.
pub fn needs_action(register: &Register, f: &Finding) -> bool {
    let id = f.id().to_string();
    asks_for_action(f)
        && actions_for(register, &id).is_empty()
        && register
            .decision(&id)
            .is_none_or(|d| d.decision != "niet herkend")
}

/// A finding of the previous cycle, followed up.
#[derive(Debug, Clone, Serialize)]
pub struct FollowUp {
    /// The finding then.
    pub finding: Finding,
    /// Its id.
    pub id: String,
    /// The same unit and scale now (0-100), where published and reliable.
    pub now_pomp: Option<f64>,
    /// The actions that answered it.
    pub actions: Vec<ActionResult>,
    /// The instrument version changed between then and now.
    pub version_changed: bool,
}

/// Last cycle's improvement points and signals of an RSO and its
/// departments (`units`), each with the actions that answered it and what
/// is measured now.
pub fn follow_up(
    previous: &[Finding],
    units: &[(Level, String)],
    register: &Register,
    published: &Published,
    registry: &Registry,
    cycle: &str,
    today: NaiveDate,
) -> Vec<FollowUp> {
    let until = crate::score::years_of(cycle).last().copied().unwrap_or(0);
    // One follow-up per subject: a low score and "two cycles running" of
    // one subscale are one point (the signal, listed first, tells it).
    let mut seen: Vec<crate::domain::FindingId> = Vec::new();
    let mut points: Vec<&Finding> = previous
        .iter()
        .filter(|f| asks_for_action(f))
        .filter(|f| units.iter().any(|(l, u)| *l == f.level && *u == f.unit_id))
        .collect();
    points.sort_by_key(|f| f.kind);
    points.retain(|f| {
        let id = f.id();
        let new = !seen.iter().any(|s| s.same_subject(&id));
        seen.push(id);
        new
    });
    points
        .into_iter()
        .map(|f| {
            let id = f.id().to_string();
            let then_version = published
                .unit_cells(f.level, &f.unit_id)
                .iter()
                .find(|c| c.period == f.period && c.instrument == f.instrument && c.scale_id == f.scale_id)
                .map(|c| c.instrument_version.clone());
            let now = published
                .unit_cells(f.level, &f.unit_id)
                .iter()
                .find(|c| c.period == cycle && c.instrument == f.instrument && c.scale_id == f.scale_id);
            let now_pomp = now
                .filter(|c| !c.suppressed && c.reliable)
                .and_then(|c| c.mean_pomp);
            FollowUp {
                finding: f.clone(),
                now_pomp,
                actions: actions_for(register, &id)
                    .into_iter()
                    .map(|a| result(a, published, registry, until, today))
                    .collect(),
                version_changed: matches!((&then_version, now), (Some(v), Some(c)) if *v != c.instrument_version),
                id,
            }
        })
        .collect()
}

/// Where an event of the year calendar stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    /// It happened (the data hold the measurement, or a date is recorded).
    Done,
    /// Its time has passed and it did not happen.
    Missing,
    /// Still to come.
    Planned,
    /// The RSO is exempt, with a reason.
    Exempt,
}

/// The status of a planned event of `rso_id` on `today`: an instrument is
/// done when any of the RSO's departments (or the RSO) has a cell of that
/// year; another event when a date is recorded.
pub fn event_status(
    e: &PlannedEvent,
    published: &Published,
    registry: &Registry,
    today: NaiveDate,
) -> EventStatus {
    if !e.exempt.is_empty() {
        return EventStatus::Exempt;
    }
    if e.done_on.is_some() {
        return EventStatus::Done;
    }
    let year = e.year.to_string();
    let measured = registry.rsos.get(&e.rso_id).is_some_and(|rso| {
        published
            .unit_cells(Level::Rso, &rso.id)
            .iter()
            .any(|c| c.instrument == e.event && c.period == year)
            || rso
                .members
                .iter()
                .filter(|m| {
                    e.institution_id
                        .as_ref()
                        .is_none_or(|i| *i == m.institution)
                })
                .any(|m| {
                    let unit =
                        crate::domain::DepartmentId::new(&m.institution, &rso.specialty).unit_id();
                    published
                        .unit_cells(Level::Department, &unit)
                        .iter()
                        .any(|c| c.instrument == e.event && c.period == year)
                })
    });
    if measured {
        return EventStatus::Done;
    }
    // The end of the planned month (or year) has passed.
    let (y, m) = (e.year, e.month.unwrap_or(12));
    let end = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    };
    match end {
        Some(end) if today >= end => EventStatus::Missing,
        _ => EventStatus::Planned,
    }
}

/// The calendar events of an RSO in the years of a cycle.
pub fn calendar_of<'r>(
    register: &'r Register,
    rso_id: &str,
    years: &[i32],
) -> Vec<&'r PlannedEvent> {
    let mut v: Vec<&PlannedEvent> = register
        .calendar
        .iter()
        .filter(|e| e.rso_id == rso_id && years.contains(&e.year))
        .collect();
    v.sort_by_key(|e| (e.year, e.month, e.event.clone()));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::register::PlannedEvent;

    #[test]
    fn a_calendar_event_is_exempt_done_missing_or_planned() {
        let registry = Registry::default();
        let published = Published::default();
        let event = |month: Option<u32>, done: Option<NaiveDate>, exempt: &str| PlannedEvent {
            rso_id: "r".into(),
            institution_id: None,
            year: 2024,
            month,
            event: "kwaliteitssessie".into(),
            owner: String::new(),
            done_on: done,
            exempt: exempt.into(),
        };
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        let status = |e: &PlannedEvent, today| event_status(e, &published, &registry, today);
        assert_eq!(
            status(&event(Some(11), None, "klein"), day(2025, 1, 1)),
            EventStatus::Exempt
        );
        assert_eq!(
            status(
                &event(Some(11), Some(day(2024, 11, 12)), ""),
                day(2025, 1, 1)
            ),
            EventStatus::Done
        );
        // Missing once the planned month has ended, not before.
        assert_eq!(
            status(&event(Some(11), None, ""), day(2024, 11, 30)),
            EventStatus::Planned
        );
        assert_eq!(
            status(&event(Some(11), None, ""), day(2024, 12, 1)),
            EventStatus::Missing
        );
        assert_eq!(
            status(&event(None, None, ""), day(2024, 12, 31)),
            EventStatus::Planned
        );
        assert_eq!(
            status(&event(Some(12), None, ""), day(2025, 1, 1)),
            EventStatus::Missing
        );
    }
}
