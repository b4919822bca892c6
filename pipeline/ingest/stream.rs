//! A large CSV export read as a stream: memory grows with a chunk of rows,
//! not with the file.
//!
//! `ingest_bytes_limited` holds a file's bytes, its rows and its responses
//! at once: about 15 times the file's size (a 132 MB LimeSurvey export of
//! 200,000 rows peaked at 1.9 GB). Here the file is read from disk three
//! times instead, each time in a buffer of a few hundred KB:
//!
//! 1. `scan`: its size against `limits.max_file_bytes`, its SHA-256 (the
//!    file's identity), its byte-order mark and whether it is valid UTF-8
//!    (the encoding is decided as `decode::decode_text` decides it);
//! 2. a check of the whole file without placing a row: the CSV syntax, the
//!    row and cell limits, the header rows and the columns (every reason to
//!    refuse the file as a whole is found here, before a response leaves),
//!    and the names in it collected (`scrub`: an open answer may name
//!    someone of another row);
//! 3. the rows placed (`Placer`, as for a file in memory), the responses
//!    handed to `on_chunk` a chunk at a time (the dataset's staging writes
//!    them out in its own chunks).
//!
//! Only the rows' outcome differs in one hostile corner: invisible
//! characters are removed from each cell here, from the whole text for a
//! file in memory, so a zero-width space just before an opening quote makes
//! the quote part of the value here. The batch chooses this path for CSV
//! files above a size (`job::batch`); the tests compare the two paths.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::decode::{clip_width, sniff_delimiter, FileProblem, RawRow, Tally};
use super::limits::Limits;
use super::profile::{ColumnRole, Encoding};
use super::scrub::ExportNames;
use super::{header_rows, rejected_file, split_header, Columns, Context, FileOutcome, Placer};
use crate::error::{Error, Result};
use crate::ingest::Response;
use crate::text::strip_invisible;

/// Responses handed over at a time.
pub const CHUNK_RESPONSES: usize = 20_000;

