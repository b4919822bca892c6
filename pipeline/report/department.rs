//! The department report: one specialty in one institution, for its
//! opleider and training group, written so it can be handed to a
//! visitation committee as it is (the "visitation dossier"): every
//! instrument's trend over all years against its RSO and the region, its
//! findings with the group's decisions, its actions with their results,
//! its visitation conditions, participation per year, and the exit survey
//! with grouped tops and tips. Nothing below the department level is shown,
//! and no value the suppression hides.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::chart::{self, SeriesStyle};
use super::cycle::{ActionView, FollowUpView, VisitationView};
use super::labels::*;
use super::rso::{cells_over, TrendAxis};
use super::views::*;
use crate::domain::DepartmentId;
use crate::score::{self, TOTAL};
use crate::table::{Cell, Level};

/// An instrument in the note on placeholder item tables: "MCTQ (2010):
/// Rolmodel, Articulatie" (with "(de totaalscore hangt niet af van die
/// indeling)" where that does not hold for every instrument of the note).
#[derive(Debug, Clone, Serialize)]
pub struct UnverifiedLine {
    /// The instrument's id.
    pub instrument: String,
    /// The line.
    pub text: String,
}

/// One instrument's trend: the chart and the same numbers as a table
/// (per year: the department, the RSO, the region).
#[derive(Debug, Clone, Serialize)]
pub struct DepartmentTrend {
    /// Instrument name.
    pub instrument: String,
    /// The chart and its table.
    #[serde(flatten)]
    pub view: TrendView,
}

/// Everything the department report template receives.
#[derive(Debug, Clone, Serialize)]
pub struct DepartmentReport {
    /// Labels.
    pub t: Labels,
    /// Language.
    pub lang: String,
    /// Title of the configuration.
    pub title: String,
    /// Unit id (`institution:specialty`).
    pub unit_id: String,
    /// Institution.
    pub institution: String,
    /// Specialty.
    pub specialty: String,
    /// RSO id.
    pub rso_id: String,
    /// RSO name.
    pub rso: String,
    /// Cycle.
    pub cycle: String,
    /// Data up to.
    pub data_until: String,
    /// Generated on.
    pub generated_on: String,
    /// Trends per instrument (total score), all years up to the cycle.
    pub trends: Vec<DepartmentTrend>,
    /// The legend of the trend charts, once (SVG).
    pub trend_legend: String,
    /// The response rate per instrument over the years: the department,
    /// its RSO and the region.
    pub response: Vec<DepartmentTrend>,
    /// Their legend, once (SVG).
    pub response_legend: String,
    /// This cycle's findings of the department.
    pub summary: SummaryView,
    /// The instruments whose findings above show subscale scores resting
    /// on a placeholder item table (`items_verified = false`), one line
    /// each under one note (the report's subscale scores are only in its
    /// findings).
    pub unverified: Vec<UnverifiedLine>,
    /// The total score of every instrument in `unverified` is the same
    /// whatever the division: said once under the lines.
    pub unverified_total: bool,
    /// Last cycle's points of the department, followed up.
    pub follow_up: Vec<FollowUpView>,
    /// The department's actions.
    pub actions: Vec<ActionView>,
    /// Its visitations and their conditions.
    pub visitations: Vec<VisitationView>,
    /// Years of the participation table.
    pub years: Vec<String>,
    /// Per instrument, per year: respondents (response rate).
    pub participation: Vec<(String, Vec<String>)>,
    /// Exit survey: grade on its own scale, n, grouped tops and tips.
    pub exit: Option<DepartmentExit>,
    /// Method texts.
    pub method: Vec<String>,
}

/// The exit survey of a department in a cycle.
#[derive(Debug, Clone, Serialize)]
pub struct DepartmentExit {
    /// The grade (1-10) or why it is not shown.
    pub grade: String,
    /// Respondents of the grade.
    pub n: u64,
    /// Tops, identical ones grouped: text and count.
    pub tops: Vec<(String, usize)>,
    /// Tips, grouped.
    pub tips: Vec<(String, usize)>,
}

/// Identical texts once, with how often they were given, most often
/// first (then alphabetically: the order of submission could identify).
pub(super) fn grouped(texts: Vec<String>) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for t in texts {
        *counts.entry(t).or_default() += 1;
    }
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

