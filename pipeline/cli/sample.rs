//! `opleidingsmonitor sample`: write the fictional sample region.

use std::path::PathBuf;
use std::process::ExitCode;

use opleidingsmonitor::instrument::Catalogue;
use opleidingsmonitor::synth;

/// Write the fictional sample region (registry, profiles, configuration,
/// exports in every supported layout, invitations, development plan).
///
/// Deterministic: the same seed writes the same files. The region in
/// data-samples/ was made with the default seed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder to write the region into.
    #[arg(long, value_name = "DIR", default_value = "data-samples/noorderveld")]
    pub out: PathBuf,
    /// Seed of the generator.
    #[arg(long, default_value_t = 20191)]
    pub seed: u64,
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let catalogue = Catalogue::load(None)?;
    let summary = synth::write_sample_region(&args.out, &catalogue, args.seed)?;
    let rows: usize = summary.rows.values().sum();
    println!(
        "Wrote the sample region to {}: {} export files, {rows} responses.",
        args.out.display(),
        summary.exports.len()
    );
    Ok(ExitCode::SUCCESS)
}
