//! One table sheet of the workbook: a bold header row that stays in view,
//! an autofilter over the table, a number format per column (set once on
//! the column, not per cell: the aggregates sheet holds hundreds of
//! thousands of rows) and column widths fitted to the header and the first
//! rows.

use chrono::NaiveDate;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};

pub(super) type X<T> = std::result::Result<T, XlsxError>;

/// What a column holds, and so its number format and width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    /// Text (ids, names, words).
    Text,
    /// A long text (a description, an open answer): wider.
    Long,
    /// A count: "0".
    Count,
    /// A score on 0-100 (or a grade on its own scale): "0.0".
    Score,
    /// A mean, SD or interval on the instrument's scale: "0.00".
    Scale,
    /// A share (a response rate): "0%".
    Share,
    /// A p-value: "0.000".
    P,
    /// A date: a real Excel date in the language's date format.
    Date,
    /// True or false (Excel shows it in the reader's language).
    Bool,
}

/// The number formats of the workbook, made once.
pub(super) struct Formats {
    pub(super) bold: Format,
    pub(super) count: Format,
    pub(super) score: Format,
    pub(super) scale: Format,
    pub(super) share: Format,
    pub(super) p: Format,
    pub(super) date: Format,
    pub(super) wrap: Format,
}

impl Formats {
    pub(super) fn new(date_format: &str) -> Formats {
        Formats {
            bold: Format::new().set_bold(),
            count: Format::new().set_num_format("0"),
            score: Format::new().set_num_format("0.0"),
            scale: Format::new().set_num_format("0.00"),
            share: Format::new().set_num_format("0%"),
            p: Format::new().set_num_format("0.000"),
            date: Format::new().set_num_format(date_format),
            wrap: Format::new().set_text_wrap(),
        }
    }

    fn of(&self, kind: Kind) -> Option<&Format> {
        match kind {
            Kind::Text | Kind::Bool | Kind::Long => None,
            Kind::Count => Some(&self.count),
            Kind::Score => Some(&self.score),
            Kind::Scale => Some(&self.scale),
            Kind::Share => Some(&self.share),
            Kind::P => Some(&self.p),
            Kind::Date => Some(&self.date),
        }
    }
}

/// Rows whose texts set the column widths: enough to see what a column
/// holds, few enough to cost nothing on a national workbook.
const SAMPLE_ROWS: u32 = 2_000;

/// A table sheet being written, one row after the other.
pub(super) struct Sheet<'a> {
    pub(super) ws: &'a mut Worksheet,
    kinds: Vec<Kind>,
    widths: Vec<usize>,
    /// The row being written (1 is the first below the header).
    pub(super) row: u32,
    /// Columns kept in view beside the header (names).
    freeze_cols: u16,
}

impl<'a> Sheet<'a> {
    /// A sheet named `name` with these columns; `freeze_cols` columns stay
    /// in view when scrolling right.
    pub(super) fn new(
        book: &'a mut Workbook,
        name: &str,
        columns: &[(String, Kind)],
        formats: &Formats,
        freeze_cols: u16,
    ) -> X<Sheet<'a>> {
        // Row by row to a temporary file, not cell by cell in memory: the
        // aggregates sheet alone held hundreds of megabytes.
        let ws = book.add_worksheet_with_low_memory()?;
        ws.set_name(name)?;
        let mut widths = Vec::with_capacity(columns.len());
        for (i, (head, kind)) in columns.iter().enumerate() {
            let col = i as u16;
            ws.write_string_with_format(0, col, head, &formats.bold)?;
            if let Some(f) = formats.of(*kind) {
                ws.set_column_format(col, f)?;
            } else if *kind == Kind::Long {
                ws.set_column_format(col, &formats.wrap)?;
            }
            // Bold is wider than the body text; the filter's button takes
            // about two characters.
            widths.push(head.chars().count() + 3);
        }
        Ok(Sheet {
            ws,
            kinds: columns.iter().map(|(_, k)| *k).collect(),
            widths,
            row: 0,
            freeze_cols,
        })
    }

    /// Starts the next row.
    pub(super) fn next_row(&mut self) {
        self.row += 1;
    }

    /// A value's width (counted only in the sample rows).
    fn seen(&mut self, col: u16, chars: impl FnOnce() -> usize) {
        if self.row <= SAMPLE_ROWS {
            let w = &mut self.widths[col as usize];
            *w = (*w).max(chars() + 1);
        }
    }

    /// A text, always as text (never a formula), nothing for an empty one.
    pub(super) fn text(&mut self, col: u16, text: &str) -> X<()> {
        if text.is_empty() {
            return Ok(());
        }
        self.seen(col, || text.chars().count());
        self.ws.write_string(self.row, col, text)?;
        Ok(())
    }

    /// A number in the column's format; nothing where there is none.
    pub(super) fn num(&mut self, col: u16, v: Option<f64>) -> X<()> {
        if let Some(v) = v {
            let kind = self.kinds[col as usize];
            self.seen(col, || match kind {
                Kind::Count => format!("{v:.0}").len(),
                _ => 6,
            });
            self.ws.write_number(self.row, col, v)?;
        }
        Ok(())
    }

    /// A date as an Excel date (a number in the column's date format).
    pub(super) fn date(&mut self, col: u16, d: Option<NaiveDate>) -> X<()> {
        if let Some(d) = d {
            self.seen(col, || 10);
            self.ws.write_number(self.row, col, excel_date(d))?;
        }
        Ok(())
    }

    pub(super) fn boolean(&mut self, col: u16, b: bool) -> X<()> {
        self.seen(col, || 5);
        self.ws.write_boolean(self.row, col, b)?;
        Ok(())
    }

    /// The widths, the frozen header (and name columns) and the filter.
    pub(super) fn finish(self) -> X<()> {
        for (i, (w, kind)) in self.widths.iter().zip(&self.kinds).enumerate() {
            let cap = match kind {
                Kind::Long => 80,
                Kind::Text => 45,
                _ => 16,
            };
            self.ws
                .set_column_width(i as u16, (*w).clamp(6, cap) as f64)?;
        }
        self.ws.set_freeze_panes(1, self.freeze_cols)?;
        let last_col = self.kinds.len().saturating_sub(1) as u16;
        self.ws.autofilter(0, 0, self.row.max(1), last_col)?;
        Ok(())
    }
}

/// A date as Excel counts it: days since 30 December 1899.
pub(super) fn excel_date(d: NaiveDate) -> f64 {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30).expect("a valid date");
    (d - epoch).num_days() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_as_excel_does() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(excel_date(d(1900, 3, 1)), 61.0);
        assert_eq!(excel_date(d(2025, 3, 18)), 45734.0);
    }
}
