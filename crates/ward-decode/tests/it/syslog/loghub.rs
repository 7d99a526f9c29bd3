//! The loghub OpenSSH and Linux corpora, decoded whole and checked line by line against loghub's
//! structured CSV (the parsing oracle): host, program, PID, message, time, and the event each
//! line's template says it is.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::Datelike;
use regex::Regex;
use ward_decode::SourceKind;
use ward_model::{Event, FieldValue};

use super::{int, num, shown, text};
use crate::common::decode_paths;

/// Rows of loghub's structured CSV (RFC 4180 quoting, no embedded newlines) keyed by header.
fn read_oracle(path: &Path) -> Vec<BTreeMap<String, String>> {
    let data = std::fs::read_to_string(path).expect("oracle CSV readable");
    let mut lines = data.lines().map(split_csv);
    let header = lines.next().expect("CSV header");
    lines.map(|row| header.iter().cloned().zip(row).collect()).collect()
}

fn split_csv(line: &str) -> Vec<String> {
    let (mut fields, mut cur, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    assert!(!quoted, "unbalanced quotes: {line}");
    fields.push(cur);
    fields
}

/// The `<*>` values of a loghub template in a message.
fn template_values(template: &str, content: &str) -> Vec<String> {
    let pattern = format!("^{}$", regex::escape(template).replace(r"<\*>", "(.*?)"));
    let caps = Regex::new(&pattern)
        .expect("template as regex")
        .captures(content)
        .unwrap_or_else(|| panic!("{content:?} !~ {template:?}"));
    caps.iter().skip(1).map(|m| m.map_or_else(String::new, |m| m.as_str().to_owned())).collect()
}

/// Checks what every loghub line shares: time (month, day, clock; year by the rule), message.
fn check_line(ev: &Event, row: &BTreeMap<String, String>, month_col: &str, day_col: &str) {
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| *m == row[month_col])
        .expect("month abbreviation") as u32
        + 1;
    let ts = ev.timestamp();
    assert_eq!((ts.year(), ts.month(), ts.day()), (2025, month, num(&row[day_col]) as u32), "{row:?}");
    assert_eq!(ts.format("%H:%M:%S").to_string(), row["Time"], "{row:?}");
    assert_eq!(text(ev, "message"), Some(row["Content"].as_str()), "{row:?}");
    assert_eq!(text(ev, "event.kind"), Some("event"));
}

fn check_source(ev: &Event, addr: &str) {
    if addr.parse::<std::net::IpAddr>().is_ok() {
        assert_eq!(shown(ev, "source.ip").as_deref(), Some(addr), "{}", ev.original());
        assert!(matches!(ev.get("related.ip"), Some(FieldValue::List(l)) if l.len() == 1));
    } else {
        assert_eq!(text(ev, "source.domain"), Some(addr), "{}", ev.original());
    }
}

fn check_login(ev: &Event, outcome: &str, method: &str, user: &str, ip: &str, port: &str) {
    assert_eq!(text(ev, "event.action"), Some("ssh_login"), "{}", ev.original());
    assert_eq!(text(ev, "event.outcome"), Some(outcome));
    assert_eq!(text(ev, "system.auth.ssh.method"), Some(method));
    assert_eq!(text(ev, "user.name"), Some(user));
    check_source(ev, ip);
    assert_eq!(int(ev, "source.port"), Some(num(port)));
}

