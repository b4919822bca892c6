//! The development plan (ontwikkelplan): the actions a training group
//! keeps, read and checked when the configuration is resolved, so that a
//! bad plan stops a run before anything is ingested or written.

use std::path::Path;

use chrono::NaiveDate;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::instrument::Catalogue;
use crate::org::Registry;

/// One action of the development plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Action {
    /// Id.
    pub action_id: String,
    /// RSO.
    pub rso_id: String,
    /// Institution, when the action is local.
    pub institution_id: Option<String>,
    /// Instrument of the indicator.
    pub instrument: String,
    /// Subscale of the indicator.
    pub scale_id: String,
    /// What is done.
    pub description: String,
    /// Who does it.
    pub owner_role: String,
    /// Start date.
    pub start: Option<NaiveDate>,
    /// Due date.
    pub due: Option<NaiveDate>,
    /// Status as the group writes it.
    pub status: String,
    /// The target.
    pub target: String,
}

impl Action {
    /// Whether the action is past its due date and not done.
    pub fn overdue(&self, today: NaiveDate) -> bool {
        let done = ["afgerond", "gereed", "klaar", "done", "completed", "closed"];
        self.due.is_some_and(|d| d < today)
            && !done.contains(&self.status.trim().to_lowercase().as_str())
    }
}

/// Reads the development plan CSV
/// (`action_id,rso_id,institution_id,instrument,scale_id,description,owner_role,start,due,status,target`)
/// and checks every row against the registry and the instruments: an
/// unknown RSO, institution, instrument or subscale, a bad date or a
/// repeated action id is an error naming the row, column and value.
pub fn read_plan(path: &Path, registry: &Registry, catalogue: &Catalogue) -> Result<Vec<Action>> {
    let fail = |row: Option<usize>, column: Option<&str>, value: Option<&str>, message: String| {
        Error::input(path, row, column, value, message)
    };
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| fail(None, None, None, e.to_string()))?;
    let headers = rdr
        .headers()
        .map_err(|e| fail(Some(1), None, None, e.to_string()))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let required = [
        "action_id",
        "rso_id",
        "instrument",
        "scale_id",
        "description",
        "start",
        "due",
        "status",
    ];
    for r in required {
        if col(r).is_none() {
            return Err(fail(Some(1), Some(r), None, "the column is missing; the plan needs action_id,rso_id,institution_id,instrument,scale_id,description,owner_role,start,due,status,target".into()));
        }
    }
    let mut out: Vec<Action> = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 2;
        let rec = rec.map_err(|e| fail(Some(row), None, None, e.to_string()))?;
        let get = |name: &str| {
            col(name)
                .and_then(|c| rec.get(c))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        let bad = |column: &str, message: &str| {
            fail(Some(row), Some(column), Some(&get(column)), message.into())
        };
        let date = |name: &str| -> Result<Option<NaiveDate>> {
            let v = get(name);
            if v.is_empty() {
                return Ok(None);
            }
            NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| bad(name, "not a date: write it like 2024-03-01"))
        };
        let action = Action {
            action_id: get("action_id"),
            rso_id: get("rso_id"),
            institution_id: Some(get("institution_id")).filter(|s| !s.is_empty()),
            instrument: get("instrument"),
            scale_id: get("scale_id"),
            description: get("description"),
            owner_role: get("owner_role"),
            start: date("start")?,
            due: date("due")?,
            status: get("status"),
            target: get("target"),
        };
        if action.action_id.is_empty() {
            return Err(bad("action_id", "every action needs an id, like A1"));
        }
        if out.iter().any(|a| a.action_id == action.action_id) {
            return Err(bad(
                "action_id",
                "this action id is used twice: give each action its own",
            ));
        }
        if !registry.rsos.contains_key(&action.rso_id) {
            return Err(bad(
                "rso_id",
                "unknown RSO: use an RSO id from the registry",
            ));
        }
        if let Some(inst) = &action.institution_id {
            if !registry.institutions.contains_key(inst) {
                return Err(bad(
                    "institution_id",
                    "unknown institution: use an institution id from the registry, or leave it empty for the RSO",
                ));
            }
        }
        let versions: Vec<_> = catalogue
            .iter()
            .filter(|d| d.id == action.instrument)
            .collect();
        if versions.is_empty() {
            return Err(bad(
                "instrument",
                "unknown instrument: use an instrument id such as d-rect",
            ));
        }
        if action.scale_id != crate::domain::TOTAL
            && !versions
                .iter()
                .any(|d| d.subscale(&action.scale_id).is_some())
        {
            return Err(bad(
                "scale_id",
                "unknown subscale of this instrument: use a subscale id from its definition, or total",
            ));
        }
        out.push(action);
    }
    Ok(out)
}
