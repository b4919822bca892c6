//! The pieces every report shows, ready for a template: shown cells,
//! findings in words, change rows, and the context a report is drawn from.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::chart::{self};
use super::labels::*;
use super::Options;
use crate::config::Config;
use crate::domain::SuppressionReason;
use crate::pdca::{self, Finding, Kind, Rule};
use crate::score::TOTAL;
use crate::table::{Cell, Level, Published};

pub(super) use super::summary::summary_of;
pub use super::summary::SummaryView;

/// One cell of a heatmap or table, ready to show.
#[derive(Debug, Clone, Serialize)]
pub struct ShownCell {
    /// Text shown.
    pub text: String,
    /// Exact value (0-100) for machines and tests; None when not shown.
    pub value: Option<f64>,
    /// Background colour.
    pub bg: String,
    /// Text colour.
    pub fg: String,
    /// Suppressed: no value.
    pub suppressed: bool,
    /// Indicative (below the reliability minimum).
    pub indicative: bool,
    /// Tooltip.
    pub title: String,
    /// Respondents, shown in the cell (not only in the tooltip), where a
    /// value is shown.
    pub n: Option<u64>,
    /// The region's band the value lies in: `low` (below the improvement
    /// threshold), `mid` or `high` (at or above the strength threshold); a
    /// second cue besides colour. Empty without a value.
    pub band: String,
}

impl ShownCell {
    pub(super) fn empty() -> ShownCell {
        ShownCell {
            text: "–".into(),
            value: None,
            bg: "#ffffff".into(),
            fg: "#777777".into(),
            suppressed: false,
            indicative: false,
            title: String::new(),
            n: None,
            band: String::new(),
        }
    }
}

pub(super) fn shown(c: Option<&Cell>, floor: u32, names: &Names) -> ShownCell {
    let Some(c) = c else {
        return ShownCell::empty();
    };
    // Grey, no value: below the floor, or hidden to protect a small group.
    let grey = |text: String, title: String| ShownCell {
        text,
        value: None,
        bg: "#eeeeee".into(),
        fg: "#555555".into(),
        suppressed: true,
        indicative: false,
        title,
        n: None,
        band: String::new(),
    };
    if c.suppressed && c.suppression_reason == Some(crate::domain::SuppressionReason::Secondary) {
        return grey(
            names.t["hidden_short"].clone(),
            names.t["hidden_title"].clone(),
        );
    }
    // Left out of a table that would need a complement: say so, never
    // "too few".
    if c.suppressed && c.suppression_reason == Some(SuppressionReason::NotPublished) {
        return grey(
            names.t["not_published_short"].clone(),
            names.t["not_published_title"].clone(),
        );
    }
    if c.suppressed || c.mean_pomp.is_none() {
        return grey(
            fill(
                &names.t["suppressed_short"],
                &[("floor", floor.to_string())],
            ),
            fill(
                &names.t["suppressed_title"],
                &[("n", c.n_respondents.to_string())],
            ),
        );
    }
    let p = c.mean_pomp.unwrap_or_default();
    let rules = &names.config.rules;
    let band = if p < rules.improvement_pomp {
        "low"
    } else if p >= rules.strength_pomp {
        "high"
    } else {
        "mid"
    };
    // A grade on its own scale (1-10), coloured by its place on 0-100.
    let number = match grade_range(
        names.config,
        &c.instrument,
        &c.instrument_version,
        &c.scale_id,
    ) {
        Some(_) => num(c.mean.unwrap_or_default(), 1, names.lang),
        None => num(p, 0, names.lang),
    };
    ShownCell {
        n: Some(c.n_respondents),
        band: band.into(),
        text: format!("{number}{}", if c.reliable { "" } else { "*" }),
        value: Some(p),
        bg: chart::band_colour(p, rules.improvement_pomp, rules.strength_pomp),
        fg: "#000000".into(),
        suppressed: false,
        indicative: !c.reliable,
        title: format!(
            "n = {}{}{}",
            c.n_respondents,
            c.mean
                .map(|m| format!(
                    ", {} = {}",
                    names.t["current"].to_lowercase(),
                    num(m, 2, names.lang)
                ))
                .unwrap_or_default(),
            if c.reliable {
                String::new()
            } else {
                format!(" ({})", names.t["indicative"])
            }
        ),
    }
}

