//! `ward log read` and `ward log stats`, on the configured log (by default the embedded log in
//! `<data-dir>/log`; run them while no server holds it).

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;
use serde_json::value::RawValue;
use ward_log::{Log, StoredRecord, Topic};

use crate::Outcome;
use crate::cli::{LogReadArgs, LogStatsArgs};
use crate::config::Config;

const PAGE: u64 = 1000;

/// One printed record.
#[derive(Serialize)]
struct Line<'a> {
    offset: u64,
    partition: u32,
    timestamp_ms: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<std::borrow::Cow<'a, str>>,
    /// The payload as JSON (binary events printed as JSON), or `null` when it is neither
    /// (then `raw` holds it).
    record: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw: Option<std::borrow::Cow<'a, str>>,
}

/// Runs `ward log read`.
///
/// # Errors
/// Unknown topic or partition, or an unreadable log.
pub fn read(args: &LogReadArgs, config: &Config, data_dir: &Path) -> Result<Outcome> {
    let topic: Topic = args.topic.parse()?;
    super::runtime()?.block_on(async {
        let log = super::serve::open_log(config, data_dir).await?;
        let partitions: Vec<u32> = match args.partition {
            Some(p) => vec![p],
            None => (0..log.partitions(topic)).collect(),
        };
        let mut out = BufWriter::new(std::io::stdout().lock());
        let mut remaining = args.limit.unwrap_or(u64::MAX);
        for partition in partitions {
            remaining =
                print_partition(log.as_ref(), topic, partition, args.from, remaining, &mut out).await?;
        }
        out.flush()?;
        Ok(Outcome::Success)
    })
}

async fn print_partition(
    log: &dyn Log,
    topic: Topic,
    partition: u32,
    mut from: u64,
    mut remaining: u64,
    out: &mut impl Write,
) -> Result<u64> {
    while remaining > 0 {
        let max = usize::try_from(remaining.min(PAGE)).unwrap_or(1000);
        let batch = log.read(topic, partition, from, max).await?;
        let Some(last) = batch.last() else { break };
        from = last.offset + 1;
        for record in &batch {
            serde_json::to_writer(&mut *out, &line(record))?;
            out.write_all(b"\n")?;
        }
        remaining -= batch.len() as u64;
    }
    Ok(remaining)
}

fn line(r: &StoredRecord) -> Line<'_> {
    let record = if ward_model::codec::is_binary(&r.payload) {
        // Events between stages are binary; print them as the JSON events they are.
        ward_model::codec::decode_event(&r.payload)
            .ok()
            .and_then(|e| serde_json::to_string(&e).ok())
            .and_then(|t| RawValue::from_string(t).ok())
    } else {
        serde_json::from_slice::<&RawValue>(&r.payload).ok().map(ToOwned::to_owned)
    };
    Line {
        offset: r.offset,
        partition: r.partition,
        timestamp_ms: r.timestamp_ms,
        key: r.key.as_deref().map(String::from_utf8_lossy),
        raw: record.is_none().then(|| String::from_utf8_lossy(&r.payload)),
        record,
    }
}

/// One partition's figures.
#[derive(Serialize)]
struct StatsRow {
    topic: &'static str,
    partition: u32,
    first_offset: u64,
    next_offset: u64,
    records: u64,
    bytes: u64,
    /// Per requested group: records not yet committed.
    lag: BTreeMap<String, u64>,
}

/// Runs `ward log stats`.
///
/// # Errors
/// An unreadable log.
pub fn stats(args: &LogStatsArgs, config: &Config, data_dir: &Path) -> Result<Outcome> {
    super::runtime()?.block_on(async {
        let log = super::serve::open_log(config, data_dir).await?;
        let mut rows = Vec::new();
        for topic in Topic::ALL {
            for p in log.stats(topic).await.with_context(|| format!("stats of {topic}"))? {
                let mut lag = BTreeMap::new();
                for group in &args.groups {
                    let committed = log.committed(group, topic, p.partition).await?;
                    lag.insert(group.clone(), p.next_offset.saturating_sub(committed.max(p.first_offset)));
                }
                let records = p.next_offset.saturating_sub(p.first_offset);
                let (first_offset, next_offset, bytes) = (p.first_offset, p.next_offset, p.bytes);
                rows.push(StatsRow {
                    topic: topic.as_str(),
                    partition: p.partition,
                    first_offset,
                    next_offset,
                    records,
                    bytes,
                    lag,
                });
            }
        }
        print_stats(&rows, args)?;
        Ok(Outcome::Success)
    })
}

fn print_stats(rows: &[StatsRow], args: &LogStatsArgs) -> Result<()> {
    if args.json {
        for row in rows {
            println!("{}", serde_json::to_string(row)?);
        }
        return Ok(());
    }
    let mut t = Table::new();
    let mut header: Vec<String> =
        ["topic", "partition", "first_offset", "next_offset", "records", "bytes"].map(String::from).into();
    header.extend(args.groups.iter().map(|g| format!("lag {g}")));
    t.load_style(UTF8_FULL_CONDENSED).set_header(header);
    for r in rows {
        let mut cells = vec![r.topic.to_owned(), r.partition.to_string(), r.first_offset.to_string()];
        cells.extend([r.next_offset.to_string(), r.records.to_string(), r.bytes.to_string()]);
        cells.extend(args.groups.iter().map(|g| r.lag.get(g).map_or_else(String::new, u64::to_string)));
        t.add_row(cells);
    }
    println!("{t}");
    Ok(())
}
