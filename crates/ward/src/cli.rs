//! Command-line grammar (see `shared/design/CONTRACTS.md`; extend, never change).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Ward: detection and response in one binary.
#[derive(Debug, Parser)]
#[command(name = "ward", version, about, propagate_version = true)]
pub struct Cli {
    /// Configuration file (TOML), the same one `ward serve` reads.
    #[arg(long, global = true, env = "WARD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where embedded state lives (default: from config, else ./ward-data).
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Ward's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Decode sensor records into normalized events (one JSON event per line on stdout).
    Decode(DecodeArgs),
    /// Decode inputs into the local data directory, with progress and a per-source summary.
    Ingest(IngestArgs),
    /// Measure Ward's own speed.
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// Options shared by every command that reads sensor inputs.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Input format, or `auto` to detect it per file.
    #[arg(long, short = 's', default_value = "auto")]
    pub source: String,
    /// Field-mapping file for the `json` source.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Tenant stamped on every event.
    #[arg(long)]
    pub tenant: Option<String>,
    /// Largest accepted record in bytes (default 1 MiB, or `decode.max_record_bytes`).
    #[arg(long)]
    pub max_record_bytes: Option<usize>,
    /// Files, directories (recursive), `.gz`, `.zip`, or `-` for stdin.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// `ward decode`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Inputs and decoder choice.
    #[command(flatten)]
    pub input: InputArgs,
    /// Print events as pretty multi-line JSON instead of one per line.
    #[arg(long)]
    pub pretty: bool,
}

/// `ward ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Inputs and decoder choice.
    #[command(flatten)]
    pub input: InputArgs,
    /// Do not draw the progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// `ward bench …`.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Decode throughput per decoder on real data: events/s, MB/s, latency, peak memory.
    Decode(BenchDecodeArgs),
}

/// `ward bench decode`.
#[derive(Debug, Args)]
pub struct BenchDecodeArgs {
    /// Decoders to measure (default: every one with a corpus).
    #[arg(long = "source", short = 's')]
    pub sources: Vec<String>,
    /// The shared data folder (default: `WARD_SHARED_DATA`, else ../shared/data).
    #[arg(long, env = "WARD_SHARED_DATA", default_value = "../shared/data")]
    pub data: PathBuf,
    /// Minimum measuring time per decoder, in seconds.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = BenchFormat::Table)]
    pub format: BenchFormat,
}

/// How benchmark results are printed.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BenchFormat {
    /// A human-readable table.
    Table,
    /// One JSON object per decoder.
    Jsonl,
    /// A markdown table (for docs/benchmarks.md).
    Markdown,
}
