//! `ward certs dev`: a local CA and a server certificate for trying HTTPS (`[server.tls]`).

use std::path::Path;

use anyhow::{Context, Result};
use ward_api::tls::write_dev_certs;

use crate::Outcome;
use crate::cli::{CertsCommand, CertsDevArgs};

/// Runs `ward certs …`.
///
/// # Errors
/// When the files cannot be generated or written.
pub fn run(command: &CertsCommand, data_dir: &Path) -> Result<Outcome> {
    let CertsCommand::Dev(args) = command;
    dev(args, data_dir)
}

fn dev(args: &CertsDevArgs, data_dir: &Path) -> Result<Outcome> {
    let out = args.out.clone().unwrap_or_else(|| data_dir.join("certs"));
    let files = write_dev_certs(&out, &args.names, args.days).context("ward certs dev")?;
    println!("ca_cert: {}", files.ca_cert.display());
    println!("ca_key:  {}", files.ca_key.display());
    println!("cert:    {}", files.cert.display());
    println!("key:     {}", files.key.display());
    eprintln!(
        "add to the config:\n[server.tls]\ncert = {:?}\nkey = {:?}\nand trust {} in clients (curl --cacert …); for local use only",
        files.cert.display().to_string(),
        files.key.display().to_string(),
        files.ca_cert.display()
    );
    Ok(Outcome::Success)
}
