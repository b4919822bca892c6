//! The COC's institution report: every department of one institution
//! across specialties in one overview (instrument × department, with trend
//! arrows and findings), then per department its signals, points for
//! improvement, actions (overdue flagged), visitations and escalations,
//! participation and exit results; then the totals per instrument against
//! the RSO and region.

use std::collections::BTreeSet;

use serde::Serialize;

use super::labels::*;
use super::views::*;
use crate::score::TOTAL;
use crate::table::Level;

/// Everything the institution report template receives.
#[derive(Debug, Clone, Serialize)]
pub struct InstitutionReport {
    /// Labels.
    pub t: Labels,
    /// Language.
    pub lang: String,
    /// Title.
    pub title: String,
    /// Institution id.
    pub institution_id: String,
    /// Institution name.
    pub institution: String,
    /// Cycle.
    pub cycle: String,
    /// Data up to.
    pub data_until: String,
    /// Generated on.
    pub generated_on: String,
    /// Instruments with their heat rows (department, its RSO, its region).
    pub instruments: Vec<InstrumentSection>,
    /// The overview's columns: instruments.
    pub overview_columns: Vec<String>,
    /// The overview: per department its total per instrument (with a trend
    /// arrow) and its numbers of signals and points for improvement.
    pub overview: Vec<OverviewLine>,
    /// Per department: its loop.
    pub departments: Vec<DepartmentBlock>,
    /// Method texts.
    pub method: Vec<String>,
}

/// A department in the institution overview.
#[derive(Debug, Clone, Serialize)]
pub struct OverviewLine {
    /// Unit id.
    pub unit_id: String,
    /// Its name (specialty).
    pub name: String,
    /// Its report's file stem.
    pub file: String,
    /// Its report in its own cycle's folder, for a department with cycles
    /// of its own, relative to this one and without the extension; empty
    /// where it is in this cycle's (`../department/<file>`).
    pub link: String,
    /// Per instrument: the total, and ↑, ↓ or → against the previous cycle
    /// (a significant change, or none).
    pub cells: Vec<(ShownCell, String)>,
    /// Signals.
    pub signals: usize,
    /// Points for improvement.
    pub improvements: usize,
}

/// One department's loop in the institution report.
#[derive(Debug, Clone, Serialize)]
pub struct DepartmentBlock {
    /// Unit id.
    pub unit_id: String,
    /// Its name.
    pub name: String,
    /// Its report's file stem.
    pub file: String,
    /// Signals and points for improvement, in words.
    pub findings: Vec<FindingView>,
    /// Its actions.
    pub actions: Vec<super::cycle::ActionView>,
    /// Its visitations.
    pub visitations: Vec<super::cycle::VisitationView>,
    /// Its escalations.
    pub escalations: Vec<super::cycle::EscalationView>,
    /// Participation: instrument, respondents (response rate).
    pub participation: Vec<(String, String)>,
    /// The exit grade (1-10) and its n, if measured.
    pub exit_grade: Option<(String, u64)>,
}

/// The overview and the per-department blocks.
fn departments(
    ctx: &Ctx,
    names: &Names,
    inst_id: &str,
    cycle: &str,
) -> (
    Vec<String>,
    Vec<OverviewLine>,
    Vec<DepartmentBlock>,
    ScalesByVersion,
) {
    let config = ctx.config;
    let instruments = versions_in(
        &config.catalogue,
        ctx.published,
        Level::Institution,
        inst_id,
        cycle,
    );
    let columns = instruments
        .iter()
        .map(|(i, _)| names.instrument(i))
        .collect();
    let mut lines = Vec::new();
    let mut blocks = Vec::new();
    // The subscales the blocks' findings speak of, per instrument version.
    let mut scales = ScalesByVersion::new();
    let cycles = config.cycles();
    let overview_cycle = cycle;
    for rso in config.registry.rsos.values() {
        // A department of an RSO with cycles of its own at the cycle that
        // ended last for it by this one's end.
        let rso_cycle = cycles.rso_latest_ended(&rso.id, cycle);
        let cycle = rso_cycle.as_str();
        let (_, units) = super::cycle::members_in(rso, cycle);
        let unit = crate::domain::DepartmentId::new(inst_id, &rso.specialty).unit_id();
        if !units.contains(&unit)
            || !ctx
                .published
                .unit_cells(Level::Department, &unit)
                .iter()
                .any(|c| c.period == cycle)
        {
            continue;
        }
        let fs: Vec<_> = super::cycle::rso_findings(ctx, &rso.id, &units, cycle)
            .into_iter()
            .filter(|f| f.unit_id == unit)
            .collect();
        // Counted as the report lists them: a finding over several
        // subscales of one instrument is one line, so one.
        let summary = summary_of(&fs, config, names);
        let cells = instruments
            .iter()
            .map(|(i, v)| total_with_arrow(ctx, names, &unit, (i, v), cycle))
            .collect();
        let name = if cycle == overview_cycle {
            names.specialty(&rso.specialty)
        } else {
            format!("{} ({cycle})", names.specialty(&rso.specialty))
        };
        let file = unit.replace(':', "_");
        lines.push(OverviewLine {
            unit_id: unit.clone(),
            name: name.clone(),
            link: if cycle == overview_cycle {
                String::new()
            } else {
                format!("../../{cycle}/department/{file}")
            },
            file: file.clone(),
            cells,
            signals: summary.signals.len(),
            improvements: summary.improvements.len(),
        });
        // (The blocks show signals and improvement points, not strengths.)
        let in_blocks = fs.iter().filter(|f| f.kind != crate::pdca::Kind::Strength);
        for (k, v) in finding_scales(config, in_blocks) {
            scales.entry(k).or_default().extend(v);
        }
        let quality = super::cycle::loop_view(ctx, names, &rso.id, &units, cycle, &fs);
        let here = |i: Option<&str>| i == Some(inst_id);
        let inst_name = names.institution(inst_id);
        let participation = instruments
            .iter()
            .filter_map(|(i, v)| {
                let c = ctx
                    .published
                    .cell(Level::Department, &unit, i, v, TOTAL, cycle)?;
                Some((names.instrument(i), participation_text(c, names)))
            })
            .collect();
        let exit_grade = config
            .catalogue
            .iter()
            .filter(|d| d.items.iter().any(|i| i.report_as.is_some()))
            .find_map(|def| {
                let g = def.grade_subscale()?;
                let c = ctx.published.cell(
                    Level::Department,
                    &unit,
                    &def.id,
                    &def.version,
                    g,
                    cycle,
                )?;
                // (`shown` gives a grade on its own 1-10 scale.)
                let text = shown(Some(c), config.floor_of(&def.id, &def.version), names).text;
                Some((text, c.n_respondents))
            });
        blocks.push(DepartmentBlock {
            unit_id: unit.clone(),
            name,
            file,
            findings: summary
                .signals
                .into_iter()
                .chain(summary.improvements)
                .collect(),
            actions: quality
                .actions
                .into_iter()
                .filter(|a| here(a.action.institution_id.as_deref()))
                .collect(),
            visitations: quality
                .visitations
                .into_iter()
                .filter(|v| v.unit == inst_name)
                .collect(),
            escalations: quality
                .escalations
                .into_iter()
                .filter(|e| here(e.signal.institution_id.as_deref()))
                .collect(),
            participation,
            exit_grade,
        });
    }
    (columns, lines, blocks, scales)
}

