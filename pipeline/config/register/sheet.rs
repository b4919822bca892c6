//! The sheets of the quality register as rows of text: from one workbook
//! (`kwaliteitsregister.xlsx`) or from a folder of CSV files, one per sheet
//! (`register/acties.csv`, ...), read within the bounds of an export
//! (`[limits]`): a stray far cell or a zip bomb in a register costs no more
//! than in an export.
//!
//! This file owns where a sheet comes from, the columns each sheet has
//! (`Column`: the Dutch heading the template writes, the other spellings
//! that are accepted, and what the column may hold), and collecting
//! problems: every problem in the register is reported, not only the first.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::ingest::decode;
use crate::ingest::limits::Limits;

/// What a column may hold: the reader checks it, the template offers it
/// as a drop-down list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// Any text.
    Text,
    /// An RSO id of the registry.
    Rso,
    /// An institution id of the registry.
    Institution,
    /// An instrument id.
    Instrument,
    /// A subscale id of the instrument in the same row, or `total`.
    Scale,
    /// A date, 2024-03-01 (or an Excel date).
    Date,
    /// A whole number.
    Number,
    /// One of a fixed list of words.
    OneOf(&'static [&'static str]),
}

/// One column of a sheet.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The key the code uses.
    pub key: &'static str,
    /// The heading the template writes.
    pub heading: &'static str,
    /// Other headings read as this column (the development plan's English
    /// ones).
    pub aliases: &'static [&'static str],
    /// The sheet is unreadable without it.
    pub required: bool,
    /// What it may hold.
    pub holds: Holds,
    /// One line for the reader of the template.
    pub help: &'static str,
}

/// A sheet of the register: its name (the CSV file's stem) and columns.
#[derive(Debug, Clone, Copy)]
pub struct SheetSpec {
    /// Sheet name, and `<name>.csv` in a register folder.
    pub name: &'static str,
    /// What the sheet is for (the template's first note).
    pub about: &'static str,
    /// Its columns, in the template's order.
    pub columns: &'static [Column],
}

/// A row that starts with this word is an example, not data: the template
/// writes one per sheet.
pub const EXAMPLE_MARK: &str = "VOORBEELD";

/// One sheet as read: where it came from, which column is where, and its
/// rows (1-based row numbers as Excel shows them).
#[derive(Debug, Clone)]
pub struct Sheet {
    /// `kwaliteitsregister.xlsx, sheet acties` or `register/acties.csv`.
    pub label: String,
    /// The file.
    pub path: PathBuf,
    /// The spec.
    pub spec: SheetSpec,
    /// Per spec column, its position and heading in the file.
    pub found: Vec<Option<(usize, String)>>,
    /// The rows after the heading.
    pub rows: Vec<(usize, Vec<String>)>,
}

/// The problems found in the register, all of them.
#[derive(Debug, Default)]
pub struct Problems(pub Vec<Error>);

impl Problems {
    /// Records a problem of a row.
    pub fn add(&mut self, sheet: &Sheet, row: usize, key: &str, value: &str, message: String) {
        let column = sheet.heading(key);
        self.0.push(Error::Input {
            file: sheet.label.clone(),
            row: Some(row),
            column: Some(column),
            value: Some(crate::text::echo(value).into_owned()),
            message,
        });
    }

    /// Records a problem of a whole sheet or file.
    pub fn file(&mut self, label: &str, message: String) {
        self.0.push(Error::Input {
            file: label.to_string(),
            row: None,
            column: None,
            value: None,
            message,
        });
    }
}

impl Sheet {
    /// The heading of a column as the file writes it (or the template's).
    pub fn heading(&self, key: &str) -> String {
        self.spec
            .columns
            .iter()
            .zip(&self.found)
            .find(|(c, _)| c.key == key)
            .map(|(c, f)| f.as_ref().map_or(c.heading.to_string(), |(_, h)| h.clone()))
            .unwrap_or_else(|| key.to_string())
    }

