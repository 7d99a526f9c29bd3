//! Stream names and subjects of one log, all namespaced by its prefix.

use crate::{LogError, Topic};

/// The names a [`super::NatsLog`] uses on the server.
#[derive(Clone, Debug)]
pub(super) struct Names {
    prefix: String,
}

impl Names {
    /// Checks that `prefix` is usable both as a stream-name part and as a subject token:
    /// ASCII letters, digits, `-` and `_`, at most 64 characters.
    pub(super) fn new(prefix: &str) -> Result<Self, LogError> {
        let valid = !prefix.is_empty()
            && prefix.len() <= 64
            && prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(LogError::Server(format!(
                "nats: invalid log prefix {prefix:?}: use 1-64 ASCII letters, digits, '-' or '_'"
            )));
        }
        Ok(Self { prefix: prefix.to_owned() })
    }

    /// The stream holding one topic-partition: `{prefix}-{topic}-{partition}`.
    pub(super) fn stream(&self, topic: Topic, partition: u32) -> String {
        format!("{}-{topic}-{partition}", self.prefix)
    }

    /// The only subject of that stream: `{prefix}.{topic}.{partition}`.
    pub(super) fn subject(&self, topic: Topic, partition: u32) -> String {
        format!("{}.{topic}.{partition}", self.prefix)
    }

    /// The stream of committed consumer-group positions: `{prefix}-offsets`.
    pub(super) fn offsets_stream(&self) -> String {
        format!("{}-offsets", self.prefix)
    }

    /// The subjects of the offsets stream: `{prefix}.offsets.>`.
    pub(super) fn offsets_filter(&self) -> String {
        format!("{}.offsets.>", self.prefix)
    }

    /// The subject holding one group's position on one topic-partition:
    /// `{prefix}.offsets.{topic}.{partition}.{group, escaped}`.
    pub(super) fn offset_subject(&self, group: &str, topic: Topic, partition: u32) -> String {
        format!("{}.offsets.{topic}.{partition}.{}", self.prefix, escape(group))
    }
}

/// Makes any group name one valid subject token, injectively: ASCII letters, digits, `-` and
/// `_` stay, every other byte becomes `%XX`; the empty name becomes `%`.
fn escape(group: &str) -> String {
    if group.is_empty() {
        return "%".to_owned();
    }
    let mut out = String::with_capacity(group.len());
    for b in group.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_must_be_plain_tokens() {
        assert!(Names::new("ward-test_1").is_ok());
        for bad in ["", "a.b", "a b", "a*", "a>", "a/b", &"x".repeat(65)] {
            assert!(Names::new(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn names_follow_the_documented_layout() {
        let n = Names::new("p").expect("valid prefix");
        assert_eq!(n.stream(Topic::RawEvents, 3), "p-raw_events-3");
        assert_eq!(n.subject(Topic::RawEvents, 3), "p.raw_events.3");
        assert_eq!(n.offset_subject("triage", Topic::Actions, 0), "p.offsets.actions.0.triage");
    }

    #[test]
    fn group_escaping_is_a_single_injective_token() {
        assert_eq!(escape("a.b c"), "a%2Eb%20c");
        assert_eq!(escape("%2E"), "%252E");
        assert_eq!(escape(""), "%");
        assert_ne!(escape("a.b"), escape("a%2Eb"));
        for g in ["a.b", "*", ">", "x y", "é", ""] {
            let e = escape(g);
            assert!(!e.is_empty() && !e.contains(['.', '*', '>', ' ']), "{g:?} -> {e:?}");
        }
    }
}
