//! Decoding: the bytes of an export to rows of text, before anything else
//! looks at them.
//!
//! This module owns encodings (byte-order marks, UTF-8, Windows-1252, and
//! chardetng's guess), delimiter sniffing, CSV quoting, and reading cells
//! from an XLSX sheet. It keeps each row's number as a person sees it in a
//! text editor or Excel, so that every later message can name it. It does
//! not know what the columns mean.
//!
//! It also keeps a hostile file bounded (see `limits`): the bytes of an
//! XLSX part are checked before they are unpacked, rows and cells are
//! counted while they are read, and invisible control characters are
//! removed from every value (`text::strip_invisible`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{open_workbook_from_rs, DataRef, Reader, Xlsx};

use super::limits::{human_bytes, Limits};
use super::profile::{Encoding, Format, Profile};
use crate::text::{echo, quoted_list, strip_invisible};

/// One row of an export with its 1-based row (line) number in the file.
#[derive(Debug, Clone)]
pub struct RawRow {
    /// Row number in the file (CSV: the line where the record starts).
    pub row: u32,
    /// The cells, as text (one buffer per row, not one per cell). An XLSX
    /// row ends at its last value: Excel stores no empty cells.
    pub cells: csv::StringRecord,
    /// Values beyond `limits.max_columns`, not read (see `Stray`).
    pub stray: Option<Stray>,
}

/// Values a row holds beyond `limits.max_columns`. They are not read into
/// the row, so that a stray cell at XFD1048576 costs nothing; the row is
/// quarantined by `ingest` with a note naming the cell, so nothing is lost
/// unseen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stray {
    /// 0-based column of the first such value.
    pub column: u32,
    /// How many values the row holds there.
    pub count: u32,
}

/// The spreadsheet name of a 0-based column: 0 is `A`, 25 `Z`, 26 `AA`,
/// 16383 `XFD`.
pub fn column_letters(col: u32) -> String {
    let mut n = col as u64 + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = ((n - 1) % 26) as u8;
        out.push(b'A' + r);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII letters")
}

/// A problem that stops the whole file, with where it is and what to do.
#[derive(Debug, Clone)]
pub struct FileProblem {
    /// Row number, where one applies.
    pub row: Option<u32>,
    /// Column heading, where one applies.
    pub column: Option<String>,
    /// The offending value (never an identifier).
    pub value: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl FileProblem {
    /// A problem of the file as a whole.
    pub fn file(message: impl Into<String>) -> FileProblem {
        FileProblem {
            row: None,
            column: None,
            value: None,
            message: message.into(),
        }
    }
}

/// The rows of an export, and how its text was decoded.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// All rows including header rows.
    pub rows: Vec<RawRow>,
    /// Encoding used (`UTF-8`, `windows-1252`, ... or `xlsx`).
    pub encoding: String,
    /// Delimiter used (CSV only).
    pub delimiter: Option<char>,
}

/// Decodes an export according to its profile, within the limits.
pub fn decode(bytes: &[u8], profile: &Profile, limits: &Limits) -> Result<Decoded, FileProblem> {
    limits.check_file_bytes(bytes.len() as u64)?;
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(FileProblem::file(
            "the file is empty: export it again from the survey platform",
        ));
    }
    match profile.format {
        Format::Csv => decode_csv(bytes, profile, limits),
        Format::Xlsx => decode_xlsx(bytes, profile, limits),
    }
}

/// Counts rows and cells while a file is read, and refuses it as soon as
/// one passes its limit: a hostile file costs at most the limit's work.
pub(crate) struct Tally<'l> {
    limits: &'l Limits,
    rows: u64,
    cells: u64,
}

