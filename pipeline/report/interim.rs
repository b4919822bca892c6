//! The yearly interim report of an RSO: regional meetings discuss the
//! results every year (the yearly quality session), not only at the
//! biennial evaluation. It covers one year against the year before and the
//! running cycle so far, and is marked as interim on every page: the
//! biennial RSO report stays the formal one.

use serde::Serialize;

use super::cycle::{ActionView, CalendarRow, EscalationView};
use super::labels::*;
use super::views::*;
use crate::score::{self, TOTAL};
use crate::table::{Cell, Level};

/// One unit's total in the year against the year before.
#[derive(Debug, Clone, Serialize)]
pub struct YearChange {
    /// The unit.
    pub unit: String,
    /// The instrument.
    pub instrument: String,
    /// Last year (0-100, or why not).
    pub before: String,
    /// This year.
    pub now: String,
    /// The difference and Welch's p, where both are published, reliable
    /// and of one version.
    pub change: String,
}

/// Everything the interim report template receives.
#[derive(Debug, Clone, Serialize)]
pub struct InterimReport {
    /// Labels.
    pub t: Labels,
    /// Language.
    pub lang: String,
    /// Title.
    pub title: String,
    /// RSO id.
    pub rso_id: String,
    /// RSO name.
    pub rso_name: String,
    /// The year.
    pub year: i32,
    /// The cycle it lies in.
    pub cycle: String,
    /// The banner on every page.
    pub banner: String,
    /// Data up to.
    pub data_until: String,
    /// Generated on.
    pub generated_on: String,
    /// Findings of the year's cells.
    pub summary: SummaryView,
    /// Per instrument: departments, the RSO this year, last year and the
    /// cycle so far, the region.
    pub instruments: Vec<InstrumentSection>,
    /// Totals against last year.
    pub changes: Vec<YearChange>,
    /// Open actions of the RSO.
    pub actions: Vec<ActionView>,
    /// Open escalations.
    pub escalations: Vec<EscalationView>,
    /// The calendar of the year.
    pub calendar: Vec<CalendarRow>,
}

fn usable(c: Option<&Cell>) -> Option<&Cell> {
    c.filter(|c| !c.suppressed && c.reliable && c.mean_pomp.is_some())
}

fn change_text(a: Option<&Cell>, b: Option<&Cell>, lang: &str) -> String {
    match (usable(a), usable(b)) {
        (Some(a), Some(b)) if a.instrument_version == b.instrument_version => {
            let summary = |c: &Cell| score::Summary {
                mean: c.mean_pomp.unwrap_or_default(),
                sd: c.sd.unwrap_or_default() / (c.scale_max - c.scale_min) * 100.0,
                n: c.n_responses,
            };
            let d = b.mean_pomp.unwrap_or_default() - a.mean_pomp.unwrap_or_default();
            let p = score::welch(summary(a), summary(b)).map(|x| p_text(x.2, lang));
            format!(
                "{}{}{}",
                if d > 0.0 { "+" } else { "" },
                num(d, 1, lang),
                p.map(|p| format!(" ({p})")).unwrap_or_default()
            )
        }
        _ => "–".into(),
    }
}

