//! The quality loop in a report: the written evaluation, the follow-up of
//! last cycle's points with verdicts, what needs attention, visitations,
//! escalations and the year calendar, for one RSO, ready for a template.
//! The region overview and the board summary count from the same views, so
//! every report tells the same story.

use serde::Serialize;

use super::labels::*;
use super::views::*;
use crate::config::register::{Escalation, Evaluation, Visitation};
use crate::pdca::follow::{self, ActionResult, EventStatus, Verdict};
use crate::pdca::{self, Finding};
use crate::table::Level;

/// An action with its measured effect and verdict.
#[derive(Debug, Clone, Serialize)]
pub struct ActionView {
    /// The action.
    pub action: crate::config::Action,
    /// Indicator label (empty without one).
    pub indicator: String,
    /// The indicator is that of the finding the action answers.
    pub indicator_from_finding: bool,
    /// Status in the report's language.
    pub status: String,
    /// Whether it is past its due date and not done.
    pub overdue: bool,
    /// The measured change in words.
    pub measured: String,
    /// The verdict's key (`met`, `not_met`, ...).
    pub verdict: Verdict,
    /// The verdict in words.
    pub verdict_text: String,
    /// The measured change, for machines.
    pub effect: Option<pdca::Effect>,
}

pub(super) fn action_view(ctx: &Ctx, names: &Names, r: &ActionResult) -> ActionView {
    let lang = names.lang;
    let a = &r.action;
    let indicator = r
        .indicator
        .as_ref()
        .map(|i| {
            let version = ctx
                .config
                .catalogue
                .iter()
                .filter(|d| {
                    d.id == i.instrument
                        && (i.scale_id == crate::score::TOTAL || d.subscale(&i.scale_id).is_some())
                })
                .map(|d| d.version.clone())
                .last()
                .unwrap_or_default();
            format!(
                "{}{}: {}",
                a.institution_id
                    .as_ref()
                    .map(|i| format!("{}, ", names.institution(i)))
                    .unwrap_or_default(),
                names.instrument(&i.instrument),
                names.scale(&i.instrument, &version, &i.scale_id)
            )
        })
        .unwrap_or_default();
    let measured = match &r.effect {
        None if r.indicator.is_none() => String::new(),
        None => names.t["no_measurement"].clone(),
        Some(e) if e.not_measurable => names.t["not_measurable"].clone(),
        Some(e) => format!(
            "{} {} → {} {}: {} ({}, g = {})",
            e.before,
            e.before_pomp.map(|v| num(v, 0, lang)).unwrap_or_default(),
            e.after,
            e.after_pomp.map(|v| num(v, 0, lang)).unwrap_or_default(),
            e.diff_pomp
                .map(|v| format!("{}{}", if v > 0.0 { "+" } else { "" }, num(v, 1, lang)))
                .unwrap_or_default(),
            e.p_value
                .map(|p| p_text(p, lang))
                .unwrap_or_else(|| "p = –".into()),
            e.hedges_g
                .map(|g| num(g, 2, lang))
                .unwrap_or_else(|| "–".into()),
        ),
    };
    let verdict_key = match r.verdict {
        Verdict::Met => "verdict_met",
        Verdict::NotMet => "verdict_not_met",
        Verdict::Judged => "verdict_judged",
        Verdict::NotYet => "verdict_not_yet",
        Verdict::NotMeasurable => "verdict_not_measurable",
        Verdict::NoIndicator => "verdict_no_indicator",
    };
    ActionView {
        indicator,
        indicator_from_finding: r.indicator_from_finding,
        status: label_or(
            names.t,
            &format!("status_{}", a.status_text.to_lowercase()),
            &a.status_text,
        ),
        overdue: r.overdue,
        measured,
        verdict: r.verdict,
        verdict_text: names.t[verdict_key].clone(),
        effect: r.effect.clone(),
        action: a.clone(),
    }
}

/// A finding of the previous cycle, followed up.
#[derive(Debug, Clone, Serialize)]
pub struct FollowUpView {
    /// The finding then, in words, with its id and decision.
    pub finding: FindingView,
    /// The same unit and scale now.
    pub now: String,
    /// The actions that answered it.
    pub actions: Vec<ActionView>,
    /// The verdict in words (one line).
    pub verdict: String,
    /// `met`, `not_met`, `open`, `no_action`: for styling and tests.
    pub verdict_key: String,
    /// Caveats (version change; before/after is no proof).
    pub caveats: Vec<String>,
}

