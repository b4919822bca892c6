//! The biennial PDCA report of one RSO: participation, heatmaps, trends,
//! distributions, changes, findings, the development plan and exit results.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::chart::{self, Distribution, DistributionRow, SeriesStyle, TrendChart};
use super::labels::*;
use super::views::*;
use crate::score::{self, TOTAL};
use crate::table::{Cell, Level};

/// Everything the RSO report template receives.
#[derive(Debug, Clone, Serialize)]
pub struct RsoReport {
    /// Labels.
    pub t: Labels,
    /// Language.
    pub lang: String,
    /// Region title of the configuration.
    pub title: String,
    /// RSO id.
    pub rso_id: String,
    /// RSO name.
    pub rso_name: String,
    /// Specialty.
    pub specialty: String,
    /// Region.
    pub region: String,
    /// Members in the cycle.
    pub members: Vec<String>,
    /// Cycle.
    pub cycle: String,
    /// Data up to.
    pub data_until: String,
    /// Generated on.
    pub generated_on: String,
    /// The quality loop: evaluation, follow-up, attention, actions,
    /// visitations, escalations, calendar.
    pub quality: super::cycle::LoopView,
    /// Findings.
    pub summary: SummaryView,
    /// The first page's overview: instruments (columns) ...
    pub overview_columns: Vec<String>,
    /// ... and per department its name and, per instrument, its total with
    /// a trend arrow against the previous cycle.
    pub overview: Vec<(String, Vec<(ShownCell, String)>)>,
    /// Years of the participation table.
    pub years: Vec<i32>,
    /// Participation rows: institution, instrument, per year "n (rate)".
    pub participation: Vec<(String, String, Vec<String>)>,
    /// The response rate over all years per instrument: the RSO and its
    /// departments (charts with tables).
    pub response: Vec<TrendView>,
    /// Their legend, once.
    pub response_legend: String,
    /// One section per instrument.
    pub instruments: Vec<InstrumentSection>,
    /// Exit survey per clinic.
    pub exit: Vec<ExitView>,
    /// The heatmap's legend.
    pub heat_legend: String,
    /// Method texts.
    pub method: Vec<String>,
    /// Sources: file and sha256.
    pub sources: Vec<(String, String)>,
}

/// The years of an instrument's trend charts in a region, and where its
/// version changes: the same for every scale of the instrument.
pub(super) struct TrendAxis {
    pub(super) periods: Vec<String>,
    pub(super) breaks: Vec<(usize, String)>,
}

impl TrendAxis {
    /// Every year with data for this instrument in the region, any
    /// version, up to the end of the report's cycle (`until`): a cycle's
    /// report stays what it was when later years arrive.
    pub(super) fn new(
        ctx: &Ctx,
        names: &Names,
        region: &str,
        instrument: &str,
        until: i32,
    ) -> TrendAxis {
        // Each year's version: that of the region's first cell of the year.
        let mut version_of: BTreeMap<&str, &str> = BTreeMap::new();
        for c in ctx.published.unit_cells(Level::Region, region) {
            if c.instrument == instrument
                && !c.is_cycle()
                && c.period.parse::<i32>().is_ok_and(|y| y <= until)
            {
                version_of
                    .entry(c.period.as_str())
                    .or_insert(c.instrument_version.as_str());
            }
        }
        // Where the version changes, a marker.
        let mut breaks = Vec::new();
        let mut last: Option<&str> = None;
        for (i, version) in version_of.values().enumerate() {
            if last.is_some_and(|l| l != *version) {
                breaks.push((i, format!("{} {}", names.instrument(instrument), version)));
            }
            last = Some(version);
        }
        TrendAxis {
            periods: version_of.keys().map(|p| p.to_string()).collect(),
            breaks,
        }
    }
}

