//! Safety controls applied outside policy, so no policy mistake can switch them off: protected
//! assets, private/loopback/own ranges (unless explicitly allowed) and per-action rate limits.
//! The kill switch and the operating mode live in the `Responder`, which owns the store.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use ipnet::IpNet;

use crate::config::GuardConfig;
use crate::model::ActionKind;

/// Why a guard refused an action; `code` names the guard in audit records.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The kill switch is on.
    #[error("kill switch is on: automated and manual actions are stopped")]
    KillSwitch,
    /// The target is on the protected-asset list.
    #[error("target {0} is a protected asset")]
    Protected(String),
    /// The target is private, loopback, link-local or Ward's own range.
    #[error("target {target} is in a {range} range; add it to respond.guards.allow_ranges to allow")]
    Range {
        /// Target.
        target: String,
        /// `private`, `loopback`, `link-local`, `own`, …
        range: &'static str,
    },
    /// Too many executions of this action in the last minute.
    #[error("rate limit: at most {limit} {action} per minute")]
    RateLimit {
        /// Action.
        action: ActionKind,
        /// Configured limit.
        limit: u32,
    },
    /// The target is invalid or the action unavailable.
    #[error("{0}")]
    Invalid(String),
}

impl Refusal {
    /// Short name used in audit events (`guard.<code>`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::KillSwitch => "kill_switch",
            Self::Protected(_) => "protected_asset",
            Self::Range { .. } => "private_range",
            Self::RateLimit { .. } => "rate_limit",
            Self::Invalid(_) => "invalid",
        }
    }
}

enum Protected {
    Name(String),
    Net(IpNet),
}

/// The configured guards with their rate-limit windows.
pub struct Guards {
    protected: Vec<Protected>,
    own: Vec<IpNet>,
    allow: Vec<IpNet>,
    limits: BTreeMap<ActionKind, u32>,
    windows: Mutex<HashMap<ActionKind, VecDeque<DateTime<Utc>>>>,
}

fn net(text: &str) -> Option<IpNet> {
    text.parse::<IpNet>().ok().or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

impl Guards {
    /// From `[respond.guards]` (invalid entries were reported by config validation and are skipped).
    pub fn new(config: &GuardConfig) -> Self {
        let protected = config
            .protected_assets
            .iter()
            .map(|p| net(p).map(Protected::Net).unwrap_or_else(|| Protected::Name(p.to_ascii_lowercase())))
            .collect();
        let limits = config
            .rate_limits
            .iter()
            .filter_map(|(k, v)| Some((k.parse::<ActionKind>().ok()?, *v)))
            .collect();
        Self {
            protected,
            own: config.own_ranges.iter().filter_map(|r| net(r)).collect(),
            allow: config.allow_ranges.iter().filter_map(|r| net(r)).collect(),
            limits,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Checks the protected-asset list and, for actions that cut something off, the ranges.
    ///
    /// # Errors
    /// The first guard that refuses.
    pub fn check_target(&self, kind: ActionKind, target: &str) -> Result<(), Refusal> {
        let ip = target.parse::<IpAddr>().ok();
        let lowered = target.to_ascii_lowercase();
        for p in &self.protected {
            let hit = match p {
                Protected::Name(n) => *n == lowered,
                Protected::Net(n) => ip.is_some_and(|ip| n.contains(&ip)),
            };
            if hit {
                return Err(Refusal::Protected(target.to_owned()));
            }
        }
        let cuts_off = matches!(kind, ActionKind::BlockIp | ActionKind::IsolateHost);
        if let (true, Some(ip)) = (cuts_off, ip)
            && !self.allow.iter().any(|n| n.contains(&ip))
            && let Some(range) = self.special_range(ip)
        {
            return Err(Refusal::Range { target: target.to_owned(), range });
        }
        Ok(())
    }

    fn special_range(&self, ip: IpAddr) -> Option<&'static str> {
        if self.own.iter().any(|n| n.contains(&ip)) {
            return Some("own");
        }
        match ip {
            IpAddr::V4(v4) if v4.is_loopback() => Some("loopback"),
            IpAddr::V4(v4) if v4.is_private() => Some("private"),
            IpAddr::V4(v4) if v4.is_link_local() => Some("link-local"),
            IpAddr::V4(v4) if v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast() => {
                Some("special")
            }
            IpAddr::V4(v4) if v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64 => {
                Some("shared (CGNAT)")
            }
            IpAddr::V6(v6) if v6.is_loopback() => Some("loopback"),
            IpAddr::V6(v6) if v6.is_unique_local() => Some("private"),
            IpAddr::V6(v6) if v6.is_unicast_link_local() => Some("link-local"),
            IpAddr::V6(v6) if v6.is_unspecified() || v6.is_multicast() => Some("special"),
            IpAddr::V6(v6) => v6.to_ipv4_mapped().and_then(|v4| self.special_range(IpAddr::V4(v4))),
            IpAddr::V4(_) => None,
        }
    }

    /// Takes one slot of `kind`'s per-minute budget at `now`.
    ///
    /// # Errors
    /// [`Refusal::RateLimit`] when the last minute's budget is used up.
    pub fn take_rate(&self, kind: ActionKind, now: DateTime<Utc>) -> Result<(), Refusal> {
        let Some(&limit) = self.limits.get(&kind) else { return Ok(()) };
        let mut windows =
            self.windows.lock().map_err(|_| Refusal::Invalid("rate limiter poisoned".into()))?;
        let window = windows.entry(kind).or_default();
        while window.front().is_some_and(|t| *t <= now - Duration::seconds(60)) {
            window.pop_front();
        }
        if window.len() >= limit as usize {
            return Err(Refusal::RateLimit { action: kind, limit });
        }
        window.push_back(now);
        Ok(())
    }
}
