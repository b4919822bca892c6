//! Ingest: one export file to checked, pseudonymised responses.
//!
//! This module owns everything between the bytes of an export and the rows
//! the dataset stores: decoding (`decode`), the platform's header layout, the
//! source profile (`profile`), placing each row in the organisation
//! (institution, specialty, RSO as of the submission date), checking every
//! answer against the instrument's scale, and pseudonymisation
//! (`pseudonym`). A row that cannot be placed becomes a quarantine record
//! naming file, row, column, value and the fix; the rest of the file goes
//! on. Every row read is either a response or quarantined.
//!
//! A hostile or broken file is bounded (`limits`) and explained: it is
//! refused or its rows quarantined with a message naming the rule, its
//! setting and the fix, never a crash; every value echoed into a message
//! or a quarantine record is clipped and has its e-mail addresses masked
//! (`text::clip`).
//!
//! It does not write anything: the `dataset` module stores what it returns.

pub mod decode;
pub mod guard;
pub mod limits;
pub mod profile;
pub mod pseudonym;
pub mod scrub;
pub mod stream;

#[cfg(test)]
mod fuzz_tests;

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use sha2::{Digest, Sha256};

use crate::instrument::{Instrument, ItemKind};
use crate::org::Registry;
use crate::text::{echo, quoted_list, trim};
use decode::{column_letters, FileProblem, RawRow};
use limits::Limits;
use profile::{ColumnRole, Layout, Profile};
use pseudonym::PseudonymKey;
use scrub::{ExportNames, Scrubbed};

/// Shown instead of an identifier's value in messages and quarantine.
pub const MASKED: &str = "<verborgen>";

/// One answered questionnaire, placed in the organisation.
#[derive(Debug, Clone)]
pub struct Response {
    /// Stable id: keyed hash of the platform's response id with the date,
    /// department and respondent, or of the row's content when the export
    /// has no response id.
    pub response_id: String,
    /// Row number in the source file.
    pub source_row: u32,
    /// Submission date.
    pub submitted_on: NaiveDate,
    /// Respondent pseudonym (None when the export is anonymous).
    pub respondent_key: Option<String>,
    /// Respondent role (aios, supervisor_self, ...).
    pub respondent_role: String,
    /// Institution id from the registry.
    pub institution_id: String,
    /// Specialty code from the registry.
    pub specialty: String,
    /// RSO of the department on the submission date.
    pub rso_id: Option<String>,
    /// Region of the RSO, or of the institution outside an RSO.
    pub region_id: String,
    /// Rated supervisor's pseudonym.
    pub subject_key: Option<String>,
    /// (item index in the instrument, value; None = not applicable),
    /// already reverse-keyed.
    pub answers: Vec<(usize, Option<f64>)>,
    /// (item index, open text with the export's names and contact details
    /// masked, and how many).
    pub comments: Vec<(usize, Scrubbed)>,
    /// The id was made from the row's content (no platform id).
    pub content_id: bool,
}

/// A row (or a whole file) that could not be placed.
#[derive(Debug, Clone)]
pub struct QuarantineRecord {
    /// Row number, None when the whole file was rejected.
    pub source_row: Option<u32>,
    /// Column heading.
    pub column: Option<String>,
    /// Offending value, identifiers masked.
    pub value: Option<String>,
    /// What is wrong and what to do.
    pub reason: String,
}

/// What one file gave.
#[derive(Debug, Clone, Default)]
pub struct FileOutcome {
    /// Data rows read (header rows not counted).
    pub rows_read: u64,
    /// The responses placed.
    pub responses: Vec<Response>,
    /// Rows (or the file) rejected, with reasons.
    pub quarantine: Vec<QuarantineRecord>,
    /// Rows quarantined.
    pub rows_quarantined: u64,
    /// Encoding and delimiter used, for the manifest.
    pub decoded_as: String,
    /// Set when the whole file was rejected.
    pub file_error: Option<String>,
}

/// Everything an ingest needs to place rows.
pub struct Context<'a> {
    /// The instrument version of the profile.
    pub instrument: &'a Instrument,
    /// The source profile.
    pub profile: &'a Profile,
    /// The organisation registry.
    pub registry: &'a Registry,
    /// The pseudonymisation key.
    pub key: &'a PseudonymKey,
}

/// The SHA-256 of a file's bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A value quoted for a message: clipped, e-mail addresses masked.
fn q(s: &str) -> String {
    format!("{:?}", echo(s))
}

