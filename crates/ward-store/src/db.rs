//! The two backends behind one pool type, and the helpers every table module shares: opening
//! and migrating, write transactions, time and id encoding, dynamic parameters and cursors.
//!
//! Every query is written once, with `$1`-style placeholders that both SQLite and PostgreSQL
//! accept, and run through [`on_pool!`], which expands the same body once per backend. Columns
//! use only types both backends map the same way: `i64` (times in Unix microseconds, ranks,
//! counters), `f64`, `bool`, text (JSON is stored as text) and bytes.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Postgres, Sqlite, Transaction};

use crate::error::{Result, StoreError};

/// The migrations of each backend, embedded at build time.
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// A connection pool of either backend.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    /// Embedded SQLite.
    Sqlite(SqlitePool),
    /// PostgreSQL server.
    Postgres(PgPool),
}

/// Runs `$body` with `$p` bound to the concrete pool of whichever backend is in use.
macro_rules! on_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            $crate::db::Pool::Sqlite($p) => $body,
            $crate::db::Pool::Postgres($p) => $body,
        }
    };
}
pub(crate) use on_pool;

/// Binds a list of [`Param`]s onto a query, in order.
macro_rules! bind_params {
    ($q:expr, $params:expr) => {{
        let mut q = $q;
        for p in $params {
            q = match p {
                $crate::db::Param::I64(v) => q.bind(v),
                $crate::db::Param::F64(v) => q.bind(v),
                $crate::db::Param::Text(v) => q.bind(v),
            };
        }
        q
    }};
}
pub(crate) use bind_params;

/// One value of a dynamically built statement.
#[derive(Clone, Debug)]
pub(crate) enum Param {
    /// An integer (time, rank, count).
    I64(i64),
    /// A float (score).
    F64(f64),
    /// Text.
    Text(String),
}

/// A WHERE clause under construction: conditions joined by AND, with numbered placeholders.
#[derive(Debug, Default)]
pub(crate) struct Where {
    conds: Vec<String>,
    /// The values, in placeholder order.
    pub params: Vec<Param>,
}

impl Where {
    /// Starts with the tenant condition every tenant-scoped query has.
    pub fn tenant(column: &str, tenant: &str) -> Self {
        let mut w = Self::default();
        w.push(&format!("{column} = {{}}"), Param::Text(tenant.to_owned()));
        w
    }

    /// The next placeholder (`$n`).
    pub fn next(&mut self, p: Param) -> String {
        self.params.push(p);
        format!("${}", self.params.len())
    }

    /// Adds a condition; `{}` in `cond` is replaced by the placeholder of `p`.
    pub fn push(&mut self, cond: &str, p: Param) {
        let ph = self.next(p);
        self.conds.push(cond.replace("{}", &ph));
    }

    /// Adds a condition that binds nothing, or binds through [`Where::next`] already.
    pub fn raw(&mut self, cond: String) {
        self.conds.push(cond);
    }

    /// The `WHERE …` text.
    pub fn sql(&self) -> String {
        if self.conds.is_empty() { String::new() } else { format!("WHERE {}", self.conds.join(" AND ")) }
    }
}

/// Opens and migrates a store at `url`.
pub(crate) async fn open(url: &str) -> Result<Pool> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let opts = PgConnectOptions::from_str(url)?;
        // One direct connection first: fails at once when the server is down (a pool retries).
        sqlx::Connection::close(<PgConnection as sqlx::Connection>::connect_with(&opts).await?).await?;
        let pool = PgPoolOptions::new().max_connections(8).connect_with(opts).await?;
        migrate_postgres(&pool).await?;
        Ok(Pool::Postgres(pool))
    } else if let Some(rest) = url.strip_prefix("sqlite:") {
        if rest == ":memory:" || rest == "//:memory:" {
            return open_sqlite_memory().await;
        }
        let path = rest.strip_prefix("//").unwrap_or(rest);
        let path = path.split('?').next().unwrap_or(path);
        open_sqlite_file(Path::new(path)).await
    } else {
        Err(StoreError::Invalid {
            field: "store url".to_owned(),
            reason: format!(
                "unsupported scheme in {:?}: use sqlite://PATH, sqlite::memory: or postgres://",
                redact(url)
            ),
        })
    }
}

/// The url without its password, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_owned(),
    }
}

fn sqlite_options() -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        .synchronous(SqliteSynchronous::Normal)
}

/// Opens (creating if needed) the SQLite database file at `path` in WAL mode.
pub(crate) async fn open_sqlite_file(path: &Path) -> Result<Pool> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Io { path: dir.display().to_string(), source: e })?;
    }
    let opts = sqlite_options().filename(path).create_if_missing(true).journal_mode(SqliteJournalMode::Wal);
    let pool = SqlitePoolOptions::new().max_connections(4).connect_with(opts).await?;
    SQLITE_MIGRATIONS.run(&pool).await?;
    Ok(Pool::Sqlite(pool))
}

