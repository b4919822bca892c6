//! Reports: the biennial PDCA report per RSO, the R-COC region overview and
//! the COC institution report, as self-contained HTML, Markdown, and a
//! `tables.xlsx` per cycle, with an `index.html` that links them.
//!
//! This module owns what a reader sees: which numbers go where, labels from
//! one translation table (`reports/i18n.toml`, Dutch by default), number
//! formatting, and the templates (minijinja, HTML autoescaped; built in,
//! replaceable from the config's `report.templates` folder without
//! recompiling). It reads only the published aggregates, changes, item
//! counts and comments, and the development plan: never raw responses. The
//! rules live in `pdca`, the pictures in `chart`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::Serialize;

use crate::aggregate::{self, Cell, Level, Published, Scope};
use crate::chart::{
    self, Distribution, DistributionRow, SeriesStyle, TrendChart, TrendPoint, TrendSeries,
};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::pdca::{self, Action, Finding, Kind, Rule};
use crate::score::{self, TOTAL};

const T_RSO: &str = include_str!("../reports/rso.html.j2");
const T_REGION: &str = include_str!("../reports/region.html.j2");
const T_INSTITUTION: &str = include_str!("../reports/institution.html.j2");
const T_INDEX: &str = include_str!("../reports/index.html.j2");
const T_BASE: &str = include_str!("../reports/base.html.j2");
const T_RSO_MD: &str = include_str!("../reports/rso.md.j2");
const T_REGION_MD: &str = include_str!("../reports/region.md.j2");
const T_INSTITUTION_MD: &str = include_str!("../reports/institution.md.j2");
const STYLE: &str = include_str!("../reports/style.css");
const I18N: &str = include_str!("../reports/i18n.toml");

/// The templates, by name, as shipped.
pub const TEMPLATES: &[(&str, &str)] = &[
    ("base.html.j2", T_BASE),
    ("rso.html.j2", T_RSO),
    ("region.html.j2", T_REGION),
    ("institution.html.j2", T_INSTITUTION),
    ("index.html.j2", T_INDEX),
    ("rso.md.j2", T_RSO_MD),
    ("region.md.j2", T_REGION_MD),
    ("institution.md.j2", T_INSTITUTION_MD),
    ("style.css", STYLE),
    ("i18n.toml", I18N),
];

/// What to render.
#[derive(Debug, Clone)]
pub struct Options {
    /// Only these cycles (empty: every cycle in the data).
    pub cycles: Vec<String>,
    /// Only this RSO's report (and the overviews).
    pub rso: Option<String>,
    /// `nl` or `en`.
    pub lang: String,
    /// The date reports are made on (overdue actions are judged by it).
    pub today: NaiveDate,
}

/// Labels in one language.
pub type Labels = BTreeMap<String, String>;

fn template_text(config: &Config, name: &str) -> Result<String> {
    if let Some(dir) = &config.templates {
        let p = dir.join(name);
        if p.exists() {
            return std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e));
        }
    }
    TEMPLATES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| t.to_string())
        .ok_or_else(|| Error::Config {
            file: name.into(),
            message: "no such template".into(),
        })
}

/// The labels of a language, from the translation table.
pub fn labels(config: &Config, lang: &str) -> Result<Labels> {
    let text = template_text(config, "i18n.toml")?;
    let mut all: BTreeMap<String, Labels> = toml::from_str(&text).map_err(|e| Error::Config {
        file: "i18n.toml".into(),
        message: e.to_string(),
    })?;
    all.remove(lang).ok_or_else(|| Error::Config {
        file: "i18n.toml".into(),
        message: format!("no [{lang}] table of labels"),
    })
}

/// Fills `{name}` placeholders.
pub fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut s = template.to_string();
    for (k, v) in values {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

/// A number as readers of the language expect it (decimal comma in Dutch).
pub fn num(v: f64, decimals: usize, lang: &str) -> String {
    let s = format!("{v:.decimals$}");
    if lang == "nl" {
        s.replace('.', ",")
    } else {
        s
    }
}

/// "p = 0,003", or "p < 0,001" for very small p.
pub fn p_text(p: f64, lang: &str) -> String {
    if p < 0.001 {
        format!("p < {}", num(0.001, 3, lang))
    } else {
        format!("p = {}", num(p, 3, lang))
    }
}

fn pct(v: f64, lang: &str) -> String {
    format!("{}%", num(v * 100.0, 0, lang))
}

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
}

impl ShownCell {
    fn empty() -> ShownCell {
        ShownCell {
            text: "–".into(),
            value: None,
            bg: "#ffffff".into(),
            fg: "#777777".into(),
            suppressed: false,
            indicative: false,
            title: String::new(),
        }
    }
}

/// Names for ids, in the report's language.
struct Names<'a> {
    config: &'a Config,
    lang: &'a str,
    t: &'a Labels,
}