/// What needs the committee's attention.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Attention {
    /// This cycle's improvement points and signals without an action
    /// (unless the group did not recognise them), one line per unit,
    /// instrument and rule.
    pub without_action: Vec<FindingView>,
    /// Actions without an indicator.
    pub without_indicator: Vec<String>,
    /// Overdue actions.
    pub overdue: Vec<String>,
    /// Actions whose target was not met.
    pub not_met: Vec<String>,
}

/// A visitation or audit with its conditions and advices.
#[derive(Debug, Clone, Serialize)]
pub struct VisitationView {
    /// Id.
    pub id: String,
    /// Kind.
    pub kind: String,
    /// RSO or department.
    pub unit: String,
    /// Date.
    pub date: String,
    /// Outcome.
    pub outcome: String,
    /// Conditions and advices: kind, text, due, status, overdue.
    pub items: Vec<(String, String, String, String, bool)>,
    /// Open conditions and advices.
    pub open: usize,
}

/// An escalation with its step.
#[derive(Debug, Clone, Serialize)]
pub struct EscalationView {
    /// The register's row.
    pub signal: Escalation,
    /// RSO or department.
    pub unit: String,
    /// Step number (1-based) of the procedure.
    pub step_no: usize,
    /// Steps in the procedure.
    pub steps: usize,
    /// The next date has passed.
    pub late: bool,
}

/// An event of the year calendar with its status.
#[derive(Debug, Clone, Serialize)]
pub struct CalendarRow {
    /// Year.
    pub year: i32,
    /// Month, if planned to the month.
    pub month: String,
    /// The event in words.
    pub event: String,
    /// Owner.
    pub owner: String,
    /// Status.
    pub status: EventStatus,
    /// Status in words.
    pub status_text: String,
    /// Exemption reason or date done.
    pub note: String,
}

/// The loop of one RSO in one cycle.
#[derive(Debug, Clone, Serialize)]
pub struct LoopView {
    /// The R-COC's written evaluation, if recorded.
    pub evaluation: Option<Evaluation>,
    /// The previous cycle.
    pub previous_cycle: String,
    /// Last cycle's points, followed up.
    pub follow_up: Vec<FollowUpView>,
    /// What needs attention.
    pub attention: Attention,
    /// Every action of the RSO, measured.
    pub actions: Vec<ActionView>,
    /// Visitations and audits (of the cycle's years and any still open).
    pub visitations: Vec<VisitationView>,
    /// Escalations (open, or received in the cycle).
    pub escalations: Vec<EscalationView>,
    /// The year calendar of the cycle.
    pub calendar: Vec<CalendarRow>,
    /// Calendar events done / expected (not exempt, not planned).
    pub calendar_done: usize,
    /// Calendar events whose time has come (done or missing).
    pub calendar_due: usize,
}

/// The units of an RSO's report: the RSO and its member departments.
pub(super) fn rso_units(rso_id: &str, member_units: &[String]) -> Vec<(Level, String)> {
    std::iter::once((Level::Rso, rso_id.to_string()))
        .chain(member_units.iter().map(|u| (Level::Department, u.clone())))
        .collect()
}

/// The findings of an RSO's report in `cycle`: its own and its
/// departments', and the missing measurements of its departments.
pub(super) fn rso_findings(
    ctx: &Ctx,
    rso_id: &str,
    member_units: &[String],
    cycle: &str,
) -> Vec<Finding> {
    let (findings, missing) = ctx.findings(cycle);
    let mut fs: Vec<Finding> = findings
        .iter()
        .filter(|f| match f.level {
            Level::Rso => f.unit_id == rso_id,
            Level::Department => member_units.contains(&f.unit_id),
            _ => false,
        })
        .cloned()
        .collect();
    fs.extend(
        missing
            .iter()
            .filter(|f| f.rso_id.as_deref() == Some(rso_id))
            .cloned(),
    );
    fs
}

fn unit_name(names: &Names, rso_id: &str, institution: Option<&str>) -> String {
    match institution {
        Some(i) => names.institution(i),
        None => names.rso(rso_id),
    }
}

