//! Real-shaped sensor records.

pub const COWRIE_LOGIN: &str = r#"{"eventid":"cowrie.login.failed","username":"root","password":"123456","message":"login attempt [root/123456] failed","sensor":"hp1","timestamp":"2026-11-25T18:42:18.102344Z","src_ip":"203.0.113.7","session":"db4f42456091","protocol":"ssh"}"#;
pub const COWRIE_CONNECT: &str = r#"{"eventid":"cowrie.session.connect","src_ip":"198.51.100.23","src_port":36536,"dst_ip":"10.0.0.5","dst_port":2222,"session":"a1b2c3d4e5f6","protocol":"ssh","message":"New connection","sensor":"hp1","timestamp":"2026-11-25T18:42:17.465560Z"}"#;
pub const EVE_DNS: &str = r#"{"timestamp":"2016-10-14T15:29:08.218361+0000","flow_id":1219330291699854,"event_type":"dns","src_ip":"10.16.1.11","src_port":55487,"dest_ip":"10.16.1.1","dest_port":53,"proto":"UDP","dns":{"type":"query","id":57403,"rrname":"suricon.net","rrtype":"A","tx_id":0}}"#;
pub const SYSLOG_SSHD: &str =
    "<38>Nov 25 18:42:19 web01 sshd[1234]: Failed password for root from 192.0.2.44 port 50222 ssh2";

/// `n` distinct Cowrie login records as NDJSON.
pub fn cowrie_ndjson(n: usize) -> String {
    (0..n).map(|i| COWRIE_LOGIN.replace("db4f42456091", &format!("s{i:011}")) + "\n").collect()
}