/// Today, or `OPLEIDINGSMONITOR_TODAY` (YYYY-MM-DD), the same rule as the
/// reports' date (`job::today`, which ingest may not import: it is a later
/// stage), so a test or a re-run of an old batch sees the same "future".
pub fn today() -> NaiveDate {
    std::env::var("OPLEIDINGSMONITOR_TODAY")
        .ok()
        .and_then(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok())
        .unwrap_or_else(|| chrono::Local::now().date_naive())
}

/// Reads one export with the default `Limits`: never fails; problems become
/// quarantine records.
pub fn ingest_bytes(bytes: &[u8], ctx: &Context) -> FileOutcome {
    ingest_bytes_limited(bytes, ctx, &Limits::default())
}

/// Reads one export named `name` (for messages and the test hook) within
/// `limits`, as `ingest_bytes_limited`, and survives a panic in a library
/// that reads it (`guard`): the file is then refused with the library and
/// its message, its rows (as far as they can be counted) quarantined, and
/// the caller's batch goes on.
///
/// Test hook: `OPLEIDINGSMONITOR_FAIL_AT=ingest-panic:<file name>` panics
/// while that file is read.
pub fn ingest_file(name: &str, bytes: &[u8], ctx: &Context, limits: &Limits) -> FileOutcome {
    let caught = match guard::catch(|| {
        if std::env::var("OPLEIDINGSMONITOR_FAIL_AT")
            .is_ok_and(|v| v.strip_prefix("ingest-panic:") == Some(name))
        {
            panic!("OPLEIDINGSMONITOR_FAIL_AT=ingest-panic:{name}: panicking on purpose");
        }
        ingest_bytes_limited(bytes, ctx, limits)
    }) {
        Ok(outcome) => return outcome,
        Err(c) => c,
    };
    tracing::warn!(file = name, library = %caught.library, location = %caught.location, "a panic while reading the file: refused");
    // Counting the rows reads the file again with the csv reader, which
    // may be the library that panicked.
    let rows = guard::catch(|| count_rows_lossy(bytes, ctx.profile, limits)).unwrap_or(0);
    rejected_file(
        rows,
        FileProblem::file(format!(
            "the file could not be read: internal error in {}: {} (at {}); the other files were read. Export the file again; if it fails again, report this message",
            caught.library,
            echo(&caught.message),
            caught.location
        )),
    )
}

/// Reads one export within `limits`: never fails; problems become
/// quarantine records, and a file over a limit is refused with a message
/// naming the limit's setting.
pub fn ingest_bytes_limited(bytes: &[u8], ctx: &Context, limits: &Limits) -> FileOutcome {
    let decoded = match decode::decode(bytes, ctx.profile, limits) {
        Ok(d) => d,
        Err(p) => return rejected_file(count_rows_lossy(bytes, ctx.profile, limits), p),
    };
    let decoded_as = match decoded.delimiter {
        Some(d) => format!("{} {:?}", decoded.encoding, d),
        None => decoded.encoding.clone(),
    };
    let (headings, data) = match split_header(&decoded.rows, ctx.profile, limits) {
        Ok(x) => x,
        Err(p) => {
            // The rows below the header rows were read and are refused.
            let last_header =
                ctx.profile.header_row as u64 + header_rows(ctx.profile.layout) as u64 - 1;
            let below = decoded
                .rows
                .iter()
                .filter(|r| r.row as u64 > last_header)
                .count();
            let mut out = rejected_file(below as u64, p);
            out.decoded_as = decoded_as;
            return out;
        }
    };
    let has_value = |i: usize| {
        data.iter()
            .any(|r| r.cells.get(i).is_some_and(|c| !c.trim().is_empty()))
    };
    let mut out = match Columns::resolve(&headings, &has_value, ctx, limits) {
        Ok(mut cols) => {
            // Every name of the export, before a row is placed: an answer
            // may name someone rated or answering in another row.
            for row in data {
                for &i in &cols.name_columns() {
                    if let Some(c) = row.cells.get(i) {
                        cols.names.add(c);
                    }
                }
            }
            let mut out = FileOutcome::default();
            let mut placer = Placer::new(cols);
            for row in data {
                out.rows_read += 1;
                match placer.place(row, ctx) {
                    Ok(r) => out.responses.push(r),
                    Err(q) => {
                        out.rows_quarantined += 1;
                        out.quarantine.push(q);
                    }
                }
            }
            out
        }
        Err(p) => rejected_file(data.len() as u64, p),
    };
    out.decoded_as = decoded_as;
    out
}