impl<'l> Tally<'l> {
    /// Nothing counted yet.
    pub(crate) fn new(limits: &'l Limits) -> Tally<'l> {
        Tally {
            limits,
            rows: 0,
            cells: 0,
        }
    }

    /// Counts a row of `cells` cells; refuses the file past a limit.
    pub(crate) fn add_row(&mut self, cells: u64) -> Result<(), FileProblem> {
        self.rows += 1;
        self.add_cells(cells)
    }

    fn add_cells(&mut self, cells: u64) -> Result<(), FileProblem> {
        self.cells += cells;
        if self.rows > self.limits.max_rows {
            return Err(FileProblem::file(format!(
                "the file has more than limits.max_rows = {} rows: split the export (per year or per institution), or raise limits.max_rows in the configuration if it is genuine",
                self.limits.max_rows
            )));
        }
        if self.cells > self.limits.max_sheet_cells {
            return Err(FileProblem::file(format!(
                "the file has more than limits.max_sheet_cells = {} cells (counted per row up to its last value; {} rows so far): split the export, remove columns it does not need, or raise limits.max_sheet_cells in the configuration if it is genuine",
                self.limits.max_sheet_cells, self.rows
            )));
        }
        Ok(())
    }
}

/// Bytes to text according to the profile's encoding, and the encoding's
/// name; valid UTF-8 (and ASCII in any encoding) is borrowed.
pub fn decode_text<'b>(
    bytes: &'b [u8],
    encoding: Encoding,
    profile_id: &str,
) -> Result<(Cow<'b, str>, String), FileProblem> {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _, _) = enc.decode(&bytes[bom_len..]);
        return Ok((text, enc.name().to_string()));
    }
    match encoding {
        Encoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(s) => Ok((Cow::Borrowed(s), "UTF-8".into())),
            Err(e) => {
                let at = e.valid_up_to();
                let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() as u32 + 1;
                Err(FileProblem {
                    row: Some(line),
                    column: None,
                    value: Some(format!("byte 0x{:02X}", bytes[at])),
                    message: format!(
                        "the file is not valid UTF-8 (line {line}); it is probably Windows-1252: set encoding = \"windows-1252\" or \"auto\" in profile {profile_id}, or save the file as UTF-8"
                    ),
                })
            }
        },
        Encoding::Windows1252 => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            Ok((text, "windows-1252".into()))
        }
        Encoding::Auto => {
            if let Ok(s) = std::str::from_utf8(bytes) {
                return Ok((Cow::Borrowed(s), "UTF-8".into()));
            }
            let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
            det.feed(bytes, true);
            let enc = det.guess(Some(b"nl"), chardetng::Utf8Detection::Allow);
            let (text, _, _) = enc.decode(bytes);
            Ok((text, enc.name().to_string()))
        }
    }
}

/// The delimiter that splits the header line most often, outside quotes.
pub fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let mut best = (b',', 0usize);
    for d in [b',', b';', b'\t', b'|'] {
        let mut quoted = false;
        let mut n = 0;
        for b in first.bytes() {
            if b == b'"' {
                quoted = !quoted;
            } else if b == d && !quoted {
                n += 1;
            }
        }
        if n > best.1 {
            best = (d, n);
        }
    }
    best.0
}

/// What reading a CSV needs from its profile.
struct CsvSettings<'p> {
    encoding: Encoding,
    delimiter: Option<u8>,
    id: &'p str,
}

fn decode_csv(bytes: &[u8], profile: &Profile, limits: &Limits) -> Result<Decoded, FileProblem> {
    let settings = CsvSettings {
        encoding: profile.encoding,
        delimiter: profile.delimiter,
        id: &profile.id,
    };
    csv_rows(bytes, &settings, limits)
}

