//! `foxtrot`: the command-line front of the engine.
//!
//! Subcommands are one module each under `cmd/`; this file only parses arguments
//! and dispatches.

mod cmd;
mod setup;

use clap::{Parser, Subcommand};
use foxtrot_tools::logging::{self, LogFormat};

/// foxtrot — a low-latency, deterministic execution core.
#[derive(Parser)]
#[command(name = "foxtrot", version, about)]
struct Cli {
    /// Log line format on stderr: `human`, or `json` (one object per line).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
    /// Least severe log level shown: error, warn, info, debug, trace.
    #[arg(long, global = true, default_value = "info")]
    log_level: tracing::Level,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate market data, run it through the fused pipeline against the
    /// in-process simulated venue, and print a summary.
    Sim(cmd::sim::SimArgs),
    /// Write deterministic synthetic market data: a native `.fxmd` file, or an
    /// ITCH 5.0 file with `--format itch`.
    Gen(cmd::gen::GenArgs),
    /// Inspect an ITCH 5.0 file: print its messages, or build its book.
    Itch(cmd::itch::ItchArgs),
    /// Import data (CSV quotes/trades, ITCH 5.0) into a market-data directory that
    /// `foxtrot replay` backtests against the touch venue.
    Import(cmd::import::ImportArgs),
    /// The feed handler: decode an ITCH file or a MoldUDP64 stream into a
    /// shared-memory ring for the engine side.
    Feed(cmd::feed::FeedArgs),
    /// Capture a feed (ITCH file, MoldUDP64, or a feed handler's ring) into a
    /// market-data directory, with its data-quality findings.
    Record(cmd::feed::RecordArgs),
    /// Run a recorded input journal through the core again; print (and verify) the
    /// hashes of its outputs.
    Replay(cmd::replay::ReplayArgs),
    /// Days of event time through the full pipeline, sampled every simulated
    /// hour, ending in a verdict (flat memory, stable tail, no violations).
    Soak(cmd::soak::SoakArgs),
    /// The policy ledger: candidates, promotions gated on evidence runs,
    /// rollbacks; any entry's configuration rebuilt from its hash.
    Policy(cmd::policy::PolicyArgs),
    /// Search strategies by deterministic replay over a regime grid and promote
    /// the champion through the policy ledger's gates (on every task of a Slurm
    /// job array with `--shard I/N`).
    Evolve(cmd::evolve::EvolveArgs),
    /// Read a recorded run's diary and drift alarms, propose changes, and apply
    /// them only as the governance rule allows.
    Reflect(cmd::reflect::ReflectArgs),
    /// Sweep a grid of parameters over an imported dataset (sharded with
    /// `--shard I/N`; `foxtrot sweep merge` joins the shards).
    Sweep(cmd::sweep::SweepArgs),
    /// Inspect a journal: info, cat, verify, tail.
    Journal(cmd::journal::JournalArgs),
    /// Run the configured pipeline on threads (layout, pinning, waiting and
    /// back-pressure from the config's `runtime` section), with live statistics.
    Run(cmd::run::RunArgs),
    /// The simulated venue as a process: a FIX acceptor in front of the matching
    /// engine and its crowd, publishing market data over UDP.
    Venue(cmd::venue::VenueArgs),
    /// Show the live statistics of a `foxtrot run`.
    Stat(cmd::stat::StatArgs),
    /// An operator's controls over a running engine: kill, rearm, reduce-only,
    /// halt SYMBOL, resume SYMBOL, status.
    Ctl(cmd::ctl::CtlArgs),
    /// Report on a recorded run: PnL, drawdown, Sharpe/Sortino, fills, rejects,
    /// regimes, drift alarms, latency per stage (text, --json, --html with plots).
    Report(cmd::report::ReportArgs),
    /// Export a recorded run's journals (inputs, orders, rejects, fills, diary,
    /// drift alarms) as Parquet files.
    Export(cmd::export::ExportArgs),
    /// Check a configuration file, print the JSON Schema, or render docs/config.md.
    Config(cmd::config::ConfigArgs),
    /// Check this host against what a colocated deployment needs (OK / WARN per item).
    HostCheck(cmd::host_check::HostCheckArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // A command that only prints (not one that serves sockets, where a peer's
    // closed connection must not end the process) exits quietly when its
    // output is closed — `foxtrot replay RUN | head` — as Unix tools do.
    if !matches!(
        cli.command,
        Command::Run(_) | Command::Venue(_) | Command::Feed(_) | Command::Record(_)
    ) {
        // SAFETY: restoring the default disposition of one signal at start-up,
        // before any thread exists.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    logging::init(cli.log_format, cli.log_level);
    let json_logs = cli.log_format == LogFormat::Json;
    let result = match cli.command {
        Command::Sim(a) => cmd::sim::run(a),
        Command::Gen(a) => cmd::gen::run(a),
        Command::Itch(a) => cmd::itch::run(a),
        Command::Import(a) => cmd::import::run(a),
        Command::Feed(a) => cmd::feed::run_feed(a),
        Command::Record(a) => cmd::feed::run_record(a),
        Command::Replay(a) => cmd::replay::run(a),
        Command::Sweep(a) => cmd::sweep::run(a),
        Command::Evolve(a) => cmd::evolve::run(a),
        Command::Reflect(a) => cmd::reflect::run(a),
        Command::Soak(a) => cmd::soak::run(a),
        Command::Policy(a) => cmd::policy::run(a),
        Command::Journal(a) => cmd::journal::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Stat(a) => cmd::stat::run(a),
        Command::Ctl(a) => cmd::ctl::run(a),
        Command::Venue(a) => cmd::venue::run(a),
        Command::HostCheck(a) => cmd::host_check::run(a),
        Command::Config(a) => cmd::config::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Export(a) => cmd::export::run(a),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            if json_logs {
                tracing::error!(error = %format!("{e:#}"), "command failed");
            } else {
                eprintln!("foxtrot: error: {}", logging::redact(&format!("{e:#}")));
            }
            std::process::ExitCode::FAILURE
        }
    }
}
