//! The comments table as the reports read it: one row per open answer,
//! its text already scrubbed on ingest (`ingest::scrub`), with how many
//! names and contact details were masked in it. It does not decide which
//! answers a report may show (`privacy::comments_publishable`, the report).

use std::path::Path;

use polars::prelude::*;

use super::{committed_parts, partition_of, pl_err, read_parquet, text_column};
use crate::error::Result;

/// Column of the comments table: names masked in the answer.
pub const MASKED_NAMES: &str = "masked_names";
/// Column of the comments table: contact details masked in the answer.
pub const MASKED_DETAILS: &str = "masked_details";

/// One open answer, as the reports read it.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentRow {
    /// Instrument (from the partition).
    pub instrument: String,
    /// Year (from the partition).
    pub year: i32,
    /// Institution.
    pub institution_id: String,
    /// Specialty.
    pub specialty: String,
    /// RSO.
    pub rso_id: Option<String>,
    /// Item.
    pub item_id: String,
    /// The text, names and contact details already masked on ingest.
    pub text: String,
    /// How many names were masked in it.
    pub masked_names: u32,
    /// How many contact details (phone numbers, e-mail and web addresses,
    /// BSN-like numbers) were masked in it.
    pub masked_details: u32,
}

/// A count column of a frame read from `path`; zeros when the part file
/// predates it (written before the counts were kept).
fn count_column(df: &DataFrame, name: &str, path: &Path) -> Result<Vec<u32>> {
    let Ok(column) = df.column(name) else {
        return Ok(vec![0; df.height()]);
    };
    let e = pl_err(path);
    Ok(column
        .cast(&DataType::UInt32)
        .map_err(&e)?
        .u32()
        .map_err(&e)?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect())
}

/// Every open answer in the dataset.
pub fn read_comments(root: &Path) -> Result<Vec<CommentRow>> {
    let mut out = Vec::new();
    for path in committed_parts(root, "comments")? {
        let (instrument, year) = partition_of(&path);
        let df = read_parquet(&path)?;
        let col = |n: &str| text_column(&df, n, &path);
        let (inst, spec, rso, item, text) = (
            col("institution_id")?,
            col("specialty")?,
            col("rso_id")?,
            col("item_id")?,
            col("text")?,
        );
        let names = count_column(&df, MASKED_NAMES, &path)?;
        let details = count_column(&df, MASKED_DETAILS, &path)?;
        for i in 0..df.height() {
            out.push(CommentRow {
                instrument: instrument.clone(),
                year,
                institution_id: inst[i].clone().unwrap_or_default(),
                specialty: spec[i].clone().unwrap_or_default(),
                rso_id: rso[i].clone(),
                item_id: item[i].clone().unwrap_or_default(),
                text: text[i].clone().unwrap_or_default(),
                masked_names: names[i],
                masked_details: details[i],
            });
        }
    }
    Ok(out)
}
