//! End-to-end tests of the `ward` command-line contract (shared/design/CONTRACTS.md): output
//! shapes, the last stderr line, exit codes, input kinds (files, directories, `-`, `.gz`,
//! `.zip`) and `--source auto`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const EVE_OK: &str = r#"{"timestamp":"2016-10-14T15:29:08.218361+0000","flow_id":1219330291699854,"event_type":"dns","src_ip":"10.16.1.11","src_port":55487,"dest_ip":"10.16.1.1","dest_port":53,"proto":"UDP","dns":{"type":"query","id":57403,"rrname":"suricon.net","rrtype":"A","tx_id":0}}"#;
const EVE_ALERT: &str = r#"{"timestamp":"2016-10-14T15:29:09.000000+0000","event_type":"alert","src_ip":"10.16.1.11","src_port":1234,"dest_ip":"10.16.1.1","dest_port":80,"proto":"TCP","alert":{"action":"allowed","gid":1,"signature_id":2013028,"rev":7,"signature":"ET POLICY curl User-Agent Outbound","category":"Attempted Information Leak","severity":2}}"#;

fn ward(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .env_remove("WARD_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ward starts");
    let mut pipe = child.stdin.take().expect("stdin piped");
    pipe.write_all(stdin.unwrap_or_default()).expect("stdin written");
    drop(pipe);
    child.wait_with_output().expect("ward finishes")
}

fn stderr_lines(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stderr).lines().map(str::to_owned).collect()
}

fn stdout_events(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line is one JSON event"))
        .collect()
}

fn write(dir: &Path, name: &str, content: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, content).expect("fixture written");
    p.display().to_string()
}

#[test]
fn decode_prints_one_event_per_line_and_the_summary_last() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "eve.json", format!("{EVE_OK}\n{EVE_ALERT}\n").as_bytes());
    let o = ward(&["decode", "--source", "suricata", "--tenant", "acme", &path], None);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let events = stdout_events(&o);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["@timestamp"], "2016-10-14T15:29:08.218361Z");
    assert_eq!(events[0]["ward"]["tenant"], "acme");
    assert_eq!(events[0]["ward"]["source"], "suricata");
    assert_eq!(events[0]["event"]["original"], EVE_OK);
    assert_eq!(events[1]["rule"]["id"], "2013028");
    assert_eq!(stderr_lines(&o).last().map(String::as_str), Some("decoded=2 rejected=0"));
}

#[test]
fn rejected_records_are_reported_with_position_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let input = format!("{EVE_OK}\nnot json at all\n\n{{\"event_type\":\"dns\"}}\n{EVE_ALERT}\n");
    let path = write(dir.path(), "eve.json", input.as_bytes());
    let o = ward(&["decode", "--source", "suricata", &path], None);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stdout_events(&o).len(), 2);
    let lines = stderr_lines(&o);
    assert_eq!(lines.last().map(String::as_str), Some("decoded=2 rejected=2"));
    let rejects: Vec<serde_json::Value> =
        lines[..lines.len() - 1].iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rejects[0]["path"], path.as_str());
    assert_eq!(rejects[0]["line"], 2);
    assert_eq!(rejects[0]["offset"], EVE_OK.len() + 1);
    assert!(rejects[0]["reason"].as_str().unwrap().contains("JSON"), "{}", rejects[0]);
    assert_eq!(rejects[1]["line"], 4);
    assert!(rejects[1]["reason"].as_str().unwrap().contains("timestamp"), "{}", rejects[1]);
}

#[test]
fn oversized_records_are_rejected_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "eve.json", format!("{EVE_OK}\n{EVE_ALERT}\n").as_bytes());
    let o = ward(&["decode", "--source", "suricata", "--max-record-bytes", "300", &path], None);
    assert_eq!(o.status.code(), Some(2));
    let lines = stderr_lines(&o);
    assert!(lines[0].contains("exceeds the 300-byte limit"), "{}", lines[0]);
    assert_eq!(lines.last().map(String::as_str), Some("decoded=1 rejected=1"));
}

