//! Privacy rules that hold across stages.
//!
//! This module owns the privacy floor: the smallest group whose results may
//! be published. Pseudonymisation of identifiers happens on ingest (see
//! `ingest::pseudonym`); suppression of small cells, and of complementary
//! cells that would let a suppressed value be recovered by subtraction,
//! belongs here once aggregates exist.

/// No configuration may publish results of fewer distinct respondents than
/// this: with two, each respondent can subtract their own answers and read
/// the other's (DESIGN.md, Privacy: "never below 3").
pub const ABSOLUTE_MIN_FLOOR: u32 = 3;