impl Names<'_> {
    fn institution(&self, id: &str) -> String {
        self.config
            .registry
            .institutions
            .get(id)
            .map(|i| i.name.clone())
            .unwrap_or_else(|| id.to_string())
    }
    fn specialty(&self, code: &str) -> String {
        self.config
            .registry
            .specialties
            .get(code)
            .map(|s| {
                if self.lang == "en" {
                    s.name_en.clone()
                } else {
                    s.name.clone()
                }
            })
            .unwrap_or_else(|| code.to_string())
    }
    fn rso(&self, id: &str) -> String {
        self.config
            .registry
            .rsos
            .get(id)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| id.to_string())
    }
    fn region(&self, id: &str) -> String {
        self.config
            .registry
            .regions
            .get(id)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| id.to_string())
    }
    fn unit(&self, level: Level, id: &str) -> String {
        match level {
            Level::Department => match id.split_once(':') {
                Some((i, s)) => format!("{} – {}", self.institution(i), self.specialty(s)),
                None => id.to_string(),
            },
            Level::Institution => self.institution(id),
            Level::Rso => self.rso(id),
            Level::Region => self.region(id),
        }
    }
    fn instrument(&self, id: &str) -> String {
        match id {
            "d-rect" => "D-RECT".into(),
            "setq" => "SETQ".into(),
            "mctq" => "MCTQ".into(),
            "effect" => "EFFECT".into(),
            "exit" => self
                .t
                .get("exit_survey")
                .cloned()
                .unwrap_or_else(|| "exit".into()),
            other => other.to_string(),
        }
    }
    fn scale(&self, instrument: &str, version: &str, scale: &str) -> String {
        if scale == TOTAL {
            return self.t["total"].clone();
        }
        self.config
            .catalogue
            .get(instrument, version)
            .and_then(|i| i.subscale(scale))
            .map(|s| {
                if self.lang == "en" {
                    s.en.clone()
                } else {
                    s.nl.clone()
                }
            })
            .unwrap_or_else(|| scale.to_string())
    }
}

