//! Command-line grammar (see `shared/design/CONTRACTS.md`; extend, never change).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

/// Wraps a secret argument at once, so it never prints (`Debug` shows `[REDACTED]`).
fn secret(text: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(text))
}

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
    /// Run the HTTP API: signed device ingest, webhooks, health, readiness, metrics.
    Serve(ServeArgs),
    /// Register, list and disable ingest devices.
    #[command(subcommand)]
    Devices(DevicesCommand),
    /// List tenants.
    #[command(subcommand)]
    Tenants(TenantsCommand),
    /// Sign and send files to a running server's ingest API.
    Send(SendArgs),
    /// Read the durable log and show its statistics.
    #[command(subcommand)]
    Log(LogCommand),
    /// Check the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run Sigma rules, correlations and IOC feeds over sensor records and print the alerts.
    Hunt(HuntArgs),
    /// Check Sigma rules, or run their regression tests.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Replay the bundled real events into a running `ward serve` and show the incidents.
    Demo(DemoArgs),
    /// Rebuild derived state (alerts, incidents) by replaying the durable log from an offset.
    Replay(ReplayArgs),
    /// Manage API users (passwords for `POST /api/auth/login`).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Manage API keys (`Authorization: Bearer <key>`).
    #[command(subcommand)]
    Apikeys(ApikeysCommand),
    /// Check the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Create certificates for HTTPS.
    #[command(subcommand)]
    Certs(CertsCommand),
    /// Rolling-window entity features (`get`) and point-in-time Parquet exports (`export`).
    #[command(subcommand)]
    Features(crate::cmd::features::FeaturesCommand),
    /// Run, list, show and roll back response actions.
    #[command(subcommand)]
    Actions(crate::cmd::actions::ActionsCommand),
    /// List, approve, reject or cancel actions waiting for a human.
    #[command(subcommand)]
    Approvals(crate::cmd::approvals::ApprovalsCommand),
    /// Stop every response action at once (`on`), allow them again (`off`), or show (`status`).
    Killswitch(crate::cmd::killswitch::KillswitchArgs),
    /// Test response policies against their fixtures.
    #[command(subcommand)]
    Policy(crate::cmd::policy::PolicyCommand),
    /// Train, score, register, promote, roll back and retrain learned models.
    #[command(subcommand)]
    Model(crate::cmd::model::ModelCommand),
    /// Evaluate models on public data sets (precision, recall, F1, FPR, accuracy).
    #[command(subcommand)]
    Eval(crate::cmd::eval::EvalCommand),
}

/// `ward users …`.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user; prints the password once (generated when not given).
    Add(UsersAddArgs),
    /// List a tenant's users.
    List(TenantListArgs),
}

/// `ward users add`.
#[derive(Debug, Args)]
pub struct UsersAddArgs {
    /// Tenant (created if new).
    #[arg(long)]
    pub tenant: String,
    /// Login name.
    #[arg(long)]
    pub name: String,
    /// admin, analyst, responder or viewer.
    #[arg(long)]
    pub role: String,
    /// Password (default: a generated one; prefer `WARD_USER_PASSWORD` over the flag).
    #[arg(long, env = "WARD_USER_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Print `{"user":…,"password":…}`.
    #[arg(long)]
    pub json: bool,
}

/// A `--tenant` and `--json` pair for listings.
#[derive(Debug, Args)]
pub struct TenantListArgs {
    /// Tenant.
    #[arg(long)]
    pub tenant: String,
    /// Print JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// `ward apikeys …`.
#[derive(Debug, Subcommand)]
pub enum ApikeysCommand {
    /// Create a key; prints it once.
    Create(ApikeysCreateArgs),
    /// List a tenant's keys (never the keys themselves).
    List(TenantListArgs),
    /// Revoke a key.
    Revoke(ApikeysRevokeArgs),
}

/// `ward apikeys create`.
#[derive(Debug, Args)]
pub struct ApikeysCreateArgs {
    /// Tenant (created if new).
    #[arg(long)]
    pub tenant: String,
    /// admin, analyst, responder or viewer.
    #[arg(long)]
    pub role: String,
    /// A label for the key.
    #[arg(long)]
    pub name: Option<String>,
    /// Lifetime, e.g. `90d`, `12h` (default: no expiry).
    #[arg(long)]
    pub expires: Option<String>,
    /// Print `{"id":…,"key":…}`.
    #[arg(long)]
    pub json: bool,
}

/// `ward apikeys revoke`.
#[derive(Debug, Args)]
pub struct ApikeysRevokeArgs {
    /// Tenant of the key.
    #[arg(long)]
    pub tenant: String,
    /// Key id (as printed by `create` and `list`).
    pub id: String,
}

/// `ward audit …`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain: `audit ok records=N`, or exit 1 naming the first broken record.
    Verify,
}

