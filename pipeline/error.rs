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
    /// Another run holds the dataset's lock.
    #[error("{0}")]
    Locked(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
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