/// The range of a grade subscale (the exit survey's 1-10 grade), if the
/// scale is one: a grade is shown on its own scale, not on 0-100.
pub(super) fn grade_range(
    config: &Config,
    instrument: &str,
    version: &str,
    scale: &str,
) -> Option<(f64, f64)> {
    let def = config.catalogue.get(instrument, version)?;
    let item = def
        .items
        .iter()
        .find(|i| i.kind == crate::instrument::ItemKind::Grade && i.subscale == scale)?;
    Some(def.item_scale(item))
}

/// A score on 0-100 of a grade, on the grade's own scale: "5,7 (1-10)".
pub(super) fn grade_text(pomp: f64, (lo, hi): (f64, f64), lang: &str) -> String {
    format!(
        "{} ({}-{})",
        num(lo + pomp / 100.0 * (hi - lo), 1, lang),
        lo,
        hi
    )
}

/// One finding's id with the group's decision and the actions that
/// answer it.
#[derive(Debug, Clone, Serialize)]
pub struct FindingRef {
    /// The finding's stable id (the HTML anchor).
    pub id: String,
    /// The subscale it is about, in words.
    pub scale: String,
    /// The decision (`erkend`, `niet herkend`, `in behandeling`), if any.
    pub decision: Option<String>,
    /// The decision in the report's language.
    pub decision_label: String,
    /// Date of the decision.
    pub decided_on: String,
    /// The group's explanation.
    pub explanation: String,
    /// Ids of the actions that answer it.
    pub actions: Vec<String>,
    /// It asks for an action and has none (and was not "niet herkend").
    pub needs_action: bool,
}

pub(super) fn finding_ref(
    f: &Finding,
    config: &Config,
    names: &Names,
    version: &str,
) -> FindingRef {
    let id = f.id().to_string();
    let register = &config.register;
    let decision = register.decision(&id);
    FindingRef {
        scale: names.scale(&f.instrument, version, &f.scale_id),
        decision: decision.map(|d| d.decision.clone()),
        decision_label: decision
            .map(|d| {
                label_or(
                    names.t,
                    &format!("decision_{}", d.decision.replace(' ', "_")),
                    &d.decision,
                )
            })
            .unwrap_or_else(|| names.t["no_decision"].clone()),
        decided_on: decision
            .and_then(|d| d.date)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        explanation: decision.map(|d| d.explanation.clone()).unwrap_or_default(),
        actions: pdca::follow::actions_for(register, &id)
            .iter()
            .map(|a| a.action_id.clone())
            .collect(),
        needs_action: pdca::follow::needs_action(register, f),
        id,
    }
}

impl FindingView {
    /// Counts the references' decisions, open points and actions.
    pub(super) fn tally(mut self) -> FindingView {
        self.decided = self.refs.iter().filter(|r| r.decision.is_some()).count();
        self.open = self.refs.iter().filter(|r| r.needs_action).count();
        let mut ids: Vec<String> = self.refs.iter().flat_map(|r| r.actions.clone()).collect();
        ids.sort();
        ids.dedup();
        self.action_ids = ids;
        self
    }
}

/// A finding in words.
#[derive(Debug, Clone, Serialize)]
pub struct FindingView {
    /// The sentence.
    pub text: String,
    /// Kind.
    pub kind: Kind,
    /// The id of the (first) finding.
    pub id: String,
    /// Every finding the sentence covers, with decisions and actions.
    pub refs: Vec<FindingRef>,
    /// How many of them have a decision.
    pub decided: usize,
    /// How many still need an action.
    pub open: usize,
    /// The actions that answer any of them.
    pub action_ids: Vec<String>,
    /// The rule's key.
    pub rule: Rule,
    /// Unit id.
    pub unit_id: String,
    /// Instrument.
    pub instrument: String,
    /// Subscale (the first, for a group).
    pub scale_id: String,
    /// Every subscale the finding covers.
    pub scales: Vec<String>,
}

pub(super) fn describe(f: &Finding, config: &Config, names: &Names) -> FindingView {
    describe_in(f, config, names, &version_of(config, f))
}

/// The instrument version a finding is about: its own, or the (first)
/// version whose definition has its scale.
fn version_of(config: &Config, f: &Finding) -> String {
    Some(f.instrument_version.clone())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| version_with(config, f))
}

/// Subscale ids per (instrument, version).
pub(super) type ScalesByVersion = BTreeMap<(String, String), BTreeSet<String>>;