/// Checks one OpenSSH line against its loghub template; returns the expected `event.action`.
fn check_openssh(ev: &Event, template: &str, content: &str) -> Option<&'static str> {
    let v = template_values(template, content);
    let action = match template {
        "Accepted password for <*> from <*> port <*> ssh2" => {
            check_login(ev, "success", "password", &v[0], &v[1], &v[2]);
            "ssh_login"
        }
        "Failed password for <*> from <*> port <*> ssh2" => {
            check_login(ev, "failure", "password", &v[0], &v[1], &v[2]);
            assert!(ev.get("system.auth.ssh.invalid_user").is_none());
            "ssh_login"
        }
        "Failed password for invalid user <*> from <*> port <*> ssh2"
        | "Failed none for invalid user <*> from <*> port <*> ssh2" => {
            let method = if template.starts_with("Failed none") { "none" } else { "password" };
            check_login(ev, "failure", method, &v[0], &v[1], &v[2]);
            assert_eq!(ev.get("system.auth.ssh.invalid_user"), Some(&FieldValue::Bool(true)));
            "ssh_login"
        }
        "message repeated <*> times: [ Failed password for root from <*> port <*>]" => {
            let port = v[2].split(' ').next().unwrap_or_default();
            check_login(ev, "failure", "password", "root", &v[1], port);
            assert_eq!(int(ev, "syslog.repeated"), Some(num(&v[0])));
            "ssh_login"
        }
        "Invalid user <*> from <*>" => {
            assert_eq!(text(ev, "user.name"), Some(v[0].as_str()));
            check_source(ev, &v[1]);
            "ssh_invalid_user"
        }
        "input_userauth_request: invalid user <*> [preauth]" => {
            assert_eq!(text(ev, "user.name"), Some(v[0].as_str()));
            "ssh_invalid_user"
        }
        "Connection closed by <*> [preauth]" => {
            check_source(ev, &v[0]);
            "ssh_connection_closed"
        }
        "Did not receive identification string from <*>" => {
            check_source(ev, &v[0]);
            assert_eq!(text(ev, "event.outcome"), Some("failure"));
            "ssh_no_identification"
        }
        "Disconnecting: Too many authentication failures for admin [preauth]"
        | "Disconnecting: Too many authentication failures for root [preauth]" => {
            assert_eq!(text(ev, "user.name"), template.split(' ').nth(6));
            "ssh_max_auth_exceeded"
        }
        t if t.contains("Received disconnect from <*>: <*>: ") => {
            check_source(ev, &v[0]);
            assert_eq!(int(ev, "system.auth.ssh.disconnect_code"), Some(num(&v[1])));
            let reason = t.split("<*>: ").nth(2).unwrap_or_default().trim_end_matches(" [preauth]");
            assert_eq!(text(ev, "event.reason"), Some(reason));
            assert_eq!(text(ev, "log.level"), t.starts_with("error:").then_some("error"));
            "ssh_disconnect"
        }
        t if t.starts_with("PAM <*> more authentication failure") => {
            assert_eq!(int(ev, "system.auth.pam.more_failures"), Some(num(&v[0])));
            check_source(ev, &v[3]);
            assert_eq!(text(ev, "user.name"), t.ends_with("user=root").then_some("root"));
            "pam_auth_failure"
        }
        t if t.starts_with("pam_unix(sshd:auth): authentication failure;") => {
            // The template has one space before `user=` where sshd writes two.
            check_source(ev, v[2].trim_end());
            assert_eq!(text(ev, "user.name"), v.get(3).map(String::as_str));
            assert_eq!(text(ev, "system.auth.pam.module"), Some("pam_unix"));
            "pam_auth_failure"
        }
        "pam_unix(sshd:auth): check pass; user unknown" => "pam_user_unknown",
        "pam_unix(sshd:session): session opened for user <*> by (uid=<*>)" => {
            assert_eq!(text(ev, "user.name"), Some(v[0].as_str()));
            assert_eq!(int(ev, "system.auth.pam.by_uid"), Some(num(&v[1])));
            "session_opened"
        }
        "pam_unix(sshd:session): session closed for user <*>" => {
            assert_eq!(text(ev, "user.name"), Some(v[0].as_str()));
            "session_closed"
        }
        "reverse mapping checking getaddrinfo for <*> [<*>] failed - POSSIBLE BREAK-IN ATTEMPT!" => {
            assert_eq!(text(ev, "source.domain"), Some(v[0].as_str()));
            check_source(ev, &v[1]);
            "ssh_reverse_mapping_failed"
        }
        "fatal: Write failed: Connection reset by peer [preauth]"
        | "PAM service(sshd) ignoring max retries; <*> > <*>" => {
            return None;
        }
        other => panic!("template not covered by the test: {other}"),
    };
    Some(action)
}

/// Counts `(action, outcome)` pairs over events.
fn tally<'a>(events: impl Iterator<Item = &'a Event>) -> BTreeMap<(String, String), usize> {
    let mut counts = BTreeMap::new();
    for e in events {
        if let Some(action) = text(e, "event.action") {
            let key = (action.to_owned(), text(e, "event.outcome").unwrap_or("-").to_owned());
            *counts.entry(key).or_default() += 1;
        }
    }
    counts
}