/// The cells of one unit that measure a construct of an instrument, one
/// per period of the axis (the first in a period; none where it has none).
pub(super) fn cells_over<'a>(
    ctx: &'a Ctx,
    axis: &TrendAxis,
    (level, unit): (Level, &str),
    instrument: &str,
    construct: &str,
) -> Vec<Option<&'a Cell>> {
    if construct == TOTAL {
        // A year as a reader sees it (a year left out because its cycle
        // holds no other is read from the cycle), as the department report.
        return axis
            .periods
            .iter()
            .map(|p| {
                let y = p.parse::<i32>().ok()?;
                ctx.published.year_cell(level, unit, instrument, TOTAL, y)
            })
            .collect();
    }
    let cells: Vec<&Cell> = ctx
        .published
        .instrument_cells(level, unit, instrument)
        .iter()
        .filter(|c| {
            ctx.config
                .catalogue
                .construct(&c.instrument, &c.instrument_version, &c.scale_id)
                == construct
        })
        .collect();
    axis.periods
        .iter()
        .map(|p| cells.iter().find(|c| c.period == *p).copied())
        .collect()
}

/// A member department by its institution's name (the RSO is one
/// specialty).
fn institution_of(names: &Names, unit: &str) -> String {
    let name = names.unit(Level::Department, unit);
    name.split(" – ").next().unwrap_or("").to_string()
}

/// A subscale's trend in the RSO report (over every version measuring
/// its construct): the RSO with its band against the region; a grade on
/// its own scale.
fn subscale_trend(
    ctx: &Ctx,
    names: &Names,
    unit: &crate::org::Rso,
    axis: &TrendAxis,
    (instrument, version): (&str, &str),
    scale: &str,
) -> (TrendView, TrendChart) {
    let construct = ctx.config.catalogue.construct(instrument, version, scale);
    let grade = grade_range(ctx.config, instrument, version, scale);
    let (rso, region) = (unit.id.as_str(), unit.region.as_str());
    let lines = vec![
        Line {
            label: names.rso(rso),
            style: SeriesStyle::Primary,
            band: true,
            cells: cells_over(ctx, axis, (Level::Rso, rso), instrument, construct),
        },
        Line {
            label: names.region(region),
            style: SeriesStyle::Benchmark,
            band: false,
            cells: cells_over(ctx, axis, (Level::Region, region), instrument, construct),
        },
    ];
    trend_view(
        ctx,
        names,
        names.scale(instrument, version, scale),
        (&axis.periods, &axis.breaks),
        lines,
        grade.map_or(Plotted::Score, |(lo, hi)| Plotted::Grade(lo, hi)),
        // Small in pixels: the same chart is drawn a third of an A4 page
        // wide in the PDF, where its 12 px text must stay readable.
        (440, 220),
    )
}

/// Each member department's total over the years against the RSO and the
/// region: small multiples, so a department's fall is not averaged away
/// in the RSO's line.
fn department_trends(
    ctx: &Ctx,
    names: &Names,
    unit: &crate::org::Rso,
    members: &[String],
    axis: &TrendAxis,
    instrument: &str,
) -> (Vec<TrendView>, String) {
    let mut views = Vec::new();
    let mut charts = Vec::new();
    for member in members {
        let own = cells_over(ctx, axis, (Level::Department, member), instrument, TOTAL);
        if own.iter().all(Option::is_none) {
            continue;
        }
        let title = institution_of(names, member);
        let lines = vec![
            Line {
                label: ctx.t["department"].clone(),
                style: SeriesStyle::Primary,
                band: true,
                cells: own,
            },
            Line {
                label: names.rso(&unit.id),
                style: SeriesStyle::Secondary,
                band: false,
                cells: cells_over(ctx, axis, (Level::Rso, &unit.id), instrument, TOTAL),
            },
            Line {
                label: names.region(&unit.region),
                style: SeriesStyle::Benchmark,
                band: false,
                cells: cells_over(ctx, axis, (Level::Region, &unit.region), instrument, TOTAL),
            },
        ];
        let (view, chart) = trend_view(
            ctx,
            names,
            title,
            (&axis.periods, &axis.breaks),
            lines,
            Plotted::Score,
            (340, 210),
        );
        views.push(view);
        charts.push(chart);
    }
    // One axis for all, so the departments' heights compare at a glance.
    let shared = chart::shared_y_range(&charts.iter().collect::<Vec<_>>());
    for (view, chart) in views.iter_mut().zip(&mut charts) {
        chart.y_fixed = shared;
        view.svg = chart::trend_svg(chart, 340, 210);
    }
    let legend = chart::legend_svg(&charts.iter().collect::<Vec<_>>(), 760);
    (views, legend)
}