#[test]
fn stdin_gzip_zip_and_directories_are_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!("{EVE_OK}\n{EVE_ALERT}\n");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(body.as_bytes()).unwrap();
    write(dir.path(), "a.json.gz", &gz.finish().unwrap());
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("inner/eve.json", zip::write::SimpleFileOptions::default()).unwrap();
    zip.write_all(body.as_bytes()).unwrap();
    write(dir.path(), "b.zip", &zip.finish().unwrap().into_inner());
    write(dir.path(), "ignored.pcap", b"\xd4\xc3\xb2\xa1");
    let o = ward(
        &["decode", "--source", "suricata", &dir.path().display().to_string(), "-"],
        Some(body.as_bytes()),
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(stderr_lines(&o).last().map(String::as_str), Some("decoded=6 rejected=0"));
}

#[test]
fn auto_detection_says_what_it_chose() {
    let dir = tempfile::tempdir().unwrap();
    let eve = write(dir.path(), "eve.json", format!("{EVE_OK}\n").as_bytes());
    let odd = write(dir.path(), "notes.txt", b"hello there\n");
    let o = ward(&["decode", "--source", "auto", &eve, &odd], None);
    assert_eq!(o.status.code(), Some(2));
    let lines = stderr_lines(&o);
    let notes: Vec<serde_json::Value> =
        lines[..lines.len() - 1].iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(notes[0]["detected"], "suricata");
    assert_eq!(notes[1]["detected"], serde_json::Value::Null);
    assert!(notes[2]["reason"].as_str().unwrap().contains("not recognised"));
    assert_eq!(lines.last().map(String::as_str), Some("decoded=1 rejected=1"));
}

#[test]
fn fatal_errors_exit_1() {
    let o = ward(&["decode", "--source", "nosuch", "x"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown source"));
    let o = ward(&["decode", "--source", "suricata", "/definitely/not/here"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/definitely/not/here"));
    let o = ward(&["decode", "--source", "suricata", "--mapping", "m.yaml", "x"], None);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn ingest_writes_events_and_dead_letters_and_prints_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "eve.json", format!("{EVE_OK}\nbroken\n{EVE_ALERT}\n").as_bytes());
    let data = dir.path().join("data");
    let o = ward(&["ingest", "--no-progress", "--data-dir", &data.display().to_string(), &input], None);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("suricata") && table.contains("events/s"), "{table}");
    let events = std::fs::read_to_string(data.join("events.ndjson")).unwrap();
    assert_eq!(events.lines().count(), 2);
    let dead: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(data.join("deadletter.ndjson")).unwrap().trim())
            .unwrap();
    assert_eq!(dead["line"], 2);
    assert_eq!(dead["source"], "suricata");
}

/// The foundation's acceptance check: `ward decode` rejects nothing in the shared real corpora
/// when given whole directories, as an operator would.
#[test]
fn shared_real_corpora_decode_without_rejections() {
    let corpora = [
        ("suricata", "network/suricata_verify_eve", "decoded=8853 rejected=0"),
        ("evtx", "windows/sigmahq/regression_data", "decoded=238 rejected=0"),
        ("winlog", "windows/sigmahq/regression_data", "decoded=238 rejected=0"),
        ("syslog", "logs/loghub_2k/OpenSSH/OpenSSH_2k.log", "decoded=2000 rejected=0"),
        ("syslog", "logs/loghub_2k/Linux/Linux_2k.log", "decoded=2000 rejected=0"),
    ];
    for (source, rel, want) in corpora {
        let Some(path) = ward_testkit::shared(rel) else { return };
        let o = ward(&["decode", "--source", source, &path.display().to_string()], None);
        let lines = stderr_lines(&o);
        assert_eq!(
            lines.last().map(String::as_str),
            Some(want),
            "{source} on {rel}: {:?}",
            &lines[..lines.len().min(3)]
        );
        assert_eq!(o.status.code(), Some(0));
    }
}