/// The subscales findings speak of, per instrument version (the total left
/// out): what `unverified_note` needs for a report whose subscale scores
/// are only in its findings.
pub(super) fn finding_scales<'f>(
    config: &Config,
    fs: impl IntoIterator<Item = &'f Finding>,
) -> ScalesByVersion {
    let mut out = ScalesByVersion::new();
    for f in fs.into_iter().filter(|f| f.scale_id != TOTAL) {
        out.entry((f.instrument.clone(), version_of(config, f)))
            .or_default()
            .insert(f.scale_id.clone());
    }
    out
}

/// The (first) instrument version whose definition has the finding's scale.
fn version_with(config: &Config, f: &Finding) -> String {
    config
        .catalogue
        .iter()
        .filter(|i| i.id == f.instrument)
        .map(|i| i.version.clone())
        .find(|v| {
            config
                .catalogue
                .get(&f.instrument, v)
                .is_some_and(|i| f.scale_id == TOTAL || i.subscale(&f.scale_id).is_some())
        })
        .unwrap_or_default()
}

fn describe_in(f: &Finding, config: &Config, names: &Names, version: &str) -> FindingView {
    let lang = names.lang;
    let o = |v: Option<f64>, d: usize| v.map(|x| num(x, d, lang)).unwrap_or_else(|| "–".into());
    // A grade is told on its own scale, with its 0-100 beside it (the
    // thresholds are on 0-100).
    let grade = grade_range(config, &f.instrument, version, &f.scale_id);
    let on_scale = |v: Option<f64>| match (v, grade) {
        (Some(p), Some(r)) => format!("{}; {}", grade_text(p, r, lang), num(p, 0, lang)),
        _ => o(v, 0),
    };
    let vals = vec![
        ("unit", names.unit(f.level, &f.unit_id)),
        ("scale", names.scale(&f.instrument, version, &f.scale_id)),
        ("instrument", names.instrument(&f.instrument)),
        ("pomp", on_scale(f.pomp)),
        ("previous", on_scale(f.previous_pomp)),
        (
            "p",
            f.p_value
                .map(|p| p_text(p, lang))
                .unwrap_or_else(|| "p = –".into()),
        ),
        ("g", o(f.hedges_g, 2)),
        ("n", f.n.map(|n| n.to_string()).unwrap_or_default()),
        (
            "rate",
            f.response_rate.map(|r| pct(r, lang)).unwrap_or_default(),
        ),
        ("year", f.year.map(|y| y.to_string()).unwrap_or_default()),
        (
            "threshold",
            match f.rule {
                Rule::HighScore => threshold(config.rules.strength_pomp, lang),
                Rule::LowScore => threshold(config.rules.improvement_pomp, lang),
                Rule::LowResponse => pct(config.rules.min_response_rate, lang),
                _ => String::new(),
            },
        ),
    ];
    let key = match f.rule {
        Rule::HighScore => "rule_high_score",
        Rule::LowScore => "rule_low_score",
        Rule::Decline => "rule_decline",
        Rule::Improved => "rule_improved",
        Rule::TwoCyclesRunning => "rule_two_cycles",
        Rule::LowResponse => "rule_low_response",
        Rule::Missing => "rule_missing",
    };
    let mut text = fill(&names.t[key], &vals);
    if f.version_changed {
        text = format!(
            "{} ({})",
            text.trim_end_matches('.'),
            names.t["version_changed"]
        );
    }
    FindingView {
        text,
        kind: f.kind,
        id: f.id().to_string(),
        refs: vec![finding_ref(f, config, names, version)],
        decided: 0,
        open: 0,
        action_ids: Vec::new(),
        rule: f.rule,
        unit_id: f.unit_id.clone(),
        instrument: f.instrument.clone(),
        scale_id: f.scale_id.clone(),
        scales: vec![f.scale_id.clone()],
    }
    .tally()
}

/// A row of a heatmap.
#[derive(Debug, Clone, Serialize)]
pub struct HeatRow {
    /// Row label.
    pub label: String,
    /// `department`, `rso` or `region` (benchmarks are styled apart).
    pub kind: String,
    /// Unit id.
    pub unit_id: String,
    /// One per column.
    pub cells: Vec<ShownCell>,
}

/// One row of a change table.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeView {
    /// Unit.
    pub unit: String,
    /// Subscale.
    pub scale: String,
    /// Previous period.
    pub previous: String,
    /// Difference on 0-100.
    pub diff: String,
    /// p.
    pub p: String,
    /// g.
    pub g: String,
    /// The versions differ.
    pub version_changed: bool,
    /// No numbers: a cell is suppressed.
    pub suppressed: bool,
}