/// What the first reading of a file found.
#[derive(Debug, Clone)]
pub struct Scan {
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
    /// The encoding of a byte-order mark and its length.
    bom: Option<(&'static encoding_rs::Encoding, usize)>,
    /// The first byte that is not UTF-8 (after a BOM), and its line.
    invalid_utf8: Option<(u64, u32, u8)>,
    /// Whether the file holds anything but white space.
    blank: bool,
}

/// Reads the file once: size (within `max_file_bytes`), SHA-256, BOM,
/// UTF-8 validity. Never holds more than a buffer.
pub fn scan(path: &Path, limits: &Limits) -> std::result::Result<Scan, FileProblem> {
    let unreadable = |e: std::io::Error| {
        FileProblem::file(format!(
            "cannot read the file ({e}); check its permissions, it is tried again next run"
        ))
    };
    let file = File::open(path).map_err(unreadable)?;
    let len = file.metadata().map_err(unreadable)?.len();
    limits.check_file_bytes(len)?;
    let mut reader = file.take(limits.max_file_bytes.saturating_add(1));
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    let mut head: Vec<u8> = Vec::new();
    let mut carry: Vec<u8> = Vec::new();
    let mut lines = 1u32;
    let mut invalid = None;
    let mut blank = true;
    loop {
        let n = reader.read(&mut buf).map_err(unreadable)?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        hash.update(chunk);
        if head.len() < 3 {
            head.extend(chunk.iter().take(3 - head.len()));
        }
        blank = blank && chunk.iter().all(u8::is_ascii_whitespace);
        if invalid.is_none() {
            // The UTF-8 check runs over the chunk with what was left of a
            // character cut by the previous one.
            let skip = if total == 0 {
                encoding_rs::Encoding::for_bom(chunk).map_or(0, |(_, l)| l)
            } else {
                0
            };
            carry.extend_from_slice(&chunk[skip..]);
            match std::str::from_utf8(&carry) {
                Ok(_) => {
                    lines += carry.iter().filter(|&&b| b == b'\n').count() as u32;
                    carry.clear();
                }
                Err(e) if e.error_len().is_none() => {
                    let at = e.valid_up_to();
                    lines += carry[..at].iter().filter(|&&b| b == b'\n').count() as u32;
                    carry.drain(..at);
                }
                Err(e) => {
                    let at = e.valid_up_to();
                    lines += carry[..at].iter().filter(|&&b| b == b'\n').count() as u32;
                    invalid = Some((total, lines, carry[at]));
                    carry.clear();
                }
            }
        }
        total += n as u64;
    }
    limits.check_file_bytes(total)?;
    if invalid.is_none() && !carry.is_empty() {
        // The file ends inside a character.
        invalid = Some((total, lines, carry[0]));
    }
    Ok(Scan {
        sha256: hex::encode(hash.finalize()),
        bytes: total,
        bom: encoding_rs::Encoding::for_bom(&head),
        invalid_utf8: invalid,
        blank,
    })
}

/// The encoding to read the file with, as `decode::decode_text` decides:
/// a BOM wins; `utf-8` must be valid; `auto` takes valid UTF-8, else
/// chardetng's guess over the whole file.
fn choose_encoding(
    path: &Path,
    scan: &Scan,
    encoding: Encoding,
    profile_id: &str,
) -> std::result::Result<(&'static encoding_rs::Encoding, usize), FileProblem> {
    if let Some(bom) = scan.bom {
        return Ok(bom);
    }
    match (encoding, scan.invalid_utf8) {
        (Encoding::Windows1252, _) => Ok((encoding_rs::WINDOWS_1252, 0)),
        (_, None) => Ok((encoding_rs::UTF_8, 0)),
        (Encoding::Utf8, Some((_, line, byte))) => Err(FileProblem {
            row: Some(line),
            column: None,
            value: Some(format!("byte 0x{byte:02X}")),
            message: format!(
                "the file is not valid UTF-8 (line {line}); it is probably Windows-1252: set encoding = \"windows-1252\" or \"auto\" in profile {profile_id}, or save the file as UTF-8"
            ),
        }),
        (Encoding::Auto, Some(_)) => {
            let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
            let mut f = File::open(path).map_err(|e| FileProblem::file(e.to_string()))?;
            let mut buf = vec![0u8; 1 << 20];
            loop {
                let n = f.read(&mut buf).map_err(|e| FileProblem::file(e.to_string()))?;
                det.feed(&buf[..n], n == 0);
                if n == 0 {
                    break;
                }
            }
            Ok((
                det.guess(Some(b"nl"), chardetng::Utf8Detection::Allow),
                0,
            ))
        }
    }
}

/// The file's text as UTF-8 with the invisible characters removed
/// (`text::strip_invisible`), decoded on the way from any encoding.
struct CleanText<R> {
    inner: R,
    decoder: Option<encoding_rs::Decoder>,
    raw: Vec<u8>,
    raw_len: usize,
    out: Vec<u8>,
    out_pos: usize,
    done: bool,
}

impl<R: Read> CleanText<R> {
    /// `valid_utf8`: the file was found valid UTF-8 by `scan`, so UTF-8 is
    /// taken as it is; any other text is decoded (invalid UTF-8 that
    /// chardetng still calls UTF-8 gets replacement characters, as
    /// `Encoding::decode` gives a file in memory).
    fn new(inner: R, encoding: &'static encoding_rs::Encoding, valid_utf8: bool) -> CleanText<R> {
        CleanText {
            inner,
            decoder: (encoding != encoding_rs::UTF_8 || !valid_utf8)
                .then(|| encoding.new_decoder_without_bom_handling()),
            raw: vec![0u8; 256 * 1024],
            raw_len: 0,
            out: Vec::new(),
            out_pos: 0,
            done: false,
        }
    }

