//! Limits: how large an export may be before ingest refuses it.
//!
//! An export is read into memory, decoded and expanded into rows; a file
//! that is small on disk can ask for far more (a 10 KB workbook with one
//! cell at XFD1048576 asked calamine for half a terabyte; a zip part of 1 MB
//! can unpack to gigabytes). Every such size is bounded here, with defaults
//! far above any real survey export and far below what hurts a laptop, so a
//! hostile or broken file is refused within seconds and a few hundred MB,
//! with a message that names the limit, its value, its setting and the fix.
//!
//! This module owns the settings (the `[limits]` section of the
//! configuration, plain serde, no I/O) and reading an export from disk
//! within them. The checks themselves live where the sizes are known
//! (`decode` for bytes, parts, rows and cells; the row checks in `ingest`).

use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use super::decode::FileProblem;

/// The bounds of one export. Every field has a default; a configuration's
/// `[limits]` section overrides single fields.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest export file, in bytes (default 256 MiB). A year of D-RECT for
    /// a large region is a few MB. A workbook or a CSV below 16 MiB is held
    /// in memory while read; a larger CSV is streamed (`stream`).
    pub max_file_bytes: u64,
    /// Most data rows in one export (default 500,000): about fifty times a
    /// country's yearly D-RECT responses.
    pub max_rows: u64,
    /// Most columns (default 2,000). The longest instrument (EFFECT, 58
    /// items) with a platform's metadata columns has a few hundred; Excel
    /// itself allows 16,384. A value beyond it is a stray cell (see
    /// `decode`).
    pub max_columns: u64,
    /// Most characters in one cell (default 100,000: a very long open
    /// answer is a few thousand). Excel cells hold at most 32,767; a CSV
    /// has no bound of its own. A longer cell quarantines its row.
    pub max_cell_chars: u64,
    /// Largest uncompressed part of an XLSX workbook (a sheet, the shared
    /// strings), in bytes (default 256 MiB): refuses zip bombs before a byte
    /// is unpacked.
    pub max_xlsx_part_bytes: u64,
    /// Most cells of one sheet or CSV (default 10,000,000), counted per row
    /// up to its last value, as they are held in memory (about 20 bytes
    /// each with their text: a CSV refused at this limit peaked at 280 MB).
    pub max_sheet_cells: u64,
    /// Days after today a submission date may lie (default 1: an export
    /// made just after midnight in another time zone). A later date is a
    /// typing error and quarantines its row.
    pub future_days: u32,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_file_bytes: 256 * MIB,
            max_rows: 500_000,
            max_columns: 2_000,
            max_cell_chars: 100_000,
            max_xlsx_part_bytes: 256 * MIB,
            max_sheet_cells: 10_000_000,
            future_days: 1,
        }
    }
}

const MIB: u64 = 1024 * 1024;

impl Limits {
    /// Checks the settings: every maximum at least 1. The message names the
    /// setting (for the configuration's error).
    pub fn check(&self) -> Result<(), String> {
        let fields = [
            ("max_file_bytes", self.max_file_bytes),
            ("max_rows", self.max_rows),
            ("max_columns", self.max_columns),
            ("max_cell_chars", self.max_cell_chars),
            ("max_xlsx_part_bytes", self.max_xlsx_part_bytes),
            ("max_sheet_cells", self.max_sheet_cells),
        ];
        for (name, v) in fields {
            if v == 0 {
                return Err(format!(
                    "limits.{name} = 0 would refuse every file: give a positive number or leave it out for the default ({})",
                    Limits::default().value_of(name).unwrap_or(0)
                ));
            }
        }
        Ok(())
    }

    fn value_of(&self, name: &str) -> Option<u64> {
        Some(match name {
            "max_file_bytes" => self.max_file_bytes,
            "max_rows" => self.max_rows,
            "max_columns" => self.max_columns,
            "max_cell_chars" => self.max_cell_chars,
            "max_xlsx_part_bytes" => self.max_xlsx_part_bytes,
            "max_sheet_cells" => self.max_sheet_cells,
            "future_days" => self.future_days as u64,
            _ => return None,
        })
    }

    /// The refusal of a file whose size exceeds `max_file_bytes`, if it does.
    pub fn check_file_bytes(&self, bytes: u64) -> Result<(), FileProblem> {
        if bytes <= self.max_file_bytes {
            return Ok(());
        }
        Err(FileProblem::file(format!(
            "the file is {} ({bytes} bytes), more than limits.max_file_bytes = {} ({}): split the export (per year or per institution), or raise limits.max_file_bytes in the configuration if the file is genuine",
            human_bytes(bytes),
            self.max_file_bytes,
            human_bytes(self.max_file_bytes)
        )))
    }
}

/// Reads an export from disk within `max_file_bytes`: the size is checked
/// before reading, and no more than the limit (plus one byte) is read if the
/// file grows meanwhile. A file that cannot be read or is too large is a
/// `FileProblem` whose message says what to do; it is tried again next run.
pub fn read_export(path: &Path, limits: &Limits) -> Result<Vec<u8>, FileProblem> {
    let unreadable = |e: std::io::Error| {
        FileProblem::file(format!(
            "cannot read the file ({e}); check its permissions, it is tried again next run"
        ))
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let len = file.metadata().map_err(unreadable)?.len();
    limits.check_file_bytes(len)?;
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(limits.max_file_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    limits.check_file_bytes(bytes.len() as u64)?;
    Ok(bytes)
}

/// Bytes for people: `1.5 GB`, `256 MB`, `900 bytes` (binary units, as a
/// file manager shows them on Windows).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)];
    for (unit, size) in UNITS {
        if n >= size {
            let v = n as f64 / size as f64;
            return if v.fract() == 0.0 {
                format!("{v:.0} {unit}")
            } else {
                format!("{v:.1} {unit}")
            };
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides_from_toml() {
        let l: Limits = toml::from_str("max_rows = 10\nfuture_days = 0").unwrap();
        assert_eq!(l.max_rows, 10);
        assert_eq!(l.future_days, 0);
        assert_eq!(l.max_columns, Limits::default().max_columns);
        let err = toml::from_str::<Limits>("max_row = 10").unwrap_err();
        assert!(err.to_string().contains("max_row"), "{err}");
        assert!(l.check().is_ok());
        let zero = Limits {
            max_columns: 0,
            ..Limits::default()
        };
        let m = zero.check().unwrap_err();
        assert!(
            m.contains("limits.max_columns") && m.contains("2000"),
            "{m}"
        );
    }

    #[test]
    fn a_file_over_the_limit_is_refused_before_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("groot.csv");
        std::fs::write(&path, vec![b'x'; 2048]).unwrap();
        let small = Limits {
            max_file_bytes: 1024,
            ..Limits::default()
        };
        let p = read_export(&path, &small).unwrap_err();
        assert!(
            p.message.contains("2 KB")
                && p.message.contains("limits.max_file_bytes = 1024")
                && p.message.contains("split"),
            "{}",
            p.message
        );
        assert_eq!(read_export(&path, &Limits::default()).unwrap().len(), 2048);
        let gone = read_export(&dir.path().join("weg.csv"), &small).unwrap_err();
        assert!(gone.message.contains("cannot read"), "{}", gone.message);
    }

    #[test]
    fn bytes_for_people() {
        assert_eq!(human_bytes(900), "900 bytes");
        assert_eq!(human_bytes(2048), "2 KB");
        assert_eq!(human_bytes(256 * MIB), "256 MB");
        assert_eq!(human_bytes(3 * (1 << 30) / 2), "1.5 GB");
    }
}