/// Places the data rows of one file, one after the other.
struct Placer {
    cols: Columns,
    /// How often each content id was seen (files without a response id).
    seen: HashMap<String, u32>,
}

impl Placer {
    fn new(cols: Columns) -> Placer {
        Placer {
            cols,
            seen: HashMap::new(),
        }
    }

    fn place(&mut self, row: &RawRow, ctx: &Context) -> Result<Response, QuarantineRecord> {
        let mut r = self.cols.place(row, ctx)?;
        // Two respondents can give identical anonymous answers on one day:
        // the k-th identical row gets its own id (a cumulative re-export
        // has the same k-th row, so it is still recognised).
        if r.content_id {
            let k = self.seen.entry(r.response_id.clone()).or_insert(0);
            if *k > 0 {
                r.response_id = ctx
                    .key
                    .pseudonym("response", &format!("{}#{k}", r.response_id));
            }
            *k += 1;
        }
        Ok(r)
    }
}

/// The outcome of a file refused as a whole, its `rows` counted as read and
/// quarantined. Public for the batch, which refuses a file it cannot read
/// (or that is over `limits.max_file_bytes`) before ingest sees it.
pub fn rejected_file(rows: u64, p: FileProblem) -> FileOutcome {
    let reason = format!("file rejected ({rows} rows): {}", p.message);
    FileOutcome {
        rows_read: rows,
        rows_quarantined: rows,
        file_error: Some(p.message.clone()),
        quarantine: vec![QuarantineRecord {
            source_row: p.row,
            column: p.column.map(|c| echo(&c).into_owned()),
            value: p.value.map(|v| echo(&v).into_owned()),
            reason,
        }],
        ..Default::default()
    }
}

/// Data rows of a file that cannot be decoded as its profile says, counted
/// as Windows-1252 text (which decodes any bytes), so the manifest still
/// says how many rows were rejected.
fn count_rows_lossy(bytes: &[u8], profile: &Profile, limits: &Limits) -> u64 {
    // A file over the size limit is not read a second time.
    if profile.format != profile::Format::Csv || bytes.len() as u64 > limits.max_file_bytes {
        return 0;
    }
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
    let d = profile
        .delimiter
        .unwrap_or_else(|| decode::sniff_delimiter(&text));
    let rows = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(d)
        .from_reader(text.as_bytes())
        .records()
        .filter_map(|r| r.ok())
        .filter(|r| r.iter().any(|c| !c.trim().is_empty()))
        .count() as u64;
    rows.saturating_sub(header_rows(profile.layout) as u64 + profile.header_row as u64 - 1)
}

fn header_rows(layout: Layout) -> usize {
    match layout {
        Layout::Plain | Layout::Limesurvey => 1,
        Layout::QualtricsLegacy | Layout::Surveymonkey => 2,
        Layout::Qualtrics => 3,
    }
}

/// The headings of the file and its data rows, per the platform's layout.
fn split_header<'r>(
    rows: &'r [RawRow],
    profile: &Profile,
    limits: &Limits,
) -> Result<(Vec<String>, &'r [RawRow]), FileProblem> {
    let h = rows
        .iter()
        .position(|r| r.row >= profile.header_row)
        .ok_or_else(|| {
            FileProblem::file(format!(
                "the file has no header row {} (it is empty or truncated): export it again",
                profile.header_row
            ))
        })?;
    let n = header_rows(profile.layout);
    if rows.len() < h + n {
        return Err(FileProblem::file(format!(
            "the file ends inside its {n} header rows: it is truncated, or profile {} has the wrong layout",
            profile.id
        )));
    }
    for r in &rows[h..h + n] {
        if let Some(s) = r.stray {
            return Err(FileProblem {
                row: Some(r.row),
                column: Some(format!("{}{}", column_letters(s.column), r.row)),
                value: None,
                message: format!(
                    "header row {} has {} heading(s) beyond limits.max_columns = {}, the first in cell {}{} (column {}): remove what was typed there by accident, or raise limits.max_columns in the configuration if the export really is that wide",
                    r.row,
                    s.count,
                    limits.max_columns,
                    column_letters(s.column),
                    r.row,
                    s.column as u64 + 1
                ),
            });
        }
    }
    let first = &rows[h].cells;
    let headings = match profile.layout {
        Layout::Surveymonkey => {
            let sub = &rows[h + 1].cells;
            let mut last = String::new();
            (0..first.len().max(sub.len()))
                .map(|i| {
                    let q = first.get(i).map(|s| s.trim()).unwrap_or("");
                    let s = sub.get(i).map(|s| s.trim()).unwrap_or("");
                    if !q.is_empty() {
                        last = q.to_string();
                    }
                    let q = if q.is_empty() && !s.is_empty() {
                        last.as_str()
                    } else {
                        q
                    };
                    let plain = [
                        "",
                        "response",
                        "open-ended response",
                        "antwoord",
                        "open antwoord",
                    ];
                    if plain.contains(&s.to_lowercase().as_str()) {
                        q.to_string()
                    } else {
                        format!("{q} [{s}]")
                    }
                })
                .collect()
        }
        _ => first.iter().map(|s| s.trim().to_string()).collect(),
    };
    Ok((headings, &rows[h + n..]))
}

