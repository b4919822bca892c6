//! Typed errors of the library.
//!
//! Every variant names the file (and where it can, the line) and says what
//! the user can do. Problems with single rows of an export are not errors:
//! they are quarantine records (see `ingest`), so that one bad row never stops
//! a batch. Errors here stop a command: configuration, definitions, the
//! registry, the key, or the dataset's storage.

use std::path::{Path, PathBuf};

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, with where and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The configuration file is wrong.
    #[error("configuration {file}: {message}")]
    Config {
        /// The configuration file.
        file: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// An instrument definition file is wrong.
    #[error("instrument definition {file}: {message}")]
    Definition {
        /// The definition file (or `embedded:<name>`).
        file: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The organisation registry is wrong.
    #[error("registry {file}, line {line}: {message}")]
    Registry {
        /// The registry file.
        file: String,
        /// 1-based line of the offending entry (0 when unknown).
        line: usize,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A source profile is wrong.
    #[error("source profile {file}: {message}")]
    Profile {
        /// The profile file.
        file: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The pseudonymisation key cannot be used.
    #[error("pseudonymisation key: {0}")]
    Key(String),
    /// The dataset could not be read or written.
    #[error("dataset {}: {message}", path.display())]
    Dataset {
        /// The dataset path involved.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A row of a file the region keeps (the development plan, the
    /// invitations) is wrong.
    #[error("{file}{}{}{}: {message}", row.map(|r| format!(", row {r}")).unwrap_or_default(), column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default(), value.as_ref().map(|v| format!(", value {v:?}")).unwrap_or_default())]
    Input {
        /// The file.
        file: String,
        /// 1-based row, where one applies (the header is row 1).
        row: Option<usize>,
        /// The column, where one applies.
        column: Option<String>,
        /// The offending value, where one applies.
        value: Option<String>,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A report template could not be rendered.
    #[error("report template {template}: {message}")]
    Render {
        /// The template's name.
        template: String,
        /// What went wrong (minijinja names the line).
        message: String,
    },
    /// An output file (a workbook, a report) could not be made.
    #[error("writing {}: {message}", path.display())]
    Output {
        /// The file being made.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// Another run holds the dataset's lock.
    #[error("{0}")]
    Locked(String),
    /// Several problems at once (every problem of the quality register is
    /// reported, not only the first), one per line.
    #[error("{} problems:\n{}", .0.len(), .0.iter().map(|e| format!("  - {e}")).collect::<Vec<_>>().join("\n"))]
    Many(Vec<Error>),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A row of an input file, with its column and value where known.
    pub fn input(
        file: &Path,
        row: Option<usize>,
        column: Option<&str>,
        value: Option<&str>,
        message: impl Into<String>,
    ) -> Error {
        Error::Input {
            file: file.display().to_string(),
            row,
            column: column.map(str::to_string),
            value: value.map(str::to_string),
            message: message.into(),
        }
    }

    /// A dataset error on `path`, from any displayable cause.
    pub fn dataset(path: &Path, cause: impl std::fmt::Display) -> Error {
        Error::Dataset {
            path: path.to_path_buf(),
            message: cause.to_string(),
        }
    }
}