pub(super) fn department_report(ctx: &Ctx, unit_id: &str, cycle: &str) -> Option<DepartmentReport> {
    let config = ctx.config;
    let names = ctx.names();
    let lang = ctx.opts.lang.as_str();
    let dept = DepartmentId::parse(unit_id)?;
    let years = score::years_of(cycle);
    let last = *years.last()?;
    // The department's RSO in the cycle.
    let rso = config.registry.rsos.values().find(|r| {
        r.specialty == dept.specialty
            && super::cycle::members_in(r, cycle)
                .1
                .iter()
                .any(|u| u == unit_id)
    })?;
    let cells = ctx.published.unit_cells(Level::Department, unit_id);
    if !cells.iter().any(|c| c.period == cycle) {
        return None;
    }
    let until = |c: &&Cell| !c.is_cycle() && c.period.parse::<i32>().is_ok_and(|y| y <= last);
    let instruments: Vec<String> = {
        let measured: BTreeSet<&str> = cells
            .iter()
            .filter(until)
            .map(|c| c.instrument.as_str())
            .collect();
        let mut v: Vec<(u32, &str)> = measured
            .into_iter()
            .map(|i| {
                let order = config
                    .catalogue
                    .iter()
                    .find(|d| d.id == i)
                    .map_or(99, |d| d.display_order());
                (order, i)
            })
            .collect();
        v.sort();
        v.into_iter().map(|(_, i)| i.to_string()).collect()
    };

    // Trends of the total score and of the response rate: the department,
    // its RSO, the region.
    let (mut trends, mut response) = (Vec::new(), Vec::new());
    let (mut charts, mut response_charts) = (Vec::new(), Vec::new());
    for instrument in &instruments {
        let axis = TrendAxis::new(ctx, &names, &rso.region, instrument, last);
        let lines = || {
            let of =
                |level: Level, unit: &str| cells_over(ctx, &axis, (level, unit), instrument, TOTAL);
            vec![
                Line {
                    label: names.institution(dept.institution),
                    style: SeriesStyle::Primary,
                    band: true,
                    cells: of(Level::Department, unit_id),
                },
                Line {
                    label: names.rso(&rso.id),
                    style: SeriesStyle::Secondary,
                    band: false,
                    cells: of(Level::Rso, &rso.id),
                },
                Line {
                    label: names.region(&rso.region),
                    style: SeriesStyle::Benchmark,
                    band: false,
                    cells: of(Level::Region, &rso.region),
                },
            ]
        };
        let (view, chart) = trend_view(
            ctx,
            &names,
            format!("{} – {}", names.instrument(instrument), ctx.t["total"]),
            (&axis.periods, &axis.breaks),
            lines(),
            Plotted::Score,
            (620, 260),
        );
        trends.push(DepartmentTrend {
            instrument: names.instrument(instrument),
            view,
        });
        charts.push(chart);
        // (A year read from its cycle where the cycle pools the same
        // answers, as the scores: an instrument run every other year.)
        let mut rate_lines = lines();
        rate_lines.iter_mut().for_each(|l| l.band = false);
        let has_rate = rate_lines[0]
            .cells
            .iter()
            .flatten()
            .any(|c| c.response_rate.is_some());
        if has_rate {
            let (view, chart) = trend_view(
                ctx,
                &names,
                names.instrument(instrument),
                (&axis.periods, &[]),
                rate_lines,
                Plotted::ResponseRate,
                (620, 240),
            );
            response.push(DepartmentTrend {
                instrument: names.instrument(instrument),
                view,
            });
            response_charts.push(chart);
        }
    }
    let trend_legend = chart::legend_svg(&charts.iter().collect::<Vec<_>>(), 760);
    let response_legend = chart::legend_svg(&response_charts.iter().collect::<Vec<_>>(), 760);

    // Findings, follow-up, actions and visitations: the RSO's loop, kept to
    // this department.
    let (_, member_units) = super::cycle::members_in(rso, cycle);
    let fs: Vec<_> = super::cycle::rso_findings(ctx, &rso.id, &member_units, cycle)
        .into_iter()
        .filter(|f| f.unit_id == unit_id)
        .collect();
    let summary = summary_of(&fs, config, &names);
    let (unverified, unverified_total) = {
        let scales = finding_scales(config, &fs);
        let found: Vec<(u32, &str, Unverified)> = scales
            .iter()
            .filter_map(|((i, v), s)| {
                let u = unverified_of(ctx, &names, i, v, s.iter().map(String::as_str))?;
                let order = config.catalogue.get(i, v).map_or(99, |d| d.display_order());
                Some((order, i.as_str(), u))
            })
            .collect();
        // Where it holds for every instrument, said once, not per line.
        let all = found.iter().all(|(_, _, u)| u.total_unaffected);
        let mut lines: Vec<(u32, UnverifiedLine)> = found
            .into_iter()
            .map(|(order, i, u)| {
                let mut text = u.words(ctx.t, "unverified_line_all", "unverified_line_some");
                if u.total_unaffected && !all {
                    text.push_str(&ctx.t["unverified_line_total"]);
                }
                let line = UnverifiedLine {
                    instrument: i.to_string(),
                    text,
                };
                (order, line)
            })
            .collect();
        lines.sort_by(|a, b| (a.0, &a.1.text).cmp(&(b.0, &b.1.text)));
        let total = all && !lines.is_empty();
        (lines.into_iter().map(|(_, l)| l).collect(), total)
    };
    let quality = super::cycle::loop_view(ctx, &names, &rso.id, &member_units, cycle, &fs);
    let own_unit = |institution: Option<&str>| institution == Some(dept.institution);
    let follow_up = quality
        .follow_up
        .into_iter()
        .filter(|f| f.finding.unit_id == unit_id)
        .collect();
    let actions = quality
        .actions
        .into_iter()
        .filter(|a| own_unit(a.action.institution_id.as_deref()))
        .collect();
    let inst_name = names.institution(dept.institution);
    let visitations = quality
        .visitations
        .into_iter()
        .filter(|v| v.unit == inst_name)
        .collect();

    // Participation per instrument and year (respondents and response
    // rate of the total cell).
    let all_years: Vec<String> = {
        let mut v: Vec<String> = cells
            .iter()
            .filter(until)
            .map(|c| c.period.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let participation = instruments
        .iter()
        .map(|i| {
            let per_year = all_years
                .iter()
                .map(|y| {
                    cells
                        .iter()
                        .find(|c| c.instrument == *i && c.scale_id == TOTAL && c.period == *y)
                        .map(|c| participation_text(c, &names))
                        .unwrap_or_else(|| "–".into())
                })
                .collect();
            (names.instrument(i), per_year)
        })
        .collect();

    // Names and contact details masked in the answers this report prints.
    let masked = std::cell::Cell::new((0u32, 0u32));
    // The exit survey: the grade on its own scale, and tops and tips where
    // the group passes the floor, identical ones grouped.
    let exit = config
        .catalogue
        .iter()
        .filter(|d| d.items.iter().any(|i| i.report_as.is_some()))
        .find_map(|def| {
            let total = cells.iter().find(|c| {
                c.instrument == def.id
                    && c.instrument_version == def.version
                    && c.scale_id == TOTAL
                    && c.period == cycle
            })?;
            let floor = config.floor_of(&def.id, &def.version);
            let grade_cell = def.grade_subscale().and_then(|g| {
                cells.iter().find(|c| {
                    c.instrument == def.id
                        && c.instrument_version == def.version
                        && c.scale_id == g
                        && c.period == cycle
                })
            });
            // (`shown` gives a grade on its own 1-10 scale.)
            let grade = shown(grade_cell, floor, &names).text;
            let passes = crate::privacy::comments_publishable(total, floor);
            let texts = |part: &str| -> Vec<(String, usize)> {
                if !passes {
                    return Vec::new();
                }
                let items: Vec<&str> = def.open_items(part).map(|i| i.id.as_str()).collect();
                grouped(
                    ctx.comments
                        .iter()
                        .filter(|c| {
                            c.instrument == def.id
                                && c.institution_id == dept.institution
                                && c.specialty == dept.specialty
                                && years.contains(&c.year)
                                && items.contains(&c.item_id.as_str())
                        })
                        .map(|c| {
                            // What was masked in the answers this report
                            // prints.
                            let (n, d) = masked.get();
                            masked.set((n + c.masked_names, d + c.masked_details));
                            c.text.clone()
                        })
                        .collect(),
                )
            };
            Some(DepartmentExit {
                grade,
                n: grade_cell.map_or(total.n_respondents, |c| c.n_respondents),
                tops: texts("tops"),
                tips: texts("tips"),
            })
        });

    Some(DepartmentReport {
        t: ctx.t.clone(),
        lang: lang.to_string(),
        title: config.title.clone(),
        unit_id: unit_id.to_string(),
        institution: inst_name,
        specialty: names.specialty(dept.specialty),
        rso_id: rso.id.clone(),
        rso: rso.name.clone(),
        cycle: cycle.to_string(),
        data_until: ctx.published.data_until(cycle),
        generated_on: ctx.opts.today.to_string(),
        trends,
        trend_legend,
        response,
        response_legend,
        summary,
        unverified,
        unverified_total,
        follow_up,
        actions,
        visitations,
        years: all_years,
        participation,
        exit,
        method: {
            let mut m = method_texts(ctx);
            m.push(masked_count(ctx, masked.get()));
            m
        },
    })
}
