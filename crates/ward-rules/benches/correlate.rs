//! Correlation benchmark (plain `main`, run with `cargo bench -p ward-rules --bench correlate`):
//! 1,000,000 base rule matches with 100,000 distinct `group-by` keys through one `event_count`
//! correlation (`gte: 20` within 5 minutes, by user), arriving up to 5 s out of order with 10 s
//! allowed lateness, a tenth of them on 100 hot keys so that alerts fire.
//!
//! Runs twice: under a tight budget (evictions expected, counted) and under the stated budget
//! (room for every key). Prints matches per CPU-second of this thread (from
//! `/proc/thread-self/schedstat`, so other processes on the machine skew it less) and per
//! wall-clock second: for the correlator alone (events built in batches of 10,000 beforehand,
//! untimed) and for everything including building the events; then alerts, evictions and the
//! peak resident set size (`VmHWM`, whole process, which includes a batch of events).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use ward_model::{Event, TenantId};
use ward_rules::RuleSet;
use ward_rules::correlate::{Budget, Correlator, CorrelatorConfig};

const MATCHES: u64 = 1_000_000;
const KEYS: u64 = 100_000;
const HOT_KEYS: u64 = 100;

const RULES: &str = "title: failed logon\nname: failed\nlogsource: {product: windows, service: security}\ndetection: {s: {EventID: 4625}, condition: s}\n---\ntitle: brute force\nid: brute-force\ncorrelation:\n    type: event_count\n    rules: [failed]\n    group-by: [user.name]\n    timespan: 5m\n    condition:\n        gte: 20\n";

/// The stated budget: room for every key.
const STATED: Budget =
    Budget { max_groups: 100_000, max_events_per_group: 64, max_alert_events: 16, max_pending: 50_000 };

/// A tight budget: a fifth of the keys.
const TIGHT: Budget = Budget { max_groups: 20_000, ..STATED };

fn main() -> Result<(), String> {
    let base = Utc.with_ymd_and_hms(2026, 1, 15, 0, 0, 0).single().ok_or("bad base time")?;
    let tenant = TenantId::default();
    let (keys, build) = construction(&tenant, base);
    println!("correlate: {MATCHES} matches, {keys} distinct group-by keys");
    println!("building the events alone: {}", build.rates());
    for (label, budget) in [("tight", TIGHT), ("stated", STATED)] {
        run(label, budget, &tenant, base, build)?;
    }
    Ok(())
}

/// Match `i`: its event time (ms, jittered back by up to 5 s) and its key.
fn shape(i: u64) -> (i64, u64) {
    let r = splitmix(i);
    let ms = i64::try_from(i).unwrap_or(i64::MAX) - i64::try_from(r % 5_000).unwrap_or(0);
    let key = if i.is_multiple_of(10) { (r >> 20) % HOT_KEYS } else { (r >> 20) % KEYS };
    (ms, key)
}

fn event(i: u64, tenant: &TenantId, base: DateTime<Utc>) -> Event {
    let (ms, key) = shape(i);
    let mut e = Event::new(tenant, "bench", &i.to_string(), 0, base + TimeDelta::milliseconds(ms));
    e.set("user.name", format!("user{key}"));
    e
}

/// Wall-clock and CPU time.
#[derive(Clone, Copy, Debug)]
struct Took {
    wall: Duration,
    cpu: Duration,
}

impl Took {
    fn since(wall: Instant, cpu: Duration) -> Self {
        Self { wall: wall.elapsed(), cpu: cpu_time().saturating_sub(cpu) }
    }

    fn plus(self, other: Self) -> Self {
        Self { wall: self.wall + other.wall, cpu: self.cpu + other.cpu }
    }

    fn minus(self, other: Self) -> Self {
        Self { wall: self.wall.saturating_sub(other.wall), cpu: self.cpu.saturating_sub(other.cpu) }
    }

