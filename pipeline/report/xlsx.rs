//! The tables behind a cycle's reports, as a workbook.

use super::views::*;
use crate::error::{Error, Result};
use crate::score::{self, TOTAL};
use crate::table::Level;

/// The tables behind the reports of a cycle, as a workbook. Every text is
/// written as text, never as a formula, whatever it starts with.
pub(super) fn tables_xlsx(
    ctx: &Ctx,
    cycle: &str,
    findings: &[crate::table::FindingRow],
) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let xerr = |e: rust_xlsxwriter::XlsxError| Error::Output {
        path: ctx.config.paths.reports.join(cycle).join("tables.xlsx"),
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
        for (i, h) in crate::dataset::tables::AGGREGATE_COLUMNS.iter().enumerate() {
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
                sheet.write_string(row, 21, r.as_str()).map_err(xerr)?;
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
            "finding_ids",
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
        for (r, a) in ctx.config.register.actions.iter().enumerate() {
            let vals = [
                a.action_id.clone(),
                a.rso_id.clone(),
                a.institution_id.clone().unwrap_or_default(),
                a.finding_ids.join(","),
                a.indicator
                    .as_ref()
                    .map(|i| i.instrument.clone())
                    .unwrap_or_default(),
                a.indicator
                    .as_ref()
                    .map(|i| i.scale_id.clone())
                    .unwrap_or_default(),
                a.description.clone(),
                a.owner_role.clone(),
                a.start.map(|d| d.to_string()).unwrap_or_default(),
                a.due.map(|d| d.to_string()).unwrap_or_default(),
                a.status_text.clone(),
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
        // Every finding of the cycle once, with the register's decision
        // and actions (the same rows as findings.parquet).
        let sheet = book.add_worksheet();
        sheet.set_name("findings").map_err(xerr)?;
        for (i, h) in crate::table::FINDING_COLUMNS.iter().enumerate() {
            sheet
                .write_string_with_format(0, i as u16, *h, &bold)
                .map_err(xerr)?;
        }
        for (r, f) in findings.iter().enumerate() {
            let row = r as u32 + 1;
            for (c, v) in f.values().iter().enumerate() {
                match v {
                    crate::table::Value::Text(t) => {
                        sheet.write_string(row, c as u16, *t).map_err(xerr)?;
                    }
                    crate::table::Value::Number(x) => {
                        sheet.write_number(row, c as u16, *x).map_err(xerr)?;
                    }
                    crate::table::Value::Empty => {}
                }
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(xerr)?;
    }
    {
        let sheet = book.add_worksheet();
        sheet.set_name("comments").map_err(xerr)?;
        for (i, h) in ["department", "item", "text"].iter().enumerate() {
            sheet
                .write_string_with_format(0, i as u16, *h, &bold)
                .map_err(xerr)?;
        }
        // Only the open answers reports show (items with a `report_as`), of
        // groups that pass the comment gate, as in the reports.
        let shown_item = |instrument: &str, item: &str| {
            ctx.config.catalogue.iter().any(|d| {
                d.id == instrument
                    && d.items
                        .iter()
                        .any(|i| i.id == item && i.report_as.is_some())
            })
        };
        let passes = |instrument: &str, inst: &str, spec: &str| {
            let unit = crate::domain::DepartmentId::new(inst, spec).unit_id();
            ctx.published
                .unit_cells(Level::Department, &unit)
                .iter()
                .any(|c| {
                    c.instrument == instrument
                        && c.scale_id == TOTAL
                        && c.period == cycle
                        && crate::privacy::comments_publishable(
                            c,
                            ctx.config.floor_of(instrument, &c.instrument_version),
                        )
                })
        };
        let mut rows: Vec<(String, String, String)> = ctx
            .comments
            .iter()
            .filter(|c| {
                shown_item(&c.instrument, &c.item_id)
                    && years.contains(&c.year.to_string())
                    && passes(&c.instrument, &c.institution_id, &c.specialty)
            })
            .map(|c| {
                (
                    crate::domain::DepartmentId::new(&c.institution_id, &c.specialty).unit_id(),
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
            sheet.write_string(r, 2, fit_cell(t)).map_err(xerr)?;
        }
    }
    book.save_to_buffer().map_err(xerr)
}

/// Excel holds at most 32,767 characters in a cell, and the workbook
/// library refuses a longer string: an open answer that long is cut, with
/// a marker saying how long it was (the dataset keeps the whole text).
pub(super) fn fit_cell(text: &str) -> std::borrow::Cow<'_, str> {
    const KEEP: usize = 32_000;
    let n = text.chars().count();
    if n <= KEEP {
        return text.into();
    }
    let kept: String = text.chars().take(KEEP).collect();
    format!("{kept}… (afgekapt: {n} tekens)").into()
}

#[cfg(test)]
mod tests {
    use super::fit_cell;

    #[test]
    fn a_text_longer_than_an_excel_cell_is_cut_with_a_marker() {
        let long = "é".repeat(40_000);
        let cut = fit_cell(&long);
        assert!(cut.chars().count() <= 32_767);
        assert!(cut.ends_with("(afgekapt: 40000 tekens)"));
        assert_eq!(fit_cell("kort"), "kort");
    }
}