/// The response rate over the years per instrument: the RSO and each
/// member department, with the region's minimum response rate.
fn response_trends(
    ctx: &Ctx,
    names: &Names,
    unit: &crate::org::Rso,
    members: &[String],
    instruments: &[(String, String)],
    until: i32,
) -> (Vec<TrendView>, String) {
    let mut views = Vec::new();
    let mut charts = Vec::new();
    let axes: Vec<(&String, TrendAxis)> = instruments
        .iter()
        .map(|(i, _)| (i, TrendAxis::new(ctx, names, &unit.region, i, until)))
        .collect();
    // The same departments in every chart, in the same order, so a
    // department keeps its colour and marker and one legend serves all.
    let shown: Vec<&String> = members
        .iter()
        .filter(|m| {
            axes.iter().any(|(i, axis)| {
                let cells = cells_over(ctx, axis, (Level::Department, m), i, TOTAL);
                cells.iter().any(Option::is_some)
            })
        })
        .collect();
    for (instrument, axis) in &axes {
        let mut lines = vec![Line {
            label: names.rso(&unit.id),
            style: SeriesStyle::Primary,
            band: false,
            cells: cells_over(ctx, axis, (Level::Rso, &unit.id), instrument, TOTAL),
        }];
        for member in &shown {
            lines.push(Line {
                label: institution_of(names, member),
                style: SeriesStyle::Secondary,
                band: false,
                cells: cells_over(ctx, axis, (Level::Department, member), instrument, TOTAL),
            });
        }
        // Without invitation counts there is no rate to draw.
        let any_rate = lines
            .iter()
            .flat_map(|l| l.cells.iter().flatten())
            .any(|c| c.response_rate.is_some());
        if !any_rate {
            continue;
        }
        let (view, chart) = trend_view(
            ctx,
            names,
            names.instrument(instrument),
            (&axis.periods, &[]),
            lines,
            Plotted::ResponseRate,
            (440, 230),
        );
        views.push(view);
        charts.push(chart);
    }
    let legend = chart::legend_svg(&charts.iter().collect::<Vec<_>>(), 760);
    (views, legend)
}

/// The RSO's answer distribution per item of an instrument version in a
/// cycle: the diverging bars and the same shares as a table.
pub(super) fn distribution(
    ctx: &Ctx,
    names: &Names,
    rso: &str,
    instrument: &str,
    version: &str,
    cycle: &str,
) -> Option<DistributionView> {
    let inst = ctx.config.catalogue.get(instrument, version)?;
    let counts: Vec<_> = ctx
        .published
        .rso_counts(rso)
        .iter()
        .filter(|k| {
            k.instrument == instrument && k.instrument_version == version && k.period == cycle
        })
        .collect();
    if counts.is_empty() {
        return None;
    }
    let (lo, hi) = (inst.scale.min as i64, inst.scale.max as i64);
    let mut rows = Vec::new();
    let mut derived = false;
    for item in inst
        .items
        .iter()
        .filter(|i| i.kind == crate::instrument::ItemKind::Likert)
    {
        let of_item: Vec<_> = counts.iter().filter(|k| k.item_id == item.id).collect();
        if of_item.is_empty() {
            continue;
        }
        let mut per_point = vec![0u64; (hi - lo + 1) as usize];
        let mut na = 0;
        for k in of_item {
            match k.value {
                Some(v) => {
                    let i = (v as i64 - lo).clamp(0, hi - lo) as usize;
                    per_point[i] += k.n;
                }
                None => na += k.n,
            }
        }
        // The item's short name, never its code (issue #19, item 6).
        let label = names.item(instrument, version, &item.id);
        derived |= item.label.is_none();
        rows.push(DistributionRow {
            label,
            counts: per_point,
            not_applicable: na,
        });
    }
    let point_labels: Vec<String> = (lo..=hi)
        .map(|v| {
            inst.scale
                .labels
                .iter()
                .find(|l| l.value as i64 == v)
                .map(|l| {
                    if ctx.opts.lang == "en" {
                        l.en.clone()
                    } else {
                        l.nl.clone()
                    }
                })
                .unwrap_or_else(|| v.to_string())
        })
        .collect();
    let lang = ctx.opts.lang.as_str();
    let table = rows
        .iter()
        .map(|r| {
            let n: u64 = r.counts.iter().sum();
            let shares = r
                .counts
                .iter()
                .map(|&c| match n {
                    0 => "–".to_string(),
                    _ => pct(c as f64 / n as f64, lang),
                })
                .collect();
            (r.label.clone(), shares, n, r.not_applicable)
        })
        .collect();
    let svg = chart::diverging_svg(
        &Distribution {
            title: format!("{} {}", names.instrument(instrument), version),
            point_labels: point_labels.clone(),
            rows,
            words: chart_words(ctx),
        },
        760,
    );
    Some(DistributionView {
        svg,
        points: point_labels,
        rows: table,
        note: derived.then(|| ctx.t["item_labels_note"].clone()),
    })
}

