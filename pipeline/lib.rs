//! Opleidingsmonitor: a quality-survey analytics pipeline for Dutch regional
//! medical specialist training.
//!
//! Data flows one way through the stages, in the order they are declared
//! here; a module reads only the ones above it (`tests/architecture.rs`
//! keeps it so; a comment between declarations keeps rustfmt from sorting
//! them). See ARCHITECTURE.md for the map. The binary in `main.rs` is a thin
//! command line over this library.

// Typed errors by cause.
pub mod error;
// Text normalisation and safe echoing.
pub mod text;
// The domain's words as types: Period, DepartmentId, SuppressionReason.
pub mod domain;
// What a questionnaire is.
pub mod instrument;
// The organisation registry.
pub mod org;
// One export file to checked, pseudonymised rows.
pub mod ingest;
// The resolved settings every stage receives.
pub mod config;
// The statistics as formulas.
pub mod score;
// The result types every later stage shares.
pub mod table;
// Every path under `dataset/`: Parquet in and out.
pub mod dataset;
// Responses pooled per unit and period (Polars).
pub mod aggregate;
// Suppression and the checkers.
pub mod privacy;
// Findings by explicit rules.
pub mod pdca;
// What readers see.
pub mod report;
// The runner that ties the stages together.
pub mod job;

pub use error::{Error, Result};
pub use job::aggregate::{aggregate_dataset, AggregateSummary};