/// The file's columns resolved against the profile and instrument.
struct Columns {
    headings: Vec<String>,
    response_id: Option<usize>,
    submitted_on: usize,
    institution: Option<usize>,
    specialty: Option<usize>,
    respondent: Option<usize>,
    subject: Option<usize>,
    role: Option<usize>,
    identifiers: Vec<usize>,
    /// The names of everyone the export identifies, masked in open answers
    /// (filled from every row before the first is placed).
    names: ExportNames,
    /// (column, item index in the instrument)
    items: Vec<(usize, usize)>,
    /// Columns whose values are masked in messages.
    masked: Vec<bool>,
    /// An XLSX row ends at its last value (Excel stores no empty cells), so
    /// a short row is not a truncated one.
    ragged: bool,
    /// `limits.max_cell_chars`.
    max_cell_chars: u64,
    /// `limits.max_columns`.
    max_columns: u64,
    /// Today, and the latest submission date accepted (today plus
    /// `limits.future_days`).
    today: NaiveDate,
    latest: NaiveDate,
    future_days: u32,
}

/// A column's position for people: `C (3)`.
fn position(col: usize) -> String {
    format!("{} ({})", column_letters(col as u32), col + 1)
}

impl Columns {
    /// `has_value(i)`: whether column `i` holds a value in any data row
    /// (asked only of columns without a heading).
    fn resolve(
        headings: &[String],
        has_value: &dyn Fn(usize) -> bool,
        ctx: &Context,
        limits: &Limits,
    ) -> Result<Columns, FileProblem> {
        let p = ctx.profile;
        let today = today();
        let mut cols = Columns {
            headings: headings.to_vec(),
            response_id: None,
            submitted_on: usize::MAX,
            institution: None,
            specialty: None,
            respondent: None,
            subject: None,
            role: None,
            identifiers: Vec::new(),
            names: ExportNames::default(),
            items: Vec::new(),
            masked: vec![false; headings.len()],
            ragged: p.format == profile::Format::Xlsx,
            max_cell_chars: limits.max_cell_chars,
            max_columns: limits.max_columns,
            today,
            latest: today + chrono::Days::new(limits.future_days.into()),
            future_days: limits.future_days,
        };
        let mut unknown = Vec::new();
        // A metadata column given twice would be read from one copy and the
        // other dropped unseen (which one is an accident of the loop): both
        // positions are named instead.
        let mut metadata: HashMap<&'static str, usize> = HashMap::new();
        let mut seen_items: HashMap<usize, usize> = HashMap::new();
        for (i, h) in headings.iter().enumerate() {
            if h.is_empty() {
                // A column without heading is ignored only when it is empty
                // in every row: otherwise its answers would vanish unseen.
                if has_value(i) {
                    return Err(FileProblem {
                        row: None,
                        column: Some(format!("column {}", position(i))),
                        value: None,
                        message: format!(
                            "column {} has no heading but holds values: give it a heading in the export, or fix the delimiter or header_row in profile {}",
                            position(i),
                            p.id
                        ),
                    });
                }
                continue;
            }
            let role = p.column_role(h);
            let what = match role {
                ColumnRole::ResponseId => Some("response id"),
                ColumnRole::SubmittedOn => Some("submission date"),
                ColumnRole::Institution => Some("institution"),
                ColumnRole::Specialty => Some("specialty"),
                ColumnRole::Respondent => Some("respondent"),
                ColumnRole::Subject => Some("rated supervisor"),
                ColumnRole::Role => Some("role"),
                _ => None,
            };
            if let Some(what) = what {
                if let Some(prev) = metadata.insert(what, i) {
                    return Err(FileProblem {
                        row: None,
                        column: Some(echo(h).into_owned()),
                        value: None,
                        message: format!(
                            "column {} appears twice, in column {} and column {}; profile {} reads it as the {what}, and one copy would be lost unseen: remove or rename one of them in the export",
                            q(h),
                            position(prev),
                            position(i),
                            p.id
                        ),
                    });
                }
            }
            match role {
                ColumnRole::ResponseId => cols.response_id = Some(i),
                ColumnRole::SubmittedOn => cols.submitted_on = i,
                ColumnRole::Institution => cols.institution = Some(i),
                ColumnRole::Specialty => cols.specialty = Some(i),
                ColumnRole::Respondent => {
                    cols.respondent = Some(i);
                    cols.masked[i] = true;
                }
                ColumnRole::Subject => {
                    cols.subject = Some(i);
                    cols.masked[i] = true;
                }
                ColumnRole::Role => cols.role = Some(i),
                ColumnRole::Identifier => {
                    cols.identifiers.push(i);
                    cols.masked[i] = true;
                }
                ColumnRole::Ignored => {}
                ColumnRole::Item(id) => {
                    let idx = ctx.instrument.items.iter().position(|it| it.id == id).ok_or_else(|| FileProblem {
                        row: None,
                        column: Some(echo(h).into_owned()),
                        value: None,
                        message: format!(
                            "column {} maps to item {}, which {} does not have: correct [items] or item_patterns in profile {}",
                            q(h),
                            q(&id),
                            ctx.instrument.key(),
                            p.id
                        ),
                    })?;
                    if let Some(prev) = seen_items.insert(idx, i) {
                        return Err(FileProblem {
                            row: None,
                            column: Some(echo(h).into_owned()),
                            value: None,
                            message: format!(
                                "columns {} in column {} and {} in column {} both map to item {}: one answer would be lost unseen; remove the copy from the export or correct profile {}",
                                q(&headings[prev]),
                                position(prev),
                                q(h),
                                position(i),
                                q(&id),
                                p.id
                            ),
                        });
                    }
                    cols.items.push((i, idx));
                }
                ColumnRole::Unknown => unknown.push(h.clone()),
            }
        }
        let missing = |name: &str, what: &str| {
            FileProblem {
            row: None,
            column: Some(name.to_string()),
            value: None,
            message: format!(
                "required column {name:?} ({what}) is missing; the file has: {}. Correct columns in profile {}",
                quoted_list(headings.iter().filter(|h| !h.is_empty()).map(String::as_str), 12),
                p.id
            ),
        }
        };
        let c = &p.columns;
        if cols.submitted_on == usize::MAX {
            return Err(missing(&c.submitted_on, "submission date"));
        }
        let named = [
            (&c.response_id, cols.response_id, "response id"),
            (&c.institution, cols.institution, "institution"),
            (&c.specialty, cols.specialty, "specialty"),
            (&c.respondent, cols.respondent, "respondent"),
            (&c.subject, cols.subject, "rated supervisor"),
            (&c.role, cols.role, "role"),
        ];
        for (name, found, what) in named {
            if let (Some(name), None) = (name, found) {
                return Err(missing(name, what));
            }
        }
        if cols.institution.is_none() && p.defaults.institution.is_none() {
            return Err(FileProblem::file(format!(
                "profile {} names no institution column and no defaults.institution",
                p.id
            )));
        }
        if cols.specialty.is_none() && p.defaults.specialty.is_none() {
            return Err(FileProblem::file(format!(
                "profile {} names no specialty column and no defaults.specialty",
                p.id
            )));
        }
        if !unknown.is_empty() {
            return Err(FileProblem {
                row: None,
                column: Some(echo(&unknown[0]).into_owned()),
                value: None,
                message: format!(
                    "column {} is not an item of {} nor a known column of profile {}: map it under [items] or item_patterns, or list it in columns.ignore if it holds no answers (a different instrument version?)",
                    quoted_list(unknown.iter().map(String::as_str), 12),
                    ctx.instrument.key(),
                    p.id
                ),
            });
        }
        if cols.items.is_empty() {
            return Err(FileProblem::file(format!(
                "no column of the file is an item of {}: check the profile's [items] and item_patterns (profile {})",
                ctx.instrument.key(),
                p.id
            )));
        }
        Ok(cols)
    }