pub(super) fn institution_report(
    ctx: &Ctx,
    inst_id: &str,
    cycle: &str,
) -> Option<InstitutionReport> {
    let config = ctx.config;
    let names = ctx.names();
    let inst = config.registry.institutions.get(inst_id)?;
    let (overview_columns, overview, departments, shown_scales) =
        departments(ctx, &names, inst_id, cycle);
    let mut sections = Vec::new();
    for (instrument, version) in versions_in(
        &ctx.config.catalogue,
        ctx.published,
        Level::Institution,
        inst_id,
        cycle,
    ) {
        let floor = config.floor_of(&instrument, &version);
        let mut rows = Vec::new();
        let depts: BTreeSet<String> = ctx
            .published
            .cells_starting(Level::Department, &format!("{inst_id}:"))
            .iter()
            .filter(|c| {
                c.institution_id.as_deref() == Some(inst_id)
                    && c.instrument == instrument
                    && c.instrument_version == version
                    && c.period == cycle
            })
            .map(|c| c.unit_id.clone())
            .collect();
        for d in &depts {
            let dept =
                ctx.published
                    .cell(Level::Department, d, &instrument, &version, TOTAL, cycle);
            let rso = dept.and_then(|c| c.rso_id.clone());
            let region = dept
                .and_then(|c| c.region_id.clone())
                .unwrap_or_else(|| inst.region.clone());
            rows.push(HeatRow {
                label: names.unit(Level::Department, d),
                kind: "department".into(),
                unit_id: d.clone(),
                cells: vec![
                    shown(dept, floor, &names),
                    shown(
                        rso.as_deref().and_then(|r| {
                            ctx.published
                                .cell(Level::Rso, r, &instrument, &version, TOTAL, cycle)
                        }),
                        floor,
                        &names,
                    ),
                    shown(
                        ctx.published.cell(
                            Level::Region,
                            &region,
                            &instrument,
                            &version,
                            TOTAL,
                            cycle,
                        ),
                        floor,
                        &names,
                    ),
                ],
            });
        }
        if rows.is_empty() {
            continue;
        }
        sections.push(InstrumentSection {
            id: instrument.clone(),
            name: format!("{} ({})", names.instrument(&instrument), version),
            columns: vec![
                ctx.t["department"].clone(),
                ctx.t["rso_value"].clone(),
                ctx.t["region_value"].clone(),
            ],
            rows,
            trends: Vec::new(),
            trend_legend: String::new(),
            department_trends: Vec::new(),
            department_legend: String::new(),
            distribution: None,
            changes: change_views(
                ctx,
                &names,
                &depts
                    .iter()
                    .map(|d| (Level::Department, d.clone()))
                    .collect::<Vec<_>>(),
                &instrument,
                &version,
                cycle,
            )
            .into_iter()
            .filter(|c| c.scale == ctx.t["total"])
            .collect(),
            // The section shows totals; the subscale scores are in the
            // departments' findings.
            unverified_note: shown_scales
                .get(&(instrument.clone(), version.clone()))
                .and_then(|s| {
                    unverified_note(
                        ctx,
                        &names,
                        &instrument,
                        &version,
                        s.iter().map(String::as_str),
                    )
                }),
        });
    }
    Some(InstitutionReport {
        overview_columns,
        overview,
        departments,
        t: ctx.t.clone(),
        lang: ctx.opts.lang.clone(),
        title: config.title.clone(),
        institution_id: inst_id.to_string(),
        institution: inst.name.clone(),
        cycle: cycle.to_string(),
        data_until: ctx.published.data_until(cycle),
        generated_on: ctx.opts.today.to_string(),
        instruments: sections,
        method: method_texts(ctx),
    })
}