fn csv_rows(bytes: &[u8], profile: &CsvSettings, limits: &Limits) -> Result<Decoded, FileProblem> {
    let (text, encoding) = decode_text(bytes, profile.encoding, profile.id)?;
    // The invisible characters are never a delimiter, quote or line end, so
    // removing them from the whole text is removing them from every cell, in
    // one pass (and none for the usual file).
    // Valid UTF-8 is borrowed, not copied: a file near max_file_bytes is
    // held once, not twice.
    let text = match strip_invisible(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(clean) => Cow::Owned(clean),
    };
    let delimiter = profile.delimiter.unwrap_or_else(|| sniff_delimiter(&text));
    let mut tally = Tally {
        limits,
        rows: 0,
        cells: 0,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let row = record.position().map(|p| p.line() as u32).unwrap_or(0);
                // A blank line is not a row anyone meant to send.
                if record.iter().all(|c| crate::text::trim(c).is_empty()) {
                    continue;
                }
                tally.add_row(record.len() as u64)?;
                let (cells, stray) = clip_width(&record, limits.max_columns);
                rows.push(RawRow { row, cells, stray });
            }
            Err(e) => {
                let row = e.position().map(|p| p.line() as u32);
                return Err(FileProblem {
                    row,
                    column: None,
                    value: None,
                    message: format!(
                        "the CSV cannot be read: {}; check quoting and export it again",
                        echo(&e.to_string())
                    ),
                });
            }
        }
    }
    Ok(Decoded {
        rows,
        encoding,
        delimiter: Some(delimiter as char),
    })
}

/// A CSV record cut at `max_columns` fields, with what lay beyond if any
/// of it is a value (trailing empty fields are only delimiters).
pub(crate) fn clip_width(
    record: &csv::StringRecord,
    max_columns: u64,
) -> (csv::StringRecord, Option<Stray>) {
    let max = usize::try_from(max_columns).unwrap_or(usize::MAX);
    if record.len() <= max {
        return (record.clone(), None);
    }
    let beyond: Vec<usize> = (max..record.len())
        .filter(|&i| !crate::text::trim(&record[i]).is_empty())
        .collect();
    let stray = beyond.first().map(|&first| Stray {
        column: first as u32,
        count: beyond.len() as u32,
    });
    (record.iter().take(max).collect(), stray)
}

/// An XLSX cell as the text a person sees; a string is borrowed, not
/// copied, so that its size can be checked first.
fn cell_text<'a>(cell: &'a DataRef<'_>) -> Cow<'a, str> {
    let owned = match cell {
        DataRef::Empty => return Cow::Borrowed(""),
        DataRef::String(s) => return Cow::Borrowed(s.as_str()),
        DataRef::SharedString(s) => return Cow::Borrowed(s),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => return Cow::Borrowed(s.as_str()),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        DataRef::Float(f) => f.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(dt) => match dt.as_datetime() {
            Some(d) if d.time() == chrono::NaiveTime::MIN => {
                d.date().format("%Y-%m-%d").to_string()
            }
            Some(d) => d.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => dt.as_f64().to_string(),
        },
        DataRef::Error(e) => format!("#{e:?}"),
    };
    Cow::Owned(owned)
}

/// Refuses a workbook any of whose parts unpacks to more than
/// `limits.max_xlsx_part_bytes`, from the zip's central directory, before
/// anything is unpacked. The declared sizes can be trusted: the zip reader
/// stops a part at its declared size ("File is larger than its declared
/// uncompressed size"), so a part that lies about its size fails to read
/// instead of growing without bound.
fn check_parts(
    bytes: &[u8],
    limits: &Limits,
    not_xlsx: impl Fn(String) -> FileProblem,
) -> Result<(), FileProblem> {
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| not_xlsx(e.to_string()))?;
    for i in 0..archive.len() {
        let entry = archive
            .by_index_data(i)
            .map_err(|e| not_xlsx(e.to_string()))?;
        let size = entry.size();
        if size > limits.max_xlsx_part_bytes {
            let name = String::from_utf8_lossy(entry.name_raw());
            return Err(FileProblem::file(format!(
                "part {:?} of the workbook unpacks to {} ({} bytes, from {} packed), more than limits.max_xlsx_part_bytes = {} ({}): the workbook is damaged or a zip bomb; open it in Excel and save it again (or export the sheet as CSV), or raise limits.max_xlsx_part_bytes in the configuration if it is genuine",
                echo(&name),
                human_bytes(size),
                size,
                human_bytes(entry.compressed_size()),
                limits.max_xlsx_part_bytes,
                human_bytes(limits.max_xlsx_part_bytes)
            )));
        }
    }
    Ok(())
}

/// One row of a sheet while it is read: its values by column.
#[derive(Default)]
struct SheetRow {
    cells: Vec<(u32, String)>,
    stray: Option<Stray>,
}

