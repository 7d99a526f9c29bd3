//! Pseudonymization of personal data before an incident leaves the process: addresses,
//! e-mail addresses, user and host names and hashes become stable tokens (`ip_1`, `user_2`)
//! that the answer can be mapped back with.

use std::collections::HashMap;
use std::net::IpAddr;

/// Maps personal values to tokens for one request, and back.
#[derive(Debug, Default)]
pub struct Redactor {
    forward: HashMap<String, String>,
    /// Known values, longest first, for replacement inside free text.
    known: Vec<(String, String)>,
    counts: HashMap<&'static str, u32>,
}

/// The token class of an entity field, `None` when the field is not personal.
pub fn class_of(field: &str) -> Option<&'static str> {
    if field.ends_with(".ip") || field == "related.ip" {
        Some("ip")
    } else if field.contains("email") {
        Some("email")
    } else if field == "user.name" || field.ends_with(".user.name") || field.ends_with("user.id") {
        Some("user")
    } else if field == "host.name" || field.ends_with(".hostname") || field == "host.hostname" {
        Some("host")
    } else if field.contains(".hash.") || field.contains("password") {
        Some("hash")
    } else {
        None
    }
}

impl Redactor {
    /// An empty mapping.
    pub fn new() -> Self {
        Self::default()
    }

    /// The token of `value` of class `class`, allocating one the first time.
    pub fn token(&mut self, class: &'static str, value: &str) -> String {
        if let Some(t) = self.forward.get(value) {
            return t.clone();
        }
        let n = self.counts.entry(class).or_insert(0);
        *n += 1;
        let token = format!("{class}_{n}");
        self.forward.insert(value.to_owned(), token.clone());
        self.known.push((value.to_owned(), token.clone()));
        self.known.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        token
    }

    /// Free text with every known value replaced by its token, and every other address,
    /// e-mail address or long hex string found in it tokenized too.
    pub fn text(&mut self, text: &str) -> String {
        let mut out = text.to_owned();
        for (value, token) in &self.known {
            if !value.is_empty() && out.contains(value.as_str()) {
                out = out.replace(value.as_str(), token);
            }
        }
        self.scrub(&out)
    }

    fn scrub(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut token = String::new();
        let is_part = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '@' | '_' | '-' | '+');
        for c in text.chars().chain(std::iter::once('\u{0}')) {
            if is_part(c) {
                token.push(c);
                continue;
            }
            if !token.is_empty() {
                let replaced = self.classify(&token);
                out.push_str(replaced.as_deref().unwrap_or(&token));
                token.clear();
            }
            if c != '\u{0}' {
                out.push(c);
            }
        }
        out
    }

    fn classify(&mut self, token: &str) -> Option<String> {
        let trimmed = token.trim_matches(|c: char| matches!(c, '.' | ':' | '-' | '_'));
        let class = if trimmed.parse::<IpAddr>().is_ok() {
            "ip"
        } else if trimmed.contains('@') && trimmed.contains('.') {
            "email"
        } else if trimmed.len() >= 32 && trimmed.bytes().all(|b| b.is_ascii_hexdigit()) {
            "hash"
        } else {
            return None;
        };
        let t = self.token(class, trimmed);
        Some(token.replace(trimmed, &t))
    }

    /// Text with tokens mapped back to the real values (for the analyst-facing reasons).
    pub fn restore(&self, text: &str) -> String {
        let mut pairs: Vec<(&String, &String)> = self.forward.iter().map(|(v, t)| (t, v)).collect();
        // Longest tokens first, so `ip_12` is not restored as `ip_1` + "2".
        pairs.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(b.0)));
        let mut out = text.to_owned();
        for (token, value) in pairs {
            out = out.replace(token.as_str(), value);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_loses_addresses_emails_and_hashes() {
        let mut r = Redactor::new();
        r.token("user", "alice");
        let t = r.text("alice from 203.0.113.7 mailed bob@example.org d41d8cd98f00b204e9800998ecf8427e");
        assert!(!t.contains("alice") && !t.contains("203.0.113.7") && !t.contains("bob@example.org"));
        assert!(!t.contains("d41d8cd98f00b204e9800998ecf8427e"));
        assert_eq!(
            r.restore(&t),
            "alice from 203.0.113.7 mailed bob@example.org d41d8cd98f00b204e9800998ecf8427e"
        );
    }
}
