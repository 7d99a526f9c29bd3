//! Local executors: SSH key rotation in an authorized_keys file, and decoy listeners.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::AsyncReadExt;
use ward_respond::config::{DecoyConfig, SshConfig};
use ward_respond::exec::{DecoyHit, DecoyManager, DecoySink, Executors, SensorInfo, SshKeyRotator};
use ward_respond::{ActionKind, ActionStatus, Mode};

use crate::common::{config, harness, tenant};

const OLD: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGbMzZbqLIH8wEEPbN2y4fzuBuHHqHqd8yt8hKEfWi+O deploy@ci";
const OTHER: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop";

#[tokio::test]
async fn rotate_ssh_key_replaces_the_line_and_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("authorized_keys");
    std::fs::write(&keys, format!("{OTHER}\n{OLD}\n")).unwrap();
    let mut all = Executors::new();
    let cfg = SshConfig { authorized_keys: keys.clone(), key_dir: dir.path().join("keys") };
    all.register(Arc::new(SshKeyRotator::new(Some(cfg))));
    let h = harness(config(Mode::Autonomous), all);
    let r = h.manual(ActionKind::RotateSshKey, "deploy@ci", "cli:a").await;
    assert_eq!(r.status, ActionStatus::Verified, "{}", r.reason);
    let text = std::fs::read_to_string(&keys).unwrap();
    assert!(!text.contains(OLD) && text.contains(OTHER), "{text}");
    let new_line = text.lines().find(|l| l.ends_with("deploy@ci")).unwrap();
    assert!(new_line.starts_with("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5"), "{new_line}");
    let key_file = dir.path().join("keys").join(format!("ward-{}", r.id));
    let private = std::fs::read_to_string(&key_file).unwrap();
    assert!(private.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);

    let back = h.responder.rollback(&tenant(), &r.id, "cli:a").await.unwrap();
    assert_eq!(back.status, ActionStatus::RolledBack);
    assert_eq!(std::fs::read_to_string(&keys).unwrap(), format!("{OTHER}\n{OLD}\n"));

    let missing = h.manual(ActionKind::RotateSshKey, "nobody@x", "cli:a").await;
    assert_eq!(missing.status, ActionStatus::Failed);
    assert!(missing.reason.contains("no key with this comment"), "{}", missing.reason);
}

#[derive(Default)]
struct Recorder {
    hits: Mutex<Vec<DecoyHit>>,
    sensors: Mutex<Vec<String>>,
}

impl DecoySink for Recorder {
    fn hit(&self, hit: DecoyHit) {
        self.hits.lock().unwrap().push(hit);
    }
    fn register(&self, sensor: &SensorInfo) {
        self.sensors.lock().unwrap().push(sensor.name.clone());
    }
    fn unregister(&self, sensor: &SensorInfo) {
        self.sensors.lock().unwrap().retain(|s| *s != sensor.name);
    }
}

#[tokio::test]
async fn decoy_records_connections_as_a_sensor_and_stops_on_rollback() {
    let sink = Arc::new(Recorder::default());
    let mut all = Executors::new();
    let decoys = Arc::new(DecoyManager::new(DecoyConfig { bind: "127.0.0.1".into(), port: 0 }, sink.clone()));
    all.register_with_inverse(decoys.clone());
    let h = harness(config(Mode::Autonomous), all);
    let r = h.manual(ActionKind::LaunchDecoy, "0", "cli:a").await;
    assert_eq!(r.status, ActionStatus::Verified, "{}", r.reason);
    let addr: SocketAddr = decoys.addr(&r.id).unwrap();
    assert_eq!(sink.sensors.lock().unwrap().as_slice(), &[format!("decoy-{}", addr.port())]);
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut banner = vec![0u8; 7];
    conn.read_exact(&mut banner).await.unwrap();
    assert_eq!(&banner, b"SSH-2.0");
    let hits = sink.hits.lock().unwrap().clone();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].peer.ip(), conn.local_addr().unwrap().ip());

    let back = h.responder.rollback(&tenant(), &r.id, "cli:a").await.unwrap();
    assert_eq!(back.status, ActionStatus::RolledBack);
    assert!(sink.sensors.lock().unwrap().is_empty(), "stopping unregisters the sensor");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "the listener is closed");
}
