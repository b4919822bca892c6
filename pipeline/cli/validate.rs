//! `opleidingsmonitor validate`: every check of an ingest, nothing written;
//! or the check of one instrument definition file on its own.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use opleidingsmonitor::config::Config;
use opleidingsmonitor::ingest::pseudonym::PseudonymKey;
use opleidingsmonitor::instrument::Instrument;
use opleidingsmonitor::job::batch::{self, Mode};

/// Check export files without writing anything.
///
/// Prints per file how many rows are fine and which would be quarantined,
/// and why: the decisions and counts of the ingest that would follow
/// (files already ingested are skipped). Exits 1 when anything would be
/// quarantined.
///
/// With --instrument FILE it checks one instrument definition file on its
/// own (no configuration needed): every error names the field.
#[derive(Debug, clap::Args)]
#[command(after_help = super::EXIT_CODES_HELP)]
pub struct Args {
    /// The configuration file (opleidingsmonitor.toml); paths in it are
    /// relative to it. Not needed with --instrument.
    #[arg(
        long,
        short = 'c',
        value_name = "FILE",
        env = "OPLEIDINGSMONITOR_CONFIG",
        required_unless_present = "instrument"
    )]
    pub config: Option<PathBuf>,
    /// Check every file with this source profile (its id: the file name
    /// without .toml, unless the profile sets `id`), whatever the profiles'
    /// `files` patterns say.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Check this instrument definition file (TOML) on its own, instead of
    /// export files.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["profile", "paths"])]
    pub instrument: Option<PathBuf>,
    /// Files or folders to check (default: the config's inbox).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// Runs the command from its arguments: the instrument check, or the
/// configuration loaded and `run`.
pub fn main(args: &Args) -> anyhow::Result<ExitCode> {
    match (&args.instrument, &args.config) {
        (Some(file), _) => check_instrument(file),
        (None, Some(config)) => run(args, &Config::load(config)?),
        (None, None) => anyhow::bail!("give --config FILE (or --instrument FILE)"),
    }
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
    let report = batch::run(
        config,
        &paths,
        &key,
        Mode::Validate,
        args.profile.as_deref(),
        None,
    )?;
    super::print_batch(&report, 50, "ok");
    if report.has_quarantine() {
        println!("\nSome rows would be quarantined; nothing was written.");
    } else {
        println!("\nAll files are fine; nothing was written.");
    }
    Ok(super::batch_exit(&report))
}

/// Checks one instrument definition: parsed and checked as the catalogue
/// would load it. An error (exit 2) names the file and the field.
fn check_instrument(file: &Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file).map_err(|e| opleidingsmonitor::Error::io(file, e))?;
    let inst = Instrument::from_toml(&text, &file.display().to_string())?;
    let kind = |k| inst.items.iter().filter(|i| i.kind == k).count();
    use opleidingsmonitor::instrument::ItemKind;
    println!(
        "{}: instrument {} version {} ({}) is fine: {} items ({} on the scale {}-{}, {} grades, {} open) in {} subscales.",
        file.display(),
        inst.id,
        inst.version,
        inst.name,
        inst.items.len(),
        kind(ItemKind::Likert),
        inst.scale.min,
        inst.scale.max,
        kind(ItemKind::Grade),
        kind(ItemKind::Text),
        inst.subscales.len()
    );
    Ok(ExitCode::SUCCESS)
}
