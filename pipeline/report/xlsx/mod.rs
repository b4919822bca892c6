//! The tables behind a cycle's reports, as a workbook a committee
//! secretary can use: each sheet a table with its header row frozen, an
//! autofilter, fitted column widths and number formats (scores with one
//! decimal, response rates as percentages, dates as dates), names beside
//! ids, in the report's language. Sheets: an explanation, the heatmap,
//! findings, the development plan, participation, changes, open answers,
//! visitations and every aggregate. A suppressed cell never shows its
//! value in any sheet: where the reports show a word ("n < 4",
//! "verborgen"), the workbook shows the same word.

mod heatmap;
mod overview;
mod register;
mod sheet;
mod tables;

use std::collections::HashMap;

use super::labels::Names;
use super::views::*;
use crate::error::{Error, Result};
use crate::score::TOTAL;
use crate::table::Level;

/// The tables behind the reports of a cycle, as a workbook. Every text is
/// written as text, never as a formula, whatever it starts with.
pub(super) fn tables_xlsx(
    ctx: &Ctx,
    cycle: &str,
    findings: &[crate::table::FindingRow],
) -> Result<Vec<u8>> {
    write_book(ctx, cycle, findings).map_err(|e| Error::Output {
        path: ctx.config.paths.reports.join(cycle).join("tables.xlsx"),
        message: e.to_string(),
    })
}

fn write_book(ctx: &Ctx, cycle: &str, findings: &[crate::table::FindingRow]) -> sheet::X<Vec<u8>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    // The fastest compression: the cycle's workbook holds every cell of
    // every level (hundreds of thousands of rows at national scale), and
    // level 6 (the default) took half again as long for a file 40% smaller.
    book.set_zip_compression_level(1);
    // The table sheets go row by row to temporary files (`sheet::Sheet`),
    // beside the reports: not in a temporary directory that may be memory.
    let reports = &ctx.config.paths.reports;
    std::fs::create_dir_all(reports).map_err(rust_xlsxwriter::XlsxError::IoError)?;
    book.set_tempdir(reports)?;
    let created = rust_xlsxwriter::ExcelDateTime::from_ymd(2000, 1, 1)?;
    book.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
    let w = Words::new(ctx);
    let formats = sheet::Formats::new(&w.word("xl_date_format"));
    let t0 = std::time::Instant::now();
    overview::about(&mut book, &w, cycle, &formats)?;
    heatmap::heatmap(&mut book, &w, cycle, &formats)?;
    register::findings(&mut book, &w, findings, &formats)?;
    register::plan(&mut book, &w, &formats)?;
    overview::participation(&mut book, &w, cycle, &formats)?;
    let t1 = t0.elapsed().as_secs_f64();
    tables::changes(&mut book, &w, cycle, &formats)?;
    register::comments(&mut book, &w, cycle, &formats)?;
    register::visitations(&mut book, &w, &formats)?;
    let t2 = t0.elapsed().as_secs_f64();
    tables::aggregates(&mut book, &w, cycle, &formats)?;
    let t3 = t0.elapsed().as_secs_f64();
    let bytes = book.save_to_buffer();
    // Where a workbook's time goes (the aggregates sheet and the zip are
    // most of it at national scale).
    tracing::debug!(
        overview = t1,
        changes = t2 - t1,
        aggregates = t3 - t2,
        zip = t0.elapsed().as_secs_f64() - t3,
        "workbook sheets"
    );
    bytes
}

/// The report's context with the words and names the sheets need.
struct Words<'a> {
    ctx: &'a Ctx<'a>,
    names: Names<'a>,
    /// The levels in words, in `Level::ALL` order.
    levels: Vec<String>,
}

