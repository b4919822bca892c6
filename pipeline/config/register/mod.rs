//! The quality register (kwaliteitsregister): what the region keeps about
//! its quality cycle besides the measurements. Actions (the development
//! plan), the group's decisions on findings, the written evaluations, the
//! visitations and audits with their conditions, the escalations
//! (signalen) and the year calendar. One workbook, or one CSV per sheet in
//! a folder; `opleidingsmonitor register init` writes an empty one.
//!
//! It is read and checked when the configuration is resolved, like the
//! registry: an unknown RSO, institution, instrument, subscale or finding
//! id, a bad date, an unknown status or step, or a repeated id is an error
//! naming sheet, row, column and value, all of them at once, before
//! anything is ingested or written. What the rows mean for a report
//! (verdicts, overdue, calendar status) is `pdca`'s.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::{FindingId, Period, Rule, TOTAL};
use crate::error::{Error, Result};
use crate::ingest::limits::Limits;
use crate::instrument::Catalogue;
use crate::org::Registry;

pub mod sheet;
pub mod sheets;
pub mod template;

use sheet::{Holds, Problems, Sheet, SheetSpec, Source};
pub use sheets::{ACTIONS, CALENDAR, DECISIONS, ESCALATIONS, EVALUATIONS, SHEETS, VISITATIONS};

/// An action's indicator: the instrument and subscale it should move.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Indicator {
    /// Instrument id.
    pub instrument: String,
    /// Subscale id or `total`.
    pub scale_id: String,
}

/// A target the measurement can check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Target {
    /// `>= 70`: the score (0-100) at least this.
    AtLeast(f64),
    /// `> 70`.
    Above(f64),
    /// `<= 30`.
    AtMost(f64),
    /// `< 30`.
    Below(f64),
    /// `+5` (or `-5`): the change since the start at least this (at most,
    /// for a negative target).
    Change(f64),
}

impl Target {
    /// Parses a target: `>= 70`, `> 70`, `<= 30`, `< 30` (0-100), `+5` or
    /// `-5` (points against the start); `Ok(None)` for a target in words
    /// (the group judges it); an error for something that starts like a
    /// number but is not one.
    pub fn parse(text: &str) -> std::result::Result<Option<Target>, String> {
        let t = text.trim().replace(',', ".");
        let t = t
            .trim_end_matches("op 0-100")
            .trim_end_matches("on 0-100")
            .trim();
        type Make = fn(f64) -> Target;
        let ops: [(&str, Make); 6] = [
            (">=", Target::AtLeast),
            ("≥", Target::AtLeast),
            ("<=", Target::AtMost),
            ("≤", Target::AtMost),
            (">", Target::Above),
            ("<", Target::Below),
        ];
        let number = |s: &str| -> std::result::Result<f64, String> {
            s.trim().parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                "a target that starts with >=, >, <=, <, + or - is a number: write >= 70 (0-100) or +5 (points since the start), or write the target in words".to_string()
            })
        };
        for (op, make) in ops {
            if let Some(rest) = t.strip_prefix(op) {
                let v = number(rest)?;
                if !(0.0..=100.0).contains(&v) {
                    return Err("a score target lies on 0-100".into());
                }
                return Ok(Some(make(v)));
            }
        }
        if let Some(rest) = t.strip_prefix('+') {
            return number(rest).map(|v| Some(Target::Change(v)));
        }
        if let Some(rest) = t.strip_prefix('-') {
            return number(rest).map(|v| Some(Target::Change(-v)));
        }
        Ok(None)
    }

    /// Whether `score` (0-100) and `change` (since the start) meet it.
    pub fn met(self, score: f64, change: Option<f64>) -> Option<bool> {
        Some(match self {
            Target::AtLeast(v) => score >= v,
            Target::Above(v) => score > v,
            Target::AtMost(v) => score <= v,
            Target::Below(v) => score < v,
            Target::Change(v) if v >= 0.0 => change? >= v,
            Target::Change(v) => change? <= v,
        })
    }
}

/// The status of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// Not started.
    Gepland,
    /// Under way.
    Lopend,
    /// Done.
    Afgerond,
    /// Stopped without being done.
    Vervallen,
}