fn shown(c: Option<&Cell>, floor: u32, names: &Names) -> ShownCell {
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
    };
    if c.suppressed && c.suppression_reason.as_deref() == Some(crate::privacy::SECONDARY) {
        return grey(
            names.t["hidden_short"].clone(),
            names.t["hidden_title"].clone(),
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
    ShownCell {
        text: format!(
            "{}{}",
            num(p, 0, names.lang),
            if c.reliable { "" } else { "*" }
        ),
        value: Some(p),
        bg: chart::heat_colour(p),
        fg: chart::heat_text_colour(p),
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

/// A finding in words.
#[derive(Debug, Clone, Serialize)]
pub struct FindingView {
    /// The sentence.
    pub text: String,
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

/// A threshold as written in the config: no trailing ",0".
fn threshold(v: f64, lang: &str) -> String {
    if v.fract() == 0.0 {
        num(v, 0, lang)
    } else {
        num(v, 1, lang)
    }
}

fn describe(f: &Finding, config: &Config, names: &Names) -> FindingView {
    let lang = names.lang;
    let version = config
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
        .unwrap_or_default();
    let o = |v: Option<f64>, d: usize| v.map(|x| num(x, d, lang)).unwrap_or_else(|| "–".into());
    let vals = vec![
        ("unit", names.unit(f.level, &f.unit_id)),
        ("scale", names.scale(&f.instrument, &version, &f.scale_id)),
        ("instrument", names.instrument(&f.instrument)),
        ("pomp", o(f.pomp, 0)),
        ("previous", o(f.previous_pomp, 0)),
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
        rule: f.rule,
        unit_id: f.unit_id.clone(),
        instrument: f.instrument.clone(),
        scale_id: f.scale_id.clone(),
        scales: vec![f.scale_id.clone()],
    }
}

/// Strengths, improvement points and signals in words.
#[derive(Debug, Clone, Serialize, Default)]
pub struct SummaryView {
    /// Strengths.
    pub strengths: Vec<FindingView>,
    /// Improvement points.
    pub improvements: Vec<FindingView>,
    /// Signals.
    pub signals: Vec<FindingView>,
}

fn summary_of(fs: &[Finding], config: &Config, names: &Names) -> SummaryView {
    // One line per unit, instrument and rule: the total first, then the
    // subscales with their scores, so a committee reads a few sentences,
    // not a list of every subscale. The RSO comes before its departments.
    let mut groups: BTreeMap<(Kind, u8, String, String, Rule), Vec<&Finding>> = BTreeMap::new();
    for f in fs {
        let level_order = match f.level {
            Level::Region => 0,
            Level::Rso => 1,
            _ => 2,
        };
        groups
            .entry((
                f.kind,
                level_order,
                f.unit_id.clone(),
                f.instrument.clone(),
                f.rule,
            ))
            .or_default()
            .push(f);
    }
    let lang = names.lang;
    let mut s = SummaryView::default();
    for ((kind, _, _, _, rule), mut members) in groups {
        members.sort_by_key(|f| (f.scale_id != TOTAL, f.scale_id.clone()));
        let first = members[0];
        let mut v = describe(first, config, names);
        if members.len() > 1
            && matches!(
                rule,
                Rule::HighScore
                    | Rule::LowScore
                    | Rule::Decline
                    | Rule::Improved
                    | Rule::TwoCyclesRunning
            )
        {
            let version = config
                .catalogue
                .iter()
                .filter(|i| {
                    i.id == first.instrument
                        && members
                            .iter()
                            .all(|f| f.scale_id == TOTAL || i.subscale(&f.scale_id).is_some())
                })
                .map(|i| i.version.clone())
                .last()
                .unwrap_or_default();
            let parts: Vec<String> = members
                .iter()
                .map(|f| {
                    let score = match (f.previous_pomp, f.pomp) {
                        (Some(a), Some(b))
                            if matches!(
                                rule,
                                Rule::Decline | Rule::Improved | Rule::TwoCyclesRunning
                            ) =>
                        {
                            format!("{} → {}", num(a, 0, lang), num(b, 0, lang))
                        }
                        (_, Some(b)) => num(b, 0, lang),
                        _ => "–".into(),
                    };
                    format!(
                        "{} {score}",
                        names.scale(&f.instrument, &version, &f.scale_id)
                    )
                })
                .collect();
            let phrase = match rule {
                Rule::HighScore => fill(
                    &names.t["group_high_score"],
                    &[("threshold", threshold(config.rules.strength_pomp, lang))],
                ),
                Rule::LowScore => fill(
                    &names.t["group_low_score"],
                    &[("threshold", threshold(config.rules.improvement_pomp, lang))],
                ),
                Rule::Decline => names.t["group_decline"].clone(),
                Rule::Improved => names.t["group_improved"].clone(),
                _ => names.t["group_two_cycles"].clone(),
            };
            v.text = format!(
                "{} ({}, n = {}): {} – {}.",
                names.unit(first.level, &first.unit_id),
                names.instrument(&first.instrument),
                first.n.map(|n| n.to_string()).unwrap_or_default(),
                parts.join("; "),
                phrase
            );
            v.scales = members.iter().map(|f| f.scale_id.clone()).collect();
        }
        match kind {
            Kind::Strength => s.strengths.push(v),
            Kind::Improvement => s.improvements.push(v),
            Kind::Signal => s.signals.push(v),
        }
    }
    s
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
    /// Trend charts (SVG) per subscale.
    pub trends: Vec<String>,
    /// Diverging bars (SVG), when published.
    pub distribution: Option<String>,
    /// Changes since the previous cycle.
    pub changes: Vec<ChangeView>,
}

/// An action with its measured effect.
#[derive(Debug, Clone, Serialize)]
pub struct ActionView {
    /// The action.
    pub action: Action,
    /// Indicator label.
    pub indicator: String,
    /// Whether it is past its due date and not done.
    pub overdue: bool,
    /// The measured change in words.
    pub measured: String,
    /// The measured change, for machines.
    pub effect: Option<pdca::Effect>,
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
    pub tops: Vec<String>,
    /// Tips.
    pub tips: Vec<String>,
}

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
    /// Findings.
    pub summary: SummaryView,
    /// Years of the participation table.
    pub years: Vec<i32>,
    /// Participation rows: institution, instrument, per year "n (rate)".
    pub participation: Vec<(String, String, Vec<String>)>,
    /// One section per instrument.
    pub instruments: Vec<InstrumentSection>,
    /// Development plan.
    pub plan: Vec<ActionView>,
    /// Exit survey per clinic.
    pub exit: Vec<ExitView>,
    /// Method texts.
    pub method: Vec<String>,
    /// Sources: file and sha256.
    pub sources: Vec<(String, String)>,
}

fn find<'a>(
    p: &'a Published,
    level: Level,
    unit: &str,
    instrument: &str,
    version: &str,
    scale: &str,
    period: &str,
) -> Option<&'a Cell> {
    p.unit_cells(level, unit).iter().find(|c| {
        c.instrument == instrument
            && c.instrument_version == version
            && c.scale_id == scale
            && c.period == period
    })
}

/// The instrument versions of a cycle for a unit, latest version last.
fn versions_in(p: &Published, level: Level, unit: &str, cycle: &str) -> Vec<(String, String)> {
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
    let order = ["d-rect", "setq", "effect", "mctq", "exit"];
    let mut v: Vec<(String, String)> = latest.into_iter().collect();
    v.sort_by_key(|(i, _)| order.iter().position(|o| o == i).unwrap_or(99));
    v
}

fn floor_of(config: &Config, instrument: &str, version: &str) -> u32 {
    config
        .catalogue
        .get(instrument, version)
        .and_then(|i| i.privacy_floor)
        .unwrap_or(config.privacy_floor)
        .max(config.privacy_floor)
}

/// Findings and missing measurements per cycle, each made on first use.
type Found = BTreeMap<String, std::sync::OnceLock<(Vec<Finding>, Vec<Finding>)>>;

fn found_for(cycles: &[String]) -> Found {
    cycles
        .iter()
        .map(|c| (c.clone(), std::sync::OnceLock::new()))
        .collect()
}

struct Ctx<'a> {
    config: &'a Config,
    published: &'a Published,
    /// Per cycle, the findings and missing measurements of `published`,
    /// made once for all reports drawn from it.
    found: &'a Found,
    comments: &'a [crate::dataset::CommentRow],
    plan: &'a [Action],
    opts: &'a Options,
    t: &'a Labels,
}

