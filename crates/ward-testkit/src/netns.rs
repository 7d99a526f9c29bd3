//! A throw-away network namespace joined to the host by a veth pair, with a TCP listener
//! inside, for tests that prove real firewall effects (`ward-respond`'s nftables tests and the
//! binary's response end-to-end test). Needs root, `ip` and `nft`.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

static SEQ: AtomicU32 = AtomicU32::new(0);

/// The namespace, its veth pair and addresses; removed on drop, even when the test fails.
pub struct Lab {
    /// Namespace name.
    pub ns: String,
    /// Host end of the veth pair.
    pub veth: String,
    /// Host address (the traffic source a block targets).
    pub host_ip: String,
    /// Address of the listener inside the namespace.
    pub ns_ip: String,
    listener: Option<Child>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut child) = self.listener.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new("ip").args(["link", "del", &self.veth]).status();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

/// Runs a command that must succeed.
pub fn run(args: &[&str]) {
    let out = Command::new(args[0]).args(&args[1..]).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Whether root, `ip` and `nft` are there; their absence fails under `CI=true` (naming `what`
/// needs them) and skips elsewhere.
pub fn capable(what: &str) -> bool {
    let nft = Command::new("nft").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
    let ip =
        Command::new("ip").args(["netns", "list"]).stdout(Stdio::null()).status().is_ok_and(|s| s.success());
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let ok = nft && ip && root;
    if !ok {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI needs root, `ip` and `nft` for {what}");
        eprintln!("skipping: needs root, ip and nft");
    }
    ok
}

impl Lab {
    /// A new namespace with names and a 10.200-215.y.0/30 unique to this process and call, so
    /// parallel tests do not collide; a TCP listener on `ns_ip:7777` answers inside it.
    pub fn new() -> Self {
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let id = std::process::id() % 10_000;
        let tag = format!("{id}{n}");
        let (a, b) = (200 + (n + id / 250) % 16, id % 250);
        let mut lab = Lab {
            ns: format!("wardt{tag}"),
            veth: format!("wv{tag}h"),
            host_ip: format!("10.{a}.{b}.1"),
            ns_ip: format!("10.{a}.{b}.2"),
            listener: None,
        };
        let peer = format!("wv{tag}p");
        run(&["ip", "netns", "add", &lab.ns]);
        run(&["ip", "link", "add", &lab.veth, "type", "veth", "peer", "name", &peer]);
        run(&["ip", "link", "set", &peer, "netns", &lab.ns]);
        run(&["ip", "addr", "add", &format!("{}/30", lab.host_ip), "dev", &lab.veth]);
        run(&["ip", "link", "set", &lab.veth, "up"]);
        run(&[
            "ip",
            "netns",
            "exec",
            &lab.ns,
            "ip",
            "addr",
            "add",
            &format!("{}/30", lab.ns_ip),
            "dev",
            &peer,
        ]);
        run(&["ip", "netns", "exec", &lab.ns, "ip", "link", "set", &peer, "up"]);
        run(&["ip", "netns", "exec", &lab.ns, "ip", "link", "set", "lo", "up"]);
        let script = format!(
            "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\ns.bind(('{}',7777))\ns.listen(64)\nwhile True:\n  c,_=s.accept()\n  c.sendall(b'hello')\n  c.close()\n",
            lab.ns_ip
        );
        let child = Command::new("ip")
            .args(["netns", "exec", &lab.ns, "python3", "-c", &script])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        lab.listener = Some(child);
        lab
    }

    /// Whether a TCP connection from the host to the namespace's listener completes.
    pub async fn flows(&self) -> bool {
        let addr = format!("{}:7777", self.ns_ip);
        matches!(
            tokio::time::timeout(Duration::from_millis(700), tokio::net::TcpStream::connect(&addr)).await,
            Ok(Ok(_))
        )
    }

    /// Waits until the listener answers (it starts asynchronously).
    pub async fn wait_flowing(&self) {
        for _ in 0..50 {
            if self.flows().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the namespace listener never answered");
    }
}

impl Default for Lab {
    fn default() -> Self {
        Self::new()
    }
}
