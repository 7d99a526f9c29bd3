//! `ward apikeys create|list|revoke`: bearer keys for the API, stored hashed in the state store.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::json;
use ward_api::api::{AuditEntry, AuditLog};
use ward_api::backend::StoreBackend;
use ward_api::identity::{IdentityStore, Role};
use ward_api::registry::TenantStore as _;
use ward_api::registry::file::FileTenantStore;
use ward_model::TenantId;

use crate::Outcome;
use crate::cli::{ApikeysCommand, ApikeysCreateArgs};
use crate::config::Config;

/// Runs `ward apikeys …`.
///
/// # Errors
/// Invalid arguments, an unknown key, an unusable store.
pub fn run(command: &ApikeysCommand, config: &Config, data_dir: &Path) -> Result<Outcome> {
    super::runtime()?.block_on(async {
        let backend = StoreBackend::new(super::state::open_store(config, data_dir).await?);
        match command {
            ApikeysCommand::Create(args) => create(&backend, args, data_dir).await,
            ApikeysCommand::List(args) => list(&backend, &args.tenant, args.json).await,
            ApikeysCommand::Revoke(args) => revoke(&backend, &args.tenant, &args.id).await,
        }
    })
}

async fn create(backend: &StoreBackend, args: &ApikeysCreateArgs, data_dir: &Path) -> Result<Outcome> {
    let tenant = TenantId::new(&args.tenant).context("--tenant")?;
    let role: Role = args.role.parse().context("--role")?;
    let expires_at = match &args.expires {
        Some(text) => Some(chrono::Utc::now() + parse_duration(text).context("--expires")?),
        None => None,
    };
    ensure_file_tenant(data_dir, &tenant).await?;
    let name = args.name.clone().unwrap_or_default();
    let new = backend.create_api_key(&tenant, role, &name, expires_at).await?;
    let detail = json!({ "role": role, "expires_at": expires_at });
    audit(backend, &tenant, "apikey.create", &format!("apikey:{}", new.key.id), detail).await?;
    if args.json {
        println!(
            "{}",
            json!({ "id": new.key.id, "key": new.plaintext, "tenant": tenant, "role": role, "expires_at": expires_at })
        );
    } else {
        println!("id:  {}\nkey: {}", new.key.id, new.plaintext);
        eprintln!("the key is shown only this once; send it as `Authorization: Bearer <key>`");
    }
    Ok(Outcome::Success)
}

async fn list(backend: &StoreBackend, tenant: &str, as_json: bool) -> Result<Outcome> {
    let tenant = TenantId::new(tenant).context("--tenant")?;
    for k in backend.api_keys(&tenant).await? {
        if as_json {
            println!("{}", serde_json::to_string(&k)?);
        } else {
            let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
            let expires = k.expires_at.map_or_else(|| "never".to_owned(), |t| t.to_rfc3339());
            println!("{}\t{}\t{}\t{state}\texpires {expires}", k.id, k.role, k.name);
        }
    }
    Ok(Outcome::Success)
}

async fn revoke(backend: &StoreBackend, tenant: &str, id: &str) -> Result<Outcome> {
    let tenant = TenantId::new(tenant).context("--tenant")?;
    if !backend.revoke_api_key(&tenant, id).await? {
        bail!("tenant {tenant} has no API key {id}");
    }
    audit(backend, &tenant, "apikey.revoke", &format!("apikey:{id}"), json!({})).await?;
    println!("{id} revoked");
    Ok(Outcome::Success)
}

/// Records a change made from the command line (actor `cli`).
pub(super) async fn audit(
    backend: &StoreBackend,
    tenant: &TenantId,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<()> {
    let entry = AuditEntry { actor: "cli".into(), action: action.into(), target: target.into(), detail };
    backend.append(tenant, entry).await.context("appending to the audit log")
}

/// Names the tenant in the data directory's tenant list too (what `ward tenants list` shows).
pub(super) async fn ensure_file_tenant(data_dir: &Path, tenant: &TenantId) -> Result<()> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    if FileTenantStore::new(data_dir).ensure(tenant).await? {
        eprintln!("created tenant {tenant}");
    }
    Ok(())
}

/// `90d`, `12h`, `30m`, `45s`, `2w` (one number and one unit).
fn parse_duration(text: &str) -> Result<chrono::Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: i64 =
        number.parse().with_context(|| format!("{text:?}: expected a number and a unit, like 90d"))?;
    let d = match unit {
        "s" => chrono::Duration::try_seconds(n),
        "m" => chrono::Duration::try_minutes(n),
        "h" => chrono::Duration::try_hours(n),
        "d" => chrono::Duration::try_days(n),
        "w" => chrono::Duration::try_weeks(n),
        _ => bail!("{text:?}: unit must be s, m, h, d or w"),
    };
    match d {
        Some(d) if n > 0 => Ok(d),
        _ => bail!("{text:?}: must be positive and at most a few thousand years"),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_need_a_positive_number_and_a_unit() {
        assert_eq!(parse_duration("90d").ok(), chrono::Duration::try_days(90));
        assert_eq!(parse_duration("12h").ok(), chrono::Duration::try_hours(12));
        for bad in ["", "d", "12", "12y", "0d", "-1d"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