impl SheetRow {
    fn add(&mut self, col: u32, text: String, max_columns: u64) {
        if u64::from(col) >= max_columns {
            let s = self.stray.get_or_insert(Stray {
                column: col,
                count: 0,
            });
            s.column = s.column.min(col);
            s.count += 1;
        } else {
            self.cells.push((col, text));
        }
    }

    /// The row's record, ending at its last value; a cell given twice keeps
    /// its last value (as Excel's own reader does).
    fn finish(mut self, row: u32) -> RawRow {
        self.cells.sort_by_key(|(c, _)| *c);
        let width = self.cells.last().map_or(0, |(c, _)| *c as usize + 1);
        let mut fields: Vec<String> = vec![String::new(); width];
        for (c, t) in self.cells {
            fields[c as usize] = t;
        }
        RawRow {
            row,
            cells: csv::StringRecord::from(fields),
            stray: self.stray,
        }
    }

    fn width(&self) -> u64 {
        self.cells
            .iter()
            .map(|(c, _)| *c as u64 + 1)
            .max()
            .unwrap_or(0)
    }
}

// Why the sheet is streamed cell by cell instead of expanded by calamine's
// `worksheet_range`: a range is the rectangle from the first to the last
// used cell, so one cell typed at XFD1048576 (Ctrl+End in Excel shows
// where) made a 10 KB export ask for 16,384 x 1,048,576 cells, about 550 GB,
// and abort. Refusing a sheet by its declared `<dimension ref=...>` would
// stop the abort but also refuse a genuine export for one stray keystroke,
// and an educationalist would have to find that cell before any row is
// read. Streaming reads only the used cells: memory follows the data, not
// the rectangle. A value beyond `limits.max_columns` is not read into its
// row; its row is quarantined with a note naming the cell (`ingest`), and
// every other row is ingested. Only a sheet whose actual rows or cells
// exceed the limits is refused as a whole.
fn decode_xlsx(bytes: &[u8], profile: &Profile, limits: &Limits) -> Result<Decoded, FileProblem> {
    read_xlsx(
        bytes,
        profile.sheet.as_deref(),
        &format!(
            ", or set format = \"csv\" in profile {} if it is a CSV",
            profile.id
        ),
        &format!("set sheet = \"...\" in profile {}", profile.id),
        limits,
    )
}

/// The sheet names of a workbook, checked like an export's (zip parts
/// bounded before anything is unpacked).
pub fn sheet_names(bytes: &[u8], limits: &Limits) -> Result<Vec<String>, FileProblem> {
    limits.check_file_bytes(bytes.len() as u64)?;
    let not_xlsx = |e: String| {
        FileProblem::file(format!(
            "not a readable .xlsx workbook ({}); save it again from Excel as .xlsx",
            echo(&e)
        ))
    };
    check_parts(bytes, limits, not_xlsx)?;
    let book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| not_xlsx(e.to_string()))?;
    Ok(book.sheet_names().to_vec())
}

/// One sheet of a workbook the region keeps (not an export: the quality
/// register), read cell by cell within the same bounds as an export.
pub fn decode_sheet(bytes: &[u8], sheet: &str, limits: &Limits) -> Result<Decoded, FileProblem> {
    limits.check_file_bytes(bytes.len() as u64)?;
    read_xlsx(bytes, Some(sheet), "", "check the sheet's name", limits)
}

/// A CSV file the region keeps (not an export): any encoding, the
/// delimiter sniffed.
pub fn decode_plain_csv(bytes: &[u8], limits: &Limits) -> Result<Decoded, FileProblem> {
    limits.check_file_bytes(bytes.len() as u64)?;
    let profile = CsvSettings {
        encoding: Encoding::Auto,
        delimiter: None,
        id: "",
    };
    csv_rows(bytes, &profile, limits)
}

