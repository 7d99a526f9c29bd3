//! `ward actions|approvals|killswitch|policy` end to end on a data directory: the contract's
//! `{"id","status","reason"}` output, guards, approvals, rollback and the audit chain.

use std::path::Path;
use std::process::{Command, Output};

fn ward(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--config")
        .arg(dir.join("ward.toml"))
        .args(args)
        .env_remove("WARD_CONFIG")
        .env("USER", "alice")
        .output()
        .expect("ward runs")
}

fn json(o: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&o.stdout);
    serde_json::from_str(text.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: stdout {text:?} stderr {}", String::from_utf8_lossy(&o.stderr)))
}

const KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGbMzZbqLIH8wEEPbN2y4fzuBuHHqHqd8yt8hKEfWi+O deploy@ci";

fn setup(mode: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = dir.path().join("authorized_keys");
    std::fs::write(&keys, format!("{KEY}\n")).expect("keys written");
    let policies = ward_testkit::workspace_root().join("policies");
    let config = format!(
        "[respond]\nmode = \"{mode}\"\npolicies = {:?}\n[respond.nftables]\nenabled = true\ntable = \"wardclitest\"\n[respond.ssh]\nauthorized_keys = {:?}\nkey_dir = {:?}\n",
        policies.display().to_string(),
        keys.display().to_string(),
        dir.path().join("keys").display().to_string(),
    );
    std::fs::write(dir.path().join("ward.toml"), config).expect("config written");
    dir
}

#[test]
fn policy_fixtures_pass() {
    let dir = setup("monitor");
    let out = ward(dir.path(), &["policy", "test"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let last = text.lines().last().unwrap_or_default();
    assert!(last.starts_with("passed=") && last.ends_with(" failed=0"), "{last}");
}

#[test]
fn dry_runs_guards_and_the_kill_switch() {
    let dir = setup("monitor");
    let dry = json(&ward(
        dir.path(),
        &["actions", "run", "block_ip", "--target", "203.0.113.7", "--ttl", "10m", "--dry-run", "--json"],
    ));
    assert_eq!(dry["status"], "dry_run", "{dry}");
    assert!(dry["id"].as_str().is_some_and(|s| s.len() == 32));
    let recorded =
        json(&ward(dir.path(), &["actions", "run", "rotate_ssh_key", "--target", "deploy@ci", "--json"]));
    assert_eq!(recorded["status"], "denied", "monitor mode executes nothing: {recorded}");
    let on = ward(dir.path(), &["killswitch", "on"]);
    assert!(on.status.success());
    let status = json(&ward(dir.path(), &["killswitch", "status", "--json"]));
    assert_eq!(status["kill_switch"], "on");
    let stopped = json(&ward(
        dir.path(),
        &["actions", "run", "block_ip", "--target", "203.0.113.7", "--dry-run", "--json"],
    ));
    assert_eq!(stopped["status"], "denied");
    assert!(stopped["reason"].as_str().unwrap_or_default().contains("kill switch"), "{stopped}");
    let audit = ward(dir.path(), &["audit", "verify"]);
    assert!(audit.status.success(), "{}", String::from_utf8_lossy(&audit.stderr));
    assert!(String::from_utf8_lossy(&audit.stdout).starts_with("audit ok records="));
}

#[test]
fn approvals_then_rollback() {
    let dir = setup("assisted");
    let pending =
        json(&ward(dir.path(), &["actions", "run", "rotate_ssh_key", "--target", "deploy@ci", "--json"]));
    assert_eq!(pending["status"], "pending_approval", "{pending}");
    let id = pending["id"].as_str().expect("id").to_owned();
    let list = ward(dir.path(), &["approvals", "list", "--json"]);
    assert!(String::from_utf8_lossy(&list.stdout).contains(&id));
    let approved = json(&ward(dir.path(), &["approvals", "approve", &id, "--as", "user:carol", "--json"]));
    assert_eq!(approved["status"], "verified", "{approved}");
    let keys = std::fs::read_to_string(dir.path().join("authorized_keys")).expect("keys");
    assert!(!keys.contains(KEY) && keys.contains("deploy@ci"), "{keys}");
    let shown = json(&ward(dir.path(), &["actions", "show", &id, "--json"]));
    assert_eq!(shown["status"], "verified");
    let back = json(&ward(dir.path(), &["actions", "rollback", &id, "--json"]));
    assert_eq!(back["status"], "rolled_back", "{back}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("authorized_keys")).expect("keys"),
        format!("{KEY}\n")
    );
    let again = ward(dir.path(), &["approvals", "approve", &id]);
    assert!(!again.status.success(), "an answered approval cannot be answered again");
}