impl Ctx<'_> {
    /// Every finding of a cycle, and the measurements the calendar expected
    /// in it that are not in the data.
    fn findings(&self, cycle: &str) -> &(Vec<Finding>, Vec<Finding>) {
        let config = self.config;
        self.found
            .get(cycle)
            .expect("reports are only made for the cycles being rendered")
            .get_or_init(|| {
                (
                    pdca::findings(self.published, cycle, &config.rules),
                    pdca::missing_measurements(
                        self.published,
                        cycle,
                        &config.calendar,
                        &config.registry,
                    ),
                )
            })
    }
}

fn method_texts(ctx: &Ctx) -> Vec<String> {
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

/// The years of an instrument's trend charts in a region, and where its
/// version changes: the same for every scale of the instrument.
struct TrendAxis {
    periods: Vec<String>,
    breaks: Vec<(usize, String)>,
}

impl TrendAxis {
    /// Every year with data for this instrument in the region, any
    /// version, up to the end of the report's cycle (`until`): a cycle's
    /// report stays what it was when later years arrive.
    fn new(ctx: &Ctx, names: &Names, region: &str, instrument: &str, until: i32) -> TrendAxis {
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

fn trend_svg(
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
        let construct = if c.scale_id == TOTAL {
            TOTAL
        } else {
            ctx.config
                .catalogue
                .get(&c.instrument, &c.instrument_version)
                .and_then(|i| i.subscale(&c.scale_id))
                .map_or("", |s| s.construct.as_str())
        };
        construct == scale_construct
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
            .map(|p| {
                let c = cells.iter().find(|c| c.period == *p).copied();
                let pomp =
                    |v: Option<f64>, c: &Cell| v.map(|x| score::pomp(x, c.scale_min, c.scale_max));
                TrendPoint {
                    period: p.clone(),
                    value: c.and_then(|c| c.mean_pomp),
                    ci_low: c.and_then(|c| pomp(c.ci_low, c)),
                    ci_high: c.and_then(|c| pomp(c.ci_high, c)),
                }
            })
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
    };
    chart::trend_svg(&chart, 560, 240)
}

fn change_views(
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
                    fill(
                        &names.t["suppressed_short"],
                        &[(
                            "floor",
                            floor_of(ctx.config, instrument, version).to_string(),
                        )],
                    )
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

fn distribution_svg(
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
        },
        760,
    ))
}