    /// A row's value of a column, trimmed ("" when absent).
    pub fn get<'r>(&self, row: &'r [String], key: &str) -> &'r str {
        self.spec
            .columns
            .iter()
            .zip(&self.found)
            .find(|(c, _)| c.key == key)
            .and_then(|(_, f)| f.as_ref())
            .and_then(|(i, _)| row.get(*i))
            .map_or("", |s| s.trim())
    }
}

/// The comparable form of a heading: lower case, `_` for spaces.
fn norm(h: &str) -> String {
    crate::text::trim(h).to_lowercase().replace([' ', '-'], "_")
}

/// Where a sheet is read from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// The sheet of that name in a workbook (absent: an empty sheet).
    Workbook(&'a Path),
    /// A CSV file (absent: an empty sheet).
    Csv(&'a Path),
}

/// Reads one sheet from a workbook or a CSV file; an absent sheet or file
/// is None, and so is one with problems (which go to `problems`).
pub fn read(
    source: Source,
    spec: SheetSpec,
    limits: &Limits,
    problems: &mut Problems,
) -> Option<Sheet> {
    let (label, path, decoded) = match source {
        Source::Workbook(book) => {
            let label = format!("{}, sheet {}", book.display(), spec.name);
            let bytes = match std::fs::read(book) {
                Ok(b) => b,
                Err(e) => {
                    problems.file(&book.display().to_string(), format!("cannot read it: {e}"));
                    return None;
                }
            };
            let names = match decode::sheet_names(&bytes, limits) {
                Ok(n) => n,
                Err(p) => {
                    problems.file(&book.display().to_string(), p.message);
                    return None;
                }
            };
            let name = names
                .iter()
                .find(|n| n.trim().eq_ignore_ascii_case(spec.name))?;
            (
                label,
                book.to_path_buf(),
                decode::decode_sheet(&bytes, name, limits),
            )
        }
        Source::Csv(path) => {
            if !path.exists() {
                return None;
            }
            let label = path.display().to_string();
            let bytes = match std::fs::read(path) {
                Ok(b) => b,
                Err(e) => {
                    problems.file(&label, format!("cannot read it: {e}"));
                    return None;
                }
            };
            (
                label,
                path.to_path_buf(),
                decode::decode_plain_csv(&bytes, limits),
            )
        }
    };
    let decoded = match decoded {
        Ok(d) => d,
        Err(p) => {
            let row = p.row.map(|r| format!(", row {r}")).unwrap_or_default();
            problems.file(&label, format!("{}{row}", p.message));
            return None;
        }
    };
    let mut rows = decoded.rows.into_iter();
    let header = rows.next()?;
    let headings: Vec<String> = header.cells.iter().map(norm).collect();
    let found: Vec<Option<(usize, String)>> = spec
        .columns
        .iter()
        .map(|c| {
            headings
                .iter()
                .position(|h| *h == norm(c.heading) || c.aliases.iter().any(|a| *h == norm(a)))
                .map(|i| (i, header.cells.get(i).unwrap_or("").trim().to_string()))
        })
        .collect();
    let mut missing = false;
    for (c, f) in spec.columns.iter().zip(&found) {
        if c.required && f.is_none() {
            missing = true;
            problems.file(
                &label,
                format!(
                    "the column {:?} is missing from the first row; the sheet's columns are {} (opleidingsmonitor register init writes an empty register with them)",
                    c.heading,
                    spec.columns.iter().map(|c| c.heading).collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
    if missing {
        return None;
    }
    let mut sheet = Sheet {
        label,
        path,
        spec,
        found,
        rows: Vec::new(),
    };
    for r in rows {
        if let Some(s) = r.stray {
            problems.0.push(Error::Input {
                file: sheet.label.clone(),
                row: Some(r.row as usize),
                column: Some(decode::column_letters(s.column)),
                value: None,
                message: "a value lies far to the right of the register's columns: delete it (Ctrl+End in Excel shows where)".into(),
            });
            continue;
        }
        let cells: Vec<String> = r.cells.iter().map(|c| c.to_string()).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if cells
            .first()
            .is_some_and(|c| c.trim().to_uppercase().starts_with(EXAMPLE_MARK))
        {
            continue;
        }
        sheet.rows.push((r.row as usize, cells));
    }
    Some(sheet)
}
