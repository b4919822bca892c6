//! The invitations file: how many were invited per instrument, year and
//! department, for response rates. Read and checked when the configuration
//! is resolved, before any stage runs.

use std::path::Path;

use crate::error::{Error, Result};
use crate::org::Registry;

/// One row of the invitations file, resolved against the registry.
#[derive(Debug, Clone)]
pub struct Invitation {
    /// Instrument id.
    pub instrument: String,
    /// Year.
    pub year: i32,
    /// Institution id.
    pub institution_id: String,
    /// Specialty code.
    pub specialty: String,
    /// Number invited.
    pub invited: u64,
}

/// Reads `instrument,year,institution,specialty,invited`; institutions and
/// specialties may be spelled as in the registry's aliases. A bad row is an
/// error naming its row, column and value.
pub fn read_invitations(path: &Path, registry: &Registry) -> Result<Vec<Invitation>> {
    let fail = |row: Option<usize>, column: Option<&str>, value: Option<&str>, message: String| {
        Error::input(path, row, column, value, message)
    };
    let mut rdr =
        csv::Reader::from_path(path).map_err(|e| fail(None, None, None, e.to_string()))?;
    let headers = rdr
        .headers()
        .map_err(|e| fail(Some(1), None, None, e.to_string()))?
        .clone();
    let idx = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| {
                fail(
                    Some(1),
                    Some(name),
                    None,
                    "the column is missing; expected instrument,year,institution,specialty,invited"
                        .into(),
                )
            })
    };
    let (i_inst, i_year, i_org, i_spec, i_inv) = (
        idx("instrument")?,
        idx("year")?,
        idx("institution")?,
        idx("specialty")?,
        idx("invited")?,
    );
    let mut out = Vec::new();
    for (n, rec) in rdr.records().enumerate() {
        let row = n + 2;
        let rec = rec.map_err(|e| fail(Some(row), None, None, e.to_string()))?;
        let get = |i: usize| rec.get(i).unwrap_or("").trim();
        let bad = |column: &str, i: usize, message: &str| {
            fail(Some(row), Some(column), Some(get(i)), message.into())
        };
        let inst = registry.institution(get(i_org)).ok_or_else(|| {
            bad(
                "institution",
                i_org,
                "unknown institution: add the spelling to the registry's aliases",
            )
        })?;
        let spec = registry.specialty(get(i_spec)).ok_or_else(|| {
            bad(
                "specialty",
                i_spec,
                "unknown specialty: add the spelling to the registry's aliases",
            )
        })?;
        let year = get(i_year)
            .parse()
            .map_err(|_| bad("year", i_year, "not a year: write it like 2024"))?;
        let invited = get(i_inv)
            .parse()
            .map_err(|_| bad("invited", i_inv, "not a whole number of people"))?;
        out.push(Invitation {
            instrument: get(i_inst).to_string(),
            year,
            institution_id: inst.id.clone(),
            specialty: spec.code.clone(),
            invited,
        });
    }
    Ok(out)
}