pub(super) fn loop_view(
    ctx: &Ctx,
    names: &Names,
    rso_id: &str,
    member_units: &[String],
    cycle: &str,
    current: &[Finding],
) -> LoopView {
    let config = ctx.config;
    let register = &config.register;
    let today = ctx.opts.today;
    let lang = names.lang;
    let years = crate::score::years_of(cycle);
    let until = years.last().copied().unwrap_or(0);
    let previous_cycle = pdca::previous_cycle(cycle).unwrap_or_default();
    let units = rso_units(rso_id, member_units);
    let previous = if ctx.found.contains_key(&previous_cycle) {
        rso_findings(ctx, rso_id, member_units, &previous_cycle)
    } else {
        Vec::new()
    };
    let follow_up: Vec<FollowUpView> = follow::follow_up(
        &previous,
        &units,
        register,
        ctx.published,
        &config.registry,
        cycle,
        today,
    )
    .into_iter()
    .map(|f| {
        let actions: Vec<ActionView> = f
            .actions
            .iter()
            .map(|a| action_view(ctx, names, a))
            .collect();
        let key = if actions.is_empty() {
            if register
                .decision(&f.id)
                .is_some_and(|d| d.decision == "niet herkend")
            {
                "not_recognised"
            } else {
                "no_action"
            }
        } else if actions.iter().any(|a| a.verdict == Verdict::Met) {
            "met"
        } else if actions.iter().any(|a| a.verdict == Verdict::NotMet) {
            "not_met"
        } else {
            "open"
        };
        let mut caveats = Vec::new();
        if f.version_changed {
            caveats.push(names.t["caveat_version"].clone());
        }
        if !actions.is_empty() {
            caveats.push(names.t["caveat_cause"].clone());
        }
        FollowUpView {
            finding: describe(&f.finding, config, names),
            now: match f.now_pomp {
                Some(p) => fill(
                    &names.t["now_score"],
                    &[("pomp", num(p, 0, lang)), ("cycle", cycle.to_string())],
                ),
                None => names.t["now_unknown"].clone(),
            },
            actions,
            verdict: names.t[&format!("follow_{key}")].clone(),
            verdict_key: key.to_string(),
            caveats,
        }
    })
    .collect();

    let actions: Vec<ActionView> = register
        .actions
        .iter()
        .filter(|a| a.rso_id == rso_id)
        .map(|a| follow::result(a, ctx.published, &config.registry, until, today))
        .map(|r| action_view(ctx, names, &r))
        .collect();
    let label = |a: &ActionView| format!("{} {}", a.action.action_id, a.action.description);
    // This cycle's points without an action, one per subject, grouped as
    // in the summary (last cycle's are in the follow-up, verdict "no
    // action").
    let mut seen: Vec<crate::domain::FindingId> = Vec::new();
    let mut open: Vec<Finding> = current
        .iter()
        .filter(|f| follow::needs_action(register, f))
        .cloned()
        .collect();
    open.sort_by_key(|f| f.kind);
    open.retain(|f| {
        let id = f.id();
        let new = !seen.iter().any(|s| s.same_subject(&id));
        seen.push(id);
        new
    });
    let summary = summary_of(&open, config, names);
    let attention = Attention {
        without_action: summary
            .signals
            .into_iter()
            .chain(summary.improvements)
            .collect(),
        without_indicator: actions
            .iter()
            .filter(|a| a.verdict == Verdict::NoIndicator)
            .map(label)
            .collect(),
        overdue: actions.iter().filter(|a| a.overdue).map(label).collect(),
        not_met: actions
            .iter()
            .filter(|a| a.verdict == Verdict::NotMet)
            .map(label)
            .collect(),
    };

    let in_cycle = |d: Option<chrono::NaiveDate>| {
        d.is_some_and(|d| years.contains(&chrono::Datelike::year(&d)))
    };
    let mut visitations: Vec<VisitationView> = Vec::new();
    for v in register.visitations.iter().filter(|v| v.rso_id == rso_id) {
        if !(in_cycle(v.date) || v.open())
            || v.date.is_some_and(|d| chrono::Datelike::year(&d) > until)
        {
            continue;
        }
        let view = match visitations.iter_mut().find(|x| x.id == v.visitation_id) {
            Some(x) => x,
            None => {
                visitations.push(visitation_view(names, v));
                visitations.last_mut().expect("just pushed")
            }
        };
        if !v.item.is_empty() {
            let overdue = v.open() && v.due.is_some_and(|d| d < today);
            view.items.push((
                label_or(names.t, &format!("item_{}", v.item_kind), &v.item_kind),
                v.item.clone(),
                v.due.map(|d| d.to_string()).unwrap_or_default(),
                label_or(
                    names.t,
                    &format!("item_status_{}", v.status.replace(' ', "_")),
                    &v.status,
                ),
                overdue,
            ));
            view.open += usize::from(v.open());
        }
    }
    let steps = crate::config::register::sheets::STEPS;
    let escalations = register
        .escalations
        .iter()
        .filter(|e| e.rso_id == rso_id && (e.open() || in_cycle(e.received)))
        .map(|e| EscalationView {
            unit: unit_name(names, rso_id, e.institution_id.as_deref()),
            step_no: steps.iter().position(|s| *s == e.step).map_or(0, |i| i + 1),
            steps: steps.len(),
            late: e.open() && e.next_date.is_some_and(|d| d < today),
            signal: e.clone(),
        })
        .collect();
    let calendar: Vec<CalendarRow> = follow::calendar_of(register, rso_id, &years)
        .into_iter()
        .map(|e| {
            let status = follow::event_status(e, ctx.published, &config.registry, today);
            let key = match status {
                EventStatus::Done => "event_done",
                EventStatus::Missing => "event_missing",
                EventStatus::Planned => "event_planned",
                EventStatus::Exempt => "event_exempt",
            };
            CalendarRow {
                year: e.year,
                month: e.month.map(|m| m.to_string()).unwrap_or_default(),
                event: format!(
                    "{}{}",
                    if config.catalogue.iter().any(|d| d.id == e.event) {
                        names.instrument(&e.event)
                    } else {
                        label_or(names.t, &format!("event_{}", e.event), &e.event)
                    },
                    e.institution_id
                        .as_ref()
                        .map(|i| format!(" ({})", names.institution(i)))
                        .unwrap_or_default()
                ),
                owner: e.owner.clone(),
                status,
                status_text: names.t[key].clone(),
                note: match status {
                    EventStatus::Exempt => e.exempt.clone(),
                    _ => e.done_on.map(|d| d.to_string()).unwrap_or_default(),
                },
            }
        })
        .collect();
    let calendar_done = calendar
        .iter()
        .filter(|c| c.status == EventStatus::Done)
        .count();
    let calendar_due = calendar
        .iter()
        .filter(|c| matches!(c.status, EventStatus::Done | EventStatus::Missing))
        .count();
    LoopView {
        evaluation: register
            .evaluations
            .iter()
            .find(|e| e.rso_id == rso_id && e.cycle == cycle)
            .cloned(),
        previous_cycle,
        follow_up,
        attention,
        actions,
        visitations,
        escalations,
        calendar,
        calendar_done,
        calendar_due,
    }
}

