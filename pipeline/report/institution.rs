//! The COC's institution report: every department of one institution.

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
    /// Method texts.
    pub method: Vec<String>,
}

pub(super) fn institution_report(
    ctx: &Ctx,
    inst_id: &str,
    cycle: &str,
) -> Option<InstitutionReport> {
    let config = ctx.config;
    let names = Names {
        config,
        lang: &ctx.opts.lang,
        t: ctx.t,
    };
    let inst = config.registry.institutions.get(inst_id)?;
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
            let dept = find(
                ctx.published,
                Level::Department,
                d,
                &instrument,
                &version,
                TOTAL,
                cycle,
            );
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
                            find(
                                ctx.published,
                                Level::Rso,
                                r,
                                &instrument,
                                &version,
                                TOTAL,
                                cycle,
                            )
                        }),
                        floor,
                        &names,
                    ),
                    shown(
                        find(
                            ctx.published,
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
        });
    }
    Some(InstitutionReport {
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