/// Opens a private in-memory SQLite database (one connection, so every query sees it).
async fn open_sqlite_memory() -> Result<Pool> {
    let opts = sqlite_options().in_memory(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(opts)
        .await?;
    SQLITE_MIGRATIONS.run(&pool).await?;
    Ok(Pool::Sqlite(pool))
}

/// Applies the PostgreSQL migrations.
pub(crate) async fn migrate_postgres(pool: &PgPool) -> Result<()> {
    POSTGRES_MIGRATIONS.run(pool).await?;
    Ok(())
}

/// Checks a PostgreSQL schema name (it is spliced into DDL, so only `[a-z0-9_]` is accepted).
pub(crate) fn check_schema(schema: &str) -> Result<()> {
    let ok = !schema.is_empty()
        && schema.len() <= 63
        && schema.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !schema.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid {
            field: "schema".to_owned(),
            reason: format!("{schema:?} must be 1-63 characters of [a-z0-9_], not starting with a digit"),
        })
    }
}

/// Opens a PostgreSQL pool whose connections all use `schema` (created if missing), migrated.
pub(crate) async fn open_postgres_in_schema(url: &str, schema: &str) -> Result<Pool> {
    check_schema(schema)?;
    let opts = PgConnectOptions::from_str(url)?;
    // A direct connection fails at once when the server is down (a pool would retry).
    let mut setup = <PgConnection as sqlx::Connection>::connect_with(&opts).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS {schema}")))
        .execute(&mut setup)
        .await?;
    sqlx::Connection::close(setup).await?;
    let set_path = format!("SET search_path TO {schema}");
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .after_connect(move |conn, _meta| {
            let sql = set_path.clone();
            Box::pin(async move {
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(conn).await?;
                Ok(())
            })
        })
        .connect_with(opts)
        .await?;
    migrate_postgres(&pool).await?;
    Ok(Pool::Postgres(pool))
}

/// Starting a transaction that will write. SQLite takes the write lock up front
/// (`BEGIN IMMEDIATE`), so read-then-write transactions never fail on lock upgrade.
pub(crate) trait WritePool {
    /// The backend.
    type Db: sqlx::Database;
    /// Begins a write transaction.
    fn begin_write(&self) -> impl Future<Output = sqlx::Result<Transaction<'static, Self::Db>>> + Send;
}

impl WritePool for SqlitePool {
    type Db = Sqlite;
    async fn begin_write(&self) -> sqlx::Result<Transaction<'static, Sqlite>> {
        self.begin_with("BEGIN IMMEDIATE").await
    }
}

impl WritePool for PgPool {
    type Db = Postgres;
    async fn begin_write(&self) -> sqlx::Result<Transaction<'static, Postgres>> {
        self.begin().await
    }
}

/// Unix microseconds of a time (the storage form of every timestamp).
pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// The time of a stored Unix-microsecond value.
pub(crate) fn time(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// The optional time of an optional stored value.
pub(crate) fn opt_time(us: Option<i64>) -> Option<DateTime<Utc>> {
    us.map(time)
}

/// Now, truncated to the microsecond precision the store keeps.
pub(crate) fn now() -> DateTime<Utc> {
    time(micros(Utc::now()))
}

/// `n` random bytes from the system CSPRNG.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut buf = [0u8; N];
    aws_lc_rs::rand::fill(&mut buf)
        .map_err(|_| StoreError::Crypto("system random generator failed".to_owned()))?;
    Ok(buf)
}

/// Lowercase hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A new random id: 32 lowercase hex digits.
pub(crate) fn new_id() -> Result<String> {
    Ok(hex(&random_bytes::<16>()?))
}

/// SHA-256 as lowercase hex.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data).as_ref())
}

/// JSON text of a value (the storage form of every structured column).
pub(crate) fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v)
        .map_err(|e| StoreError::Corrupt { what: "json".to_owned(), reason: e.to_string() })
}

/// Parses a stored JSON column, naming it when it is unreadable.
pub(crate) fn from_json<T: for<'de> Deserialize<'de>>(column: &str, text: &str) -> Result<T> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt { what: format!("column {column}"), reason: e.to_string() })
}

/// Parses a stored enum name, naming the column when it is unknown.
pub(crate) fn parse_name<T: FromStr>(column: &str, text: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e: T::Err| StoreError::Corrupt { what: format!("column {column}"), reason: e.to_string() })
}

/// Encodes a cursor position as opaque URL-safe text.
pub(crate) fn encode_cursor<T: Serialize>(pos: &T) -> Result<String> {
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(to_json(pos)?))
}

/// Decodes a cursor made by [`encode_cursor`].
pub(crate) fn decode_cursor<T: for<'de> Deserialize<'de>>(cursor: &str) -> Result<T> {
    let invalid = |reason: String| StoreError::Invalid { field: "cursor".to_owned(), reason };
    if cursor.len() > 4096 {
        return Err(invalid("longer than 4096 bytes".to_owned()));
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|e| invalid(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))
}

/// Clamps a page size to 1..=1000.
pub(crate) fn clamp_limit(limit: u32) -> i64 {
    i64::from(limit.clamp(1, 1000))
}

/// Whether an error is a unique-constraint violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

/// Escapes `%`, `_` and `\` for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
