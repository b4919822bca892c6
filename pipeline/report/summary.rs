//! The findings of a report in words: strengths, points for improvement
//! and signals, one line per unit, instrument and rule (see
//! `summary_of`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::labels::*;
use super::views::{describe, finding_ref, grade_range, grade_text, FindingView};
use crate::config::Config;
use crate::pdca::{Finding, Kind, Rule};
use crate::score::TOTAL;
use crate::table::Level;

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

pub(super) fn summary_of(fs: &[Finding], config: &Config, names: &Names) -> SummaryView {
    // One line per unit, instrument and rule: the total first, then the
    // subscales with their scores, so a committee reads a few sentences,
    // not a list of every subscale. The RSO comes before its departments.
    // (The version too: a cycle that changed version has findings of both,
    // each named by its own definition.)
    type Key = (Kind, u8, String, String, String, Rule);
    let mut groups: BTreeMap<Key, Vec<&Finding>> = BTreeMap::new();
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
                f.instrument_version.clone(),
                f.rule,
            ))
            .or_default()
            .push(f);
    }
    let lang = names.lang;
    let mut s = SummaryView::default();
    for ((kind, _, _, _, _, rule), mut members) in groups {
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
            let version = Some(first.instrument_version.clone())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| {
                    config
                        .catalogue
                        .iter()
                        .filter(|i| {
                            i.id == first.instrument
                                && members.iter().all(|f| {
                                    f.scale_id == TOTAL || i.subscale(&f.scale_id).is_some()
                                })
                        })
                        .map(|i| i.version.clone())
                        .last()
                        .unwrap_or_default()
                });
            // One short line: the total and the most telling subscales
            // (the largest change, else the most extreme score); the rest
            // counted, and each named in the finding's ids below it.
            let telling = |f: &&Finding| -> f64 {
                let (a, b) = (f.previous_pomp.unwrap_or(0.0), f.pomp.unwrap_or(0.0));
                match rule {
                    Rule::Decline => b - a,
                    Rule::Improved => a - b,
                    Rule::HighScore => -b,
                    _ => b,
                }
            };
            let mut listed: Vec<&&Finding> = members.iter().collect();
            listed.sort_by(|a, b| {
                (a.scale_id != TOTAL)
                    .cmp(&(b.scale_id != TOTAL))
                    .then(telling(a).total_cmp(&telling(b)))
                    .then(a.scale_id.cmp(&b.scale_id))
            });
            // ("and 1 other" says no less than naming it.)
            let more = match listed.len().saturating_sub(LISTED_SCALES) {
                1 => 0,
                more => more,
            };
            listed.truncate(listed.len() - more);
            // One n for the line where its subscales share it, else each
            // its own (an exit grade is often answered by fewer).
            let common_n = members.iter().all(|f| f.n == first.n);
            let parts: Vec<String> = listed
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
                        (_, Some(b)) => {
                            match grade_range(config, &f.instrument, &version, &f.scale_id) {
                                Some(r) => {
                                    format!("{} = {}", grade_text(b, r, lang), num(b, 0, lang))
                                }
                                None => num(b, 0, lang),
                            }
                        }
                        _ => "–".into(),
                    };
                    let n = match (common_n, f.n) {
                        (false, Some(n)) => format!(" (n = {n})"),
                        _ => String::new(),
                    };
                    format!(
                        "{} {score}{n}",
                        names.scale(&f.instrument, &version, &f.scale_id)
                    )
                })
                .collect();
            let mut parts = parts.join("; ");
            if more > 0 {
                parts = format!(
                    "{parts} {}",
                    fill(&names.t["group_more"], &[("n", more.to_string())])
                );
            }
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
            let header = match (common_n, first.n) {
                (true, Some(n)) => format!("{}, n = {n}", names.instrument(&first.instrument)),
                _ => names.instrument(&first.instrument),
            };
            v.text = format!(
                "{} ({header}): {parts} – {phrase}.",
                names.unit(first.level, &first.unit_id),
            );
            v.scales = members.iter().map(|f| f.scale_id.clone()).collect();
            v.refs = members
                .iter()
                .map(|f| finding_ref(f, config, names, &version))
                .collect();
        }
        let v = v.tally();
        match kind {
            Kind::Strength => s.strengths.push(v),
            Kind::Improvement => s.improvements.push(v),
            Kind::Signal => s.signals.push(v),
        }
    }
    s
}

/// How many subscales a grouped finding names in its line (the total
/// first); the others are counted, and named in its ids.
const LISTED_SCALES: usize = 3;
