//! What the workbook holds (its first sheet), and participation per unit
//! and year.

use rust_xlsxwriter::{Format, Workbook};

use super::sheet::{Formats, Kind, Sheet, X};
use super::Words;
use crate::score::TOTAL;
use crate::table::Level;

/// The first sheet: what each sheet holds and how to read the numbers.
pub(super) fn about(book: &mut Workbook, w: &Words, cycle: &str, f: &Formats) -> X<()> {
    let ctx = w.ctx;
    let ws = book.add_worksheet();
    ws.set_name(w.word("xl_sheet_about"))?;
    let wrap = Format::new()
        .set_text_wrap()
        .set_align(rust_xlsxwriter::FormatAlign::Top);
    let head = Format::new()
        .set_bold()
        .set_align(rust_xlsxwriter::FormatAlign::Top);
    ws.set_column_width(0, 24)?;
    ws.set_column_width(1, 100)?;
    let title = format!(
        "{} – {} {cycle}",
        ctx.config.title,
        w.word("cycle").to_lowercase()
    );
    ws.write_string_with_format(0, 0, title, &f.bold)?;
    ws.write_string(
        1,
        0,
        format!("{} {}", w.word("generated_on"), ctx.opts.today),
    )?;
    let mut row = 3;
    for sheet in [
        "heatmap",
        "findings",
        "plan",
        "participation",
        "changes",
        "comments",
        "visitations",
        "aggregates",
    ] {
        ws.write_string_with_format(row, 0, w.word(&format!("xl_sheet_{sheet}")), &head)?;
        ws.write_string_with_format(row, 1, w.word(&format!("xl_about_{sheet}")), &wrap)?;
        row += 1;
    }
    row += 1;
    let legend = [
        w.word("legend_plain"),
        super::super::views::heat_legend(ctx),
        w.word("indicative_note"),
        super::super::labels::fill(
            &w.word("method_privacy"),
            &[("floor", ctx.config.privacy_floor.to_string())],
        ),
        w.word("thresholds_note"),
        w.word("findings_sheet_note"),
        w.word("xl_about_formats"),
    ];
    ws.write_string_with_format(row, 0, w.word("method"), &head)?;
    for text in legend {
        ws.write_string_with_format(row, 1, text, &wrap)?;
        row += 1;
    }
    Ok(())
}

/// Respondents and response rate per unit, instrument and year of the
/// cycle (of the total); a suppressed cell shows the reports' word
/// instead of its count.
pub(super) fn participation(book: &mut Workbook, w: &Words, cycle: &str, f: &Formats) -> X<()> {
    use Kind::*;
    let columns = [
        w.col("level", Text),
        w.col("unit_id", Text),
        w.col("unit", Text),
        w.col("rso", Text),
        w.col("instrument_id", Text),
        w.col("instrument", Text),
        w.col("version", Text),
        w.col("year", Count),
        w.col("respondents", Count),
        w.col("response_rate", Share),
        w.col("note", Text),
    ];
    let mut s = Sheet::new(book, &w.word("xl_sheet_participation"), &columns, f, 3)?;
    let years: Vec<String> = crate::score::years_of(cycle)
        .iter()
        .map(|y| y.to_string())
        .collect();
    let mut names = super::NameCache::default();
    let indicative = w.word("indicative");
    for c in w
        .ctx
        .published
        .cells
        .iter()
        .filter(|c| c.scale_id == TOTAL && years.contains(&c.period))
    {
        s.next_row();
        s.text(0, w.level(c.level))?;
        s.text(1, &c.unit_id)?;
        s.text(2, names.unit(w, c.level, &c.unit_id))?;
        if matches!(c.level, Level::Department | Level::Rso) {
            if let Some(r) = &c.rso_id {
                s.text(3, names.unit(w, Level::Rso, r))?;
            }
        }
        s.text(4, &c.instrument)?;
        s.text(5, names.instrument(w, &c.instrument))?;
        s.text(6, &c.instrument_version)?;
        s.num(7, c.period.parse::<f64>().ok())?;
        if c.suppressed {
            s.text(10, &w.hidden(c))?;
        } else {
            s.num(8, Some(c.n_respondents as f64))?;
            s.num(9, c.response_rate)?;
            if !c.reliable {
                s.text(10, &indicative)?;
            }
        }
    }
    s.finish()
}
