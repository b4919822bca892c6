//! `opleidingsmonitor register init`: an empty quality register.

use std::path::PathBuf;
use std::process::ExitCode;

use opleidingsmonitor::config::{register, Config};

/// The quality register (kwaliteitsregister): actions, decisions on
/// findings, evaluations, visitations, escalations and the year calendar.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: RegisterCommand,
}

/// What to do with the register.
#[derive(Debug, clap::Subcommand)]
pub enum RegisterCommand {
    /// Write an empty register workbook with the right columns, one example
    /// row per sheet (its first cell starts with VOORBEELD and is never
    /// read), drop-down lists from the registry and the instruments, and a
    /// note on every heading. Never overwrites a file.
    Init(InitArgs),
}

/// `register init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub config: super::ConfigArg,
    /// Where to write it (default: paths.register when it names an .xlsx
    /// file, else kwaliteitsregister.xlsx beside the configuration).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs the command.
pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    match &args.command {
        RegisterCommand::Init(a) => {
            let config = Config::load_without_register(&a.config.config)?;
            let target = a
                .output
                .clone()
                .unwrap_or_else(|| match &config.paths.register {
                    Some(p)
                        if p.extension()
                            .is_some_and(|e| e.eq_ignore_ascii_case("xlsx")) =>
                    {
                        p.clone()
                    }
                    _ => config
                        .paths
                        .config
                        .parent()
                        .map(|d| d.join("kwaliteitsregister.xlsx"))
                        .unwrap_or_else(|| "kwaliteitsregister.xlsx".into()),
                });
            register::template::init(&target, &config.registry, &config.catalogue)?;
            println!(
                "Wrote an empty quality register to {}. Fill it in Excel; set paths.register = \"{}\" in the configuration if it is not set yet.",
                target.display(),
                target.file_name().and_then(|n| n.to_str()).unwrap_or("kwaliteitsregister.xlsx")
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