/// One action of the development plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Action {
    /// Id.
    pub action_id: String,
    /// RSO.
    pub rso_id: String,
    /// Institution, when the action is local.
    pub institution_id: Option<String>,
    /// The findings it answers.
    pub finding_ids: Vec<String>,
    /// The indicator it should move, if one is named.
    pub indicator: Option<Indicator>,
    /// What is done.
    pub description: String,
    /// Who does it.
    pub owner_role: String,
    /// Start date.
    pub start: Option<NaiveDate>,
    /// Due date.
    pub due: Option<NaiveDate>,
    /// Status.
    pub status: ActionStatus,
    /// The status as written.
    pub status_text: String,
    /// The target as written.
    pub target: String,
    /// The target, where the measurement can check it.
    pub target_check: Option<Target>,
}

impl Action {
    /// Whether the action is past its due date and not done.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        self.due.is_some_and(|d| d < today)
            && matches!(self.status, ActionStatus::Gepland | ActionStatus::Lopend)
    }
}

/// The group's decision on a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// The finding.
    pub finding_id: String,
    /// `erkend`, `niet herkend` or `in behandeling`.
    pub decision: String,
    /// When.
    pub date: Option<NaiveDate>,
    /// Why.
    pub explanation: String,
}

/// The written evaluation of an RSO in a cycle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// RSO.
    pub rso_id: String,
    /// Cycle.
    pub cycle: String,
    /// The RSO's self-evaluation.
    pub self_evaluation: String,
    /// Context.
    pub context: String,
    /// Date of the R-COC meeting.
    pub meeting_date: Option<NaiveDate>,
    /// The R-COC's conclusions.
    pub conclusions: String,
    /// Its advice.
    pub advice: String,
    /// Notes of conversations.
    pub conversations: String,
}

/// One row of the visitations sheet: a visitation or audit, and one of its
/// conditions or advices (if any).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Visitation {
    /// Id of the visitation (rows of one visitation share it).
    pub visitation_id: String,
    /// RGS-visitatie, proefvisitatie, interne audit, ...
    pub kind: String,
    /// RSO.
    pub rso_id: String,
    /// Institution, for a department's visitation.
    pub institution_id: Option<String>,
    /// Date.
    pub date: Option<NaiveDate>,
    /// Outcome.
    pub outcome: String,
    /// `voorwaarde` or `advies`, or empty for a visitation without one.
    pub item_kind: String,
    /// The condition or advice.
    pub item: String,
    /// Its due date.
    pub due: Option<NaiveDate>,
    /// `open`, `in behandeling`, `afgerond`.
    pub status: String,
}

impl Visitation {
    /// A condition or advice that is not done.
    pub fn open(&self) -> bool {
        !self.item.is_empty() && self.status != "afgerond"
    }
}

/// One escalation (signaal, convenant article 4).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Escalation {
    /// Id.
    pub signal_id: String,
    /// Where it came from.
    pub source: String,
    /// RSO.
    pub rso_id: String,
    /// Institution, when it concerns a department.
    pub institution_id: Option<String>,
    /// Received on.
    pub received: Option<NaiveDate>,
    /// What it is about.
    pub description: String,
    /// The step reached.
    pub step: String,
    /// Who owns it.
    pub owner: String,
    /// Next date.
    pub next_date: Option<NaiveDate>,
    /// `open` or `gesloten`.
    pub status: String,
}

impl Escalation {
    /// Whether it is still open.
    pub fn open(&self) -> bool {
        self.status != "gesloten"
    }
}

/// One planned quality event of an RSO.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedEvent {
    /// RSO.
    pub rso_id: String,
    /// Institution, when the event (or exemption) is one department's.
    pub institution_id: Option<String>,
    /// Year.
    pub year: i32,
    /// Month (1-12), if planned to the month.
    pub month: Option<u32>,
    /// An instrument id, or `kwaliteitssessie`, `visitatie`, `regioplan`.
    pub event: String,
    /// Who owns it.
    pub owner: String,
    /// When it was done (events the data cannot show).
    pub done_on: Option<NaiveDate>,
    /// Why the RSO is exempt from it, if it is.
    pub exempt: String,
}

