//! `ward devices add|list|disable|enable` and `ward tenants list`, on the data directory.

use std::path::Path;

use anyhow::{Context, Result};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use secrecy::ExposeSecret;
use serde_json::json;
use ward_api::registry::file::{FileDeviceStore, FileTenantStore};
use ward_api::registry::{Device, DeviceId, DeviceStore, TenantStore};
use ward_model::TenantId;

use crate::Outcome;
use crate::cli::{DevicesAddArgs, DevicesCommand, TenantsCommand};
use crate::config::Config;

/// Runs `ward devices …`.
///
/// # Errors
/// Invalid names, an unusable data directory or master key.
pub fn run(command: &DevicesCommand, config: &Config, data_dir: &Path) -> Result<Outcome> {
    let rt = super::runtime()?;
    match command {
        DevicesCommand::Add(args) => rt.block_on(add(args, config, data_dir)),
        DevicesCommand::List(flag) => rt.block_on(list(flag.json, data_dir)),
        DevicesCommand::Disable(arg) => rt.block_on(set_disabled(&arg.id, true, data_dir)),
        DevicesCommand::Enable(arg) => rt.block_on(set_disabled(&arg.id, false, data_dir)),
    }
}

async fn add(args: &DevicesAddArgs, config: &Config, data_dir: &Path) -> Result<Outcome> {
    let tenant = TenantId::new(&args.tenant).context("--tenant")?;
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let key = super::serve::master_key(config, data_dir)?;
    if FileTenantStore::new(data_dir).ensure(&tenant).await? {
        eprintln!("created tenant {tenant}");
    }
    let new = FileDeviceStore::new(data_dir, Some(key)).create(&tenant, &args.name).await?;
    let secret = new.secret.expose_secret();
    if args.json {
        println!("{}", json!({ "device_id": new.device.id.as_str(), "secret": secret }));
    } else {
        println!("device_id: {}\nsecret:    {secret}", new.device.id);
        eprintln!("the secret is shown only this once; store it on the device");
    }
    Ok(Outcome::Success)
}

async fn list(as_json: bool, data_dir: &Path) -> Result<Outcome> {
    let devices = FileDeviceStore::new(data_dir, None).list().await?;
    if as_json {
        for d in &devices {
            println!("{}", serde_json::to_string(d)?);
        }
    } else {
        println!("{}", table(&devices));
    }
    Ok(Outcome::Success)
}

fn table(devices: &[Device]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED).set_header(["device_id", "tenant", "name", "created_at", "status"]);
    for d in devices {
        let status = if d.disabled { "disabled" } else { "enabled" };
        t.add_row(vec![
            d.id.to_string(),
            d.tenant.to_string(),
            d.name.clone(),
            d.created_at.to_rfc3339(),
            status.into(),
        ]);
    }
    t
}

async fn set_disabled(id: &str, disabled: bool, data_dir: &Path) -> Result<Outcome> {
    let id = DeviceId::parse(id)?;
    let device = FileDeviceStore::new(data_dir, None).set_disabled(&id, disabled).await?;
    println!("{} {}", device.id, if device.disabled { "disabled" } else { "enabled" });
    Ok(Outcome::Success)
}

/// Runs `ward tenants list`.
///
/// # Errors
/// An unreadable tenants file.
pub fn run_tenants(command: &TenantsCommand, data_dir: &Path) -> Result<Outcome> {
    let TenantsCommand::List(flag) = command;
    let tenants = super::runtime()?.block_on(FileTenantStore::new(data_dir).list())?;
    for t in &tenants {
        if flag.json {
            println!("{}", serde_json::to_string(t)?);
        } else {
            println!("{}\t{}", t.name, t.created_at.to_rfc3339());
        }
    }
    Ok(Outcome::Success)
}
