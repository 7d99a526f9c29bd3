//! PowerShell Operational events: module logging (4103) and script block logging (4104).

use ward_model::Event;

use super::{Kind, kind, set_account};
use crate::sources::winlog::data::{EventData, parse_int};

/// Categorization per PowerShell event identifier.
pub(super) fn kind_of(id: i64) -> Option<Kind> {
    match id {
        4103 => Some(kind("executed-pipeline", &["process"], &["info"])),
        4104 => Some(kind("executed-script-block", &["process"], &["info"])),
        _ => None,
    }
}

/// Maps the EventData of one PowerShell event.
pub(super) fn map(ev: &mut Event, id: i64, d: &EventData) {
    if id == 4104 {
        ev.set_opt("powershell.file.script_block_text", d.text("ScriptBlockText"));
        ev.set_opt("powershell.file.script_block_id", d.text("ScriptBlockId"));
        ev.set_opt("powershell.sequence", d.int("MessageNumber"));
        ev.set_opt("powershell.total", d.int("MessageTotal"));
        ev.set_opt("file.path", d.text("Path"));
    } else if let Some(context) = d.text("ContextInfo") {
        context_info(ev, context);
    }
}

/// 4103's `ContextInfo` is `Key = Value` lines (`Host Application = powershell.exe -enc …`).
fn context_info(ev: &mut Event, context: &str) {
    for (key, value) in context.lines().filter_map(|l| l.split_once(" = ")) {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match key.trim() {
            "Host Application" => ev.set("process.command_line", value),
            "Command Name" => ev.set("powershell.command.name", value),
            "Command Type" => ev.set("powershell.command.type", value),
            "Script Name" => ev.set("file.path", value),
            "User" => set_account(ev, "user", value),
            "Host ID" => ev.set("powershell.id", value),
            "Runspace ID" => ev.set("powershell.runspace_id", value),
            "Pipeline ID" => ev.set_opt("powershell.pipeline_id", parse_int(value)),
            "Sequence Number" => ev.set_opt("powershell.sequence", parse_int(value)),
            "Host Version" => ev.set("powershell.process.executable_version", value),
            "Engine Version" => ev.set("powershell.engine.version", value),
            _ => {}
        }
    }
}