/// The quality register.
#[derive(Debug, Clone, Default)]
pub struct Register {
    /// Where it was read from (a workbook or a folder), if anywhere.
    pub source: Option<PathBuf>,
    /// Actions (acties, and the development plan CSV).
    pub actions: Vec<Action>,
    /// Decisions on findings (besluiten).
    pub decisions: Vec<Decision>,
    /// Evaluations (evaluaties).
    pub evaluations: Vec<Evaluation>,
    /// Visitations and audits (visitaties).
    pub visitations: Vec<Visitation>,
    /// Escalations (signalen).
    pub escalations: Vec<Escalation>,
    /// The year calendar (jaarkalender).
    pub calendar: Vec<PlannedEvent>,
}

impl Register {
    /// The latest decision on a finding: on its own id, else on another
    /// finding about the same subject (a low score and "two cycles
    /// running" of one subscale share a decision).
    pub fn decision(&self, finding_id: &str) -> Option<&Decision> {
        let exact = self
            .decisions
            .iter()
            .filter(|d| d.finding_id == finding_id)
            .max_by_key(|d| d.date);
        exact.or_else(|| {
            let id = FindingId::parse(finding_id).ok()?;
            self.decisions
                .iter()
                .filter(|d| FindingId::parse(&d.finding_id).is_ok_and(|o| o.same_subject(&id)))
                .max_by_key(|d| d.date)
        })
    }

    /// Whether the calendar exempts the RSO (or one of its institutions)
    /// from `event` in `year`: a row with a reason.
    pub fn exempt(&self, rso_id: &str, institution: &str, event: &str, year: i32) -> bool {
        self.calendar.iter().any(|e| {
            e.rso_id == rso_id
                && e.institution_id.as_deref().is_none_or(|i| i == institution)
                && e.event == event
                && e.year == year
                && !e.exempt.is_empty()
        })
    }
}

/// What the rows are checked against.
struct Known<'a> {
    registry: &'a Registry,
    catalogue: &'a Catalogue,
}

/// Reads and checks the register at `source` (a workbook or a folder of
/// CSVs) and the development plan CSV `plan` (its actions join the
/// register's); every problem is reported at once.
pub fn load(
    source: Option<&Path>,
    plan: Option<&Path>,
    registry: &Registry,
    catalogue: &Catalogue,
    limits: &Limits,
) -> Result<Register> {
    let known = Known {
        registry,
        catalogue,
    };
    let mut p = Problems::default();
    let mut reg = Register {
        source: source.map(Path::to_path_buf),
        ..Register::default()
    };
    if let Some(src) = source {
        if !src.exists() {
            p.file(
                &src.display().to_string(),
                "the quality register named in paths.register does not exist: make one with `opleidingsmonitor register init`, or remove the setting".into(),
            );
        } else {
            let read = |spec: SheetSpec, p: &mut Problems| {
                if src.is_dir() {
                    let file = src.join(format!("{}.csv", spec.name));
                    sheet::read(Source::Csv(&file), spec, limits, p)
                } else {
                    sheet::read(Source::Workbook(src), spec, limits, p)
                }
            };
            if let Some(s) = read(ACTIONS, &mut p) {
                reg.actions.extend(actions(&s, &known, &mut p));
            }
            if let Some(s) = read(DECISIONS, &mut p) {
                reg.decisions = decisions(&s, &known, &mut p);
            }
            if let Some(s) = read(EVALUATIONS, &mut p) {
                reg.evaluations = evaluations(&s, &known, &mut p);
            }
            if let Some(s) = read(VISITATIONS, &mut p) {
                reg.visitations = visitations(&s, &known, &mut p);
            }
            if let Some(s) = read(ESCALATIONS, &mut p) {
                reg.escalations = escalations(&s, &known, &mut p);
            }
            if let Some(s) = read(CALENDAR, &mut p) {
                reg.calendar = calendar(&s, &known, &mut p);
            }
        }
    }
    if let Some(plan) = plan.filter(|f| f.exists()) {
        // The development plan CSV is the acties sheet in a file of its own.
        if let Some(s) = sheet::read(Source::Csv(plan), ACTIONS, limits, &mut p) {
            for a in actions(&s, &known, &mut p) {
                if reg.actions.iter().any(|b| b.action_id == a.action_id) {
                    p.file(
                        &s.label,
                        format!("action id {:?} is also in the register's acties sheet: give each action its own id, in one place", a.action_id),
                    );
                } else {
                    reg.actions.push(a);
                }
            }
        }
    }
    match p.0.len() {
        0 => Ok(reg),
        1 => Err(p.0.remove(0)),
        _ => Err(Error::Many(p.0)),
    }
}