    /// The columns that name people: respondent, rated supervisor and
    /// identifiers.
    fn name_columns(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.respondent.into_iter().chain(self.subject).collect();
        v.extend(&self.identifiers);
        v
    }

    /// A quarantine record for one cell: the value of an identifier column
    /// masked, any other value clipped with its e-mail addresses masked (an
    /// address typed into an item or institution column must not travel).
    fn problem(&self, row: &RawRow, col: usize, message: String) -> QuarantineRecord {
        let value = row.cells.get(col).map(|v| {
            if self.masked.get(col).copied().unwrap_or(false) {
                MASKED.to_string()
            } else {
                echo(v).into_owned()
            }
        });
        QuarantineRecord {
            source_row: Some(row.row),
            column: self.headings.get(col).map(|h| echo(h).into_owned()),
            value,
            reason: message,
        }
    }

    /// Places one data row, or says why it cannot be placed.
    fn place(&self, row: &RawRow, ctx: &Context) -> Result<Response, QuarantineRecord> {
        let p = ctx.profile;
        let inst = ctx.instrument;
        let n = self.headings.len();
        if let Some(s) = row.stray {
            let cell = format!("{}{}", column_letters(s.column), row.row);
            return Err(QuarantineRecord {
                source_row: Some(row.row),
                column: Some(cell.clone()),
                value: None,
                reason: format!(
                    "the row has {} value(s) far right of the table, the first in cell {cell} (column {}), beyond limits.max_columns = {}: typed outside the table by accident? It is not read, and the row is quarantined so nothing is lost unseen: delete the cell in Excel (Ctrl+End goes to it) and export again, or raise limits.max_columns in the configuration if the table really is that wide",
                    s.count,
                    s.column as u64 + 1,
                    self.max_columns
                ),
            });
        }
        let last_used = self
            .headings
            .iter()
            .rposition(|h| !h.is_empty())
            .unwrap_or(0);
        if !self.ragged && row.cells.len() <= last_used {
            return Err(QuarantineRecord {
                source_row: Some(row.row),
                column: self.headings.get(row.cells.len()).map(|h| echo(h).into_owned()),
                value: None,
                reason: format!(
                    "the row has {} fields but the header has {n}: the row is incomplete (truncated file?); export the file again",
                    row.cells.len()
                ),
            });
        }
        if row.cells.len() > n && row.cells.iter().skip(n).any(|c| !trim(c).is_empty()) {
            return Err(QuarantineRecord {
                source_row: Some(row.row),
                column: None,
                value: None,
                reason: format!(
                    "the row has {} fields but the header has {n}: a delimiter or quote inside a value? Check the row in the file",
                    row.cells.len()
                ),
            });
        }
        // Checked by bytes first: a cell of at most max bytes has at most
        // max characters, so the usual cell is not counted.
        if let Some((col, chars)) = row.cells.iter().enumerate().find_map(|(i, c)| {
            (c.len() as u64 > self.max_cell_chars)
                .then(|| (i, c.chars().count() as u64))
                .filter(|&(_, n)| n > self.max_cell_chars)
        }) {
            return Err(self.problem(
                row,
                col,
                format!(
                    "the cell has {chars} characters, more than limits.max_cell_chars = {}: a paste gone wrong or a damaged export? Correct the cell, or raise limits.max_cell_chars in the configuration if the answer is genuine",
                    self.max_cell_chars
                ),
            ));
        }
        let cell = |i: usize| row.cells.get(i).map(trim).unwrap_or("");

        let date_text = cell(self.submitted_on);
        let submitted_on = parse_date(date_text, &p.date_formats).ok_or_else(|| {
            self.problem(
                row,
                self.submitted_on,
                format!(
                    "{} is not a date in a known format (tried {}): correct the cell, or add its format to date_formats in profile {}",
                    q(date_text),
                    formats_tried(&p.date_formats).join(", "),
                    p.id
                ),
            )
        })?;
        if submitted_on > self.latest {
            return Err(self.problem(
                row,
                self.submitted_on,
                format!(
                    "the submission date {submitted_on} lies after today ({}) by more than limits.future_days = {}: a wrong year, or day and month swapped? Correct the cell in the export",
                    self.today, self.future_days
                ),
            ));
        }

        let (inst_text, inst_col) = match self.institution {
            Some(i) => (cell(i).to_string(), Some(i)),
            None => (p.defaults.institution.clone().unwrap_or_default(), None),
        };
        let institution = ctx.registry.institution(&inst_text).ok_or_else(|| {
            let msg = format!(
                "unknown institution {}: add this spelling to the aliases of the right institution in the registry",
                q(&inst_text)
            );
            match inst_col {
                Some(c) => self.problem(row, c, msg),
                None => QuarantineRecord {
                    source_row: Some(row.row),
                    column: None,
                    value: Some(echo(&inst_text).into_owned()),
                    reason: msg,
                },
            }
        })?;
        let (spec_text, spec_col) = match self.specialty {
            Some(i) => (cell(i).to_string(), Some(i)),
            None => (p.defaults.specialty.clone().unwrap_or_default(), None),
        };
        let specialty = ctx.registry.specialty(&spec_text).ok_or_else(|| {
            let msg = format!(
                "unknown specialty {}: add this spelling to the aliases of the right specialty in the registry",
                q(&spec_text)
            );
            match spec_col {
                Some(c) => self.problem(row, c, msg),
                None => QuarantineRecord {
                    source_row: Some(row.row),
                    column: None,
                    value: Some(echo(&spec_text).into_owned()),
                    reason: msg,
                },
            }
        })?;

        let role = match self.role {
            Some(i) if !cell(i).is_empty() => p.role(cell(i)),
            _ => p.defaults.role.clone().unwrap_or_else(|| "aios".into()),
        };
        if !inst.respondent_roles.contains(&role) {
            let msg = format!(
                "role {} does not fill in {} (roles: {}): map the export's label under [roles] in profile {}",
                q(&role),
                inst.key(),
                inst.respondent_roles.join(", "),
                p.id
            );
            return Err(match self.role {
                Some(c) => self.problem(row, c, msg),
                None => QuarantineRecord {
                    source_row: Some(row.row),
                    column: None,
                    value: Some(echo(&role).into_owned()),
                    reason: msg,
                },
            });
        }

        let respondent_raw = self.respondent.map(cell).filter(|s| !s.is_empty());
        let subject_raw = self.subject.map(cell).filter(|s| !s.is_empty());
        let respondent_key = respondent_raw.map(|r| ctx.key.pseudonym("respondent", r));
        let subject_key = subject_raw.map(|s| ctx.key.pseudonym("subject", s));

        let mut answers = Vec::with_capacity(self.items.len());
        let mut comments = Vec::new();
        for &(col, idx) in &self.items {
            let text = cell(col);
            if text.is_empty() {
                continue;
            }
            let item = &inst.items[idx];
            if item.kind == ItemKind::Text {
                comments.push((idx, self.names.scrub(text)));
                continue;
            }
            let value = self
                .value(text, idx, ctx)
                .map_err(|m| self.problem(row, col, m))?;
            answers.push((idx, value));
        }
        if answers.is_empty() && comments.is_empty() {
            return Err(QuarantineRecord {
                source_row: Some(row.row),
                column: None,
                value: None,
                reason: "the response has no answered items (an abandoned questionnaire?); nothing to store".into(),
            });
        }

        let rso = ctx
            .registry
            .rso_on(&institution.id, &specialty.code, submitted_on);
        // Platforms number responses per survey (LimeSurvey counts from 1 in
        // every survey), so the platform's id alone would collide across
        // surveys: it identifies a response together with the date, the
        // department and the respondent. Without a platform id, the row's
        // content does, so a cumulative re-export is still recognised. The
        // hash is keyed: the id reveals nothing of the identifiers in it.
        let date = submitted_on.to_string();
        let who = respondent_key.as_deref().unwrap_or("");
        let platform_id = self.response_id.map(cell).filter(|s| !s.is_empty());
        let content_id = platform_id.is_none();
        let response_id = match platform_id {
            Some(platform_id) => ctx.key.pseudonym(
                "response",
                &[
                    inst.id.as_str(),
                    &inst.version,
                    platform_id,
                    &date,
                    &institution.id,
                    &specialty.code,
                    who,
                ]
                .join("\x1f"),
            ),
            None => {
                let cells: Vec<&str> = row.cells.iter().map(trim).collect();
                ctx.key.pseudonym(
                    "response",
                    &[inst.id.as_str(), &inst.version, &cells.join("\x1f")].join("\x1f"),
                )
            }
        };
        Ok(Response {
            response_id,
            source_row: row.row,
            submitted_on,
            respondent_key,
            respondent_role: role,
            institution_id: institution.id.clone(),
            specialty: specialty.code.clone(),
            rso_id: rso.map(|r| r.id.clone()),
            region_id: rso
                .map(|r| r.region.clone())
                .unwrap_or_else(|| institution.region.clone()),
            subject_key,
            answers,
            comments,
            content_id,
        })
    }

