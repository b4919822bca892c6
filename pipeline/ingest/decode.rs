//! Decoding: the bytes of an export to rows of text, before anything else
//! looks at them.
//!
//! This module owns encodings (byte-order marks, UTF-8, Windows-1252, and
//! chardetng's guess), delimiter sniffing, CSV quoting, and reading cells
//! from an XLSX sheet. It keeps each row's number as a person sees it in a
//! text editor or Excel, so that every later message can name it. It does
//! not know what the columns mean.

use std::io::Cursor;

use calamine::{open_workbook_from_rs, Data, Reader, Xlsx};

use super::profile::{Encoding, Format, Profile};

/// One row of an export with its 1-based row (line) number in the file.
#[derive(Debug, Clone)]
pub struct RawRow {
    /// Row number in the file (CSV: the line where the record starts).
    pub row: u32,
    /// The cells, as text (one buffer per row, not one per cell).
    pub cells: csv::StringRecord,
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

/// Decodes an export according to its profile.
pub fn decode(bytes: &[u8], profile: &Profile) -> Result<Decoded, FileProblem> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(FileProblem::file(
            "the file is empty: export it again from the survey platform",
        ));
    }
    match profile.format {
        Format::Csv => decode_csv(bytes, profile),
        Format::Xlsx => decode_xlsx(bytes, profile),
    }
}

/// Bytes to text according to the profile's encoding.
pub fn decode_text(
    bytes: &[u8],
    encoding: Encoding,
    profile_id: &str,
) -> Result<(String, String), FileProblem> {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _, _) = enc.decode(&bytes[bom_len..]);
        return Ok((text.into_owned(), enc.name().to_string()));
    }
    match encoding {
        Encoding::Utf8 => match std::str::from_utf8(bytes) {
            Ok(s) => Ok((s.to_string(), "UTF-8".into())),
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
            Ok((text.into_owned(), "windows-1252".into()))
        }
        Encoding::Auto => {
            if let Ok(s) = std::str::from_utf8(bytes) {
                return Ok((s.to_string(), "UTF-8".into()));
            }
            let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
            det.feed(bytes, true);
            let enc = det.guess(Some(b"nl"), chardetng::Utf8Detection::Allow);
            let (text, _, _) = enc.decode(bytes);
            Ok((text.into_owned(), enc.name().to_string()))
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

fn decode_csv(bytes: &[u8], profile: &Profile) -> Result<Decoded, FileProblem> {
    let (text, encoding) = decode_text(bytes, profile.encoding, &profile.id)?;
    let delimiter = profile.delimiter.unwrap_or_else(|| sniff_delimiter(&text));
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
                rows.push(RawRow {
                    row,
                    cells: record.clone(),
                });
            }
            Err(e) => {
                let row = e.position().map(|p| p.line() as u32);
                return Err(FileProblem {
                    row,
                    column: None,
                    value: None,
                    message: format!(
                        "the CSV cannot be read: {e}; check quoting and export it again"
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

/// An XLSX cell as the text a person sees.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(d) if d.time() == chrono::NaiveTime::MIN => {
                d.date().format("%Y-%m-%d").to_string()
            }
            Some(d) => d.format("%Y-%m-%d %H:%M:%S").to_string(),
            None => dt.as_f64().to_string(),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

fn decode_xlsx(bytes: &[u8], profile: &Profile) -> Result<Decoded, FileProblem> {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(|e| {
        FileProblem::file(format!(
            "not a readable .xlsx workbook ({e}); save it again from Excel as .xlsx, or set format = \"csv\" in profile {} if it is a CSV",
            profile.id
        ))
    })?;
    let names = book.sheet_names().to_vec();
    let sheet = match &profile.sheet {
        Some(s) => s.clone(),
        None => names
            .first()
            .cloned()
            .ok_or_else(|| FileProblem::file("the workbook has no sheets"))?,
    };
    let range = book.worksheet_range(&sheet).map_err(|e| {
        FileProblem::file(format!(
            "sheet {sheet:?} cannot be read ({e}); the workbook has {}: set sheet = \"...\" in profile {}",
            names.join(", "),
            profile.id
        ))
    })?;
    let first_row = range.start().map(|(r, _)| r).unwrap_or(0);
    let first_col = range.start().map(|(_, c)| c as usize).unwrap_or(0);
    let mut rows = Vec::new();
    for (i, r) in range.rows().enumerate() {
        let mut cells = vec![String::new(); first_col];
        cells.extend(r.iter().map(cell_text));
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        rows.push(RawRow {
            row: first_row + i as u32 + 1,
            cells: csv::StringRecord::from(cells),
        });
    }
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
}
