//! Sysmon (`Microsoft-Windows-Sysmon/Operational`) events in ECS terms.

use ward_model::{Event, FieldValue};

use super::{Kind, kind, set_account, set_address, set_executable, set_file, set_hashes, set_port};
use crate::sources::winlog::data::EventData;

/// `event.action` and categorization per Sysmon event identifier.
pub(super) fn kind_of(id: i64) -> Option<Kind> {
    const PROCESS: &[&str] = &["process"];
    const FILE: &[&str] = &["file"];
    const REGISTRY: &[&str] = &["registry"];
    Some(match id {
        1 => kind("process-created", PROCESS, &["start"]),
        2 => kind("file-creation-time-changed", FILE, &["change"]),
        3 => kind("network-connection", &["network"], &["connection", "start"]),
        4 => kind("sysmon-service-state-changed", &["configuration"], &["change"]),
        5 => kind("process-terminated", PROCESS, &["end"]),
        6 => kind("driver-loaded", &["driver"], &["start"]),
        7 => kind("image-loaded", PROCESS, &["change"]),
        8 => kind("created-remote-thread", PROCESS, &["change"]),
        9 => kind("raw-access-read", FILE, &["access"]),
        10 => kind("process-accessed", PROCESS, &["access"]),
        11 => kind("file-created", FILE, &["creation"]),
        12 => kind("registry-key-created-or-deleted", REGISTRY, &["change"]),
        13 => kind("registry-value-set", REGISTRY, &["change"]),
        14 => kind("registry-key-renamed", REGISTRY, &["change"]),
        15 => kind("file-stream-created", FILE, &["creation"]),
        16 => kind("sysmon-configuration-changed", &["configuration"], &["change"]),
        17 => kind("pipe-created", FILE, &["creation"]),
        18 => kind("pipe-connected", FILE, &["access"]),
        19 => kind("wmi-filter-registered", &["configuration"], &["change"]),
        20 => kind("wmi-consumer-registered", &["configuration"], &["change"]),
        21 => kind("wmi-consumer-bound-to-filter", &["configuration"], &["change"]),
        22 => kind("dns-query", &["network"], &["connection", "protocol", "info"]),
        23 => kind("file-deleted", FILE, &["deletion"]),
        24 => kind("clipboard-changed", PROCESS, &["change"]),
        25 => kind("process-tampering", PROCESS, &["change"]),
        26 => kind("file-deleted-detected", FILE, &["deletion"]),
        27 => kind("file-block-executable", FILE, &["creation", "denied"]),
        28 => kind("file-block-shredding", FILE, &["deletion", "denied"]),
        29 => kind("file-executable-detected", FILE, &["creation"]),
        _ => return None,
    })
}

/// Maps the EventData of one Sysmon event.
pub(super) fn map(ev: &mut Event, id: i64, d: &EventData) {
    if matches!(id, 8 | 10) {
        // The acting process is the source; the target stays in EventData.
        set_process(ev, "process", d, ["SourceImage", "SourceProcessId", "SourceProcessGuid"]);
        ev.set_opt("process.entity_id", d.text("SourceProcessGUID"));
        if let Some(user) = d.text("SourceUser") {
            set_account(ev, "user", user);
        }
    } else {
        set_process(ev, "process", d, ["Image", "ProcessId", "ProcessGuid"]);
        if let Some(user) = d.text("User") {
            set_account(ev, "user", user);
        }
    }
    match id {
        1 => process_created(ev, d),
        3 => network(ev, d),
        6 | 7 => image_loaded(ev, id, d),
        2 | 11 | 15 | 23 | 26..=29 => file(ev, d),
        12..=14 => registry(ev, id, d),
        17 | 18 => ev.set_opt("file.name", d.text("PipeName")),
        22 => dns(ev, d),
        _ => {}
    }
}

/// `process.executable/name/pid/entity_id` from three EventData fields.
fn set_process(ev: &mut Event, prefix: &str, d: &EventData, [image, pid, guid]: [&str; 3]) {
    if let Some(image) = d.text(image) {
        set_executable(ev, prefix, image);
    }
    ev.set_opt(&format!("{prefix}.pid"), d.int(pid));
    ev.set_opt(&format!("{prefix}.entity_id"), d.text(guid));
}

fn process_created(ev: &mut Event, d: &EventData) {
    ev.set_opt("process.command_line", d.text("CommandLine"));
    ev.set_opt("process.working_directory", d.text("CurrentDirectory"));
    ev.set_opt("process.pe.original_file_name", d.text("OriginalFileName"));
    ev.set_opt("process.pe.description", d.text("Description"));
    ev.set_opt("process.pe.product", d.text("Product"));
    ev.set_opt("process.pe.company", d.text("Company"));
    ev.set_opt("process.pe.file_version", d.text("FileVersion"));
    if let Some(hashes) = d.text("Hashes") {
        set_hashes(ev, "process.hash", "process.pe", hashes);
    }
    set_process(ev, "process.parent", d, ["ParentImage", "ParentProcessId", "ParentProcessGuid"]);
    ev.set_opt("process.parent.command_line", d.text("ParentCommandLine"));
}