/// One instrument's section of the RSO report.
#[derive(Debug, Clone, Serialize)]
pub struct InstrumentSection {
    /// Instrument id.
    pub id: String,
    /// Display name with version.
    pub name: String,
    /// Column headers (subscales, total last).
    pub columns: Vec<String>,
    /// Institutions, then RSO and region benchmarks.
    pub rows: Vec<HeatRow>,
    /// Trend charts per subscale (RSO against the region), with tables.
    pub trends: Vec<TrendView>,
    /// The legend of those charts, once (SVG; empty without charts).
    pub trend_legend: String,
    /// Each department's total over the years against the RSO and the
    /// region (small multiples), with tables.
    pub department_trends: Vec<TrendView>,
    /// Their legend, once.
    pub department_legend: String,
    /// The answers per item (diverging bars and a table), when published.
    pub distribution: Option<DistributionView>,
    /// Changes since the previous cycle.
    pub changes: Vec<ChangeView>,
    /// Said once per section when subscale scores it shows rest on a
    /// placeholder item table (`items_verified = false` in the instrument
    /// file): the sentence in the reader's language, else `None`.
    pub unverified_note: Option<String>,
}

/// An instrument's answer distribution in a report: the chart, and the same
/// shares as a table for readers who cannot see the chart.
#[derive(Debug, Clone, Serialize)]
pub struct DistributionView {
    /// The diverging bars (SVG).
    pub svg: String,
    /// The scale points' labels, lowest first (the table's columns).
    pub points: Vec<String>,
    /// Per item: its short name, its share per point ("12%"), its answers
    /// (n) and its not-applicable answers.
    pub rows: Vec<(String, Vec<String>, u64, u64)>,
    /// How items without a label of their own are named, where one is.
    pub note: Option<String>,
}

/// What of an instrument version a report shows rests on a placeholder
/// item table (`items_verified = false`).
pub(super) struct Unverified {
    /// "D-RECT (2016)".
    pub name: String,
    /// The unverified subscales shown, in the instrument's order; `None`
    /// when every subscale of the instrument is unverified.
    pub scales: Option<Vec<String>>,
    /// The total does not depend on the division (every unverified
    /// subscale counts towards it).
    pub total_unaffected: bool,
}

impl Unverified {
    /// The instrument in the words of label `all` (`{instrument}`) or,
    /// where only some subscales are unverified, of label `some` (also
    /// `{scales}`).
    pub(super) fn words(&self, t: &Labels, all: &str, some: &str) -> String {
        match &self.scales {
            None => fill(&t[all], &[("instrument", self.name.clone())]),
            Some(scales) => fill(
                &t[some],
                &[
                    ("instrument", self.name.clone()),
                    ("scales", scales.join(", ")),
                ],
            ),
        }
    }
}

/// Which subscales of an instrument version a report shows (`shown`,
/// subscale ids; the total is ignored) rest on a placeholder item table:
/// `None` when none of them does.
pub(super) fn unverified_of<'s>(
    ctx: &Ctx,
    names: &Names,
    instrument: &str,
    version: &str,
    shown: impl IntoIterator<Item = &'s str>,
) -> Option<Unverified> {
    let def = ctx.config.catalogue.get(instrument, version)?;
    let unverified = def.unverified();
    let shown: BTreeSet<&str> = shown
        .into_iter()
        .filter(|s| *s != TOTAL && unverified.contains(s))
        .collect();
    if shown.is_empty() {
        return None;
    }
    Some(Unverified {
        name: format!("{} ({version})", names.instrument(instrument)),
        scales: (unverified.len() != def.subscales.len()).then(|| {
            unverified
                .iter()
                .filter(|s| shown.contains(*s))
                .map(|s| names.scale(instrument, version, s))
                .collect()
        }),
        total_unaffected: def.total_unaffected(),
    })
}

/// The sentence a report prints once for an instrument version whose
/// shown subscales rest on a placeholder item table (`unverified_of`), in
/// the reader's language: the instrument named as a whole, or its
/// unverified subscales listed; where the total does not depend on the
/// division, it says so.
pub(super) fn unverified_note<'s>(
    ctx: &Ctx,
    names: &Names,
    instrument: &str,
    version: &str,
    shown: impl IntoIterator<Item = &'s str>,
) -> Option<String> {
    let u = unverified_of(ctx, names, instrument, version, shown)?;
    let mut text = u.words(ctx.t, "unverified_all", "unverified_some");
    if u.total_unaffected {
        text.push(' ');
        text.push_str(&ctx.t["unverified_total"]);
    }
    Some(text)
}

