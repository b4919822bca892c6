//! `opleidingsmonitor run`: the one command for a scheduled job.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use opleidingsmonitor::config::Config;
use opleidingsmonitor::job::{self, FileSummary, Options, RunSummary};

/// Do everything that is due: ingest new exports from the inbox, aggregate
/// when the data or settings changed, render the reports when what they show
/// changed. With nothing new it writes nothing and says so.
///
/// A summary of the run is written as JSON to the reports folder
/// (run-summary.json) and to --summary-json, also when the run stops on an
/// error (with the error in it). Safe to schedule: a second run on the same
/// dataset exits at once with code 3 and leaves the summary of the run
/// holding the lock alone; a run that was killed is completed or undone by
/// the next.
#[derive(Debug, clap::Args)]
#[command(after_help = super::EXIT_CODES_HELP)]
pub struct Args {
    #[command(flatten)]
    pub config: super::ConfigArg,
    /// Also write the run summary (JSON) here.
    #[arg(long, value_name = "PATH")]
    pub summary_json: Option<PathBuf>,
    /// Aggregate even when nothing changed (after editing settings or
    /// instrument definitions).
    #[arg(long)]
    pub force: bool,
}

/// Where the run summary always goes.
pub fn summary_path(config: &Config) -> PathBuf {
    config.paths.reports.join("run-summary.json")
}

/// Runs the command. `show_progress`: a bar on a terminal, else log lines.
pub fn run(args: &Args, config: &Config, show_progress: bool) -> anyhow::Result<ExitCode> {
    let mut summary = RunSummary::new(config);
    let key = match super::load_key(config, true) {
        Ok(k) => k,
        Err(e) => {
            summary.exit_code = super::EXIT_FATAL;
            summary.error = Some(format!("{e:#}"));
            write_summaries(&summary, args, config);
            return Err(e);
        }
    };
    let bar = (show_progress && std::io::stderr().is_terminal()).then(|| {
        let n =
            opleidingsmonitor::job::batch::find_files(std::slice::from_ref(&config.paths.inbox))
                .map(|f| f.len())
                .unwrap_or(0);
        let bar = indicatif::ProgressBar::new(n as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {wide_msg}")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_prefix("inlezen");
        bar
    });
    let on_file = |name: &str| match &bar {
        Some(b) => {
            b.set_message(name.to_string());
            b.inc(1);
        }
        None => tracing::debug!(file = name, "read"),
    };
    // A bug (a panic) still leaves a summary that says so and what was done
    // before it; the panic then ends the process as before (exit code 101,
    // its message already printed).
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        job::run(
            config,
            &key,
            &Options { force: args.force },
            Some(&on_file),
            &mut summary,
        )
    }));
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let result = match result {
        Ok(r) => r,
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            summary.exit_code = 101;
            summary.error = Some(format!(
                "internal error (a bug; please report it): {message}"
            ));
            write_summaries(&summary, args, config);
            std::panic::resume_unwind(panic);
        }
    };
    if let Err(e) = result {
        let code = super::exit_code_for(&e);
        // A refused run did nothing: the summary there is the one of the
        // run that holds the lock (or the last one), and stays.
        if code != super::EXIT_LOCKED {
            summary.exit_code = code;
            summary.error = Some(e.to_string());
            write_summaries(&summary, args, config);
            print_files(&summary.files);
        }
        return Err(e.into());
    }
    write_summaries(&summary, args, config);
    print_files(&summary.files);
    for w in &summary.warnings {
        println!("warning: {w}");
    }
    // Where the reports are: the index of the latest cycle with a region
    // overview (a region's cycle; a later cycle of an RSO that keeps its
    // own, such as the sample's neurology in 2024-2025, holds only that
    // RSO's reports), else of the latest cycle.
    let indexes: Vec<std::path::PathBuf> = std::fs::read_dir(&config.paths.reports)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("index.html").exists())
        .collect();
    let latest_index = indexes
        .iter()
        .filter(|p| p.join("region").is_dir())
        .max()
        .or_else(|| indexes.iter().max())
        .map(|p| p.join("index.html"));
    if let Some(index) = &latest_index {
        println!("Reports: {}", index.display());
    }
    if summary.changed {
        println!(
            "Done in {:.1} s. Dataset: {}{}",
            summary.duration_s,
            summary.dataset_dir,
            if summary.aggregated {
                " (aggregates updated)"
            } else {
                ""
            }
        );
    } else {
        println!(
            "Nothing new: nothing was written ({} files already read).",
            summary.files.len()
        );
    }
    Ok(ExitCode::from(summary.exit_code))
}

/// One line per file, skipped ones included, with the counts of the
/// summary (and of `validate` and `ingest`), and the first problems.
fn print_files(files: &[FileSummary]) {
    for f in files {
        println!(
            "{:<8} {}  read {}, written {}, quarantined {}{}{}",
            f.status,
            f.path,
            f.rows_read,
            f.rows_written,
            f.rows_quarantined,
            if f.rows_duplicate > 0 {
                format!(" ({} already present)", f.rows_duplicate)
            } else {
                String::new()
            },
            if f.note.is_empty() {
                String::new()
            } else {
                format!(": {}", f.note)
            }
        );
        for p in f.problems.iter().take(10) {
            println!(
                "         {}: {}",
                super::place(p.row, p.column.as_deref()),
                p.reason
            );
        }
    }
}

fn write_summaries(summary: &RunSummary, args: &Args, config: &Config) {
    let mut targets = vec![summary_path(config)];
    targets.extend(args.summary_json.clone());
    for t in targets {
        if let Err(e) = summary.write(&t) {
            eprintln!(
                "warning: could not write the run summary {}: {e}",
                t.display()
            );
        }
    }
}