fn date(s: &Sheet, row: usize, cells: &[String], key: &str, p: &mut Problems) -> Option<NaiveDate> {
    let v = s.get(cells, key);
    if v.is_empty() {
        return None;
    }
    let parsed = ["%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| {
            NaiveDate::parse_from_str(v, f).ok().or_else(|| {
                chrono::NaiveDateTime::parse_from_str(v, f)
                    .ok()
                    .map(|d| d.date())
            })
        });
    if parsed.is_none() {
        p.add(
            s,
            row,
            key,
            v,
            "not a date: write it like 2024-03-01 (or 01-03-2024)".into(),
        );
    }
    parsed
}

/// Checks a value against what its column holds; returns it trimmed.
fn checked(
    s: &Sheet,
    row: usize,
    cells: &[String],
    key: &str,
    k: &Known,
    p: &mut Problems,
) -> String {
    let v = s.get(cells, key).to_string();
    let col = s
        .spec
        .columns
        .iter()
        .find(|c| c.key == key)
        .expect("a column of the spec");
    if v.is_empty() {
        if col.required {
            p.add(
                s,
                row,
                key,
                &v,
                format!("{} may not be empty: {}", col.heading, col.help),
            );
        }
        return v;
    }
    let bad = match col.holds {
        Holds::Rso if !k.registry.rsos.contains_key(&v) => Some(format!(
            "unknown RSO: use an RSO id from the registry ({})",
            crate::text::quoted_list(k.registry.rsos.keys().map(String::as_str), 8)
        )),
        Holds::Institution if !k.registry.institutions.contains_key(&v) => Some(
            "unknown institution: use an institution id from the registry, or leave it empty for the RSO as a whole".into(),
        ),
        Holds::Instrument if !k.catalogue.iter().any(|d| d.id == v) => Some(format!(
            "unknown instrument: use an instrument id ({})",
            crate::text::quoted_list(
                k.catalogue.iter().map(|d| d.id.as_str()).collect::<BTreeSet<_>>(),
                8
            )
        )),
        Holds::Number if v.parse::<i64>().is_err() => Some("not a whole number".into()),
        Holds::OneOf(words) if !words.iter().any(|w| w.eq_ignore_ascii_case(&v)) => {
            Some(format!("write one of: {}", words.join(", ")))
        }
        _ => None,
    };
    if let Some(message) = bad {
        p.add(s, row, key, &v, message);
    }
    match col.holds {
        Holds::OneOf(words) => words
            .iter()
            .find(|w| w.eq_ignore_ascii_case(&v))
            .map_or(v, |w| w.to_string()),
        _ => v,
    }
}

/// Checks a finding id: its parts must name a known unit, instrument and
/// subscale (whether the finding fired is known only after aggregation).
fn finding_id(
    s: &Sheet,
    row: usize,
    key: &str,
    text: &str,
    k: &Known,
    p: &mut Problems,
) -> Option<String> {
    let id = match FindingId::parse(text) {
        Ok(id) => id,
        Err(why) => {
            p.add(s, row, key, text, why);
            return None;
        }
    };
    let unit_known = match crate::domain::DepartmentId::parse(&id.unit_id) {
        Some(d) => {
            k.registry.institutions.contains_key(d.institution)
                && k.registry.rsos.values().any(|r| r.specialty == d.specialty)
        }
        None => {
            k.registry.rsos.contains_key(&id.unit_id)
                || k.registry.regions.contains_key(&id.unit_id)
        }
    };
    let versions: Vec<_> = k
        .catalogue
        .iter()
        .filter(|d| d.id == id.instrument)
        .collect();
    let why = if !unit_known {
        Some("the finding id names an unknown unit: its second part is a department (institution:specialty), an RSO or a region of the registry")
    } else if versions.is_empty() {
        Some("the finding id names an unknown instrument (its third part)")
    } else if id.scale_id != TOTAL && !versions.iter().any(|d| d.subscale(&id.scale_id).is_some()) {
        Some("the finding id names a subscale the instrument does not have (its fourth part)")
    } else {
        None
    };
    match why {
        Some(w) => {
            p.add(
                s,
                row,
                key,
                text,
                format!("{w}; copy the id from the report or the findings sheet"),
            );
            None
        }
        None => Some(id.to_string()),
    }
}

