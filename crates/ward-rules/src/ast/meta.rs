//! Rule metadata and logsource.

use std::fmt;

/// How severe a match is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Enrichment only.
    Informational,
    /// Notable, rarely an incident.
    Low,
    /// Worth a manual review.
    Medium,
    /// Prompt review.
    High,
    /// Immediate review.
    Critical,
}

impl Level {
    /// Parses the Sigma spelling.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "informational" => Self::Informational,
            "low" => Self::Low,
            "medium" => Self::Medium,
            "high" => Self::High,
            "critical" => Self::Critical,
            _ => return None,
        })
    }

    /// The Sigma spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Informational => "informational",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule's maturity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Used for a long time without obvious false positives.
    Stable,
    /// No obvious false positives on a limited set of systems.
    Test,
    /// New, untested outside a lab.
    Experimental,
    /// Replaced by another rule.
    Deprecated,
    /// Cannot be used as is.
    Unsupported,
}

impl Status {
    /// Parses the Sigma spelling.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "stable" => Self::Stable,
            "test" => Self::Test,
            "experimental" => Self::Experimental,
            "deprecated" => Self::Deprecated,
            "unsupported" => Self::Unsupported,
            _ => return None,
        })
    }

    /// The Sigma spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stable => "stable",
            Self::Test => "test",
            Self::Experimental => "experimental",
            Self::Deprecated => "deprecated",
            Self::Unsupported => "unsupported",
        }
    }
}

/// A `related` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    /// The other rule's id.
    pub id: String,
    /// `derived`, `obsolete`, `merged`, `renamed` or `similar`.
    pub kind: String,
}

/// Descriptive attributes shared by rules, filters and correlations.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuleMeta {
    /// Title (mandatory).
    pub title: String,
    /// Unique id (a UUID in SigmaHQ).
    pub id: Option<String>,
    /// Unique name that correlations refer to.
    pub name: Option<String>,
    /// Maturity.
    pub status: Option<Status>,
    /// Severity.
    pub level: Option<Level>,
    /// Description.
    pub description: Option<String>,
    /// Author(s).
    pub author: Option<String>,
    /// Creation date as written.
    pub date: Option<String>,
    /// Last modification date as written.
    pub modified: Option<String>,
    /// References.
    pub references: Vec<String>,
    /// Tags (`attack.t1059.001`, `attack.execution`, `cve.2021-44228`, …).
    pub tags: Vec<String>,
    /// Known false positives.
    pub falsepositives: Vec<String>,
    /// Fields worth showing an analyst.
    pub fields: Vec<String>,
    /// Related rules.
    pub related: Vec<Related>,
    /// Licence.
    pub license: Option<String>,
    /// Intended scopes.
    pub scope: Vec<String>,
    /// Field taxonomy (`sigma` by default).
    pub taxonomy: Option<String>,
}

impl RuleMeta {
    /// The ATT&CK technique ids among the tags, upper-cased (`attack.t1059.001` → `T1059.001`).
    pub fn attack_techniques(&self) -> Vec<String> {
        self.tags.iter().filter_map(|t| technique_of(t)).collect()
    }
}

/// The ATT&CK technique id of one tag, if it names a technique.
pub fn technique_of(tag: &str) -> Option<String> {
    let rest = tag.strip_prefix("attack.")?;
    let id = rest.strip_prefix(['t', 'T'])?;
    let (main, sub) = match id.split_once('.') {
        Some((m, s)) => (m, Some(s)),
        None => (id, None),
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(main, 4) || sub.is_some_and(|s| !digits(s, 3)) {
        return None;
    }
    Some(match sub {
        Some(s) => format!("T{main}.{s}"),
        None => format!("T{main}"),
    })
}

/// The logsource of a rule: any combination of product, category and service.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Logsource {
    /// `windows`, `linux`, `aws`, …
    pub product: Option<String>,
    /// `process_creation`, `proxy`, `dns`, …
    pub category: Option<String>,
    /// `security`, `sysmon`, `sshd`, …
    pub service: Option<String>,
    /// Free-text description of what must be logged.
    pub definition: Option<String>,
}

impl fmt::Display for Logsource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = [("product", &self.product), ("category", &self.category), ("service", &self.service)];
        let mut first = true;
        for (name, value) in parts {
            if let Some(v) = value {
                if !first {
                    f.write_str(" ")?;
                }
                write!(f, "{name}={v}")?;
                first = false;
            }
        }
        if first {
            f.write_str("an empty logsource")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn technique_tags_become_attack_ids() {
        assert_eq!(technique_of("attack.t1059.001").as_deref(), Some("T1059.001"));
        assert_eq!(technique_of("attack.t1218").as_deref(), Some("T1218"));
        assert_eq!(technique_of("attack.execution"), None);
        assert_eq!(technique_of("attack.g0007"), None);
        assert_eq!(technique_of("cve.2021-44228"), None);
        assert_eq!(technique_of("attack.t10599"), None);
    }
}
