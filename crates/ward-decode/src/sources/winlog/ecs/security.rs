//! Security audit events (logon, process, account, Kerberos, share, log cleared) and the
//! System log's service installs, in ECS terms.

use ward_model::Event;

use super::{Kind, kind, set_address, set_executable, set_port, set_user_fields};
use crate::sources::winlog::data::EventData;

const SUBJECT: [&str; 3] = ["SubjectUserName", "SubjectDomainName", "SubjectUserSid"];
const TARGET: [&str; 3] = ["TargetUserName", "TargetDomainName", "TargetUserSid"];
const TARGET_ACCOUNT: [&str; 3] = ["TargetUserName", "TargetDomainName", "TargetSid"];

/// `event.action` and categorization per Security event identifier.
pub(super) fn kind_of(id: i64) -> Option<Kind> {
    const AUTH: &[&str] = &["authentication"];
    const IAM: &[&str] = &["iam"];
    const SHARE: &[&str] = &["network", "file"];
    Some(match id {
        1102 => kind("audit-log-cleared", IAM, &["admin", "change"]),
        4624 => kind("logged-in", AUTH, &["start"]),
        4625 => kind("logon-failed", AUTH, &["start"]),
        4634 | 4647 => kind("logged-out", AUTH, &["end"]),
        4648 => kind("logged-in-explicit", AUTH, &["start"]),
        4672 => kind("logged-in-special", IAM, &["admin"]),
        4688 => kind("created-process", &["process"], &["start"]),
        4689 => kind("exited-process", &["process"], &["end"]),
        4720 => kind("added-user-account", IAM, &["user", "creation"]),
        4722 => kind("enabled-user-account", IAM, &["user", "change"]),
        4726 => kind("deleted-user-account", IAM, &["user", "deletion"]),
        4728 | 4732 | 4756 => kind("added-member-to-group", IAM, &["group", "change"]),
        4768 => kind("kerberos-authentication-ticket-requested", AUTH, &["start"]),
        4769 => kind("kerberos-service-ticket-requested", AUTH, &["start"]),
        4771 => kind("kerberos-preauth-failed", AUTH, &["start"]),
        5140 => kind("network-share-object-accessed", SHARE, &["access"]),
        5145 => kind("network-share-object-access-checked", SHARE, &["access"]),
        _ => return None,
    })
}

/// Maps the EventData of one Security event.
pub(super) fn map(ev: &mut Event, id: i64, d: &EventData) {
    match id {
        4624 | 4625 => logon(ev, id, d),
        4634 | 4647 => {
            set_user_fields(ev, "user", d, TARGET);
            ev.set_opt("winlog.logon.id", d.text("TargetLogonId"));
            ev.set_opt("winlog.logon.type", d.int("LogonType").and_then(logon_type));
        }
        4648 => {
            set_user_fields(ev, "user", d, SUBJECT);
            set_user_fields(ev, "user.effective", d, ["TargetUserName", "TargetDomainName", "-"]);
            set_source(ev, d);
            set_caller(ev, d);
        }
        4688 => process_created(ev, d),
        4689 => {
            set_user_fields(ev, "user", d, SUBJECT);
            set_caller(ev, d);
        }
        4720 | 4722 | 4726 => {
            set_user_fields(ev, "user", d, SUBJECT);
            set_user_fields(ev, "user.target", d, TARGET_ACCOUNT);
        }
        4728 | 4732 | 4756 => {
            set_user_fields(ev, "user", d, SUBJECT);
            set_user_fields(ev, "group", d, TARGET_ACCOUNT);
            set_user_fields(ev, "user.target", d, ["MemberName", "-", "MemberSid"]);
        }
        4768 | 4769 | 4771 => kerberos(ev, id, d),
        _ => {
            // 1102 (its fields come from UserData), 4672, 5140, 5145.
            set_user_fields(ev, "user", d, SUBJECT);
            set_source(ev, d);
        }
    }
}

/// Successful and failed logons: the account logged on, where from, and how.
fn logon(ev: &mut Event, id: i64, d: &EventData) {
    set_user_fields(ev, "user", d, TARGET);
    set_source(ev, d);
    ev.set_opt("source.domain", d.text("WorkstationName"));
    ev.set_opt("winlog.logon.id", d.text("TargetLogonId"));
    ev.set_opt("winlog.logon.type", d.int("LogonType").and_then(logon_type));
    set_caller(ev, d);
    if id == 4625 {
        ev.set("event.outcome", "failure");
    }
}

/// 4688: the new process, its parent (the creator) and the account that created it.
fn process_created(ev: &mut Event, d: &EventData) {
    set_user_fields(ev, "user", d, SUBJECT);
    if let Some(image) = d.text("NewProcessName") {
        set_executable(ev, "process", image);
    }
    ev.set_opt("process.pid", d.int("NewProcessId"));
    ev.set_opt("process.command_line", d.text("CommandLine"));
    if let Some(parent) = d.text("ParentProcessName") {
        set_executable(ev, "process.parent", parent);
    }
    ev.set_opt("process.parent.pid", d.int("ProcessId"));
}

/// Kerberos ticket requests: the account, the client address, and the result code.
fn kerberos(ev: &mut Event, id: i64, d: &EventData) {
    set_user_fields(ev, "user", d, ["TargetUserName", "TargetDomainName", "TargetSid"]);
    set_source(ev, d);
    ev.set_opt("service.name", d.text("ServiceName"));
    let ok = d.int("Status").map(|status| status == 0);
    match (id, ok) {
        (4771, _) | (_, Some(false)) => ev.set("event.outcome", "failure"),
        (_, Some(true)) => ev.set("event.outcome", "success"),
        _ => {}
    }
}

/// `source.ip` and `source.port` from `IpAddress` and `IpPort`.
fn set_source(ev: &mut Event, d: &EventData) {
    set_address(ev, "source.ip", d.text("IpAddress"));
    set_port(ev, "source.port", d, "IpPort");
}

/// The process that logged the audit: `ProcessName` and `ProcessId`.
fn set_caller(ev: &mut Event, d: &EventData) {
    if let Some(name) = d.text("ProcessName") {
        set_executable(ev, "process", name);
    }
    ev.set_opt("process.pid", d.int("ProcessId").filter(|pid| *pid > 0));
}

/// The names Windows gives logon types.
fn logon_type(t: i64) -> Option<&'static str> {
    Some(match t {
        0 => "System",
        2 => "Interactive",
        3 => "Network",
        4 => "Batch",
        5 => "Service",
        7 => "Unlock",
        8 => "NetworkCleartext",
        9 => "NewCredentials",
        10 => "RemoteInteractive",
        11 => "CachedInteractive",
        12 => "CachedRemoteInteractive",
        13 => "CachedUnlock",
        _ => return None,
    })
}

/// Categorization of the System log's Service Control Manager events Ward maps.
pub(super) fn service_kind_of(id: i64) -> Option<Kind> {
    (id == 7045).then(|| kind("service-installed", &["configuration"], &["creation"]))
}

/// 7045: a service was installed.
pub(super) fn map_service(ev: &mut Event, d: &EventData) {
    ev.set_opt("service.name", d.text("ServiceName"));
}
