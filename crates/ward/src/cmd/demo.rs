//! `ward demo`: replays the bundled real events (a Cowrie honeypot session with a brute force,
//! Suricata alerts, sshd auth lines) into a running `ward serve` through signed ingest, then
//! waits for the incidents and prints them — a newcomer's first minute with Ward.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde_json::Value;
use ward_api::registry::file::{FileDeviceStore, FileTenantStore};
use ward_api::registry::{DeviceStore, TenantStore};
use ward_decode::SourceKind;
use ward_model::TenantId;
use ward_store::{NewApiKey, Role};

use crate::Outcome;
use crate::builtin::DEMO;
use crate::cli::DemoArgs;
use crate::config::Config;

/// Runs `ward demo`.
///
/// # Errors
/// No server answering at the URL, an unusable data directory, or a refused ingest request.
pub fn run(args: &DemoArgs, config: &Config, data_dir: &Path) -> Result<Outcome> {
    super::runtime()?.block_on(demo(args, config, data_dir))
}

async fn demo(args: &DemoArgs, config: &Config, data_dir: &Path) -> Result<Outcome> {
    let base = args.url.clone().unwrap_or_else(|| format!("http://{}/", config.server.listen));
    let base = reqwest::Url::parse(&base).with_context(|| format!("--url {base:?}"))?;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    client
        .get(base.join("health")?)
        .send()
        .await
        .with_context(|| format!("no Ward server answers at {base}; start one with `ward serve` first"))?;

    let tenant = TenantId::new(&args.tenant).context("--tenant")?;
    let key = super::serve::master_key(config, data_dir)?;
    FileTenantStore::new(data_dir).ensure(&tenant).await?;
    let store = super::state::open_store(config, data_dir).await?;
    store.ensure_tenant(&tenant).await?;
    let device = FileDeviceStore::new(data_dir, Some(key)).create(&tenant, "ward-demo").await?;
    eprintln!("registered device {} in tenant {tenant}", device.device.id);

    let started = Instant::now();
    for (source, name, text) in DEMO {
        let kind: SourceKind = source.parse()?;
        let records: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        let (accepted, rejected) =
            super::send::send_records(&base, device.device.id.as_str(), &device.secret, kind, &records)
                .await
                .with_context(|| format!("sending {name}"))?;
        eprintln!("sent {name}: accepted={accepted} rejected={rejected}");
    }

    let viewer = store
        .tenant(&tenant)
        .create_api_key(&NewApiKey {
            name: "ward-demo".into(),
            user_id: None,
            role: Some(Role::Viewer),
            scopes: Vec::new(),
            expires_at: Some(Utc::now() + chrono::Duration::hours(24)),
        })
        .await?;
    let incidents = wait_for_incidents(&client, &base, &viewer.plaintext, args.timeout_secs).await?;
    println!("{}", table(&incidents));
    println!(
        "{} incident(s) in {:.1}s. Browse them: curl -H 'Authorization: Bearer {}' {}",
        incidents.len(),
        started.elapsed().as_secs_f64(),
        viewer.plaintext.as_str(),
        base.join("api/incidents")?,
    );
    eprintln!(
        "(a read-only key for tenant {tenant}, valid 24 hours; API docs at {})",
        base.join("api/docs")?
    );
    Ok(Outcome::Success)
}

/// Polls `GET /api/incidents` until incidents appear and stop changing, or the time is up.
async fn wait_for_incidents(
    client: &reqwest::Client,
    base: &reqwest::Url,
    key: &str,
    timeout_secs: u64,
) -> Result<Vec<Value>> {
    let deadline = Instant::now() + Duration::from_secs(timeout_secs);
    let url = base.join("api/incidents?limit=50")?;
    let mut last: Option<Vec<Value>> = None;
    loop {
        let answer = client.get(url.clone()).bearer_auth(key).send().await?;
        let status = answer.status();
        let text = answer.text().await.context("reading GET /api/incidents")?;
        let body: Value = serde_json::from_str(&text)
            .with_context(|| format!("GET /api/incidents answered {status}: {text}"))?;
        if !status.is_success() {
            bail!("GET /api/incidents answered {status}: {body}");
        }
        let items = body.get("items").and_then(Value::as_array).cloned().unwrap_or_default();
        let settled = !items.is_empty() && last.as_ref().is_some_and(|prev| same_counts(prev, &items));
        if settled || Instant::now() >= deadline {
            if items.is_empty() {
                bail!("no incident appeared within {timeout_secs}s; see the server's log");
            }
            return Ok(items);
        }
        last = Some(items);
        tokio::time::sleep(Duration::from_millis(750)).await;
    }
}

fn same_counts(a: &[Value], b: &[Value]) -> bool {
    let key = |v: &Value| (v["id"].clone(), v["alert_count"].clone(), v["verdict"].clone());
    a.len() == b.len() && a.iter().map(key).eq(b.iter().map(key))
}

fn table(incidents: &[Value]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED).set_header(["severity", "score", "verdict", "alerts", "title"]);
    for i in incidents {
        let text = |k: &str| i[k].as_str().unwrap_or("-").to_owned();
        t.add_row(vec![
            text("severity"),
            i["score"].as_f64().map_or_else(|| "-".into(), |s| format!("{s:.2}")),
            text("verdict"),
            i["alert_count"].to_string(),
            text("title"),
        ]);
    }
    t
}
