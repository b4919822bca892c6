//! The R-COC's region overview: every RSO with its signals and where its
//! quality loop stands; and the one-page summary for the regional board
//! and the hospitals' boards (RvB), drawn from the same rows.

use serde::Serialize;

use super::labels::*;
use super::views::*;
use crate::pdca::{self, Finding, Kind};
use crate::score::TOTAL;
use crate::table::Level;

/// One RSO in the region overview.
#[derive(Debug, Clone, Serialize)]
pub struct OverviewRow {
    /// RSO id (links to its report).
    pub rso_id: String,
    /// RSO name, with the cycle shown where it is not the overview's.
    pub rso: String,
    /// The RSO's cycle shown: the overview's, or for an RSO with cycles of
    /// its own the one that ended last by the overview's end.
    pub cycle: String,
    /// Its report in its own cycle's folder, relative to the overview and
    /// without the extension (`../../2022-2023/rso/<id>`); empty where it
    /// is in this cycle's (`../rso/<id>`).
    pub link: String,
    /// Per instrument: the total on 0-100.
    pub cells: Vec<ShownCell>,
    /// Signals of this RSO: the lines listing them, each a unit, instrument
    /// and rule (as in its report's summary and the COC overview).
    pub signals: usize,
    /// Improvement points and signals without an action.
    pub without_action: usize,
    /// Overdue actions.
    pub overdue: usize,
    /// Open escalations: id and step.
    pub escalations: Vec<String>,
    /// Open visitation conditions and advices.
    pub open_conditions: usize,
    /// Calendar: events done of those due ("3/4"), or "–".
    pub calendar: String,
    /// Calendar events missing.
    pub calendar_missing: usize,
    /// Whether the R-COC's evaluation of the cycle is recorded.
    pub evaluated: bool,
    /// Last cycle's points whose action met its target / did not.
    pub follow_met: usize,
    /// Last cycle's points whose actions did not meet their target.
    pub follow_not_met: usize,
    /// Last cycle's points without an action.
    pub follow_no_action: usize,
}

/// A signal in the region overview, linked to its RSO report.
#[derive(Debug, Clone, Serialize)]
pub struct RegionSignal {
    /// RSO id (the report linked).
    pub rso_id: String,
    /// Its report, as `OverviewRow::link`.
    pub link: String,
    /// The finding.
    pub finding: FindingView,
}

/// Everything the region overview template receives.
#[derive(Debug, Clone, Serialize)]
pub struct RegionReport {
    /// Labels.
    pub t: Labels,
    /// Language.
    pub lang: String,
    /// Title.
    pub title: String,
    /// Region id.
    pub region_id: String,
    /// Region name.
    pub region: String,
    /// Cycle.
    pub cycle: String,
    /// Data up to.
    pub data_until: String,
    /// Generated on.
    pub generated_on: String,
    /// Instruments (columns).
    pub instruments: Vec<String>,
    /// One row per RSO.
    pub rows: Vec<OverviewRow>,
    /// Signals, each with its reason: every RSO's, as in its report.
    pub signals: Vec<RegionSignal>,
    /// Participation: RSO, instrument, respondents, rate.
    pub participation: Vec<(String, String, String)>,
    /// Largest improvements, with the actions behind them.
    pub improvements: Vec<(String, Vec<String>)>,
    /// RSOs without a recorded evaluation.
    pub not_evaluated: Vec<String>,
    /// Method texts.
    pub method: Vec<String>,
}

