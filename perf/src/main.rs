//! foxtrot-perf: latency distributions of the hot path, measured with the TSC into
//! HDR histograms — p50, p99, p99.9 and max, never means.
//!
//! One subcommand per harness, one module each under `harness/`. Targets live in
//! `perf/slo.txt`; each harness prints its figures beside them.

mod harness;

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;

/// foxtrot-perf — latency distributions of foxtrot's hot path.
#[derive(Parser)]
#[command(name = "foxtrot-perf", about)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Decode → book → sensory → belief → router → risk → FIX encode, on one thread.
    TickToOrder(TickToOrderArgs),
    /// Journal append latency per record, across segment rolls.
    JournalAppend(JournalAppendArgs),
    /// Journal read rate, CRC checked.
    JournalRead(JournalReadArgs),
    /// One-way hop: rtrb between two threads, the shm ring between two processes.
    RingHop(RingHopArgs),
    /// The echo process of `ring-hop` (started by it).
    #[command(hide = true)]
    RingEcho(RingEchoArgs),
    /// One-way hop: a cache line ping-pong (the floor) and an rtrb ring.
    Hop(HopArgs),
    /// Tick-to-order across the threaded pipeline against the simulated venue.
    Pipeline(PipelineArgs),
    /// Order → first report round trip over a real FIX session.
    FixRtt(FixRttArgs),
    /// The EMA-cross backtest (answer checked) beside the strategy's tight loop.
    Backtest(BacktestArgs),
    /// One-way latency and loss-free rate: AF_XDP vs kernel UDP over a veth
    /// pair (root; a build with `--features af_xdp`).
    #[cfg(feature = "af_xdp")]
    XdpUdp(XdpUdpArgs),
}

/// `xdp-udp`.
#[derive(Args)]
pub struct XdpUdpArgs {
    /// Where the XDP program runs: `auto`, `native` or `generic`.
    #[arg(long, default_value = "auto")]
    pub mode: String,
    /// Datagrams per second in the latency blocks.
    #[arg(long, default_value_t = 20_000.0)]
    pub rate: f64,
    /// Datagrams per block.
    #[arg(long, default_value_t = 2_000)]
    pub block: u64,
    /// Blocks per path.
    #[arg(long, default_value_t = 25)]
    pub blocks: u64,
    /// Datagrams per rate step of the loss-free search.
    #[arg(long, default_value_t = 100_000)]
    pub burst: u64,
    /// First rate of the search (doubled each step).
    #[arg(long, default_value_t = 25_000.0)]
    pub start_rate: f64,
    /// Last rate tried.
    #[arg(long, default_value_t = 3_200_000.0)]
    pub max_rate: f64,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

/// `tick-to-order`.
#[derive(Args)]
pub struct TickToOrderArgs {
    /// Market-data events of the recorded session.
    #[arg(long, default_value_t = 500_000)]
    pub events: u64,
    /// Generator seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Passes over the recorded inputs.
    #[arg(long, default_value_t = 3)]
    pub passes: u32,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 2 when the SLO (p50 ≤ 250 ns, p99 ≤ 1 µs) is not met.
    #[arg(long)]
    pub check: bool,
    /// `key=value` over the default configuration (as `foxtrot run --set`):
    /// what a stage costs, by switching it off. The SLO is the default's.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub sets: Vec<String>,
}

/// `backtest`.
#[derive(Args)]
pub struct BacktestArgs {
    /// Quotes in the walk (at least 1,000, enough for the strategy to trade).
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1000..))]
    pub quotes: u64,
    /// The walk's seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Timed runs of each variant (medians are quoted).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub runs: u64,
    /// Where the market-data directory is written (and removed).
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    pub dir: PathBuf,
    /// The variants to time (default all): `tight-array`, `tight-journal`,
    /// `tight-rows`, `lean`, `full` (one alone, for a profiler).
    #[arg(long, value_delimiter = ',', value_parser = ["tight-array", "tight-journal", "tight-rows", "lean", "full"])]
    pub only: Vec<String>,
    /// Also write the walk as the CSV `foxtrot import` reads (for a peer
    /// backtester to run the same quotes: `perf/vs_hftbacktest.sh`).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 2 when a timed variant misses its target (lean ≥ 25M
    /// quotes/s, full ≥ 5M: issue #20).
    #[arg(long)]
    pub check: bool,
}

