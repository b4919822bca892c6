//! `opleidingsmonitor sample`: write the fictional sample region, or with
//! `--national` the benchmark's fictional country.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::synth::{self, NationalOptions};
use opleidingsmonitor::instrument::Catalogue;

/// Write the fictional sample region (registry, profiles, configuration,
/// exports in every supported layout, invitations, development plan), or
/// with --national the benchmark's country of eight regions.
///
/// Deterministic: the same seed (and options) write the same files. The
/// region in data-samples/ was made with the default seed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder to write into.
    #[arg(long, value_name = "DIR", default_value = "data-samples/noorderveld")]
    pub out: PathBuf,
    /// Seed of the generator (default: 20191 for the region, 2015 for
    /// --national).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Write the benchmark's national dataset instead of the sample region:
    /// all exports as CSV, every instrument every year.
    #[arg(long)]
    pub national: bool,
    /// With --national: number of regions (1 to 8).
    #[arg(long, default_value_t = 8, requires = "national")]
    pub regions: usize,
    /// With --national: number of years.
    #[arg(long, default_value_t = 10, requires = "national")]
    pub years: i32,
    /// With --national: first year.
    #[arg(long, default_value_t = 2015, requires = "national")]
    pub first_year: i32,
    /// With --national: multiplies the supervisors each aios rates (1.0 is
    /// about 2 million questionnaires and 50 million item answers over ten
    /// years).
    #[arg(long, default_value_t = 1.0, requires = "national")]
    pub scale: f64,
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let catalogue = Catalogue::load(None)?;
    let (what, summary) = if args.national {
        let opt = NationalOptions {
            seed: args.seed.unwrap_or(NationalOptions::default().seed),
            regions: args.regions,
            first_year: args.first_year,
            years: args.years,
            scale: args.scale,
        };
        (
            "the national benchmark dataset",
            synth::write_national(&args.out, &catalogue, &opt)?,
        )
    } else {
        (
            "the sample region",
            synth::write_sample_region(&args.out, &catalogue, args.seed.unwrap_or(20191))?,
        )
    };
    let rows: usize = summary.rows.values().sum();
    println!(
        "Wrote {what} to {}: {} export files, {rows} responses.",
        args.out.display(),
        summary.exports.len()
    );
    Ok(ExitCode::SUCCESS)
}
