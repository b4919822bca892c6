//! `opleidingsmonitor validate`: every check of an ingest, nothing written.

use std::path::PathBuf;
use std::process::ExitCode;

use opleidingsmonitor::config::Config;
use opleidingsmonitor::ingest::pseudonym::PseudonymKey;
use opleidingsmonitor::job::batch::{self, Mode};

/// Check export files without writing anything.
///
/// Prints per file how many rows are fine and which would be quarantined,
/// and why. Exits 1 when anything would be quarantined.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: super::ConfigArg,
    /// Files or folders to check (default: the config's inbox).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Runs the command.
pub fn run(args: &Args, config: &Config) -> anyhow::Result<ExitCode> {
    // Validation needs no stable pseudonyms: without a key file, a throwaway
    // key is used and no key file is created.
    let key = match PseudonymKey::load(&config.paths.key_file, false) {
        Ok((k, _)) => k,
        Err(_) => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no random source: {e}"))?;
            PseudonymKey::from_bytes(&bytes)
        }
    };
    let paths = super::input_paths(&args.paths, config);
    let report = batch::run(config, &paths, &key, Mode::Validate, None)?;
    super::print_batch(&report, 50, "ok");
    if report.has_quarantine() {
        println!("\nSome rows would be quarantined; nothing was written.");
    } else {
        println!("\nAll files are fine; nothing was written.");
    }
    Ok(super::batch_exit(&report))
}