impl<'a> Words<'a> {
    fn new(ctx: &'a Ctx<'a>) -> Words<'a> {
        let levels = Level::ALL
            .iter()
            .map(|l| {
                super::labels::label_or(ctx.t, &format!("xl_level_{}", l.as_str()), l.as_str())
            })
            .collect();
        Words {
            ctx,
            names: ctx.names(),
            levels,
        }
    }

    /// A label of the translation table (its key where a replaced table
    /// lacks it).
    fn word(&self, key: &str) -> String {
        super::labels::label_or(self.ctx.t, key, key)
    }

    /// A column header (`xl_col_<key>`) with its kind.
    fn col(&self, key: &str, kind: sheet::Kind) -> (String, sheet::Kind) {
        (self.word(&format!("xl_col_{key}")), kind)
    }

    /// A level in words ("afdeling").
    fn level(&self, level: Level) -> &str {
        let i = Level::ALL.iter().position(|l| *l == level).unwrap_or(0);
        &self.levels[i]
    }

    /// A suppressed cell in the reports' words ("n < 4", "verborgen"):
    /// never its number.
    fn hidden(&self, c: &crate::table::Cell) -> String {
        let floor = self
            .ctx
            .config
            .floor_of(&c.instrument, &c.instrument_version);
        shown(Some(c), floor, &self.names).text
    }

    /// The name of a subscale of an instrument whose version is not known
    /// (a finding, an action): from the first version that has it.
    fn scale_any(&self, instrument: &str, scale: &str) -> String {
        if scale.is_empty() {
            return String::new();
        }
        let version = self
            .ctx
            .config
            .catalogue
            .iter()
            .filter(|d| d.id == instrument)
            .filter(|d| scale == TOTAL || d.subscale(scale).is_some())
            .last()
            .map(|d| d.version.clone())
            .unwrap_or_default();
        self.names.scale(instrument, &version, scale)
    }
}

/// Names looked up once per distinct id: the aggregates sheet names every
/// row.
#[derive(Default)]
struct NameCache<'k> {
    units: HashMap<(Level, &'k str), String>,
    instruments: HashMap<&'k str, String>,
    scales: HashMap<(&'k str, &'k str, &'k str), String>,
}

impl<'k> NameCache<'k> {
    fn unit(&mut self, w: &Words, level: Level, id: &'k str) -> &str {
        self.units
            .entry((level, id))
            .or_insert_with(|| w.names.unit(level, id))
    }
    fn instrument(&mut self, w: &Words, id: &'k str) -> &str {
        self.instruments
            .entry(id)
            .or_insert_with(|| w.names.instrument(id))
    }
    fn scale(&mut self, w: &Words, instrument: &'k str, version: &'k str, scale: &'k str) -> &str {
        self.scales
            .entry((instrument, version, scale))
            .or_insert_with(|| w.names.scale(instrument, version, scale))
    }
}

/// The periods of a cycle's workbook: the cycle and its years.
fn periods_of(cycle: &str) -> Vec<String> {
    std::iter::once(cycle.to_string())
        .chain(crate::score::years_of(cycle).iter().map(|y| y.to_string()))
        .collect()
}

/// Excel holds at most 32,767 characters in a cell, and the workbook
/// library refuses a longer string: an open answer that long is cut, with
/// a marker saying how long it was (the dataset keeps the whole text).
/// The marker is in the workbook's language (`{n}`: the length).
fn fit_cell_with<'t>(text: &'t str, marker: &str) -> std::borrow::Cow<'t, str> {
    const KEEP: usize = 32_000;
    let n = text.chars().count();
    if n <= KEEP {
        return text.into();
    }
    let kept: String = text.chars().take(KEEP).collect();
    format!("{kept}… {}", marker.replace("{n}", &n.to_string())).into()
}

#[cfg(test)]
mod tests {
    use super::fit_cell_with;

    fn fit_cell(text: &str) -> std::borrow::Cow<'_, str> {
        fit_cell_with(text, "(afgekapt: {n} tekens)")
    }

    #[test]
    fn a_text_longer_than_an_excel_cell_is_cut_with_a_marker() {
        let long = "é".repeat(40_000);
        let cut = fit_cell(&long);
        assert!(cut.chars().count() <= 32_767);
        assert!(cut.ends_with("(afgekapt: 40000 tekens)"));
        assert_eq!(fit_cell("kort"), "kort");
    }
}