pub(super) fn interim_report(
    ctx: &Ctx,
    rso_id: &str,
    year: i32,
    cycle: &str,
) -> Option<InterimReport> {
    let config = ctx.config;
    let names = ctx.names();
    let lang = ctx.opts.lang.as_str();
    let rso = config.registry.rsos.get(rso_id)?;
    let (_, units) = super::cycle::members_in(rso, cycle);
    let (y, prev) = (year.to_string(), (year - 1).to_string());
    let rso_cells = ctx.published.unit_cells(Level::Rso, rso_id);
    if !rso_cells.iter().any(|c| c.period == y) {
        return None;
    }
    // The instruments of the year (latest version), in display order.
    let mut instruments: Vec<(u32, String, String)> = rso_cells
        .iter()
        .filter(|c| c.period == y)
        .map(|c| {
            let order = config
                .catalogue
                .iter()
                .find(|d| d.id == c.instrument)
                .map_or(99, |d| d.display_order());
            (order, c.instrument.clone(), c.instrument_version.clone())
        })
        .collect();
    instruments.sort();
    instruments.dedup_by(|a, b| a.1 == b.1);
    let mut sections = Vec::new();
    let mut changes = Vec::new();
    for (_, instrument, version) in &instruments {
        let Some(def) = config.catalogue.get(instrument, version) else {
            continue;
        };
        let floor = config.floor_of(instrument, version);
        // A year as a reader sees it (`Published::year_cell`): a
        // department's only year of its cycle is read from the cycle, which
        // pools the same answers. A cycle as it is.
        let at = |level: Level, unit: &str, scale: &str, period: &str| {
            period
                .parse::<i32>()
                .ok()
                .and_then(|year| {
                    ctx.published
                        .year_cell(level, unit, instrument, scale, year)
                })
                .filter(|c| c.instrument_version == *version)
                .or_else(|| {
                    ctx.published
                        .cell(level, unit, instrument, version, scale, period)
                })
        };
        // A unit's total last year and this year, and the change between.
        let year_change = |level: Level, unit: &str, label: String| {
            let last_year = at(level, unit, TOTAL, &prev);
            let this_year = at(level, unit, TOTAL, &y);
            YearChange {
                unit: label,
                instrument: names.instrument(instrument),
                before: shown(last_year, floor, &names).text,
                now: shown(this_year, floor, &names).text,
                change: change_text(last_year, this_year, lang),
            }
        };
        let mut scales: Vec<String> = def
            .subscales
            .iter()
            .filter(|s| {
                rso_cells
                    .iter()
                    .any(|c| c.instrument == *instrument && c.scale_id == s.id && c.period == y)
            })
            .map(|s| s.id.clone())
            .collect();
        scales.push(TOTAL.into());
        let row = |label: String, kind: &str, level: Level, unit: &str, period: &str| HeatRow {
            label,
            kind: kind.into(),
            unit_id: unit.to_string(),
            cells: scales
                .iter()
                .map(|s| shown(at(level, unit, s, period), floor, &names))
                .collect(),
        };
        let mut rows = Vec::new();
        for unit in &units {
            if ctx
                .published
                .cell(Level::Department, unit, instrument, version, TOTAL, &y)
                .is_none()
            {
                continue;
            }
            let label = names.unit(Level::Department, unit);
            let short = label.split(" – ").next().unwrap_or("").to_string();
            rows.push(row(
                short.clone(),
                "department",
                Level::Department,
                unit,
                &y,
            ));
            changes.push(year_change(Level::Department, unit, short));
        }
        rows.push(row(
            format!("{} {y}", ctx.t["rso_value"]),
            "rso",
            Level::Rso,
            rso_id,
            &y,
        ));
        rows.push(row(
            format!("{} {prev}", ctx.t["rso_value"]),
            "rso",
            Level::Rso,
            rso_id,
            &prev,
        ));
        rows.push(row(
            format!(
                "{} {}",
                ctx.t["rso_value"],
                fill(&ctx.t["cycle_so_far"], &[("cycle", cycle.to_string())])
            ),
            "rso",
            Level::Rso,
            rso_id,
            cycle,
        ));
        rows.push(row(
            format!("{} {y}", ctx.t["region_value"]),
            "region",
            Level::Region,
            &rso.region,
            &y,
        ));
        changes.push(year_change(Level::Rso, rso_id, ctx.t["rso_value"].clone()));
        sections.push(InstrumentSection {
            id: instrument.clone(),
            name: format!("{} ({version})", names.instrument(instrument)),
            columns: scales
                .iter()
                .map(|s| names.scale(instrument, version, s))
                .collect(),
            rows,
            trends: Vec::new(),
            trend_legend: String::new(),
            department_trends: Vec::new(),
            department_legend: String::new(),
            distribution: None,
            changes: Vec::new(),
            unverified_note: unverified_note(
                ctx,
                &names,
                instrument,
                version,
                scales.iter().map(String::as_str),
            ),
        });
    }
    // The year's findings: the same rules on the year's cells (declines
    // and "two cycles running" belong to the biennial report).
    let fs: Vec<_> = ctx
        .findings(&y)
        .0
        .iter()
        .filter(|f| match f.level {
            Level::Rso => f.unit_id == rso_id,
            Level::Department => units.contains(&f.unit_id),
            _ => false,
        })
        .cloned()
        .collect();
    let quality = super::cycle::loop_view(ctx, &names, rso_id, &units, cycle, &[]);
    Some(InterimReport {
        t: ctx.t.clone(),
        lang: lang.to_string(),
        title: config.title.clone(),
        rso_id: rso_id.to_string(),
        rso_name: rso.name.clone(),
        year,
        cycle: cycle.to_string(),
        banner: fill(
            &ctx.t["interim_banner"],
            &[("year", y.clone()), ("cycle", cycle.to_string())],
        ),
        data_until: ctx.published.data_until(cycle),
        generated_on: ctx.opts.today.to_string(),
        summary: summary_of(&fs, config, &names),
        instruments: sections,
        changes,
        actions: quality
            .actions
            .into_iter()
            .filter(|a| {
                !matches!(
                    a.action.status,
                    crate::config::ActionStatus::Afgerond | crate::config::ActionStatus::Vervallen
                )
            })
            .collect(),
        escalations: quality
            .escalations
            .into_iter()
            .filter(|e| e.signal.open())
            .collect(),
        calendar: quality
            .calendar
            .into_iter()
            .filter(|c| c.year == year)
            .collect(),
    })
}