#[test]
fn openssh_corpus_matches_loghub_oracle() {
    let Some(dir) = ward_testkit::shared("logs/loghub_2k/OpenSSH") else { return };
    let (c, summary) = decode_paths(SourceKind::Syslog, &[dir.join("OpenSSH_2k.log")]);
    assert_eq!((summary.decoded(), summary.rejected()), (2000, 0), "{:?}", c.rejections.first());
    let rows = read_oracle(&dir.join("OpenSSH_2k.log_structured.csv"));
    assert_eq!(rows.len(), 2000);
    let mut expected: BTreeMap<&str, usize> = BTreeMap::new();
    for (ev, row) in c.events.iter().zip(&rows) {
        check_line(ev, row, "Date", "Day");
        assert_eq!(text(ev, "host.hostname"), Some(row["Component"].as_str()));
        assert_eq!((text(ev, "process.name"), text(ev, "log.syslog.appname")), (Some("sshd"), Some("sshd")));
        assert_eq!(int(ev, "process.pid"), Some(row["Pid"].parse().unwrap()));
        let want = check_openssh(ev, &row["EventTemplate"], &row["Content"]);
        assert_eq!(text(ev, "event.action"), want, "{}", ev.original());
        *expected.entry(want.unwrap_or("-")).or_default() += 1;
    }
    let got = tally(c.events.iter());
    let count = |action: &str, outcome: &str| got.get(&(action.into(), outcome.into())).copied().unwrap_or(0);
    let from_csv =
        |templates: &[&str]| rows.iter().filter(|r| templates.contains(&r["EventId"].as_str())).count();
    assert_eq!(count("ssh_login", "success"), from_csv(&["E1"]));
    assert_eq!(count("ssh_login", "failure"), from_csv(&["E8", "E9", "E10", "E14"]));
    assert_eq!(count("ssh_invalid_user", "failure"), from_csv(&["E12", "E13"]));
    assert_eq!(count("pam_auth_failure", "failure"), from_csv(&["E15", "E16", "E17", "E19", "E20"]));
    assert_eq!(count("ssh_disconnect", "-"), from_csv(&["E6", "E7", "E24", "E25", "E26"]));
    assert_eq!(count("ssh_reverse_mapping_failed", "-"), from_csv(&["E27"]));
    snapshot("openssh_actions", &expected);
}

#[test]
fn linux_corpus_matches_loghub_oracle() {
    let Some(dir) = ward_testkit::shared("logs/loghub_2k/Linux") else { return };
    let (c, summary) = decode_paths(SourceKind::Syslog, &[dir.join("Linux_2k.log")]);
    assert_eq!((summary.decoded(), summary.rejected()), (2000, 0), "{:?}", c.rejections.first());
    let rows = read_oracle(&dir.join("Linux_2k.log_structured.csv"));
    assert_eq!(rows.len(), 2000);
    let mut actions: BTreeMap<&str, usize> = BTreeMap::new();
    for (ev, row) in c.events.iter().zip(&rows) {
        check_line(ev, row, "Month", "Date");
        assert_eq!(text(ev, "host.hostname"), Some(row["Level"].as_str()));
        let component = row["Component"].as_str();
        assert_eq!(text(ev, "log.syslog.appname"), Some(component));
        assert_eq!(text(ev, "process.name"), Some(component.trim_end_matches("(pam_unix)")));
        assert_eq!(int(ev, "process.pid"), row["PID"].parse().ok(), "{row:?}");
        let want = check_linux(ev, &row["EventTemplate"], &row["Content"]);
        assert_eq!(text(ev, "event.action"), want, "{}", ev.original());
        *actions.entry(want.unwrap_or("-")).or_default() += 1;
    }
    snapshot("linux_actions", &actions);
}

/// Checks one Linux line against its loghub template; returns the expected `event.action`.
fn check_linux(ev: &Event, template: &str, content: &str) -> Option<&'static str> {
    let v = template_values(template, content);
    if template.starts_with("authentication failure; logname= uid=0 euid=0 tty=") {
        assert_eq!(text(ev, "event.outcome"), Some("failure"));
        match v.first() {
            Some(rhost) => check_source(ev, rhost.trim_end()),
            None => assert!(ev.get("source.ip").is_none() && ev.get("source.domain").is_none()),
        }
        let user = template.rsplit_once("  user=").map(|(_, u)| u);
        assert_eq!(text(ev, "user.name"), user, "{content}");
        return Some("pam_auth_failure");
    }
    match template {
        "check pass; user unknown" => Some("pam_user_unknown"),
        "session opened for user <*> by (uid=<*>)" | "session opened for user <*> by LOGIN(uid=<*>)" => {
            assert_eq!(text(ev, "user.name"), Some(v[0].as_str()));
            assert_eq!(int(ev, "system.auth.pam.by_uid"), Some(num(&v[1])));
            assert_eq!(text(ev, "system.auth.pam.by_user"), template.contains("LOGIN").then_some("LOGIN"));
            Some("session_opened")
        }
        "session closed for user <*>" => {
            assert_eq!(text(ev, "user.name"), Some(v[0].as_str()));
            Some("session_closed")
        }
        _ => None,
    }
}

/// Snapshots next to the other decoder snapshots, in `tests/it/snapshots/`.
fn snapshot(name: &str, counts: &BTreeMap<&str, usize>) {
    insta::with_settings!({ snapshot_path => "../snapshots" }, {
        insta::assert_json_snapshot!(name, counts);
    });
}
