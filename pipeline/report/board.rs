//! The one-page summary for the regional board and the hospitals' boards
//! (RvB), who are informed "tijdens de reguliere PDCA-cyclus" (convenant):
//! drawn from the region overview's rows, so the numbers are the R-COC's.

use serde::Serialize;

use super::labels::*;
use super::region::RegionReport;

/// Everything the board summary template receives.
#[derive(Debug, Clone, Serialize)]
pub struct BoardReport {
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
    /// The opening sentence.
    pub intro: String,
    /// Key facts, one sentence each.
    pub facts: Vec<String>,
    /// Per RSO what needs the boards' attention (empty: nothing).
    pub attention: Vec<(String, Vec<String>)>,
    /// Good practice: the largest improvements with their actions.
    pub good: Vec<(String, Vec<String>)>,
}

pub(super) fn board_report(r: &RegionReport) -> BoardReport {
    let t = &r.t;
    let n =
        |f: &dyn Fn(&super::region::OverviewRow) -> usize| -> usize { r.rows.iter().map(f).sum() };
    let signals = n(&|x| x.signals);
    let facts = vec![
        fill(
            &t["board_evaluated"],
            &[
                (
                    "done",
                    r.rows.iter().filter(|x| x.evaluated).count().to_string(),
                ),
                ("total", r.rows.len().to_string()),
            ],
        ),
        fill(
            &t["board_signals"],
            &[
                ("n", signals.to_string()),
                (
                    "rsos",
                    r.rows.iter().filter(|x| x.signals > 0).count().to_string(),
                ),
            ],
        ),
        fill(
            &t["board_escalations"],
            &[("n", n(&|x| x.escalations.len()).to_string())],
        ),
        fill(
            &t["board_overdue"],
            &[
                ("n", n(&|x| x.overdue).to_string()),
                ("m", n(&|x| x.without_action).to_string()),
            ],
        ),
        fill(
            &t["board_conditions"],
            &[("n", n(&|x| x.open_conditions).to_string())],
        ),
    ];
    let attention = r
        .rows
        .iter()
        .map(|x| {
            let mut v = Vec::new();
            if x.signals > 0 {
                v.push(format!("{}: {}", t["col_signals"], x.signals));
            }
            for e in &x.escalations {
                v.push(format!("{}: {e}", t["col_escalations"]));
            }
            if x.overdue > 0 {
                v.push(format!("{}: {}", t["col_overdue"], x.overdue));
            }
            if x.open_conditions > 0 {
                v.push(format!("{}: {}", t["col_conditions"], x.open_conditions));
            }
            if !x.evaluated {
                v.push(t["not_evaluated"].clone());
            }
            (x.rso.clone(), v)
        })
        .filter(|(_, v)| !v.is_empty())
        .collect();
    BoardReport {
        t: r.t.clone(),
        lang: r.lang.clone(),
        title: r.title.clone(),
        region_id: r.region_id.clone(),
        region: r.region.clone(),
        cycle: r.cycle.clone(),
        data_until: r.data_until.clone(),
        generated_on: r.generated_on.clone(),
        intro: fill(
            &t["board_intro"],
            &[("region", r.region.clone()), ("cycle", r.cycle.clone())],
        ),
        facts,
        attention,
        good: r.improvements.iter().take(3).cloned().collect(),
    }
}
