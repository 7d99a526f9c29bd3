//! `--source auto`: recognising a file's format from its first bytes.

use memchr::memmem;

use crate::SourceKind;

/// How many bytes of an input detection looks at.
pub const HEAD_BYTES: usize = 64 * 1024;

/// Guesses the format of an input from its first bytes, or `None` when nothing fits.
pub fn detect(head: &[u8]) -> Option<SourceKind> {
    if head.starts_with(b"ElfFile\0") {
        return Some(SourceKind::Evtx);
    }
    if ward_flow::capture::is_capture(head) {
        return Some(SourceKind::Pcap);
    }
    let text = head.trim_ascii_start();
    let first_line = text.split(|&b| b == b'\n').next().unwrap_or_default();
    let has = |needle: &str| memmem::find(text, needle.as_bytes()).is_some();
    if text.starts_with(b"{") || text.starts_with(b"[") {
        return Some(detect_json(&has));
    }
    if memmem::find(first_line, b"CEF:").is_some() {
        return Some(SourceKind::Cef);
    }
    looks_like_syslog(first_line).then_some(SourceKind::Syslog)
}

fn detect_json(has: &dyn Fn(&str) -> bool) -> SourceKind {
    if has("\"eventid\"") && has("\"cowrie.") {
        SourceKind::Cowrie
    } else if has("\"event_type\"") && (has("\"src_ip\"") || has("\"timestamp\"")) {
        SourceKind::Suricata
    } else if (has("\"Event\"") && has("\"System\""))
        || has("\"winlog\"")
        || (has("\"EventID\"") && (has("\"Channel\"") || has("\"SourceName\"") || has("\"ProviderName\"")))
    {
        SourceKind::Winlog
    } else if has("\"hostIdentifier\"") || has("\"diffResults\"") || (has("\"columns\"") && has("\"action\""))
    {
        SourceKind::Osquery
    } else {
        SourceKind::Json
    }
}

const MONTHS: [&[u8]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

fn looks_like_syslog(line: &[u8]) -> bool {
    let body = match line.strip_prefix(b"<") {
        Some(rest) => {
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            if digits == 0 || digits > 3 || rest.get(digits) != Some(&b'>') {
                return false;
            }
            return true;
        }
        None => line,
    };
    let month = MONTHS.iter().any(|m| body.starts_with(m)) && body.get(3) == Some(&b' ');
    let iso =
        body.len() > 10 && body[..4].iter().all(u8::is_ascii_digit) && body[4] == b'-' && body[7] == b'-';
    month || iso
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_each_format() {
        let cases: &[(&[u8], Option<SourceKind>)] = &[
            (b"ElfFile\0\0\0", Some(SourceKind::Evtx)),
            (br#"{"eventid":"cowrie.login.failed","src_ip":"1.2.3.4"}"#, Some(SourceKind::Cowrie)),
            (br#"{"timestamp":"2016-10-14T15:29:08+0000","event_type":"dns"}"#, Some(SourceKind::Suricata)),
            (b"{\n \"Event\": {\n  \"System\": {}}}", Some(SourceKind::Winlog)),
            (br#"{"EventID":4688,"Channel":"Security"}"#, Some(SourceKind::Winlog)),
            (
                br#"{"name":"pack_x","hostIdentifier":"h","columns":{},"action":"added"}"#,
                Some(SourceKind::Osquery),
            ),
            (b"Oct  1 12:00:00 host CEF:0|Vendor|Product|1|100|name|5|src=1.2.3.4", Some(SourceKind::Cef)),
            (b"<34>1 2003-10-11T22:14:15.003Z host su - ID47 - msg", Some(SourceKind::Syslog)),
            (b"Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster", Some(SourceKind::Syslog)),
            (br#"{"anything":1}"#, Some(SourceKind::Json)),
            (b"just some words", None),
            (b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00", Some(SourceKind::Pcap)),
            (b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00", Some(SourceKind::Pcap)),
        ];
        for (head, want) in cases {
            assert_eq!(detect(head), *want, "{}", String::from_utf8_lossy(head));
        }
    }
}