fn rso_report(ctx: &Ctx, rso_id: &str, cycle: &str) -> Option<RsoReport> {
    let config = ctx.config;
    let names = Names {
        config,
        lang: &ctx.opts.lang,
        t: ctx.t,
    };
    let rso = config.registry.rsos.get(rso_id)?;
    let lang = ctx.opts.lang.as_str();
    let years = score::years_of(cycle);
    let (first, last) = (*years.first()?, *years.last()?);
    let members: Vec<String> = rso
        .members
        .iter()
        .filter(|m| m.overlaps_years(first, last))
        .map(|m| m.institution.clone())
        .collect();
    let member_units: Vec<String> = members
        .iter()
        .map(|i| format!("{i}:{}", rso.specialty))
        .collect();

    // Findings for the RSO and its member departments.
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
    let summary = summary_of(&fs, config, &names);

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

    // One section per instrument (latest version in the cycle).
    let mut sections = Vec::new();
    for (instrument, version) in versions_in(ctx.published, Level::Rso, rso_id, cycle) {
        let Some(def) = config.catalogue.get(&instrument, &version) else {
            continue;
        };
        let floor = floor_of(config, &instrument, &version);
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
                let construct = if s == TOTAL {
                    TOTAL.to_string()
                } else {
                    def.subscale(s)
                        .map(|x| x.construct.clone())
                        .unwrap_or_default()
                };
                trend_svg(
                    ctx,
                    &names,
                    rso,
                    &axis,
                    &instrument,
                    &construct,
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
        });
    }

    // Development plan.
    let plan = ctx
        .plan
        .iter()
        .filter(|a| a.rso_id == rso_id)
        .map(|a| {
            let effect = pdca::effect(a, ctx.published, &config.registry, last);
            let version = config
                .catalogue
                .iter()
                .filter(|i| {
                    i.id == a.instrument
                        && (a.scale_id == TOTAL || i.subscale(&a.scale_id).is_some())
                })
                .map(|i| i.version.clone())
                .last()
                .unwrap_or_default();
            let measured = match &effect {
                None => ctx.t["no_measurement"].clone(),
                Some(e) if e.not_measurable => ctx.t["not_measurable"].clone(),
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
            ActionView {
                indicator: format!(
                    "{}{}: {}",
                    a.institution_id
                        .as_ref()
                        .map(|i| format!("{}, ", names.institution(i)))
                        .unwrap_or_default(),
                    names.instrument(&a.instrument),
                    names.scale(&a.instrument, &version, &a.scale_id)
                ),
                overdue: a.overdue(ctx.opts.today),
                measured,
                effect,
                action: a.clone(),
            }
        })
        .collect();

    // Exit survey: grades per clinic, tops and tips where the group passes
    // the floor.
    let mut exit = Vec::new();
    if let Some((_, version)) = versions_in(ctx.published, Level::Rso, rso_id, cycle)
        .into_iter()
        .find(|(i, _)| i == "exit")
    {
        let floor = floor_of(config, "exit", &version);
        let grade_scale = config.catalogue.get("exit", &version).and_then(|d| {
            d.items
                .iter()
                .find(|i| i.kind == crate::instrument::ItemKind::Grade)
                .map(|i| i.subscale.clone())
        });
        for unit in &member_units {
            let total = find(
                ctx.published,
                Level::Department,
                unit,
                "exit",
                &version,
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
                        "exit",
                        &version,
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
            let passes = total.n_respondents >= floor as u64;
            let (inst, spec) = unit.split_once(':').unwrap_or((unit, ""));
            let texts = |item: &str| -> Vec<String> {
                if !passes {
                    return Vec::new();
                }
                let mut v: Vec<String> = ctx
                    .comments
                    .iter()
                    .filter(|c| {
                        c.instrument == "exit"
                            && c.institution_id == inst
                            && c.specialty == spec
                            && years.contains(&c.year)
                            && c.item_id.ends_with(item)
                    })
                    .map(|c| c.text.clone())
                    .collect();
                // Sorted, not in order of submission: order could identify.
                v.sort();
                v
            };
            let grade_n = grade_scale
                .as_ref()
                .and_then(|g| {
                    find(
                        ctx.published,
                        Level::Department,
                        unit,
                        "exit",
                        &version,
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
        summary,
        years,
        participation,
        instruments: sections,
        plan,
        exit,
        method: method_texts(ctx),
        sources,
    })
}

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

fn region_report(ctx: &Ctx, region_id: &str, cycle: &str) -> RegionReport {
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
    let instruments: Vec<(String, String)> =
        versions_in(ctx.published, Level::Region, region_id, cycle);
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
                        floor_of(config, i, v),
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

fn institution_report(ctx: &Ctx, inst_id: &str, cycle: &str) -> Option<InstitutionReport> {
    let config = ctx.config;
    let names = Names {
        config,
        lang: &ctx.opts.lang,
        t: ctx.t,
    };
    let inst = config.registry.institutions.get(inst_id)?;
    let mut sections = Vec::new();
    for (instrument, version) in versions_in(ctx.published, Level::Institution, inst_id, cycle) {
        let floor = floor_of(config, &instrument, &version);
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

/// Escapes text for Markdown: HTML specials become entities and Markdown
/// specials are backslash-escaped, so no data can become markup.
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn environment(config: &Config) -> Result<minijinja::Environment<'static>> {
    let mut env = minijinja::Environment::new();
    for (name, _) in TEMPLATES.iter().filter(|(n, _)| n.ends_with(".j2")) {
        let text = template_text(config, name)?;
        env.add_template_owned(name.to_string(), text)
            .map_err(|e| Error::Config {
                file: name.to_string(),
                message: format!("template error: {e}"),
            })?;
    }
    env.add_filter("md", |s: String| md_escape(&s));
    // .html.j2 autoescapes as HTML; Markdown escapes with the md filter.
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html.j2") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    Ok(env)
}

/// A report as its templates see it: its fields and the inlined style sheet.
fn page_value<T: Serialize>(report: &T, style: &str) -> minijinja::Value {
    minijinja::context! { style => style, ..minijinja::Value::from(minijinja::value::Serde(report)) }
}

enum Job {
    Rso(String, String),
    Region(String, String),
    Institution(String, String),
}

/// Renders every report of the selected cycles; returns the files written
/// (or found unchanged).
pub fn render_all(config: &Config, opts: &Options) -> Result<Vec<PathBuf>> {
    let started = std::time::Instant::now();
    let ds = &config.paths.dataset;
    // The published table is not read whole: each region's reports are
    // made from the region's rows, each cycle's tables from the cycle's.
    let nothing = Published::default();
    let comments = crate::dataset::read_comments(&config.paths.dataset)?;
    let plan = match &config.paths.development_plan {
        Some(p) if p.exists() => pdca::read_plan(p)?,
        _ => Vec::new(),
    };
    let t = labels(config, &opts.lang)?;
    let env = environment(config)?;
    let style = template_text(config, "style.css")?;
    let none_found = Found::new();
    let ctx = Ctx {
        config,
        published: &nothing,
        found: &none_found,
        comments: &comments,
        plan: &plan,
        opts,
        t: &t,
    };
    let all_cycles = aggregate::published_cycles(ds)?;
    if let Some(c) = opts.cycles.iter().find(|c| !all_cycles.contains(c)) {
        return Err(Error::Config {
            file: "--cycle".into(),
            message: format!(
                "cycle {c:?} has no data; cycles with data: {}",
                all_cycles.join(", ")
            ),
        });
    }
    let selected: Vec<String> = if opts.cycles.is_empty() {
        all_cycles
    } else {
        opts.cycles.clone()
    };
    let suffix = if opts.lang == "nl" {
        String::new()
    } else {
        format!(".{}", opts.lang)
    };
    // Every report is about units of one region: each region's reports are
    // made from the region's share of the data.
    let reg = &config.registry;
    let mut by_region: BTreeMap<&str, Vec<Job>> = BTreeMap::new();
    for cycle in &selected {
        for (id, r) in &reg.rsos {
            if opts.rso.as_ref().is_none_or(|x| x == id) {
                by_region
                    .entry(&r.region)
                    .or_default()
                    .push(Job::Rso(cycle.clone(), id.clone()));
            }
        }
        for id in reg.regions.keys() {
            by_region
                .entry(id)
                .or_default()
                .push(Job::Region(cycle.clone(), id.clone()));
        }
        if opts.rso.is_none() {
            for (id, i) in &reg.institutions {
                by_region
                    .entry(&i.region)
                    .or_default()
                    .push(Job::Institution(cycle.clone(), id.clone()));
            }
        }
    }
    let render = |name: &str, value: minijinja::Value| -> Result<String> {
        env.get_template(name)
            .and_then(|t| t.render(value))
            .map_err(|e| Error::Config {
                file: name.to_string(),
                message: format!("cannot render: {e:#}"),
            })
    };
    let out_root = &config.paths.reports;
    // A report's two pages (HTML and Markdown) in `<cycle>/<kind>/`.
    let page = |kind: &str, cycle: &str, id: &str, v: minijinja::Value| -> Result<Vec<PathBuf>> {
        let dir = out_root.join(cycle).join(kind);
        let h = dir.join(format!("{id}{suffix}.html"));
        let m = dir.join(format!("{id}{suffix}.md"));
        let html = render(&format!("{kind}.html.j2"), v.clone())?;
        crate::dataset::write_file_atomic(&h, html.as_bytes())?;
        let md = render(&format!("{kind}.md.j2"), v)?;
        crate::dataset::write_file_atomic(&m, md.as_bytes())?;
        Ok(vec![h, m])
    };
    // The department cells the reports use: of a cycle, its years, and
    // the cycle before (improvement points two cycles running).
    let department_periods: Vec<String> = selected
        .iter()
        .flat_map(|c| {
            let years = score::years_of(c).into_iter().map(|y| y.to_string());
            std::iter::once(c.clone())
                .chain(pdca::previous_cycle(c))
                .chain(years)
        })
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect();
    let read_region = |region: &str| -> Result<Published> {
        let scope = Scope::Region {
            region: region.to_string(),
            rsos: reg
                .rsos
                .iter()
                .filter(|(_, x)| x.region == region)
                .map(|(id, _)| id.clone())
                .collect(),
            cycles: selected.clone(),
            department_periods: department_periods.clone(),
        };
        aggregate::read_published_scoped(ds, &config.catalogue, &scope)
    };
    let render_region = |scoped: &Published, jobs: &[Job]| -> Result<Vec<PathBuf>> {
        let found = found_for(&selected);
        let ctx = Ctx {
            published: scoped,
            found: &found,
            ..ctx
        };
        let ctx = &ctx;
        let part: Vec<Vec<PathBuf>> = jobs
            .par_iter()
            .map(|job| -> Result<Vec<PathBuf>> {
                match job {
                    Job::Rso(cycle, id) => match rso_report(ctx, id, cycle) {
                        Some(r) => page("rso", cycle, id, page_value(&r, &style)),
                        None => Ok(Vec::new()),
                    },
                    Job::Region(cycle, id) => page(
                        "region",
                        cycle,
                        id,
                        page_value(&region_report(ctx, id, cycle), &style),
                    ),
                    Job::Institution(cycle, id) => match institution_report(ctx, id, cycle) {
                        Some(r) if !r.instruments.is_empty() => {
                            page("institution", cycle, id, page_value(&r, &style))
                        }
                        _ => Ok(Vec::new()),
                    },
                }
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(part.into_iter().flatten().collect())
    };
    // One region after the other, the next region's rows read while this
    // region's reports are made: at most two regions' rows in memory.
    let pages = || -> Result<Vec<PathBuf>> {
        let regions: Vec<(&str, &Vec<Job>)> = by_region.iter().map(|(r, j)| (*r, j)).collect();
        let mut files: Vec<PathBuf> = Vec::new();
        let mut next = regions.first().map(|(r, _)| read_region(r));
        for (k, (region, jobs)) in regions.iter().enumerate() {
            let scoped = next.take().expect("read ahead for every region")?;
            let (made, following) = rayon::join(
                || render_region(&scoped, jobs),
                || regions.get(k + 1).map(|(r, _)| read_region(r)),
            );
            files.extend(made?);
            next = following;
            tracing::debug!(
                seconds = started.elapsed().as_secs_f64(),
                region,
                "region rendered"
            );
        }
        Ok(files)
    };
    let workbooks = || -> Result<Vec<PathBuf>> {
        let mut files = Vec::new();
        for cycle in &selected {
            let x = out_root.join(cycle).join(format!("tables{suffix}.xlsx"));
            let of_cycle = aggregate::read_published_scoped(
                ds,
                &config.catalogue,
                &Scope::Cycle(cycle.clone()),
            )?;
            let found = found_for(std::slice::from_ref(cycle));
            let ctx = Ctx {
                published: &of_cycle,
                found: &found,
                ..ctx
            };
            crate::dataset::write_file_atomic(&x, &tables_xlsx(&ctx, cycle)?)?;
            files.push(x);
            tracing::debug!(
                seconds = started.elapsed().as_secs_f64(),
                cycle,
                "workbook written"
            );
        }
        Ok(files)
    };
    // The regions' pages (each region's in parallel) and the cycles'
    // workbooks (one writer each, one after the other) side by side: a
    // workbook is one long job for one core.
    let (pages, books) = rayon::join(pages, workbooks);
    let mut files = pages?;
    let books = books?;
    for cycle in &selected {
        let dir = out_root.join(cycle);
        let mut links: Vec<(String, String, String)> = files
            .iter()
            .filter(|f| f.starts_with(&dir) && f.extension().is_some_and(|e| e == "html"))
            .map(|f| {
                let rel = f.strip_prefix(&dir).unwrap_or(f).display().to_string();
                let kind = rel.split('/').next().unwrap_or("").to_string();
                let id = f
                    .file_stem()
                    .map(|s| s.to_string_lossy().trim_end_matches(&suffix).to_string())
                    .unwrap_or_default();
                let label = match kind.as_str() {
                    "rso" => config.registry.rsos.get(&id).map(|r| r.name.clone()),
                    "region" => config.registry.regions.get(&id).map(|r| r.name.clone()),
                    _ => config
                        .registry
                        .institutions
                        .get(&id)
                        .map(|r| r.name.clone()),
                }
                .unwrap_or(id);
                (kind, label, rel)
            })
            .collect();
        links.sort();
        let index = render(
            "index.html.j2",
            minijinja::context! { t => &t, lang => &opts.lang, style => &style, title => &config.title, cycle => cycle, links => links, generated_on => opts.today.to_string() },
        )?;
        let p = dir.join(format!("index{suffix}.html"));
        crate::dataset::write_file_atomic(&p, index.as_bytes())?;
        files.push(p);
    }
    files.extend(books);
    files.sort();
    Ok(files)
}

/// The tables behind the reports of a cycle, as a workbook. Every text is
/// written as text, never as a formula, whatever it starts with.
fn tables_xlsx(ctx: &Ctx, cycle: &str) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let xerr = |e: rust_xlsxwriter::XlsxError| Error::Config {
        file: "tables.xlsx".into(),
        message: e.to_string(),
    };
    let mut book = Workbook::new();
    // The fastest compression: the cycle's workbook holds every cell of
    // every level (hundreds of thousands of rows at national scale), and
    // level 6 (the default) took half again as long for a file 40% smaller.
    book.set_zip_compression_level(1);
    let created = rust_xlsxwriter::ExcelDateTime::from_ymd(2000, 1, 1).map_err(xerr)?;
    book.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
    let bold = Format::new().set_bold();
    let years: Vec<String> = score::years_of(cycle)
        .iter()
        .map(|y| y.to_string())
        .collect();
    {
        let sheet = book.add_worksheet();
        sheet.set_name("aggregates").map_err(xerr)?;
        for (i, h) in aggregate::AGGREGATE_COLUMNS.iter().enumerate() {
            sheet
                .write_string_with_format(0, i as u16, *h, &bold)
                .map_err(xerr)?;
        }
        for (i, c) in ctx
            .published
            .cells
            .iter()
            .filter(|c| c.period == cycle || years.contains(&c.period))
            .enumerate()
        {
            let row = i as u32 + 1;
            let texts = [
                Some(c.level.as_str().to_string()),
                Some(c.unit_id.clone()),
                c.institution_id.clone(),
                c.specialty.clone(),
                c.rso_id.clone(),
                c.region_id.clone(),
                Some(c.instrument.clone()),
                Some(c.instrument_version.clone()),
                Some(c.scale_id.clone()),
                Some(c.period.clone()),
            ];
            for (i, t) in texts.iter().enumerate() {
                if let Some(t) = t {
                    sheet.write_string(row, i as u16, t).map_err(xerr)?;
                }
            }
            let nums = [
                Some(c.n_respondents as f64),
                Some(c.n_responses as f64),
                c.mean,
                c.sd,
                c.ci_low,
                c.ci_high,
                c.mean_pomp,
                c.alpha,
                c.response_rate,
            ];
            for (j, v) in nums.iter().enumerate() {
                if let Some(v) = v {
                    sheet.write_number(row, (10 + j) as u16, *v).map_err(xerr)?;
                }
            }
            sheet.write_boolean(row, 19, c.reliable).map_err(xerr)?;
            sheet.write_boolean(row, 20, c.suppressed).map_err(xerr)?;
            if let Some(r) = &c.suppression_reason {
                sheet.write_string(row, 21, r).map_err(xerr)?;
            }
        }
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name("changes").map_err(xerr)?;
        let head = [
            "level",
            "unit_id",
            "instrument",
            "scale_id",
            "period",
            "previous_period",
            "instrument_version",
            "previous_version",
            "version_changed",
            "diff",
            "diff_pomp",
            "p_value",
            "hedges_g",
            "suppressed",
        ];
        for (i, h) in head.iter().enumerate() {
            sheet
                .write_string_with_format(0, i as u16, *h, &bold)
                .map_err(xerr)?;
        }
        for (r, c) in ctx
            .published
            .changes
            .iter()
            .filter(|c| c.period == cycle || years.contains(&c.period))
            .enumerate()
        {
            let r = r as u32 + 1;
            for (i, t) in [
                c.level.as_str(),
                &c.unit_id,
                &c.instrument,
                &c.scale_id,
                &c.period,
                &c.previous_period,
                &c.instrument_version,
                &c.previous_version,
            ]
            .iter()
            .enumerate()
            {
                sheet.write_string(r, i as u16, *t).map_err(xerr)?;
            }
            sheet.write_boolean(r, 8, c.version_changed).map_err(xerr)?;
            for (j, v) in [c.diff, c.diff_pomp, c.p_value, c.hedges_g]
                .iter()
                .enumerate()
            {
                if let Some(v) = v {
                    sheet.write_number(r, (9 + j) as u16, *v).map_err(xerr)?;
                }
            }
            sheet.write_boolean(r, 13, c.suppressed).map_err(xerr)?;
        }
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name("plan").map_err(xerr)?;
        let head = [
            "action_id",
            "rso_id",
            "institution_id",
            "instrument",
            "scale_id",
            "description",
            "owner_role",
            "start",
            "due",
            "status",
            "target",
        ];
        for (i, h) in head.iter().enumerate() {
            sheet
                .write_string_with_format(0, i as u16, *h, &bold)
                .map_err(xerr)?;
        }
        for (r, a) in ctx.plan.iter().enumerate() {
            let vals = [
                a.action_id.clone(),
                a.rso_id.clone(),
                a.institution_id.clone().unwrap_or_default(),
                a.instrument.clone(),
                a.scale_id.clone(),
                a.description.clone(),
                a.owner_role.clone(),
                a.start.map(|d| d.to_string()).unwrap_or_default(),
                a.due.map(|d| d.to_string()).unwrap_or_default(),
                a.status.clone(),
                a.target.clone(),
            ];
            for (i, v) in vals.iter().enumerate() {
                sheet
                    .write_string(r as u32 + 1, i as u16, v)
                    .map_err(xerr)?;
            }
        }
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name("comments").map_err(xerr)?;
        for (i, h) in ["department", "item", "text"].iter().enumerate() {
            sheet
                .write_string_with_format(0, i as u16, *h, &bold)
                .map_err(xerr)?;
        }
        // Only comments of groups that pass the floor, as in the reports.
        let passes = |inst: &str, spec: &str| {
            let unit = format!("{inst}:{spec}");
            ctx.published
                .unit_cells(Level::Department, &unit)
                .iter()
                .any(|c| {
                    c.instrument == "exit"
                        && c.scale_id == TOTAL
                        && c.period == cycle
                        && c.n_respondents
                            >= floor_of(ctx.config, "exit", &c.instrument_version) as u64
                })
        };
        let mut rows: Vec<(String, String, String)> = ctx
            .comments
            .iter()
            .filter(|c| {
                c.instrument == "exit"
                    && years.contains(&c.year.to_string())
                    && passes(&c.institution_id, &c.specialty)
            })
            .map(|c| {
                (
                    format!("{}:{}", c.institution_id, c.specialty),
                    c.item_id.clone(),
                    c.text.clone(),
                )
            })
            .collect();
        rows.sort();
        for (r, (d, i, t)) in rows.iter().enumerate() {
            let r = r as u32 + 1;
            sheet.write_string(r, 0, d).map_err(xerr)?;
            sheet.write_string(r, 1, i).map_err(xerr)?;
            sheet.write_string(r, 2, t).map_err(xerr)?;
        }
    }
    book.save_to_buffer().map_err(xerr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_exists_in_both_languages() {
        let all: BTreeMap<String, Labels> = toml::from_str(I18N).unwrap();
        let nl: BTreeSet<&String> = all["nl"].keys().collect();
        let en: BTreeSet<&String> = all["en"].keys().collect();
        assert_eq!(nl, en);
        assert!(nl.len() > 50);
    }

    #[test]
    fn numbers_and_markdown() {
        assert_eq!(num(78.456, 1, "nl"), "78,5");
        assert_eq!(num(78.456, 1, "en"), "78.5");
        assert_eq!(
            md_escape("<script>alert(1)</script> *x* | y"),
            "&lt;script&gt;alert(1)&lt;/script&gt; \\*x\\* \\| y"
        );
        assert_eq!(
            fill("{a} en {b}", &[("a", "1".into()), ("b", "2".into())]),
            "1 en 2"
        );
    }
}