/// A clinic's exit survey results.
#[derive(Debug, Clone, Serialize)]
pub struct ExitView {
    /// Clinic.
    pub clinic: String,
    /// Mean grade, or the suppression text.
    pub grade: ShownCell,
    /// Respondents.
    pub n: u64,
    /// Tops (only where the group passes the floor).
    pub tops: Vec<(String, usize)>,
    /// Tips.
    pub tips: Vec<(String, usize)>,
}

/// The instrument versions of a cycle for a unit, latest version last.
pub(super) fn versions_in(
    catalogue: &crate::instrument::Catalogue,
    p: &Published,
    level: Level,
    unit: &str,
    cycle: &str,
) -> Vec<(String, String)> {
    let set: BTreeSet<(String, String)> = p
        .unit_cells(level, unit)
        .iter()
        .filter(|c| c.period == cycle)
        .map(|c| (c.instrument.clone(), c.instrument_version.clone()))
        .collect();
    // Keep the latest version of each instrument (versions sort as text:
    // 2011 < 2016, smart-2016 < smart-7pt).
    let mut latest: BTreeMap<String, String> = BTreeMap::new();
    for (i, v) in set {
        latest.insert(i, v);
    }
    // In the definitions' display order (stable: by id within an order).
    let order = |id: &str| {
        catalogue
            .iter()
            .find(|d| d.id == id)
            .map_or(99, |d| d.display_order())
    };
    let mut v: Vec<(String, String)> = latest.into_iter().collect();
    v.sort_by_key(|(i, _)| order(i));
    v
}

/// Findings and missing measurements per cycle, each made on first use.
pub(super) type Found = BTreeMap<String, std::sync::OnceLock<(Vec<Finding>, Vec<Finding>)>>;

/// A department's total of one instrument in a cycle, and ↑, ↓ or → for a
/// significant rise, decline or no significant change since the previous
/// cycle (nothing where no reliable change is published): the cell of the
/// department × instrument overviews.
pub(super) fn total_with_arrow(
    ctx: &Ctx,
    names: &Names,
    unit: &str,
    (instrument, version): (&str, &str),
    cycle: &str,
) -> (ShownCell, String) {
    let config = ctx.config;
    let cell = ctx
        .published
        .cell(Level::Department, unit, instrument, version, TOTAL, cycle);
    let change = ctx
        .published
        .unit_changes(Level::Department, unit)
        .iter()
        .find(|c| {
            c.instrument == instrument
                && c.scale_id == TOTAL
                && c.period == cycle
                && !c.suppressed
                && c.reliable
        });
    let arrow = match change.and_then(|c| c.p_value.zip(c.diff_pomp)) {
        Some((p, d)) if p < config.rules.significance && d > 0.0 => "↑",
        Some((p, d)) if p < config.rules.significance && d < 0.0 => "↓",
        Some(_) => "→",
        None => "",
    };
    (
        shown(cell, config.floor_of(instrument, version), names),
        arrow.to_string(),
    )
}

pub(super) fn found_for(cycles: &[String]) -> Found {
    cycles
        .iter()
        .map(|c| (c.clone(), std::sync::OnceLock::new()))
        .collect()
}

pub(super) struct Ctx<'a> {
    pub(super) config: &'a Config,
    pub(super) published: &'a Published,
    /// Per cycle, the findings and missing measurements of `published`,
    /// made once for all reports drawn from it.
    pub(super) found: &'a Found,
    pub(super) comments: &'a [crate::dataset::CommentRow],
    pub(super) opts: &'a Options,
    pub(super) t: &'a Labels,
}