    /// The stored value of one answer: None for not applicable.
    fn value(&self, text: &str, idx: usize, ctx: &Context) -> Result<Option<f64>, String> {
        let inst = ctx.instrument;
        let item = &inst.items[idx];
        let (lo, hi) = inst.item_scale(item);
        if inst.is_not_applicable(text) || ctx.profile.is_not_applicable(text) {
            return Ok(None);
        }
        let v = match ctx.profile.answer(text) {
            Some(v) => v,
            None => match inst.label_value(text) {
                Some(v) => Some(v),
                // XLSX numbers always arrive with a decimal point.
                None => Some(parse_number(text, ctx.profile.decimal_comma && ctx.profile.format == profile::Format::Csv).ok_or_else(|| {
                    format!(
                        "{} is not a number on the scale {lo}-{hi} nor a known answer label: map the label under [answers] in profile {}, or correct the cell",
                        q(text),
                        ctx.profile.id
                    )
                })?),
            },
        };
        let Some(v) = v else { return Ok(None) };
        let integral = item.kind == ItemKind::Grade || v.fract() == 0.0;
        if v < lo || v > hi || !integral {
            return Err(format!(
                "{} is outside the scale of item {} ({lo}-{hi}{}): correct the cell, or check that profile {} uses the right instrument version",
                q(text),
                item.id,
                if item.kind == ItemKind::Likert { ", whole numbers" } else { "" },
                ctx.profile.id
            ));
        }
        Ok(Some(if item.reverse { lo + hi - v } else { v }))
    }
}