    /// Decodes the next piece of the file into `out`.
    fn refill(&mut self) -> std::io::Result<()> {
        self.out.clear();
        self.out_pos = 0;
        while self.out.is_empty() && !self.done {
            let n = self.inner.read(&mut self.raw[self.raw_len..])?;
            self.raw_len += n;
            let last = n == 0;
            let text: Cow<str> = match &mut self.decoder {
                Some(d) => {
                    let mut s = String::with_capacity(
                        d.max_utf8_buffer_length(self.raw_len)
                            .unwrap_or(self.raw_len * 3),
                    );
                    let (_, read, _) = d.decode_to_string(&self.raw[..self.raw_len], &mut s, last);
                    self.raw.copy_within(read..self.raw_len, 0);
                    self.raw_len -= read;
                    Cow::Owned(s)
                }
                None => {
                    // Checked as UTF-8 by `scan`; a character cut by the
                    // buffer's end waits for the next read.
                    let valid = match std::str::from_utf8(&self.raw[..self.raw_len]) {
                        Ok(_) => self.raw_len,
                        Err(e) if e.error_len().is_none() && !last => e.valid_up_to(),
                        Err(_) => {
                            return Err(std::io::Error::other(
                                "the file changed while it was read (it is no longer UTF-8)",
                            ))
                        }
                    };
                    let s = String::from_utf8(self.raw[..valid].to_vec()).expect("checked");
                    self.raw.copy_within(valid..self.raw_len, 0);
                    self.raw_len -= valid;
                    Cow::Owned(s)
                }
            };
            self.out
                .extend_from_slice(strip_invisible(&text).as_bytes());
            if last {
                self.done = true;
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for CleanText<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.out_pos >= self.out.len() {
            self.refill()?;
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

/// A CSV reader over the file's clean text, and the delimiter it uses
/// (the profile's, or sniffed from the first line).
fn open_csv(
    path: &Path,
    encoding: &'static encoding_rs::Encoding,
    skip: usize,
    valid_utf8: bool,
    delimiter: Option<u8>,
) -> std::io::Result<(csv::Reader<Box<dyn Read>>, u8)> {
    let mut file = BufReader::new(File::open(path)?);
    std::io::copy(&mut (&mut file).take(skip as u64), &mut std::io::sink())?;
    let mut text = CleanText::new(file, encoding, valid_utf8);
    // The first line, or 64 KB of it, for the delimiter.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while head.len() < 64 * 1024 && text.read(&mut byte)? == 1 {
        head.push(byte[0]);
        if byte[0] == b'\n' {
            break;
        }
    }
    let d = delimiter.unwrap_or_else(|| sniff_delimiter(&String::from_utf8_lossy(&head)));
    let input: Box<dyn Read> = Box::new(std::io::Cursor::new(head).chain(text));
    let reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(d)
        .buffer_capacity(256 * 1024)
        .from_reader(input);
    Ok((reader, d))
}

/// Each non-blank record of the file with its line, as `decode` reads
/// them; stops at the first error.
fn for_each_row(
    reader: &mut csv::Reader<Box<dyn Read>>,
    mut f: impl FnMut(u32, &csv::StringRecord) -> std::result::Result<(), FileProblem>,
) -> std::result::Result<(), FileProblem> {
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                if record.iter().all(|c| crate::text::trim(c).is_empty()) {
                    continue;
                }
                let row = record.position().map(|p| p.line() as u32).unwrap_or(0);
                f(row, &record)?;
            }
            Err(e) => {
                return Err(FileProblem {
                    row: e.position().map(|p| p.line() as u32),
                    column: None,
                    value: None,
                    message: format!(
                        "the CSV cannot be read: {}; check quoting and export it again",
                        crate::text::echo(&e.to_string())
                    ),
                })
            }
        }
    }
}

/// Data rows of a file refused as a whole, counted as Windows-1252 text
/// (which decodes any bytes), as `count_rows_lossy` counts a file in memory.
pub fn count_rows_lossy(path: &Path, ctx: &Context) -> u64 {
    let Ok((mut reader, _)) = open_csv(
        path,
        encoding_rs::WINDOWS_1252,
        0,
        false,
        ctx.profile.delimiter,
    ) else {
        return 0;
    };
    let mut rows = 0u64;
    let _ = for_each_row(&mut reader, |_, _| {
        rows += 1;
        Ok(())
    });
    rows.saturating_sub(header_rows(ctx.profile.layout) as u64 + ctx.profile.header_row as u64 - 1)
}

/// Reads a CSV export from disk after `scan`: the outcome's counts and
/// quarantine, its `responses` empty; the responses go to `on_chunk`,
/// `CHUNK_RESPONSES` at a time, in the file's order. A file refused as a
/// whole is refused before the first chunk. An error of `on_chunk`, or a
/// file that changed between the readings, is an error: the chunks given
/// so far cannot be taken back.
pub fn ingest_csv_file(
    path: &Path,
    scan: &Scan,
    ctx: &Context,
    limits: &Limits,
    on_chunk: &mut dyn FnMut(Vec<Response>) -> Result<()>,
) -> Result<FileOutcome> {
    let p = ctx.profile;
    let refuse = |problem: FileProblem| rejected_file(count_rows_lossy(path, ctx), problem);
    if scan.blank {
        return Ok(rejected_file(
            0,
            FileProblem::file("the file is empty: export it again from the survey platform"),
        ));
    }
    let (encoding, skip) = match choose_encoding(path, scan, p.encoding, &p.id) {
        Ok(e) => e,
        Err(problem) => return Ok(refuse(problem)),
    };
    let io = |e: std::io::Error| Error::io(path, e);
    let valid = scan.invalid_utf8.is_none();
    // Reading 2: the whole file checked, nothing placed.
    let (mut reader, delimiter) = open_csv(path, encoding, skip, valid, p.delimiter).map_err(io)?;
    let decoded_as = format!("{} {:?}", encoding.name(), delimiter as char);
    let n_header = header_rows(p.layout);
    let mut tally = Tally::new(limits);
    let mut header: Vec<RawRow> = Vec::new();
    // Rows before the data: those above `header_row` and the header rows.
    let mut skip_rows = None;
    let mut headings: Vec<String> = Vec::new();
    let mut headless_with_values: Vec<bool> = Vec::new();
    // Every name of the export, masked in the open answers of every row
    // (the columns as `Columns::name_columns` finds them).
    let mut name_columns: Vec<usize> = Vec::new();
    let mut names = ExportNames::default();
    let mut data_rows = 0u64;
    let checked = for_each_row(&mut reader, |row, record| {
        tally.add_row(record.len() as u64)?;
        if skip_rows.is_none() {
            let (cells, stray) = clip_width(record, limits.max_columns);
            header.push(RawRow { row, cells, stray });
            let first = header.iter().position(|r| r.row >= p.header_row);
            if let Some(h) = first.filter(|h| header.len() == h + n_header) {
                let (found, _) = split_header(&header, p, limits)?;
                headless_with_values = found.iter().map(|_| false).collect();
                name_columns = (0..found.len())
                    .filter(|&i| {
                        matches!(
                            p.column_role(&found[i]),
                            ColumnRole::Respondent | ColumnRole::Subject | ColumnRole::Identifier
                        )
                    })
                    .collect();
                headings = found;
                skip_rows = Some(h + n_header);
            }
            return Ok(());
        }
        data_rows += 1;
        for &i in &name_columns {
            if let Some(c) = record.get(i) {
                names.add(c);
            }
        }
        for (i, h) in headings.iter().enumerate() {
            if h.is_empty() && !headless_with_values[i] {
                headless_with_values[i] = record.get(i).is_some_and(|c| !c.trim().is_empty());
            }
        }
        Ok(())
    });
    if let Err(problem) = checked {
        return Ok(with_decoding(refuse(problem), &decoded_as));
    }
    let Some(skip_rows) = skip_rows else {
        // Too few rows for the header: `split_header` says why.
        let problem = split_header(&header, p, limits)
            .err()
            .unwrap_or_else(|| FileProblem::file("the file ends inside its header rows"));
        return Ok(with_decoding(rejected_file(0, problem), &decoded_as));
    };
    let has_value = |i: usize| headless_with_values.get(i).copied().unwrap_or(false);
    let mut cols = match Columns::resolve(&headings, &has_value, ctx, limits) {
        Ok(c) => c,
        Err(problem) => {
            return Ok(with_decoding(
                rejected_file(data_rows, problem),
                &decoded_as,
            ))
        }
    };

    cols.names = names;

    // Reading 3: the rows placed, the responses handed on in chunks.
    let (mut reader, _) = open_csv(path, encoding, skip, valid, Some(delimiter)).map_err(io)?;
    let mut out = FileOutcome {
        decoded_as,
        ..Default::default()
    };
    let mut placer = Placer::new(cols);
    let mut chunk: Vec<Response> = Vec::with_capacity(CHUNK_RESPONSES.min(data_rows as usize));
    let mut seen_rows = 0usize;
    let mut failed: Option<Error> = None;
    let placed = for_each_row(&mut reader, |row, record| {
        seen_rows += 1;
        if seen_rows <= skip_rows {
            return Ok(());
        }
        let (cells, stray) = clip_width(record, limits.max_columns);
        out.rows_read += 1;
        match placer.place(&RawRow { row, cells, stray }, ctx) {
            Ok(r) => {
                chunk.push(r);
                if chunk.len() >= CHUNK_RESPONSES {
                    if let Err(e) = on_chunk(std::mem::take(&mut chunk)) {
                        failed = Some(e);
                        return Err(FileProblem::file("stopped"));
                    }
                }
            }
            Err(q) => {
                out.rows_quarantined += 1;
                out.quarantine.push(q);
            }
        }
        Ok(())
    });
    if let Some(e) = failed {
        return Err(e);
    }
    if placed.is_err() || out.rows_read != data_rows {
        return Err(Error::io(
            path,
            std::io::Error::other("the file changed while it was read: it is read again next run"),
        ));
    }
    if !chunk.is_empty() {
        on_chunk(chunk)?;
    }
    Ok(out)
}

fn with_decoding(mut out: FileOutcome, decoded_as: &str) -> FileOutcome {
    out.decoded_as = decoded_as.to_string();
    out
}