impl Ctx<'_> {
    /// Names in the report's language.
    pub(super) fn names(&self) -> Names<'_> {
        Names {
            config: self.config,
            lang: &self.opts.lang,
            t: self.t,
        }
    }

    /// Every finding of a cycle, and the measurements the calendar expected
    /// in it that are not in the data.
    pub(super) fn findings(&self, cycle: &str) -> &(Vec<Finding>, Vec<Finding>) {
        let config = self.config;
        self.found
            .get(cycle)
            .expect("reports are only made for the cycles being rendered")
            .get_or_init(|| {
                // Only of the units whose cycle it is: an RSO with cycles
                // of its own and its departments have findings in theirs,
                // the others and the region in the region's.
                let cycles = config.cycles();
                // (A year is every unit's: the interim reports' findings.)
                let of_year = !crate::domain::Period::text_is_cycle(cycle);
                let theirs = |f: &Finding| {
                    of_year
                        || match f.level {
                            Level::Rso => cycles.rso_has(&f.unit_id, cycle),
                            Level::Department => match &f.rso_id {
                                Some(r) if f.rule == Rule::Missing => cycles.rso_has(r, cycle),
                                _ => cycles.department_has(&f.unit_id, cycle),
                            },
                            Level::Region | Level::Institution => cycles.region_has(cycle),
                        }
                };
                let mut found = pdca::findings(self.published, cycle, &config.rules);
                found.retain(theirs);
                let mut missing = pdca::missing_measurements(
                    self.published,
                    cycle,
                    &config.calendar,
                    &config.registry,
                    &config.register,
                );
                missing.retain(theirs);
                (found, missing)
            })
    }
}

/// The words charts draw, in the report's language.
pub(super) fn chart_words(ctx: &Ctx) -> chart::ChartWords {
    let t = |k: &str| ctx.t[k].clone();
    chart::ChartWords {
        no_data: t("chart_no_data"),
        failed: t("chart_failed"),
        band: t("chart_band"),
        band_short: t("chart_band_short"),
        not_applicable: t("chart_not_applicable"),
        caption: t("chart_caption"),
        middle_note: t("chart_middle_note"),
        no_answers: t("chart_no_answers"),
        hidden: t("chart_hidden"),
        legend: t("chart_legend"),
    }
}

/// A department's respondents in a cell, as the participation tables show
/// them: "12 (86%)", or why the cell is hidden (never its count).
pub(super) fn participation_text(c: &Cell, names: &Names) -> String {
    if c.suppressed {
        let floor = names.config.floor_of(&c.instrument, &c.instrument_version);
        return shown(Some(c), floor, names).text;
    }
    match c.response_rate {
        Some(r) => format!("{} ({})", c.n_respondents, pct(r, names.lang)),
        None => c.n_respondents.to_string(),
    }
}

/// A point of a trend chart from a cell (none for a hidden cell).
pub(super) fn trend_point(period: &str, c: Option<&Cell>) -> chart::TrendPoint {
    // A hidden cell is marked as such on the axis, never drawn as a value.
    let hidden = c.is_some_and(|c| c.suppressed);
    let c = c.filter(|c| !c.suppressed);
    let pomp =
        |v: Option<f64>, c: &Cell| v.map(|x| crate::score::pomp(x, c.scale_min, c.scale_max));
    chart::TrendPoint {
        period: period.to_string(),
        value: c.and_then(|c| c.mean_pomp),
        ci_low: c.and_then(|c| pomp(c.ci_low, c)),
        ci_high: c.and_then(|c| pomp(c.ci_high, c)),
        hidden,
    }
}

/// A trend chart in a report, and the same numbers as a table beside it
/// (for readers who cannot see the chart, and for paper).
#[derive(Debug, Clone, Serialize)]
pub struct TrendView {
    /// What the chart shows (its title).
    pub title: String,
    /// The chart (SVG).
    pub svg: String,
    /// The table's columns: one per line of the chart.
    pub columns: Vec<String>,
    /// Per period: the period and each line's value as a report shows it
    /// (the number, or why there is none; never a hidden number).
    pub rows: Vec<(String, Vec<String>)>,
}

/// One line of a trend chart: its cell per period of the chart.
pub(super) struct Line<'a> {
    /// Name in the legend and the table.
    pub(super) label: String,
    /// How it is drawn.
    pub(super) style: chart::SeriesStyle,
    /// Whether its confidence band is drawn.
    pub(super) band: bool,
    /// Its cell per period (none where it has no value).
    pub(super) cells: Vec<Option<&'a Cell>>,
}

/// What a trend chart plots of a cell.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Plotted {
    /// The score on 0-100, with its confidence interval.
    Score,
    /// A grade on its own scale (lowest, highest), with its confidence
    /// interval: an exit grade is 1-10 everywhere in a report.
    Grade(f64, f64),
    /// The response rate in percent (the table gives respondents too).
    ResponseRate,
}