    fn rates(self) -> String {
        let rate = |d: Duration| MATCHES as f64 / d.as_secs_f64().max(1e-9);
        format!(
            "{:.0}/CPU-s ({:.2?} CPU), {:.0}/s ({:.2?} wall)",
            rate(self.cpu),
            self.cpu,
            rate(self.wall),
            self.wall
        )
    }
}

/// CPU time of this thread so far (`/proc/thread-self/schedstat`, Linux; zero elsewhere).
fn cpu_time() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    Duration::from_nanos(text.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0))
}

/// Matches built ahead of each timed batch (about 1.5 KiB each).
const BATCH: u64 = 10_000;

/// Distinct keys, and the time to build (and drop) every event.
fn construction(tenant: &TenantId, base: DateTime<Utc>) -> (usize, Took) {
    let keys: HashSet<u64> = (0..MATCHES).map(|i| shape(i).1).collect();
    let (start, cpu) = (Instant::now(), cpu_time());
    let mut bytes = 0;
    for i in 0..MATCHES {
        bytes += std::hint::black_box(event(i, tenant, base)).original().len();
    }
    std::hint::black_box(bytes);
    (keys.len(), Took::since(start, cpu))
}

fn run(
    label: &str,
    budget: Budget,
    tenant: &TenantId,
    base: DateTime<Utc>,
    build: Took,
) -> Result<(), String> {
    let (set, rejections) = RuleSet::from_sources([("bench.yml", RULES)]);
    if !rejections.is_empty() {
        return Err(format!("{rejections:?}"));
    }
    let config = CorrelatorConfig { allowed_lateness: Duration::from_secs(10), budget };
    let (mut c, rejected) = Correlator::new(&set, &config).map_err(|e| e.to_string())?;
    if !rejected.is_empty() {
        return Err(format!("{rejected:?}"));
    }
    let (mut out, mut alerts) = (Vec::new(), 0);
    let mut alone = Took { wall: Duration::ZERO, cpu: Duration::ZERO };
    let (start, cpu) = (Instant::now(), cpu_time());
    for batch in 0..MATCHES.div_ceil(BATCH) {
        let events: Vec<Event> =
            (batch * BATCH..MATCHES.min((batch + 1) * BATCH)).map(|i| event(i, tenant, base)).collect();
        let (t0, c0) = (Instant::now(), cpu_time());
        for e in &events {
            c.observe("failed", e, &mut out);
            alerts += out.len();
            out.clear();
        }
        if batch + 1 == MATCHES.div_ceil(BATCH) {
            c.flush(&mut out);
            alerts += out.len();
        }
        alone = alone.plus(Took::since(t0, c0));
    }
    report(label, &budget, &c, (Took::since(start, cpu), alone), build, alerts);
    Ok(())
}

/// `took`: everything, and the correlator alone (observe and flush, events built beforehand).
fn report(label: &str, budget: &Budget, c: &Correlator, took: (Took, Took), build: Took, alerts: usize) {
    let stats = c.stats();
    let op = &stats.operators[0];
    println!("\n[{label}] budget: {budget:?}");
    println!("  correlator alone:      {}", took.1.rates());
    println!("  with event building:   {}", took.0.rates());
    println!("  all minus event build: {}", took.0.minus(build).rates());
    println!("  alerts {alerts}, late {}, forced watermark advances {}", stats.late, stats.forced_advances);
    println!(
        "  groups peak {} / budget {}, evicted groups {}, evicted matches {}, expired groups {}",
        op.peak_groups, budget.max_groups, op.evicted_groups, op.evicted_events, op.expired_groups
    );
    println!(
        "  peak RSS (VmHWM, whole process so far): {}",
        status("VmHWM").unwrap_or_else(|| "unavailable".into())
    );
}

/// A line of `/proc/self/status` (Linux).
fn status(key: &str) -> Option<String> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    Some(line[key.len() + 1..].trim().to_owned())
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
