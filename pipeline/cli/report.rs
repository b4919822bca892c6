//! `opleidingsmonitor report`: the PDCA reports from the aggregates.

use std::process::ExitCode;

use opleidingsmonitor::config::Config;
use opleidingsmonitor::report::{self, Options};

/// Render the biennial PDCA reports: one per RSO, the region overview for
/// the R-COC and one per institution for its COC, as HTML and Markdown,
/// with tables.xlsx and an index.html per cycle.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: super::ConfigArg,
    /// Only this cycle, e.g. 2023-2024 (default: every cycle with data).
    #[arg(long)]
    pub cycle: Option<String>,
    /// Only this RSO's report (and the region overview).
    #[arg(long)]
    pub rso: Option<String>,
    /// Language: nl (default) or en.
    #[arg(long, value_parser = ["nl", "en"])]
    pub lang: Option<String>,
}

/// Runs the command.
pub fn run(args: &Args, config: &Config) -> anyhow::Result<ExitCode> {
    let _lock = opleidingsmonitor::dataset::RunLock::acquire(&config.paths.dataset)?;
    if let Some(r) = &args.rso {
        if !config.registry.rsos.contains_key(r) {
            anyhow::bail!(
                "--rso {r:?} is not in the registry; RSOs: {}",
                config
                    .registry
                    .rsos
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    let opts = Options {
        cycles: args.cycle.clone().into_iter().collect(),
        rso: args.rso.clone(),
        lang: args.lang.clone().unwrap_or_else(|| config.language.clone()),
        today: opleidingsmonitor::job::today(),
    };
    let files = report::render_all(config, &opts)?;
    let index: Vec<_> = files
        .iter()
        .filter(|f| {
            f.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("index"))
        })
        .collect();
    println!(
        "{} report files in {}",
        files.len(),
        config.paths.reports.display()
    );
    for i in index {
        println!("  open {}", i.display());
    }
    Ok(ExitCode::SUCCESS)
}