/// A trend chart of `lines` over `periods` (the region's thresholds drawn;
/// the legend apart, once per section, see `chart::legend_svg`) and its
/// table, `w` x `h` pixels. Returns the chart's definition too, for the
/// section's legend.
pub(super) fn trend_view(
    ctx: &Ctx,
    names: &Names,
    title: String,
    (periods, breaks): (&[String], &[(usize, String)]),
    lines: Vec<Line<'_>>,
    plotted: Plotted,
    (w, h): (u32, u32),
) -> (TrendView, chart::TrendChart) {
    let floor_of = |c: &Cell| ctx.config.floor_of(&c.instrument, &c.instrument_version);
    let point = |p: &String, c: Option<&Cell>| match plotted {
        Plotted::Score => trend_point(p, c),
        Plotted::Grade(..) => {
            let shown = c.filter(|c| !c.suppressed);
            chart::TrendPoint {
                period: p.clone(),
                value: shown.and_then(|c| c.mean),
                ci_low: shown.and_then(|c| c.ci_low),
                ci_high: shown.and_then(|c| c.ci_high),
                hidden: c.is_some_and(|c| c.suppressed),
            }
        }
        Plotted::ResponseRate => chart::TrendPoint {
            period: p.clone(),
            value: c
                .filter(|c| !c.suppressed)
                .and_then(|c| c.response_rate)
                .map(|r| r * 100.0),
            hidden: c.is_some_and(|c| c.suppressed),
            ..Default::default()
        },
    };
    let text = |c: Option<&Cell>| match (plotted, c) {
        (_, None) => "–".to_string(),
        (Plotted::Score | Plotted::Grade(..), Some(c)) => shown(Some(c), floor_of(c), names).text,
        (Plotted::ResponseRate, Some(c)) => participation_text(c, names),
    };
    let rows = periods
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let cells = lines
                .iter()
                .map(|l| text(l.cells.get(i).copied().flatten()))
                .collect();
            (p.clone(), cells)
        })
        .collect();
    let series = lines
        .iter()
        .map(|l| chart::TrendSeries {
            label: l.label.clone(),
            style: l.style,
            band: l.band,
            points: periods
                .iter()
                .enumerate()
                .map(|(i, p)| point(p, l.cells.get(i).copied().flatten()))
                .collect(),
        })
        .collect();
    let (y_label, thresholds, fit_y) = match plotted {
        Plotted::Score => ("0-100".to_string(), thresholds(ctx), true),
        // The region's thresholds are on 0-100: drawn where they fall on
        // the grade's scale.
        Plotted::Grade(lo, hi) => (
            format!("{lo}-{hi}"),
            thresholds(ctx)
                .into_iter()
                .map(|(v, label, upper)| (lo + v / 100.0 * (hi - lo), label, upper))
                .collect(),
            true,
        ),
        Plotted::ResponseRate => (
            ctx.t["response_axis"].clone(),
            vec![(
                ctx.config.rules.min_response_rate * 100.0,
                ctx.t["threshold_response"].clone(),
                false,
            )],
            false,
        ),
    };
    let chart = chart::TrendChart {
        title: title.clone(),
        y_label,
        periods: periods.to_vec(),
        series,
        version_breaks: breaks.to_vec(),
        thresholds,
        fit_y,
        legend_apart: true,
        y_fixed: None,
        y_domain: match plotted {
            Plotted::Grade(lo, hi) => Some((lo, hi)),
            _ => None,
        },
        words: chart_words(ctx),
    };
    let view = TrendView {
        svg: chart::trend_svg(&chart, w, h),
        title,
        columns: lines.into_iter().map(|l| l.label).collect(),
        rows,
    };
    (view, chart)
}

/// The region's thresholds as reference lines of a trend chart.
pub(super) fn thresholds(ctx: &Ctx) -> Vec<(f64, String, bool)> {
    let r = &ctx.config.rules;
    vec![
        (
            r.improvement_pomp,
            ctx.t["threshold_improvement"].clone(),
            false,
        ),
        (r.strength_pomp, ctx.t["threshold_strength"].clone(), true),
    ]
}

/// The heatmap's legend: the region's bands in words.
pub(super) fn heat_legend(ctx: &Ctx) -> String {
    let (t, lang, r) = (ctx.t, ctx.opts.lang.as_str(), &ctx.config.rules);
    fill(
        &t["heat_legend"],
        &[
            ("improvement", threshold(r.improvement_pomp, lang)),
            ("strength", threshold(r.strength_pomp, lang)),
        ],
    )
}

