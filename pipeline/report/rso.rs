//! The biennial PDCA report of one RSO: participation, heatmaps, trends,
//! distributions, changes, findings, the development plan and exit results.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::chart::{
    self, Distribution, DistributionRow, SeriesStyle, TrendChart, TrendPoint, TrendSeries,
};
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

pub(super) fn trend_svg(
    ctx: &Ctx,
    names: &Names,
    unit: &crate::org::Rso,
    axis: &TrendAxis,
    instrument: &str,
    scale_construct: &str,
    label: &str,
) -> String {
    let (rso, region) = (unit.id.as_str(), unit.region.as_str());
    // The construct a cell measures (the total is its own).
    let measures = |c: &Cell| -> bool {
        ctx.config
            .catalogue
            .construct(&c.instrument, &c.instrument_version, &c.scale_id)
            == scale_construct
    };
    let series_for = |level: Level, unit: &str| -> Vec<TrendPoint> {
        // The unit's cells of this construct, in their order: a period's
        // point is the first of them in that period.
        let cells: Vec<&Cell> = ctx
            .published
            .unit_cells(level, unit)
            .iter()
            .filter(|c| c.instrument == instrument && measures(c))
            .collect();
        axis.periods
            .iter()
            .map(|p| trend_point(p, cells.iter().find(|c| c.period == *p).copied()))
            .collect()
    };
    let chart = TrendChart {
        title: label.to_string(),
        y_label: "0-100".into(),
        periods: axis.periods.clone(),
        series: vec![
            TrendSeries {
                label: names.rso(rso),
                style: SeriesStyle::Primary,
                band: true,
                points: series_for(Level::Rso, rso),
            },
            TrendSeries {
                label: names.region(region),
                style: SeriesStyle::Benchmark,
                band: false,
                points: series_for(Level::Region, region),
            },
        ],
        version_breaks: axis.breaks.clone(),
        thresholds: thresholds(ctx),
        fit_y: true,
        words: chart_words(ctx),
    };
    chart::trend_svg(&chart, 560, 240)
}

pub(super) fn distribution_svg(
    ctx: &Ctx,
    names: &Names,
    rso: &str,
    instrument: &str,
    version: &str,
    cycle: &str,
) -> Option<String> {
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
        let text = if ctx.opts.lang == "en" {
            item.en.clone()
        } else {
            item.nl.clone().or(item.en.clone())
        };
        let label = match text {
            Some(t) if t.chars().count() > 60 => {
                format!("{} {}…", item.id, t.chars().take(55).collect::<String>())
            }
            Some(t) => format!("{} {}", item.id, t),
            None => format!(
                "{} ({})",
                item.id,
                names.scale(instrument, version, &item.subscale)
            ),
        };
        rows.push(DistributionRow {
            label,
            counts: per_point,
            not_applicable: na,
        });
    }
    let point_labels = (lo..=hi)
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
    Some(chart::diverging_svg(
        &Distribution {
            title: format!("{} {}", names.instrument(instrument), version),
            point_labels,
            rows,
            words: chart_words(ctx),
        },
        760,
    ))
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
    let instruments_in: BTreeSet<String> = member_units
        .iter()
        .flat_map(|u| ctx.published.unit_cells(Level::Department, u))
        .filter(|c| years.iter().any(|y| c.period == y.to_string()))
        .map(|c| c.instrument.clone())
        .collect();
    for unit in &member_units {
        for inst in &instruments_in {
            let cells: Vec<String> = years
                .iter()
                .map(|y| {
                    ctx.published
                        .unit_cells(Level::Department, unit)
                        .iter()
                        .find(|c| {
                            c.instrument == *inst
                                && c.scale_id == TOTAL
                                && c.period == y.to_string()
                        })
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
                    .unit_cells(Level::Rso, rso_id)
                    .iter()
                    .any(|c| {
                        c.instrument == instrument
                            && c.instrument_version == version
                            && c.scale_id == s.id
                    })
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
                .unit_cells(Level::Department, unit)
                .iter()
                .any(|c| {
                    c.instrument == instrument
                        && c.instrument_version == version
                        && c.period == cycle
                })
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
                            find(
                                ctx.published,
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
                        find(
                            ctx.published,
                            Level::Rso,
                            rso_id,
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
        rows.push(HeatRow {
            label: ctx.t["region_value"].clone(),
            kind: "region".into(),
            unit_id: rso.region.clone(),
            cells: scales
                .iter()
                .map(|s| {
                    shown(
                        find(
                            ctx.published,
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
        let trends = scales
            .iter()
            .map(|s| {
                let construct = config.catalogue.construct(&instrument, &version, s);
                trend_svg(
                    ctx,
                    &names,
                    rso,
                    &axis,
                    &instrument,
                    construct,
                    &names.scale(&instrument, &version, s),
                )
            })
            .collect();
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
            distribution: distribution_svg(ctx, &names, rso_id, &instrument, &version, cycle),
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
            let total = find(
                ctx.published,
                Level::Department,
                unit,
                instrument,
                version,
                TOTAL,
                cycle,
            );
            let Some(total) = total else { continue };
            let grade = grade_scale
                .as_ref()
                .and_then(|g| {
                    find(
                        ctx.published,
                        Level::Department,
                        unit,
                        instrument,
                        version,
                        g,
                        cycle,
                    )
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
                    find(
                        ctx.published,
                        Level::Department,
                        unit,
                        instrument,
                        version,
                        g,
                        cycle,
                    )
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
        let (names_masked, details_masked) = masked.get();
        m.push(fill(
            &ctx.t["method_masked_count"],
            &[
                ("names", names_masked.to_string()),
                ("details", details_masked.to_string()),
            ],
        ));
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
        instruments: sections,
        exit,
        heat_legend: heat_legend(ctx),
        method,
        sources,
    })
}
