//! `opleidingsmonitor ingest`: read new exports into the dataset.

use std::path::PathBuf;
use std::process::ExitCode;

use opleidingsmonitor::config::Config;
use opleidingsmonitor::job::batch::{self, Mode};

/// Read new export files into the Parquet dataset.
///
/// Files already in the manifest (same SHA-256) are skipped; rows that
/// cannot be placed are quarantined with the reason, and the other rows and
/// files go on.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: super::ConfigArg,
    /// Read every file with this source profile (its id: the file name
    /// without .toml, unless the profile sets `id`), whatever the profiles'
    /// `files` patterns say.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Files or folders to read (default: the config's inbox).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Runs the command.
pub fn run(args: &Args, config: &Config) -> anyhow::Result<ExitCode> {
    let key = super::load_key(config, true)?;
    let paths = super::input_paths(&args.paths, config);
    let _lock = opleidingsmonitor::dataset::RunLock::acquire(&config.paths.dataset)?;
    let report = batch::run(
        config,
        &paths,
        &key,
        Mode::Ingest,
        args.profile.as_deref(),
        None,
    )?;
    super::print_batch(&report, 20, "written");
    if report.wrote {
        println!("\nDataset updated: {}", config.paths.dataset.display());
    } else {
        println!(
            "\nNothing new: the dataset is unchanged ({}).",
            config.paths.dataset.display()
        );
    }
    Ok(super::batch_exit(&report))
}