/// How many names and contact details were masked in the open answers a
/// report prints (`masked`: names, details), for its method section.
pub(super) fn masked_count(ctx: &Ctx, masked: (u32, u32)) -> String {
    fill(
        &ctx.t["method_masked_count"],
        &[
            ("names", masked.0.to_string()),
            ("details", masked.1.to_string()),
        ],
    )
}

pub(super) fn method_texts(ctx: &Ctx) -> Vec<String> {
    let (t, lang, c) = (ctx.t, ctx.opts.lang.as_str(), ctx.config);
    vec![
        fill(
            &t["method_scores"],
            &[("half", pct(c.min_answered_fraction, lang))],
        ),
        fill(
            &t["method_privacy"],
            &[("floor", c.privacy_floor.to_string())],
        ),
        t["thresholds_note"].clone(),
        t["method_masked"].clone(),
        fill(
            &t["method_rules"],
            &[
                ("strength", threshold(c.rules.strength_pomp, lang)),
                ("improvement", threshold(c.rules.improvement_pomp, lang)),
                ("sig", num(c.rules.significance, 2, lang)),
                ("effect", num(c.rules.decline_effect, 1, lang)),
                ("rate", pct(c.rules.min_response_rate, lang)),
            ],
        ),
    ]
}

pub(super) fn change_views(
    ctx: &Ctx,
    names: &Names,
    units: &[(Level, String)],
    instrument: &str,
    version: &str,
    cycle: &str,
) -> Vec<ChangeView> {
    let lang = ctx.opts.lang.as_str();
    let mut out = Vec::new();
    for (level, unit) in units {
        for ch in ctx.published.unit_changes(*level, unit).iter().filter(|c| {
            c.instrument == instrument && c.instrument_version == version && c.period == cycle
        }) {
            let o =
                |v: Option<f64>, d: usize| v.map(|x| num(x, d, lang)).unwrap_or_else(|| "–".into());
            out.push(ChangeView {
                unit: names.unit(*level, unit),
                scale: names.scale(instrument, version, &ch.scale_id),
                previous: ch.previous_period.clone(),
                diff: if ch.suppressed {
                    match hidden_because(ctx, *level, unit, ch) {
                        // Hidden to protect another group: not "too few".
                        Some(SuppressionReason::Secondary) => names.t["hidden_short"].clone(),
                        Some(SuppressionReason::NotPublished) => {
                            names.t["not_published_short"].clone()
                        }
                        _ => fill(
                            &names.t["suppressed_short"],
                            &[(
                                "floor",
                                ctx.config.floor_of(instrument, version).to_string(),
                            )],
                        ),
                    }
                } else {
                    o(ch.diff_pomp, 1)
                },
                p: ch
                    .p_value
                    .map(|p| {
                        if p < 0.001 {
                            format!("< {}", num(0.001, 3, lang))
                        } else {
                            num(p, 3, lang)
                        }
                    })
                    .unwrap_or_else(|| "–".into()),
                g: o(ch.hedges_g, 2),
                version_changed: ch.version_changed,
                suppressed: ch.suppressed,
            });
        }
    }
    out
}

/// Why a change has no numbers: too few respondents in either of its two
/// cells (`MinN`) says more than "hidden to protect another group"
/// (`Secondary`), which is said only where both cells pass the floor.
pub(super) fn hidden_because(
    ctx: &Ctx,
    level: Level,
    unit: &str,
    ch: &crate::table::Change,
) -> Option<SuppressionReason> {
    let catalogue = &ctx.config.catalogue;
    let construct = |c: &Cell| {
        catalogue
            .construct(&c.instrument, &c.instrument_version, &c.scale_id)
            .to_string()
    };
    let current = ctx.published.cell(
        level,
        unit,
        &ch.instrument,
        &ch.instrument_version,
        &ch.scale_id,
        &ch.period,
    );
    let cells = ctx.published.instrument_cells(level, unit, &ch.instrument);
    let previous = cells.iter().find(|c| {
        c.instrument_version == ch.previous_version
            && c.period == ch.previous_period
            && construct(c) == ch.construct
    });
    [current, previous]
        .into_iter()
        .flatten()
        .filter_map(|c| c.suppression_reason)
        .min()
}