/// A number written with a decimal point, or a decimal comma when the
/// profile says so ("4,5").
pub fn parse_number(text: &str, decimal_comma: bool) -> Option<f64> {
    let t = trim(text);
    let v = if decimal_comma {
        t.replace('.', "").replace(',', ".").parse::<f64>()
    } else {
        t.parse::<f64>()
    };
    v.ok().filter(|v| v.is_finite())
}

/// The ISO forms every profile accepts, as the XLSX reader writes dates.
const ISO_DATES: [&str; 3] = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"];

/// Every format `parse_date` tries, in order, each once: the message of a
/// date that fits none lists them all.
pub fn formats_tried(formats: &[String]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for f in formats.iter().map(String::as_str).chain(ISO_DATES) {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

/// A date or date-time in one of the formats, as a date. The ISO forms
/// (`2024-03-05`, with ` 10:11:12` or `T10:11:12`), as the XLSX reader
/// writes dates, are always accepted. A reading before 1990 is refused and
/// the next format tried: "05-03-24" read with `%Y` would be the year 24. A
/// date in the future is a date; the caller refuses it with its own message.
pub fn parse_date(text: &str, formats: &[String]) -> Option<NaiveDate> {
    let t = trim(text);
    let plausible = |d: &NaiveDate| d.year() >= 1990;
    for f in formats_tried(formats) {
        if let Some(d) = NaiveDateTime::parse_from_str(t, f)
            .map(|dt| dt.date())
            .or_else(|_| NaiveDate::parse_from_str(t, f))
            .ok()
            .filter(plausible)
        {
            return Some(d);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_with_decimal_comma() {
        assert_eq!(parse_number("4,5", true), Some(4.5));
        assert_eq!(parse_number("4.5", false), Some(4.5));
        assert_eq!(parse_number("1.234,5", true), Some(1234.5));
        assert_eq!(parse_number("vier", false), None);
        assert_eq!(parse_number("NaN", false), None);
    }

    #[test]
    fn dates_in_platform_formats() {
        let f: Vec<String> = ["%Y-%m-%d %H:%M:%S", "%d-%m-%Y"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let d = NaiveDate::from_ymd_opt(2024, 3, 5).unwrap();
        assert_eq!(parse_date("2024-03-05 10:11:12", &f), Some(d));
        assert_eq!(parse_date("05-03-2024", &f), Some(d));
        assert_eq!(parse_date("2024-03-05T10:11:12", &f), Some(d));
        assert_eq!(parse_date("31-02-2024", &f), None);
        assert_eq!(parse_date("gisteren", &f), None);
        // Regression: "%d-%m-%Y" accepted a two-digit year as the year 24.
        assert_eq!(parse_date("05-03-24", &f), None);
        // ISO dates as the XLSX reader writes them, whatever the profile says.
        assert_eq!(
            parse_date("2024-03-05 00:00:00", &["%d-%m-%Y".to_string()]),
            Some(d)
        );
    }
}