fn actions(s: &Sheet, k: &Known, p: &mut Problems) -> Vec<Action> {
    let mut out: Vec<Action> = Vec::new();
    for (row, cells) in &s.rows {
        let row = *row;
        let before = p.0.len();
        let action_id = checked(s, row, cells, "action_id", k, p);
        let rso_id = checked(s, row, cells, "rso_id", k, p);
        let institution_id =
            Some(checked(s, row, cells, "institution_id", k, p)).filter(|v| !v.is_empty());
        let instrument = checked(s, row, cells, "instrument", k, p);
        let scale_id = s.get(cells, "scale_id").to_string();
        let indicator = match (instrument.is_empty(), scale_id.is_empty()) {
            (true, true) => None,
            (false, true) => Some(Indicator {
                instrument,
                scale_id: TOTAL.into(),
            }),
            (true, false) => {
                p.add(
                    s,
                    row,
                    "instrument",
                    "",
                    "a subscale needs its instrument: name both, or neither".into(),
                );
                None
            }
            (false, false) => {
                let versions: Vec<_> = k.catalogue.iter().filter(|d| d.id == instrument).collect();
                if !versions.is_empty()
                    && scale_id != TOTAL
                    && !versions.iter().any(|d| d.subscale(&scale_id).is_some())
                {
                    p.add(s, row, "scale_id", &scale_id, "unknown subscale of this instrument: use a subscale id from its definition, or total".into());
                }
                Some(Indicator {
                    instrument,
                    scale_id,
                })
            }
        };
        let finding_ids = s
            .get(cells, "finding_ids")
            .split([',', ';', '\n', ' '])
            .filter(|t| !t.trim().is_empty())
            .filter_map(|t| finding_id(s, row, "finding_ids", t, k, p))
            .collect();
        let status_text = checked(s, row, cells, "status", k, p);
        let status = match status_text.to_lowercase().as_str() {
            "gepland" => ActionStatus::Gepland,
            "afgerond" => ActionStatus::Afgerond,
            "vervallen" => ActionStatus::Vervallen,
            _ => ActionStatus::Lopend,
        };
        let target = s.get(cells, "target").to_string();
        let target_check = match Target::parse(&target) {
            Ok(t) => t,
            Err(why) => {
                p.add(s, row, "target", &target, why);
                None
            }
        };
        let a = Action {
            action_id,
            rso_id,
            institution_id,
            finding_ids,
            indicator,
            description: checked(s, row, cells, "description", k, p),
            owner_role: s.get(cells, "owner_role").to_string(),
            start: date(s, row, cells, "start", p),
            due: date(s, row, cells, "due", p),
            status,
            status_text,
            target,
            target_check,
        };
        if !a.action_id.is_empty() && out.iter().any(|b| b.action_id == a.action_id) {
            p.add(
                s,
                row,
                "action_id",
                &a.action_id,
                "this action id is used twice: give each action its own".into(),
            );
        }
        if p.0.len() == before {
            out.push(a);
        }
    }
    out
}

fn decisions(s: &Sheet, k: &Known, p: &mut Problems) -> Vec<Decision> {
    let mut out = Vec::new();
    for (row, cells) in &s.rows {
        let row = *row;
        let text = s.get(cells, "finding_id");
        let id = if text.is_empty() {
            p.add(
                s,
                row,
                "finding_id",
                "",
                "every decision names the finding it is about: copy its id from the report".into(),
            );
            None
        } else {
            finding_id(s, row, "finding_id", text, k, p)
        };
        let decision = checked(s, row, cells, "decision", k, p);
        let date = date(s, row, cells, "date", p);
        if let Some(finding_id) = id {
            out.push(Decision {
                finding_id,
                decision,
                date,
                explanation: s.get(cells, "explanation").to_string(),
            });
        }
    }
    out
}