fn read_xlsx(
    bytes: &[u8],
    sheet: Option<&str>,
    not_xlsx_hint: &str,
    sheet_hint: &str,
    limits: &Limits,
) -> Result<Decoded, FileProblem> {
    let not_xlsx = |e: String| {
        FileProblem::file(format!(
            "not a readable .xlsx workbook ({}); save it again from Excel as .xlsx{not_xlsx_hint}",
            echo(&e),
        ))
    };
    check_parts(bytes, limits, not_xlsx)?;
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| not_xlsx(e.to_string()))?;
    let names = book.sheet_names().to_vec();
    let sheet = match sheet {
        Some(s) => s.to_string(),
        None => names
            .first()
            .cloned()
            .ok_or_else(|| FileProblem::file("the workbook has no sheets"))?,
    };
    let cannot = |e: calamine::XlsxError| {
        FileProblem::file(format!(
            "sheet {:?} cannot be read ({}); the workbook has {}: {sheet_hint}",
            echo(&sheet),
            echo(&e.to_string()),
            quoted_list(names.iter().map(String::as_str), 12),
        ))
    };
    let mut reader = book.worksheet_cells_reader(&sheet).map_err(cannot)?;
    let mut tally = Tally {
        limits,
        rows: 0,
        cells: 0,
    };
    // Rows arrive in order in every workbook Excel, LibreOffice or a
    // platform writes; one that comes back to an earlier row is merged at
    // the end, so order is never assumed for correctness.
    let mut done: BTreeMap<u32, RawRow> = BTreeMap::new();
    let mut late: BTreeMap<u32, SheetRow> = BTreeMap::new();
    let mut open: Option<(u32, SheetRow)> = None;
    let mut text_bytes: u64 = 0;
    while let Some(cell) = reader.next_cell().map_err(cannot)? {
        let value = cell.get_value();
        if matches!(value, DataRef::Empty) {
            continue;
        }
        let (r, c) = cell.get_position();
        let raw = cell_text(value);
        // Shared strings are stored once and may be used in every cell: the
        // text a sheet expands to is bounded, not only its XML.
        text_bytes += raw.len() as u64;
        if text_bytes > limits.max_xlsx_part_bytes {
            return Err(FileProblem::file(format!(
                "the cells of sheet {:?} hold more than {} of text (limits.max_xlsx_part_bytes = {}): the workbook repeats very long texts; export it again, or raise the limit in the configuration if it is genuine",
                echo(&sheet),
                human_bytes(limits.max_xlsx_part_bytes),
                limits.max_xlsx_part_bytes
            )));
        }
        let text = strip_invisible(&raw).into_owned();
        match &mut open {
            Some((row, current)) if *row == r => current.add(c, text, limits.max_columns),
            Some((row, _)) if *row > r => {
                late.entry(r).or_default().add(c, text, limits.max_columns)
            }
            _ => {
                if let Some((row, current)) = open.take() {
                    tally.add_row(current.width())?;
                    done.insert(row, current.finish(row + 1));
                }
                let mut current = SheetRow::default();
                current.add(c, text, limits.max_columns);
                open = Some((r, current));
            }
        }
    }
    if let Some((row, current)) = open.take() {
        tally.add_row(current.width())?;
        done.insert(row, current.finish(row + 1));
    }
    for (r, mut extra) in late {
        match done.remove(&r) {
            Some(earlier) => {
                // Back to a row already finished: its fields and the late
                // cells together, the late ones last (they came last).
                let mut merged = SheetRow {
                    cells: earlier
                        .cells
                        .iter()
                        .enumerate()
                        .filter(|(_, t)| !t.is_empty())
                        .map(|(c, t)| (c as u32, t.to_string()))
                        .collect(),
                    stray: earlier.stray,
                };
                merged.cells.append(&mut extra.cells);
                if let Some(s) = extra.stray {
                    let m = merged.stray.get_or_insert(Stray {
                        column: s.column,
                        count: 0,
                    });
                    m.column = m.column.min(s.column);
                    m.count += s.count;
                }
                tally.add_cells(merged.width().saturating_sub(earlier.cells.len() as u64))?;
                done.insert(r, merged.finish(r + 1));
            }
            None => {
                tally.add_row(extra.width())?;
                done.insert(r, extra.finish(r + 1));
            }
        }
    }
    let rows = done
        .into_values()
        .filter(|r| r.stray.is_some() || r.cells.iter().any(|c| !c.trim().is_empty()))
        .collect();
    Ok(Decoded {
        rows,
        encoding: "xlsx".into(),
        delimiter: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_is_sniffed_outside_quotes() {
        assert_eq!(sniff_delimiter("a;b;\"c,d,e\"\n1;2;3"), b';');
        assert_eq!(sniff_delimiter("a,b,c\n"), b',');
        assert_eq!(sniff_delimiter("a\tb\tc\n"), b'\t');
    }

    #[test]
    fn encodings_are_recognised() {
        // "Ziekenhuis Zoë" in Windows-1252: ë is 0xEB.
        let cp = b"naam\nZiekenhuis Zo\xEB\n";
        let (t, enc) = decode_text(cp, Encoding::Windows1252, "p").unwrap();
        assert!(t.contains("Zoë") && enc == "windows-1252");
        let (t, _) = decode_text(cp, Encoding::Auto, "p").unwrap();
        assert!(t.contains("Zoë"), "{t}");
        let err = decode_text(cp, Encoding::Utf8, "p").unwrap_err();
        assert_eq!(err.row, Some(2));
        assert!(err.message.contains("windows-1252"));
        let bom = b"\xEF\xBB\xBFnaam\nZo\xC3\xAB\n";
        let (t, enc) = decode_text(bom, Encoding::Utf8, "p").unwrap();
        assert_eq!(t, "naam\nZoë\n");
        assert_eq!(enc, "UTF-8");
    }

    fn profile(format: &str) -> Profile {
        let cat = crate::instrument::Catalogue::load(None).unwrap();
        let text = format!(
            "instrument = \"d-rect\"\nversion = \"2016\"\nfiles = [\"*\"]\nformat = \"{format}\"\n[columns]\nsubmitted_on = \"Datum\"\n"
        );
        Profile::from_toml(&text, std::path::Path::new("p.toml"), &cat).unwrap()
    }

    /// A workbook with one sheet whose `<sheetData>` is `rows`, by hand.
    fn workbook(rows: &str) -> Vec<u8> {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default();
        let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        let parts = [
            (
                "_rels/.rels",
                format!(
                    r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
                ),
            ),
            (
                "xl/workbook.xml",
                format!(
                    r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="{rel}"><sheets><sheet name="Blad1" sheetId="1" r:id="rId1"/></sheets></workbook>"#
                ),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                format!(
                    r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
                ),
            ),
            (
                "xl/worksheets/sheet1.xml",
                format!(
                    r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:XFD1048576"/><sheetData>{rows}</sheetData></worksheet>"#
                ),
            ),
        ];
        for (name, text) in parts {
            zip.start_file(name, opts).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn c(r: &str, text: &str) -> String {
        format!(r#"<c r="{r}" t="inlineStr"><is><t>{text}</t></is></c>"#)
    }

    fn texts(d: &Decoded) -> Vec<(u32, Vec<String>)> {
        d.rows
            .iter()
            .map(|r| (r.row, r.cells.iter().map(String::from).collect()))
            .collect()
    }

    #[test]
    fn column_letters_as_excel_names_them() {
        for (col, name) in [
            (0, "A"),
            (25, "Z"),
            (26, "AA"),
            (51, "AZ"),
            (52, "BA"),
            (701, "ZZ"),
            (702, "AAA"),
            (16383, "XFD"),
        ] {
            assert_eq!(column_letters(col), name, "{col}");
        }
    }

    #[test]
    fn a_sheet_is_read_cell_by_cell_in_any_order() {
        // Rows out of order, a cell out of order within its row, a row that
        // comes back after a later one, an empty row, sparse columns.
        let xml = format!(
            "<row r=\"3\">{}{}</row><row r=\"1\">{}{}</row><row r=\"2\"></row><row r=\"5\">{}</row><row r=\"3\">{}</row>",
            c("C3", "c3"), c("A3", "a3"), c("A1", "Datum"), c("B1", "Q1"), c("B5", "b5"), c("B3", "b3")
        );
        let d = decode(&workbook(&xml), &profile("xlsx"), &Limits::default()).unwrap();
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            texts(&d),
            vec![
                (1, v(&["Datum", "Q1"])),
                (3, v(&["a3", "b3", "c3"])),
                (5, v(&["", "b5"])),
            ]
        );
        assert!(d.rows.iter().all(|r| r.stray.is_none()));
    }

    #[test]
    fn a_far_cell_is_a_stray_not_a_rectangle() {
        let xml = format!(
            "<row r=\"1\">{}{}</row><row r=\"2\">{}{}</row><row r=\"1048576\">{}</row>",
            c("A1", "Datum"),
            c("B1", "Q1"),
            c("A2", "2024-01-01"),
            c("XFD2", "oeps"),
            c("XFD1048576", "x")
        );
        let d = decode(&workbook(&xml), &profile("xlsx"), &Limits::default()).unwrap();
        assert_eq!(d.rows.len(), 3);
        assert_eq!(d.rows[1].cells.len(), 1, "the far value is not in the row");
        assert_eq!(
            d.rows[1].stray,
            Some(Stray {
                column: 16383,
                count: 1
            })
        );
        assert_eq!(d.rows[2].row, 1_048_576);
        assert_eq!(d.rows[2].cells.len(), 0);
        assert_eq!(
            d.rows[2].stray,
            Some(Stray {
                column: 16383,
                count: 1
            })
        );
    }

    #[test]
    fn rows_and_cells_over_their_limits_refuse_the_file() {
        let small = Limits {
            max_rows: 2,
            max_sheet_cells: 5,
            max_columns: 3,
            ..Limits::default()
        };
        let rows: String = (1..=3)
            .map(|r| format!("<row r=\"{r}\">{}</row>", c(&format!("A{r}"), "x")))
            .collect();
        let err = decode(&workbook(&rows), &profile("xlsx"), &small).unwrap_err();
        assert!(
            err.message.contains("limits.max_rows = 2"),
            "{}",
            err.message
        );
        let err = decode(b"a,b,c\n1,2,3\n", &profile("csv"), &small).unwrap_err();
        assert!(
            err.message.contains("limits.max_sheet_cells = 5"),
            "{}",
            err.message
        );
        // A CSV wider than max_columns: cut, with what lay beyond as stray;
        // trailing empty fields are only delimiters.
        let wide = Limits {
            max_columns: 3,
            ..Limits::default()
        };
        let d = decode(b"a,b,c,,\n1,2,3,,9\n", &profile("csv"), &wide).unwrap();
        assert_eq!(d.rows[0].stray, None);
        assert_eq!(d.rows[0].cells.len(), 3);
        assert_eq!(
            d.rows[1].stray,
            Some(Stray {
                column: 4,
                count: 1
            })
        );
    }

    #[test]
    fn a_zip_bomb_part_is_refused_from_the_central_directory() {
        let small = Limits {
            max_xlsx_part_bytes: 1000,
            ..Limits::default()
        };
        let rows: String = (1..=200)
            .map(|r| format!("<row r=\"{r}\">{}</row>", c(&format!("A{r}"), "x")))
            .collect();
        let err = decode(&workbook(&rows), &profile("xlsx"), &small).unwrap_err();
        assert!(
            err.message.contains("xl/worksheets/sheet1.xml")
                && err.message.contains("limits.max_xlsx_part_bytes = 1000"),
            "{}",
            err.message
        );
    }

    #[test]
    fn invisible_characters_are_removed_from_csv_and_xlsx_cells() {
        let d = decode(
            "Datum,Q1\n2024-01-01,a\u{202e}b\u{200b}c\n".as_bytes(),
            &profile("csv"),
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(&d.rows[1].cells[1], "abc");
        let xml = format!(
            "<row r=\"1\">{}</row>",
            c("A1", "Zieken\u{200b}huis\u{2066}A\u{2069}")
        );
        let d = decode(&workbook(&xml), &profile("xlsx"), &Limits::default()).unwrap();
        assert_eq!(&d.rows[0].cells[0], "ZiekenhuisA");
    }
}