/// `journal-append`.
#[derive(Args)]
pub struct JournalAppendArgs {
    /// Records to append.
    #[arg(long, default_value_t = 10_000_000)]
    pub records: u64,
    /// Payload bytes per record (at most 4096).
    #[arg(long, default_value_t = 64)]
    pub payload: usize,
    /// Directory for the journal.
    #[arg(long, default_value_os_t = std::env::temp_dir())]
    pub dir: PathBuf,
    /// Appends per second in the timed pass (0: as fast as possible). Paced,
    /// the helper that prepares segments keeps up, as at an engine's input
    /// rates; unpaced, the appender outruns it and waits at some rolls.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

/// `journal-read`.
#[derive(Args)]
pub struct JournalReadArgs {
    /// Records to write, then read.
    #[arg(long, default_value_t = 5_000_000)]
    pub records: u64,
}

/// `ring-hop`.
#[derive(Args)]
pub struct RingHopArgs {
    /// Round trips measured.
    #[arg(long, default_value_t = 200_000)]
    pub trips: u64,
    /// The two cores to pin to.
    #[arg(long, value_delimiter = ',', default_value = "0,1")]
    pub cores: Vec<usize>,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

/// `ring-echo`.
#[derive(Args)]
pub struct RingEchoArgs {
    /// The ring to read.
    pub input: PathBuf,
    /// The ring to echo into.
    pub output: PathBuf,
    /// The core to pin to.
    #[arg(long)]
    pub core: Option<usize>,
}

/// `hop`.
#[derive(Args)]
pub struct HopArgs {
    /// Round trips measured.
    #[arg(long, default_value_t = 2_000_000)]
    pub trips: u64,
    /// The two cores to pin to.
    #[arg(long, value_delimiter = ',', default_value = "0,1")]
    pub cores: Vec<usize>,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

/// `pipeline`.
#[derive(Args)]
pub struct PipelineArgs {
    /// Market-data events.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// 2 groups, or 5 (one thread per stage).
    #[arg(long, default_value_t = 2)]
    pub groups: usize,
    /// One core per group (ignored unless there is one per group).
    #[arg(long, value_delimiter = ',')]
    pub cores: Vec<usize>,
    /// Wait strategy: busy_spin, spin_then_yield or park.
    #[arg(long, default_value = "busy_spin")]
    pub wait: String,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

/// `fix-rtt`.
#[derive(Args)]
pub struct FixRttArgs {
    /// The FIX acceptor.
    #[arg(long, default_value = "127.0.0.1:9878")]
    pub connect: SocketAddr,
    /// The configuration (session identity, instruments).
    #[arg(long, default_value = "configs/paper.yaml")]
    pub config: PathBuf,
    /// Rounds measured.
    #[arg(long, default_value_t = 10_000)]
    pub orders: usize,
    /// Rounds before measuring.
    #[arg(long, default_value_t = 1_000)]
    pub warmup: usize,
    /// Pause between rounds, µs: 0 sends the next order the moment the last
    /// answer is in (a hot loop); a live engine's orders are milliseconds apart.
    #[arg(long, default_value_t = 0)]
    pub gap_us: u64,
    /// Name of the venue in the output (default: its address).
    #[arg(long)]
    pub label: Option<String>,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

fn main() {
    use harness::*;
    match Cli::parse().cmd {
        Cmd::TickToOrder(a) => tick_to_order::run(&a),
        Cmd::JournalAppend(a) => journal::append(&a),
        Cmd::JournalRead(a) => journal::read(&a),
        Cmd::RingHop(a) => ring::hop(&a),
        Cmd::RingEcho(a) => ring::echo(&a),
        Cmd::Hop(a) => hop::run(&a),
        Cmd::Pipeline(a) => pipeline::run(&a),
        Cmd::FixRtt(a) => fix_rtt::run(&a),
        Cmd::Backtest(a) => backtest::run(&a),
        #[cfg(feature = "af_xdp")]
        Cmd::XdpUdp(a) => xdp_udp::run(&a),
    }
}