fn cycle(s: &Sheet, row: usize, cells: &[String], p: &mut Problems) -> String {
    let v = s.get(cells, "cycle").to_string();
    if !Period::parse(&v).is_some_and(Period::is_cycle) {
        p.add(
            s,
            row,
            "cycle",
            &v,
            "not a cycle: write it like 2023-2024".into(),
        );
    }
    v
}

fn evaluations(s: &Sheet, k: &Known, p: &mut Problems) -> Vec<Evaluation> {
    let mut out: Vec<Evaluation> = Vec::new();
    for (row, cells) in &s.rows {
        let row = *row;
        let before = p.0.len();
        let e = Evaluation {
            rso_id: checked(s, row, cells, "rso_id", k, p),
            cycle: cycle(s, row, cells, p),
            self_evaluation: s.get(cells, "self_evaluation").to_string(),
            context: s.get(cells, "context").to_string(),
            meeting_date: date(s, row, cells, "meeting_date", p),
            conclusions: s.get(cells, "conclusions").to_string(),
            advice: s.get(cells, "advice").to_string(),
            conversations: s.get(cells, "conversations").to_string(),
        };
        if out
            .iter()
            .any(|o| o.rso_id == e.rso_id && o.cycle == e.cycle)
        {
            p.add(
                s,
                row,
                "cycle",
                &e.cycle,
                "this RSO already has an evaluation of this cycle: keep one row per RSO and cycle"
                    .into(),
            );
        }
        if p.0.len() == before {
            out.push(e);
        }
    }
    out
}

fn visitations(s: &Sheet, k: &Known, p: &mut Problems) -> Vec<Visitation> {
    let mut out = Vec::new();
    for (row, cells) in &s.rows {
        let row = *row;
        let before = p.0.len();
        let v = Visitation {
            visitation_id: checked(s, row, cells, "visitation_id", k, p),
            kind: checked(s, row, cells, "kind", k, p),
            rso_id: checked(s, row, cells, "rso_id", k, p),
            institution_id: Some(checked(s, row, cells, "institution_id", k, p))
                .filter(|v| !v.is_empty()),
            date: date(s, row, cells, "date", p),
            outcome: s.get(cells, "outcome").to_string(),
            item_kind: checked(s, row, cells, "item_kind", k, p),
            item: s.get(cells, "item").to_string(),
            due: date(s, row, cells, "due", p),
            status: checked(s, row, cells, "status", k, p),
        };
        if !v.item.is_empty() && v.status.is_empty() {
            p.add(
                s,
                row,
                "status",
                "",
                "a condition or advice needs a status: open, in behandeling or afgerond".into(),
            );
        }
        if p.0.len() == before {
            out.push(v);
        }
    }
    out
}

fn escalations(s: &Sheet, k: &Known, p: &mut Problems) -> Vec<Escalation> {
    let mut out: Vec<Escalation> = Vec::new();
    for (row, cells) in &s.rows {
        let row = *row;
        let before = p.0.len();
        let e = Escalation {
            signal_id: checked(s, row, cells, "signal_id", k, p),
            source: checked(s, row, cells, "source", k, p),
            rso_id: checked(s, row, cells, "rso_id", k, p),
            institution_id: Some(checked(s, row, cells, "institution_id", k, p))
                .filter(|v| !v.is_empty()),
            received: date(s, row, cells, "received", p),
            description: s.get(cells, "description").to_string(),
            step: checked(s, row, cells, "step", k, p),
            owner: s.get(cells, "owner").to_string(),
            next_date: date(s, row, cells, "next_date", p),
            status: checked(s, row, cells, "status", k, p),
        };
        if out.iter().any(|o| o.signal_id == e.signal_id) {
            p.add(
                s,
                row,
                "signal_id",
                &e.signal_id,
                "this id is used twice: give each signal its own".into(),
            );
        }
        if p.0.len() == before {
            out.push(e);
        }
    }
    out
}

