//! Opleidingsmonitor: a quality-survey analytics pipeline for Dutch regional
//! medical specialist training.
//!
//! Data flows one way through the stages: `instrument` and `org` describe the
//! questionnaires and the organisation; `ingest` turns exports into checked,
//! pseudonymised responses; `dataset` stores them as hive-partitioned
//! Parquet; `batch` ties the two together for a run. The binary in `main.rs`
//! is a thin command line over this library.

pub mod batch;
pub mod config;
pub mod dataset;
pub mod error;
pub mod ingest;
pub mod instrument;
pub mod org;
pub mod privacy;
pub mod synth;

pub use error::{Error, Result};
