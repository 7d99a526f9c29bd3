//! `ward users add|list`: accounts that log in to the API, on the state store.

use std::path::Path;

use anyhow::{Context, Result};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use ward_api::backend::StoreBackend;
use ward_api::identity::{IdentityStore, Role};
use ward_model::TenantId;

use crate::Outcome;
use crate::cli::{UsersAddArgs, UsersCommand};
use crate::config::Config;

/// Runs `ward users …`.
///
/// # Errors
/// Invalid names or roles, an existing user, an unusable store.
pub fn run(command: &UsersCommand, config: &Config, data_dir: &Path) -> Result<Outcome> {
    super::runtime()?.block_on(async {
        let store = super::state::open_store(config, data_dir).await?;
        let backend = StoreBackend::new(store);
        match command {
            UsersCommand::Add(args) => add(&backend, args, data_dir).await,
            UsersCommand::List(args) => list(&backend, &args.tenant, args.json).await,
        }
    })
}

async fn add(backend: &StoreBackend, args: &UsersAddArgs, data_dir: &Path) -> Result<Outcome> {
    let tenant = TenantId::new(&args.tenant).context("--tenant")?;
    let role: Role = args.role.parse().context("--role")?;
    super::apikeys::ensure_file_tenant(data_dir, &tenant).await?;
    let password = args.password.clone().map(SecretString::from);
    let new = backend.create_user(&tenant, &args.name, role, password).await?;
    super::apikeys::audit(
        backend,
        &tenant,
        "user.create",
        &format!("user:{}", new.user.name),
        json!({ "role": role }),
    )
    .await?;
    let password = new.password.expose_secret();
    if args.json {
        println!(
            "{}",
            json!({ "user": new.user.name, "password": password, "tenant": tenant, "role": role })
        );
    } else {
        println!("user:     {}\npassword: {password}", new.user.name);
        if args.password.is_none() {
            eprintln!("the generated password is shown only this once");
        }
    }
    Ok(Outcome::Success)
}

async fn list(backend: &StoreBackend, tenant: &str, as_json: bool) -> Result<Outcome> {
    let tenant = TenantId::new(tenant).context("--tenant")?;
    for u in backend.users(&tenant).await? {
        if as_json {
            println!("{}", serde_json::to_string(&u)?);
        } else {
            let state = if u.disabled { "disabled" } else { "enabled" };
            println!("{}\t{}\t{}\t{}", u.name, u.role, state, u.created_at.to_rfc3339());
        }
    }
    Ok(Outcome::Success)
}