fn calendar(s: &Sheet, k: &Known, p: &mut Problems) -> Vec<PlannedEvent> {
    let mut out = Vec::new();
    for (row, cells) in &s.rows {
        let row = *row;
        let before = p.0.len();
        let rso_id = checked(s, row, cells, "rso_id", k, p);
        let year = checked(s, row, cells, "year", k, p)
            .parse::<i32>()
            .unwrap_or(0);
        let month_text = checked(s, row, cells, "month", k, p);
        let month = month_text.parse::<u32>().ok();
        if month.is_some_and(|m| !(1..=12).contains(&m)) {
            p.add(s, row, "month", &month_text, "a month is 1 to 12".into());
        }
        let event = s.get(cells, "event").to_string();
        let instrument = k.catalogue.iter().any(|d| d.id == event);
        if !instrument && !sheets::EVENTS.contains(&event.as_str()) {
            p.add(
                s,
                row,
                "event",
                &event,
                format!(
                    "write an instrument id ({}) or one of: {}",
                    k.catalogue
                        .iter()
                        .map(|d| d.id.as_str())
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect::<Vec<_>>()
                        .join(", "),
                    sheets::EVENTS.join(", ")
                ),
            );
        }
        let e = PlannedEvent {
            rso_id,
            institution_id: Some(checked(s, row, cells, "institution_id", k, p))
                .filter(|v| !v.is_empty()),
            year,
            month,
            event,
            owner: s.get(cells, "owner").to_string(),
            done_on: date(s, row, cells, "done_on", p),
            exempt: s.get(cells, "exempt").to_string(),
        };
        if p.0.len() == before {
            out.push(e);
        }
    }
    out
}

/// The rules a finding id can name, for the template's help text.
pub fn rule_names() -> Vec<&'static str> {
    Rule::ALL.iter().map(|r| r.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_numbers_the_measurement_checks_or_words_the_group_judges() {
        assert_eq!(Target::parse(">= 70"), Ok(Some(Target::AtLeast(70.0))));
        assert_eq!(Target::parse("≥70,5"), Ok(Some(Target::AtLeast(70.5))));
        assert_eq!(
            Target::parse("< 40 op 0-100"),
            Ok(Some(Target::Below(40.0)))
        );
        assert_eq!(Target::parse("+5"), Ok(Some(Target::Change(5.0))));
        assert_eq!(Target::parse("-3"), Ok(Some(Target::Change(-3.0))));
        assert_eq!(Target::parse("sfeer terug op niveau"), Ok(None));
        assert_eq!(Target::parse(""), Ok(None));
        assert!(Target::parse(">= zeventig").is_err());
        assert!(Target::parse(">= 170").is_err(), "a score lies on 0-100");
        // Met or not, against the score now and the change since the start.
        assert_eq!(Target::AtLeast(70.0).met(70.0, None), Some(true));
        assert_eq!(Target::Above(70.0).met(70.0, None), Some(false));
        assert_eq!(Target::AtMost(30.0).met(29.9, None), Some(true));
        assert_eq!(Target::Change(5.0).met(60.0, Some(4.9)), Some(false));
        assert_eq!(Target::Change(5.0).met(60.0, Some(5.0)), Some(true));
        assert_eq!(Target::Change(-3.0).met(60.0, Some(-4.0)), Some(true));
        assert_eq!(Target::Change(5.0).met(60.0, None), None);
    }

    #[test]
    fn the_latest_decision_counts_and_siblings_share_it() {
        let d = |id: &str, decision: &str, day: u32| Decision {
            finding_id: id.into(),
            decision: decision.into(),
            date: NaiveDate::from_ymd_opt(2024, 1, day),
            explanation: String::new(),
        };
        let low = "2021-2022/a:b/d-rect/feedback/low_score";
        let reg = Register {
            decisions: vec![d(low, "in behandeling", 1), d(low, "erkend", 9)],
            ..Register::default()
        };
        assert_eq!(reg.decision(low).unwrap().decision, "erkend");
        // "Two cycles running" of the same subscale shares the decision.
        let two = "2021-2022/a:b/d-rect/feedback/two_cycles_running";
        assert_eq!(reg.decision(two).unwrap().decision, "erkend");
        assert!(reg
            .decision("2021-2022/a:b/d-rect/teamwork/low_score")
            .is_none());
    }
}
