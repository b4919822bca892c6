//! The `opleidingsmonitor` command line: parses arguments, loads the
//! configuration, calls the library and maps errors to exit codes. No
//! statistics, no Polars, no HTML here.

mod cli;
// The sample generator is not part of the library (production code never
// needs it): it is compiled into this binary for `opleidingsmonitor sample`
// and into the test binary, which uses more of it.
#[allow(dead_code)]
#[path = "../synth/mod.rs"]
mod synth;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use opleidingsmonitor::config::Config;

#[derive(Debug, Parser)]
#[command(
    name = "opleidingsmonitor",
    version,
    about = "Quality-survey analytics for regional medical specialist training: ingest exports, aggregate, report.",
    after_help = cli::EXIT_CODES_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log format on standard error.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Only errors on standard error.
    #[arg(long, short = 'q', global = true)]
    quiet: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    Run(cli::run::Args),
    Ingest(cli::ingest::Args),
    Validate(cli::validate::Args),
    Aggregate(cli::aggregate::Args),
    Report(cli::report::Args),
    Sample(cli::sample::Args),
    Register(cli::register::Args),
}

fn init_logging(format: LogFormat, quiet: bool) {
    // Our own progress lines at info, everyone else's warnings.
    let default = if quiet {
        "error"
    } else {
        // (usvg warns about details of our own SVG charts as the PDFs are
        // laid out: nothing a user can act on.)
        "warn,usvg=error,opleidingsmonitor=info"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("OPLEIDINGSMONITOR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Fewer malloc arenas: glibc gives every thread that allocates its own
/// arena and keeps what was freed in each, so Polars' worker threads let the
/// resident memory of a national aggregation grow to 2.9 GB; with two arenas
/// it peaks at 1.9 GB, no slower (BENCHMARKS.md). Set before any thread
/// starts; `MALLOC_ARENA_MAX` in the environment still decides.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets an allocator parameter; called first
        // thing in main, before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        }
    }
}

/// Files the program makes are not readable by others: the dataset holds
/// pseudonymised personal data, the reports unpublished results. The
/// process's file mode mask gets at least `027` (owner all, group read,
/// others nothing); a stricter mask the user set stays.
fn private_files() {
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file mode mask; called first
    // thing in main, before any file is made.
    unsafe {
        let old = libc::umask(0o027);
        libc::umask(old | 0o027);
    }
}

fn main() -> ExitCode {
    private_files();
    limit_malloc_arenas();
    let cli = Cli::parse();
    init_logging(cli.log_format, cli.quiet);
    let result = match &cli.command {
        Command::Run(a) => with_config(&a.config, |c| cli::run::run(a, c, !cli.quiet)),
        Command::Ingest(a) => with_config(&a.config, |c| cli::ingest::run(a, c)),
        Command::Validate(a) => cli::validate::main(a),
        Command::Aggregate(a) => with_config(&a.config, |c| cli::aggregate::run(a, c)),
        Command::Report(a) => with_config(&a.config, |c| cli::report::run(a, c)),
        Command::Sample(a) => cli::sample::run(a),
        Command::Register(a) => cli::register::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            let code = e
                .downcast_ref::<opleidingsmonitor::Error>()
                .map(cli::exit_code_for)
                .unwrap_or(cli::EXIT_FATAL);
            ExitCode::from(code)
        }
    }
}

fn with_config(
    arg: &cli::ConfigArg,
    f: impl FnOnce(&Config) -> anyhow::Result<ExitCode>,
) -> anyhow::Result<ExitCode> {
    let config = Config::load(&arg.config)?;
    f(&config)
}
