//! The R-COC's region overview: every RSO with its signals.

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
    /// RSO name.
    pub rso: String,
    /// Per instrument: the total on 0-100.
    pub cells: Vec<ShownCell>,
    /// Signals of this RSO.
    pub signals: usize,
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
    /// Signals, each with its reason.
    pub signals: Vec<FindingView>,
    /// Participation: RSO, instrument, respondents, rate.
    pub participation: Vec<(String, String, String)>,
    /// Largest improvements.
    pub improvements: Vec<String>,
    /// Method texts.
    pub method: Vec<String>,
}

pub(super) fn region_report(ctx: &Ctx, region_id: &str, cycle: &str) -> RegionReport {
    let config = ctx.config;
    let names = Names {
        config,
        lang: &ctx.opts.lang,
        t: ctx.t,
    };
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
    let (findings, missing) = ctx.findings(cycle);
    let mut fs: Vec<Finding> = findings
        .iter()
        // The overview keeps to totals; subscales are in the RSO reports.
        .filter(|f| {
            f.kind == Kind::Signal
                && f.scale_id == TOTAL
                && f.rso_id.as_ref().is_some_and(|r| rso_ids.contains(r))
        })
        .cloned()
        .collect();
    fs.extend(
        missing
            .iter()
            .filter(|f| f.rso_id.as_ref().is_some_and(|r| rso_ids.contains(r)))
            .cloned(),
    );
    let rows = rsos
        .iter()
        .map(|r| OverviewRow {
            rso_id: r.id.clone(),
            rso: r.name.clone(),
            cells: instruments
                .iter()
                .map(|(i, v)| {
                    shown(
                        find(ctx.published, Level::Rso, &r.id, i, v, TOTAL, cycle),
                        config.floor_of(i, v),
                        &names,
                    )
                })
                .collect(),
            signals: fs
                .iter()
                .filter(|f| f.rso_id.as_deref() == Some(r.id.as_str()))
                .count(),
        })
        .collect();
    let mut participation = Vec::new();
    for r in &rsos {
        for (i, v) in &instruments {
            if let Some(c) = find(ctx.published, Level::Rso, &r.id, i, v, TOTAL, cycle) {
                participation.push((
                    r.name.clone(),
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
    let improvements = pdca::largest_improvements(ctx.published, cycle, &config.rules, 8)
        .into_iter()
        .filter(|c| c.region_id.as_deref() == Some(region_id) || rso_ids.contains(&c.unit_id))
        .map(|c| {
            format!(
                "{}, {} ({}): +{} ({}, g = {})",
                names.unit(c.level, &c.unit_id),
                names.scale(&c.instrument, &c.instrument_version, &c.scale_id),
                names.instrument(&c.instrument),
                c.diff_pomp.map(|d| num(d, 1, lang)).unwrap_or_default(),
                c.p_value.map(|p| p_text(p, lang)).unwrap_or_default(),
                c.hedges_g.map(|g| num(g, 2, lang)).unwrap_or_default()
            )
        })
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
        signals: fs.iter().map(|f| describe(f, config, &names)).collect(),
        participation,
        improvements,
        method: method_texts(ctx),
    }
}
