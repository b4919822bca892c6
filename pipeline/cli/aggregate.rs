//! `opleidingsmonitor aggregate`: scores, aggregates and privacy.

use std::process::ExitCode;

use opleidingsmonitor::config::Config;

/// Score every response, pool per department, institution, RSO and region
/// per year and per two-year cycle, suppress what must not be published,
/// and write dataset/aggregates and dataset/changes.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: super::ConfigArg,
}

/// Runs the command.
pub fn run(_args: &Args, config: &Config) -> anyhow::Result<ExitCode> {
    let _lock = opleidingsmonitor::dataset::RunLock::acquire(&config.paths.dataset)?;
    let stamp = opleidingsmonitor::job::current_stamp(config)?;
    let s = opleidingsmonitor::aggregate_dataset(config, false, &stamp)?;
    println!(
        "Aggregates: {} cells ({} suppressed below the privacy floor, {} to protect them, {} not published: their cycle or departments stand for them), {} changes.\nWritten to {}.",
        s.cells,
        s.suppressed_min_n,
        s.suppressed_secondary,
        s.not_published,
        s.changes,
        config.paths.dataset.display()
    );
    Ok(ExitCode::SUCCESS)
}