/// `ward certs …`.
#[derive(Debug, Subcommand)]
pub enum CertsCommand {
    /// Create a local CA and a certificate for localhost, 127.0.0.1 and ::1 (for trying HTTPS).
    Dev(CertsDevArgs),
}

/// `ward certs dev`.
#[derive(Debug, Args)]
pub struct CertsDevArgs {
    /// Output directory (default: `<data-dir>/certs`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// More host names or addresses for the server certificate (repeatable).
    #[arg(long = "name")]
    pub names: Vec<String>,
    /// Validity, days.
    #[arg(long, default_value_t = 825)]
    pub days: u32,
}

/// `ward hunt`.
#[derive(Debug, Args)]
pub struct HuntArgs {
    /// Sigma rule files or folders (recursive; repeatable).
    #[arg(long = "rules", required = true)]
    pub rules: Vec<PathBuf>,
    /// Pipeline file, or a shipped pipeline name (repeatable; default: every shipped pipeline).
    #[arg(long = "pipeline")]
    pub pipelines: Vec<String>,
    /// Indicator feed file: list, CSV, MISP event, STIX bundle or MISP warning-list (repeatable).
    #[arg(long = "ioc")]
    pub iocs: Vec<PathBuf>,
    /// How alerts are printed.
    #[arg(long, value_enum, default_value_t = HuntFormat::Table)]
    pub format: HuntFormat,
    /// Inputs and decoder choice.
    #[command(flatten)]
    pub input: InputArgs,
}

/// How `ward hunt` prints alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HuntFormat {
    /// A human-readable table.
    Table,
    /// One JSON alert per line.
    Jsonl,
    /// Comma-separated values with a header line.
    Csv,
}

/// `ward rules …`.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List every rule as loaded or rejected (file, line, reason), then a summary line.
    Check(RulesCheckArgs),
    /// Run SigmaHQ-style regression tests (`info.yml` and sample events).
    Test(RulesTestArgs),
}

/// `ward rules check`.
#[derive(Debug, Args)]
pub struct RulesCheckArgs {
    /// Treat best-practice findings as rejections and exit 2 on any rejection.
    #[arg(long)]
    pub strict: bool,
    /// Pipeline file, or a shipped pipeline name (repeatable; default: every shipped pipeline).
    #[arg(long = "pipeline")]
    pub pipelines: Vec<String>,
    /// Sigma rule files or folders (recursive).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// `ward rules test`.
#[derive(Debug, Args)]
pub struct RulesTestArgs {
    /// Sigma rule files or folders (recursive; repeatable).
    #[arg(long = "rules", required = true)]
    pub rules: Vec<PathBuf>,
    /// Folder of regression cases (`**/info.yml` next to their sample events).
    #[arg(long)]
    pub data: PathBuf,
    /// Pipeline file, or a shipped pipeline name (repeatable; default: every shipped pipeline).
    #[arg(long = "pipeline")]
    pub pipelines: Vec<String>,
}

/// `ward serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen address (default: `server.listen`, else 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<String>,
}

/// `ward devices …`.
#[derive(Debug, Subcommand)]
pub enum DevicesCommand {
    /// Register a device; prints its id and secret once.
    Add(DevicesAddArgs),
    /// List registered devices.
    List(JsonFlag),
    /// Refuse a device's requests from now on.
    Disable(DeviceIdArg),
    /// Accept a disabled device again.
    Enable(DeviceIdArg),
}

/// `ward devices add`.
#[derive(Debug, Args)]
pub struct DevicesAddArgs {
    /// Tenant the device's events belong to (created if new).
    #[arg(long)]
    pub tenant: String,
    /// A name for the device.
    #[arg(long)]
    pub name: String,
    /// Print `{"device_id":…,"secret":…}`.
    #[arg(long)]
    pub json: bool,
}