fn network(ev: &mut Event, d: &EventData) {
    ev.set_opt("network.transport", d.text("Protocol").map(str::to_ascii_lowercase));
    let ipv6 = d.text("SourceIsIpv6").or(d.text("DestinationIsIpv6"));
    ev.set_opt("network.type", ipv6.map(|v| if v.eq_ignore_ascii_case("true") { "ipv6" } else { "ipv4" }));
    let initiated = d.text("Initiated").map(|v| v.eq_ignore_ascii_case("true"));
    ev.set_opt("network.direction", initiated.map(|out| if out { "egress" } else { "ingress" }));
    for (side, ip, port, host) in [
        ("source", "SourceIp", "SourcePort", "SourceHostname"),
        ("destination", "DestinationIp", "DestinationPort", "DestinationHostname"),
    ] {
        set_address(ev, &format!("{side}.ip"), d.text(ip));
        set_port(ev, &format!("{side}.port"), d, port);
        ev.set_opt(&format!("{side}.domain"), d.text(host));
    }
}

/// Driver (6) and image (7) loads: the loaded file is `file.*` or `dll.*`.
fn image_loaded(ev: &mut Event, id: i64, d: &EventData) {
    let prefix = if id == 6 { "file" } else { "dll" };
    if let Some(path) = d.text("ImageLoaded") {
        ev.set(&format!("{prefix}.path"), path);
        ev.set(&format!("{prefix}.name"), super::file_name(path));
    }
    ev.set_opt(&format!("{prefix}.pe.original_file_name"), d.text("OriginalFileName"));
    if let Some(hashes) = d.text("Hashes") {
        set_hashes(ev, &format!("{prefix}.hash"), &format!("{prefix}.pe"), hashes);
    }
    if let Some(signed) = d.text("Signed") {
        ev.set(&format!("{prefix}.code_signature.signed"), signed.eq_ignore_ascii_case("true"));
    }
    ev.set_opt(&format!("{prefix}.code_signature.subject_name"), d.text("Signature"));
    ev.set_opt(&format!("{prefix}.code_signature.status"), d.text("SignatureStatus"));
}

fn file(ev: &mut Event, d: &EventData) {
    if let Some(path) = d.text("TargetFilename") {
        set_file(ev, path);
    }
    if let Some(hashes) = d.text("Hashes").or(d.text("Hash")) {
        set_hashes(ev, "file.hash", "file.pe", hashes);
    }
}

/// Registry events: `TargetObject` is `HIVE\key[\value]`; a value set (13) names the value and
/// its data.
fn registry(ev: &mut Event, id: i64, d: &EventData) {
    if let Some(event_type) = d.text("EventType") {
        let types: &[&str] = match event_type {
            "CreateKey" => &["creation"],
            "DeleteKey" | "DeleteValue" => &["deletion"],
            _ => &["change"],
        };
        ev.set("event.type", FieldValue::List(types.iter().map(|t| FieldValue::from(*t)).collect()));
    }
    let Some(path) = d.text("TargetObject") else { return };
    ev.set("registry.path", path);
    let (hive, key) = path.split_once('\\').unwrap_or((path, ""));
    ev.set("registry.hive", hive);
    let key = if id == 13 {
        let (key, value) = key.rsplit_once('\\').unwrap_or(("", key));
        ev.set("registry.value", value);
        if let Some(details) = d.get("Details").and_then(FieldValue::as_str) {
            ev.set("registry.data.strings", FieldValue::List(vec![details.into()]));
        }
        key
    } else {
        key
    };
    if !key.is_empty() {
        ev.set("registry.key", key);
    }
}

/// DNS queries: the name, and the addresses among the `;`-separated results.
fn dns(ev: &mut Event, d: &EventData) {
    ev.set_opt("dns.question.name", d.text("QueryName"));
    ev.set("network.protocol", "dns");
    let Some(results) = d.text("QueryResults") else { return };
    let mut ips = Vec::new();
    for answer in results.split(';').map(str::trim) {
        let text = answer.strip_prefix("::ffff:").unwrap_or(answer);
        if let Ok(ip) = text.parse::<std::net::IpAddr>() {
            ev.push("related.ip", ip);
            ips.push(FieldValue::Ip(ip));
        }
    }
    if !ips.is_empty() {
        ev.set("dns.resolved_ip", FieldValue::List(ips));
    }
}