pub(super) fn region_report(ctx: &Ctx, region_id: &str, cycle: &str) -> RegionReport {
    let config = ctx.config;
    let names = ctx.names();
    let lang = ctx.opts.lang.as_str();
    let rsos: Vec<&crate::org::Rso> = config
        .registry
        .rsos
        .values()
        .filter(|r| r.region == region_id)
        .collect();
    let instruments: Vec<(String, String)> = versions_in(
        &ctx.config.catalogue,
        ctx.published,
        Level::Region,
        region_id,
        cycle,
    );
    let rso_ids: Vec<String> = rsos.iter().map(|r| r.id.clone()).collect();
    let overview_cycle = cycle;
    // Each RSO's findings and loop, exactly as its own report has them.
    let mut signals = Vec::new();
    let mut rows = Vec::new();
    let cycles = config.cycles();
    // Each RSO at the cycle that ended last for it by this one's end: this
    // cycle, or the one before for an RSO with cycles of its own.
    let own = |r: &crate::org::Rso| cycles.rso_latest_ended(&r.id, cycle);
    let link = |r: &crate::org::Rso| {
        let c = own(r);
        if c == cycle {
            String::new()
        } else {
            format!("../../{c}/rso/{}", r.id)
        }
    };
    for r in &rsos {
        let rso_cycle = own(r);
        let cycle = rso_cycle.as_str();
        let (_, units) = super::cycle::members_in(r, cycle);
        let fs = super::cycle::rso_findings(ctx, &r.id, &units, cycle);
        let quality = super::cycle::loop_view(ctx, &names, &r.id, &units, cycle, &fs);
        let own: Vec<Finding> = fs
            .iter()
            .filter(|f| f.kind == Kind::Signal)
            .cloned()
            .collect();
        // Grouped as in the RSO report's summary: one line per unit,
        // instrument and rule, every finding id in it. The overview counts
        // these lines, as the COC's institution overview does.
        let lines = summary_of(&own, config, &names).signals;
        let listed = lines.len();
        signals.extend(lines.into_iter().map(|finding| RegionSignal {
            rso_id: r.id.clone(),
            link: link(r),
            finding,
        }));
        let follow = |key: &str| {
            quality
                .follow_up
                .iter()
                .filter(|f| f.verdict_key == key)
                .count()
        };
        rows.push(OverviewRow {
            rso_id: r.id.clone(),
            rso: if rso_cycle == overview_cycle {
                r.name.clone()
            } else {
                format!("{} ({rso_cycle})", r.name)
            },
            cycle: rso_cycle.clone(),
            link: link(r),
            cells: instruments
                .iter()
                .map(|(i, v)| {
                    shown(
                        ctx.published.cell(Level::Rso, &r.id, i, v, TOTAL, cycle),
                        config.floor_of(i, v),
                        &names,
                    )
                })
                .collect(),
            signals: listed,
            // The lines its report lists without an action, counted as
            // the signals are.
            without_action: quality.attention.without_action.len(),
            overdue: quality.attention.overdue.len(),
            escalations: quality
                .escalations
                .iter()
                .filter(|e| e.signal.open())
                .map(|e| format!("{}: {}", e.signal.signal_id, e.signal.step))
                .collect(),
            open_conditions: quality.visitations.iter().map(|v| v.open).sum(),
            calendar: if quality.calendar.is_empty() {
                "–".into()
            } else {
                format!("{}/{}", quality.calendar_done, quality.calendar_due)
            },
            calendar_missing: quality
                .calendar
                .iter()
                .filter(|c| c.status == crate::pdca::follow::EventStatus::Missing)
                .count(),
            evaluated: quality.evaluation.is_some(),
            follow_met: follow("met"),
            follow_not_met: follow("not_met"),
            follow_no_action: follow("no_action"),
        });
    }
    let mut participation = Vec::new();
    for r in &rsos {
        let rso_cycle = own(r);
        for (i, v) in &instruments {
            if let Some(c) = ctx
                .published
                .cell(Level::Rso, &r.id, i, v, TOTAL, &rso_cycle)
            {
                participation.push((
                    if rso_cycle == cycle {
                        r.name.clone()
                    } else {
                        format!("{} ({rso_cycle})", r.name)
                    },
                    names.instrument(i),
                    format!(
                        "{}{}",
                        c.n_respondents,
                        c.response_rate
                            .map(|x| format!(" ({})", pct(x, lang)))
                            .unwrap_or_default()
                    ),
                ));
            }
        }
    }
    let register = &config.register;
    let improvements = pdca::largest_improvements(ctx.published, cycle, &config.rules, 8)
        .into_iter()
        .filter(|c| c.region_id.as_deref() == Some(region_id) || rso_ids.contains(&c.unit_id))
        .map(|c| {
            let text = format!(
                "{}, {} ({}): +{} ({}, g = {})",
                names.unit(c.level, &c.unit_id),
                names.scale(&c.instrument, &c.instrument_version, &c.scale_id),
                names.instrument(&c.instrument),
                c.diff_pomp.map(|d| num(d, 1, lang)).unwrap_or_default(),
                c.p_value.map(|p| p_text(p, lang)).unwrap_or_default(),
                c.hedges_g.map(|g| num(g, 2, lang)).unwrap_or_default()
            );
            // The actions behind it: of the unit, on the same indicator.
            let behind = register
                .actions
                .iter()
                .filter(|a| {
                    let unit = match (&a.institution_id, config.registry.rsos.get(&a.rso_id)) {
                        (Some(i), Some(r)) => {
                            crate::domain::DepartmentId::new(i, &r.specialty).unit_id()
                        }
                        _ => a.rso_id.clone(),
                    };
                    let (indicator, _) = crate::pdca::follow::indicator_of(a);
                    unit == c.unit_id
                        && indicator.is_some_and(|i| {
                            i.instrument == c.instrument && i.scale_id == c.scale_id
                        })
                })
                .map(|a| format!("{} {}", a.action_id, a.description))
                .collect();
            (text, behind)
        })
        .collect();
    let not_evaluated = rows
        .iter()
        .filter(|r| !r.evaluated)
        .map(|r| r.rso.clone())
        .collect();
    RegionReport {
        t: ctx.t.clone(),
        lang: lang.to_string(),
        title: config.title.clone(),
        region_id: region_id.to_string(),
        region: names.region(region_id),
        cycle: cycle.to_string(),
        data_until: ctx.published.data_until(cycle),
        generated_on: ctx.opts.today.to_string(),
        instruments: instruments
            .iter()
            .map(|(i, v)| format!("{} ({v})", names.instrument(i)))
            .collect(),
        rows,
        signals,
        participation,
        improvements,
        not_evaluated,
        method: method_texts(ctx),
    }
}