pub(super) fn rso_report(ctx: &Ctx, rso_id: &str, cycle: &str) -> Option<RsoReport> {
    let config = ctx.config;
    let names = ctx.names();
    let rso = config.registry.rsos.get(rso_id)?;
    let lang = ctx.opts.lang.as_str();
    let years = score::years_of(cycle);
    let last = *years.last()?;
    let (members, member_units) = super::cycle::members_in(rso, cycle);

    // Findings for the RSO and its member departments, and the loop.
    let fs = super::cycle::rso_findings(ctx, rso_id, &member_units, cycle);
    let summary = summary_of(&fs, config, &names);
    let quality = super::cycle::loop_view(ctx, &names, rso_id, &member_units, cycle, &fs);

    // Participation per department, instrument and year.
    let mut participation = Vec::new();
    let year_texts: Vec<String> = years.iter().map(|y| y.to_string()).collect();
    let instruments_in: BTreeSet<String> = member_units
        .iter()
        .flat_map(|u| ctx.published.unit_cells(Level::Department, u))
        .filter(|c| year_texts.contains(&c.period))
        .map(|c| c.instrument.clone())
        .collect();
    for unit in &member_units {
        for inst in &instruments_in {
            let cells: Vec<String> = year_texts
                .iter()
                .map(|y| {
                    ctx.published
                        .instrument_cells(Level::Department, unit, inst)
                        .iter()
                        .find(|c| c.scale_id == TOTAL && c.period == *y)
                        .map(|c| match c.response_rate {
                            Some(r) => format!("{} ({})", c.n_respondents, pct(r, lang)),
                            None => c.n_respondents.to_string(),
                        })
                        .unwrap_or_else(|| "–".into())
                })
                .collect();
            if cells.iter().any(|c| c != "–") {
                participation.push((
                    names.unit(Level::Department, unit),
                    names.instrument(inst),
                    cells,
                ));
            }
        }
    }

    // One section per instrument (latest version in the cycle), and the
    // first page's department × instrument overview of the totals.
    let versions = versions_in(
        &ctx.config.catalogue,
        ctx.published,
        Level::Rso,
        rso_id,
        cycle,
    );
    let overview_columns = versions.iter().map(|(i, _)| names.instrument(i)).collect();
    let overview = member_units
        .iter()
        .map(|unit| {
            let cells: Vec<(ShownCell, String)> = versions
                .iter()
                .map(|(i, v)| total_with_arrow(ctx, &names, unit, (i, v), cycle))
                .collect();
            let name = names.unit(Level::Department, unit);
            let institution = name.split(" – ").next().unwrap_or("").to_string();
            (institution, cells)
        })
        .filter(|(_, cells)| cells.iter().any(|(c, _)| c.n.is_some() || c.suppressed))
        .collect();
    let (response, response_legend) =
        response_trends(ctx, &names, rso, &member_units, &versions, last);
    let mut sections = Vec::new();
    for (instrument, version) in versions {
        let Some(def) = config.catalogue.get(&instrument, &version) else {
            continue;
        };
        let floor = config.floor_of(&instrument, &version);
        let mut scales: Vec<String> = def
            .subscales
            .iter()
            .filter(|s| {
                ctx.published
                    .instrument_cells(Level::Rso, rso_id, &instrument)
                    .iter()
                    .any(|c| c.instrument_version == version && c.scale_id == s.id)
            })
            .map(|s| s.id.clone())
            .collect();
        scales.push(TOTAL.into());
        let columns = scales
            .iter()
            .map(|s| names.scale(&instrument, &version, s))
            .collect();
        let mut rows = Vec::new();
        for unit in &member_units {
            if !ctx
                .published
                .instrument_cells(Level::Department, unit, &instrument)
                .iter()
                .any(|c| c.instrument_version == version && c.period == cycle)
            {
                continue;
            }
            rows.push(HeatRow {
                label: names
                    .unit(Level::Department, unit)
                    .split(" – ")
                    .next()
                    .unwrap_or("")
                    .to_string(),
                kind: "department".into(),
                unit_id: unit.clone(),
                cells: scales
                    .iter()
                    .map(|s| {
                        shown(
                            ctx.published.cell(
                                Level::Department,
                                unit,
                                &instrument,
                                &version,
                                s,
                                cycle,
                            ),
                            floor,
                            &names,
                        )
                    })
                    .collect(),
            });
        }
        rows.push(HeatRow {
            label: ctx.t["rso_value"].clone(),
            kind: "rso".into(),
            unit_id: rso_id.to_string(),
            cells: scales
                .iter()
                .map(|s| {
                    shown(
                        ctx.published
                            .cell(Level::Rso, rso_id, &instrument, &version, s, cycle),
                        floor,
                        &names,
                    )
                })
                .collect(),
        });
        rows.push(HeatRow {
            label: ctx.t["region_value"].clone(),
            kind: "region".into(),
            unit_id: rso.region.clone(),
            cells: scales
                .iter()
                .map(|s| {
                    shown(
                        ctx.published.cell(
                            Level::Region,
                            &rso.region,
                            &instrument,
                            &version,
                            s,
                            cycle,
                        ),
                        floor,
                        &names,
                    )
                })
                .collect(),
        });
        let axis = TrendAxis::new(ctx, &names, &rso.region, &instrument, last);
        let (trends, charts): (Vec<TrendView>, Vec<TrendChart>) = scales
            .iter()
            .map(|s| subscale_trend(ctx, &names, rso, &axis, (&instrument, &version), s))
            .unzip();
        let trend_legend = chart::legend_svg(&charts.iter().collect::<Vec<_>>(), 760);
        let (department_trends, department_legend) =
            department_trends(ctx, &names, rso, &member_units, &axis, &instrument);
        // Every subscale for the RSO; the departments' totals only, so the
        // table stays readable (their subscales are in the heatmap).
        let mut changes = change_views(
            ctx,
            &names,
            &[(Level::Rso, rso_id.to_string())],
            &instrument,
            &version,
            cycle,
        );
        let depts: Vec<(Level, String)> = member_units
            .iter()
            .map(|u| (Level::Department, u.clone()))
            .collect();
        changes.extend(
            change_views(ctx, &names, &depts, &instrument, &version, cycle)
                .into_iter()
                .filter(|c| c.scale == ctx.t["total"]),
        );
        sections.push(InstrumentSection {
            id: instrument.clone(),
            name: format!("{} ({})", names.instrument(&instrument), version),
            columns,
            rows,
            trends,
            trend_legend,
            department_trends,
            department_legend,
            distribution: distribution(ctx, &names, rso_id, &instrument, &version, cycle),
            changes,
            unverified_note: unverified_note(
                ctx,
                &names,
                &instrument,
                &version,
                scales.iter().map(String::as_str),
            ),
        });
    }

    // Names and contact details masked in the answers this report prints.
    let masked = std::cell::Cell::new((0u32, 0u32));
    // Exit survey: grades per clinic, tops and tips where the group passes
    // the floor.
    let mut exit = Vec::new();
    // The exit survey: by its definition, the instrument whose open
    // answers reports show as tops and tips; its grade is its grade item's.
    let exit_survey = versions_in(&config.catalogue, ctx.published, Level::Rso, rso_id, cycle)
        .into_iter()
        .find_map(|(i, v)| {
            let d = config.catalogue.get(&i, &v)?;
            d.items.iter().any(|i| i.report_as.is_some()).then_some(d)
        });
    if let Some(def) = exit_survey {
        let (instrument, version) = (def.id.as_str(), def.version.as_str());
        let floor = config.floor_of(instrument, version);
        let grade_scale = def.grade_subscale().map(str::to_string);
        for unit in &member_units {
            let total =
                ctx.published
                    .cell(Level::Department, unit, instrument, version, TOTAL, cycle);
            let Some(total) = total else { continue };
            let grade = grade_scale
                .as_ref()
                .and_then(|g| {
                    ctx.published
                        .cell(Level::Department, unit, instrument, version, g, cycle)
                })
                .map(|c| {
                    let mut s = shown(Some(c), floor, &names);
                    if let (false, Some(m)) = (s.suppressed, c.mean) {
                        s.text = num(m, 1, lang);
                        s.value = Some(m);
                    }
                    s
                })
                .unwrap_or_else(ShownCell::empty);
            let passes = crate::privacy::comments_publishable(total, floor);
            let (inst, spec) = crate::domain::DepartmentId::parse(unit)
                .map_or((unit.as_str(), ""), |d| (d.institution, d.specialty));
            let texts = |part: &str| -> Vec<(String, usize)> {
                if !passes {
                    return Vec::new();
                }
                let items: Vec<&str> = def.open_items(part).map(|i| i.id.as_str()).collect();
                let v: Vec<String> = ctx
                    .comments
                    .iter()
                    .filter(|c| {
                        c.instrument == instrument
                            && c.institution_id == inst
                            && c.specialty == spec
                            && years.contains(&c.year)
                            && items.contains(&c.item_id.as_str())
                    })
                    .map(|c| {
                        // What was masked in the answers this report prints.
                        let (n, d) = masked.get();
                        masked.set((n + c.masked_names, d + c.masked_details));
                        c.text.clone()
                    })
                    .collect();
                // Identical answers once with a count, not in order of
                // submission (order could identify).
                super::department::grouped(v)
            };
            let grade_n = grade_scale
                .as_ref()
                .and_then(|g| {
                    ctx.published
                        .cell(Level::Department, unit, instrument, version, g, cycle)
                })
                .map(|c| c.n_respondents)
                .unwrap_or(total.n_respondents);
            exit.push(ExitView {
                clinic: names.institution(inst),
                grade,
                n: grade_n,
                tops: texts("tops"),
                tips: texts("tips"),
            });
        }
    }

    // The export files behind this RSO's numbers in this cycle.
    let mut sources: Vec<(String, String)> = ctx
        .published
        .sources
        .iter()
        .filter(|s| s.rso_id == rso_id && s.period == cycle)
        .map(|s| (s.source_file.clone(), s.source_sha256.clone()))
        .collect();
    sources.sort();
    sources.dedup();
    let method = {
        // How many of this report's cells each rule hid: its
        // departments' and its own, in the cycle and its years.
        let mut m = method_texts(ctx);
        m.push(masked_count(ctx, masked.get()));
        let in_scope = |c: &&Cell| {
            (c.period == cycle || years.iter().any(|y| c.period == y.to_string()))
                && match c.level {
                    Level::Department => member_units.contains(&c.unit_id),
                    Level::Rso => c.unit_id == rso_id,
                    _ => false,
                }
        };
        let cells: Vec<&Cell> = member_units
            .iter()
            .flat_map(|u| ctx.published.unit_cells(Level::Department, u))
            .chain(ctx.published.unit_cells(Level::Rso, rso_id))
            .filter(in_scope)
            .collect();
        let count = |r: crate::domain::SuppressionReason| {
            cells
                .iter()
                .filter(|c| c.suppression_reason == Some(r))
                .count()
                .to_string()
        };
        m.push(fill(
            &ctx.t["method_hidden_counts"],
            &[
                ("cells", cells.len().to_string()),
                ("min_n", count(crate::domain::SuppressionReason::MinN)),
                (
                    "secondary",
                    count(crate::domain::SuppressionReason::Secondary),
                ),
            ],
        ));
        m
    };
    Some(RsoReport {
        t: ctx.t.clone(),
        lang: lang.to_string(),
        title: config.title.clone(),
        rso_id: rso_id.to_string(),
        rso_name: rso.name.clone(),
        specialty: names.specialty(&rso.specialty),
        region: names.region(&rso.region),
        members: members.iter().map(|m| names.institution(m)).collect(),
        cycle: cycle.to_string(),
        data_until: ctx.published.data_until(cycle),
        generated_on: ctx.opts.today.to_string(),
        quality,
        summary,
        overview_columns,
        overview,
        years,
        participation,
        response,
        response_legend,
        instruments: sections,
        exit,
        heat_legend: heat_legend(ctx),
        method,
        sources,
    })
}
