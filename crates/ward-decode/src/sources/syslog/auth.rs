//! `su`, `sudo` and cron messages → ECS authentication and process events.

use std::sync::LazyLock;

use regex::Regex;
use ward_model::Event;

use super::{Outcome, classify};
use crate::util;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("static pattern {pattern}: {e}"))
}

/// util-linux: `(to root) alice on pts/0`, `FAILED SU (to root) alice on pts/0`.
static SU_UTIL_LINUX: LazyLock<Regex> = LazyLock::new(|| re(r"^(FAILED SU )?\(to (\S+)\) (\S+) on (\S+)$"));
/// shadow-utils: `Successful su for root by alice`, `FAILED su for root by alice`.
static SU_SHADOW: LazyLock<Regex> = LazyLock::new(|| re(r"^(Successful|FAILED) su for (\S+) by (\S+)$"));
/// Cron: `(root) CMD (command)`.
static CRON: LazyLock<Regex> = LazyLock::new(|| re(r"^\((\S+)\) CMD \((.*)\)$"));

/// Maps an `su` message: who switched to whom, and whether it worked.
pub(super) fn su(ev: &mut Event, text: &str) {
    let (failed, target, actor, tty) = if let Some(c) = SU_UTIL_LINUX.captures(text) {
        (c.get(1).is_some(), c.get(2), c.get(3), c.get(4))
    } else if let Some(c) = SU_SHADOW.captures(text) {
        (&c[1] == "FAILED", c.get(2), c.get(3), None)
    } else {
        return;
    };
    let outcome = if failed { Outcome::Failure } else { Outcome::Success };
    classify(ev, "su", &["authentication"], &["start"], Some(outcome));
    if let Some(actor) = actor {
        util::set_user(ev, "user.name", actor.as_str());
    }
    if let Some(target) = target {
        util::set_user(ev, "user.effective.name", target.as_str());
    }
    ev.set_opt("system.auth.su.tty", tty.map(|m| m.as_str()));
}

/// Maps a `sudo` command line: `alice : [REASON ; ]TTY=pts/0 ; PWD=/home/alice ; USER=root ;
/// COMMAND=/usr/bin/id`. A leading item that is not `KEY=value` is the reason it was refused.
pub(super) fn sudo(ev: &mut Event, text: &str) {
    let Some((user, rest)) = text.split_once(" : ") else { return };
    let user = user.trim();
    let Some(cmd_at) = rest.find("COMMAND=").filter(|&i| i == 0 || rest[..i].ends_with("; ")) else { return };
    if user.is_empty() || user.contains(' ') {
        return;
    }
    let mut reason = None;
    for item in rest[..cmd_at].split(" ;").map(str::trim).filter(|i| !i.is_empty()) {
        match item.split_once('=') {
            Some(("TTY", v)) => ev.set("system.auth.sudo.tty", v),
            Some(("PWD", v)) => ev.set("process.working_directory", v),
            Some(("USER", v)) => util::set_user(ev, "user.effective.name", v),
            Some(("GROUP", v)) => ev.set("group.name", v),
            Some(_) => {}
            None => reason = Some(item),
        }
    }
    let outcome = if reason.is_some() { Outcome::Failure } else { Outcome::Success };
    classify(ev, "sudo", &["process"], &["start"], Some(outcome));
    util::set_user(ev, "user.name", user);
    ev.set_opt("event.reason", reason);
    ev.set("process.command_line", &rest[cmd_at + "COMMAND=".len()..]);
}

/// Maps a cron job start: `(USER) CMD (COMMAND)`.
pub(super) fn cron(ev: &mut Event, text: &str) {
    if let Some(c) = CRON.captures(text) {
        classify(ev, "cron_command", &["process"], &["start"], None);
        util::set_user(ev, "user.name", &c[1]);
        ev.set("process.command_line", &c[2]);
    }
}