fn visitation_view(names: &Names, v: &Visitation) -> VisitationView {
    VisitationView {
        id: v.visitation_id.clone(),
        kind: v.kind.clone(),
        unit: unit_name(names, &v.rso_id, v.institution_id.as_deref()),
        date: v.date.map(|d| d.to_string()).unwrap_or_default(),
        outcome: v.outcome.clone(),
        items: Vec::new(),
        open: 0,
    }
}

/// Every finding of `cycle` in the context's rows (missing measurements
/// included) as published rows, with the register's decision and actions.
pub(super) fn finding_rows(ctx: &Ctx, cycle: &str) -> Vec<crate::table::FindingRow> {
    let register = &ctx.config.register;
    let (findings, missing) = ctx.findings(cycle);
    findings
        .iter()
        .chain(missing.iter())
        .map(|f| {
            let id = f.id().to_string();
            let d = register.decision(&id);
            crate::table::FindingRow {
                kind: f.kind.as_str().to_string(),
                rule: f.rule.as_str().to_string(),
                level: f.level.as_str().to_string(),
                unit_id: f.unit_id.clone(),
                rso_id: f.rso_id.clone(),
                instrument: f.instrument.clone(),
                scale_id: f.scale_id.clone(),
                cycle: f.period.clone(),
                year: f.year,
                pomp: f.pomp,
                previous_pomp: f.previous_pomp,
                diff_pomp: f.diff_pomp,
                p_value: f.p_value,
                hedges_g: f.hedges_g,
                n: f.n,
                response_rate: f.response_rate,
                decision: d.map(|d| d.decision.clone()),
                decision_date: d.and_then(|d| d.date).map(|d| d.to_string()),
                explanation: d.map(|d| d.explanation.clone()).filter(|e| !e.is_empty()),
                actions: follow::actions_for(register, &id)
                    .iter()
                    .map(|a| a.action_id.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                id,
            }
        })
        .collect()
}

/// The member institutions of an RSO in a cycle, and their departments'
/// unit ids.
pub(super) fn members_in(rso: &crate::org::Rso, cycle: &str) -> (Vec<String>, Vec<String>) {
    let years = crate::score::years_of(cycle);
    let (Some(first), Some(last)) = (years.first(), years.last()) else {
        return (Vec::new(), Vec::new());
    };
    let members: Vec<String> = rso
        .members
        .iter()
        .filter(|m| m.overlaps_years(*first, *last))
        .map(|m| m.institution.clone())
        .collect();
    let units = members
        .iter()
        .map(|i| crate::domain::DepartmentId::new(i, &rso.specialty).unit_id())
        .collect();
    (members, units)
}