/// A device id argument.
#[derive(Debug, Args)]
pub struct DeviceIdArg {
    /// Device id.
    pub id: String,
}

/// A `--json` flag.
#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `ward tenants …`.
#[derive(Debug, Subcommand)]
pub enum TenantsCommand {
    /// List tenants.
    List(JsonFlag),
}

/// `ward send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// Server base URL, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub url: String,
    /// Device id.
    #[arg(long)]
    pub device_id: String,
    /// Device secret (or `WARD_DEVICE_SECRET`, which keeps it out of the process list).
    #[arg(long, env = "WARD_DEVICE_SECRET", hide_env_values = true, value_parser = secret)]
    pub secret: SecretString,
    /// Source (decoder) of the records.
    #[arg(long, short = 's')]
    pub source: String,
    /// Records per request.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 2)]
    pub concurrency: usize,
    /// Send bodies uncompressed.
    #[arg(long)]
    pub no_gzip: bool,
    /// Attempts per request on 429, 503 and connection errors before giving up.
    #[arg(long, default_value_t = 10)]
    pub max_attempts: u32,
    /// Do not draw the progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// Files, directories (recursive), `.gz`, `.zip`, or `-` for stdin.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// `ward log …`.
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Print records as JSON lines `{"offset","partition","record"}`.
    Read(LogReadArgs),
    /// Per-topic, per-partition counts, sizes and consumer-group lag.
    Stats(LogStatsArgs),
}

/// `ward log read`.
#[derive(Debug, Args)]
pub struct LogReadArgs {
    /// Topic to read.
    #[arg(long, default_value = "raw_events")]
    pub topic: String,
    /// First offset (in each partition read).
    #[arg(long, default_value_t = 0)]
    pub from: u64,
    /// Only this partition (default: every partition, in order).
    #[arg(long)]
    pub partition: Option<u32>,
    /// Most records printed.
    #[arg(long)]
    pub limit: Option<u64>,
}

/// `ward log stats`.
#[derive(Debug, Args)]
pub struct LogStatsArgs {
    /// Consumer groups whose lag to show (repeatable).
    #[arg(long = "group")]
    pub groups: Vec<String>,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `ward config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Report every configuration problem at once (exit 1 when there is any).
    Check,
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
    /// Sigma engine speed: rule load/compile time, events per CPU-second on one and all cores.
    Sigma(BenchSigmaArgs),
    /// Ingest throughput of the HTTP API in-process over real sockets: events/s, latency, memory.
    Ingest(BenchIngestArgs),
}

/// `ward bench ingest`.
#[derive(Debug, Args)]
pub struct BenchIngestArgs {
    /// Concurrent clients (each its own device).
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Records per request.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Measuring time, seconds.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Send bodies uncompressed.
    #[arg(long)]
    pub no_gzip: bool,
    /// Partitions of `raw_events`.
    #[arg(long, default_value_t = 1)]
    pub partitions: u32,
}

/// `ward bench sigma`.
#[derive(Debug, Args)]
pub struct BenchSigmaArgs {
    /// Rule files or directories (repeatable).
    #[arg(long, required = true)]
    pub rules: Vec<PathBuf>,
    /// Input format of the events, or `auto`.
    #[arg(long, short = 's', default_value = "auto")]
    pub source: String,
    /// Threads for the all-cores run (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Minimum measuring time per run, in seconds.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Event files or directories (any decoder input).
    #[arg(required = true)]
    pub events: Vec<PathBuf>,
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

/// `ward demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Server base URL (default: `http://` + `server.listen` from the configuration).
    #[arg(long)]
    pub url: Option<String>,
    /// Tenant the demo events belong to (created if missing).
    #[arg(long, default_value = "demo")]
    pub tenant: String,
    /// How long to wait for incidents, in seconds.
    #[arg(long = "timeout", default_value_t = 60)]
    pub timeout_secs: u64,
}

/// `ward replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// First `raw_events` offset to replay (0 = everything still retained).
    #[arg(long = "from", default_value_t = 0)]
    pub from: u64,
}
