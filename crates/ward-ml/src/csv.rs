//! Minimal RFC 4180 CSV record splitting (quoted fields, doubled quotes), enough for the
//! loghub oracles, NSL-KDD and the DGA set without another dependency.

/// Splits one CSV record into fields. Quotes may wrap a field; `""` inside quotes is a quote.
/// A quote left open runs to the end of the line (reported by [`split_checked`]).
pub fn split(line: &str) -> Vec<String> {
    split_checked(line).0
}

/// Like [`split`], also saying whether every quoted field was closed.
pub fn split_checked(line: &str) -> (Vec<String>, bool) {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut in_quotes = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    cur.push('"');
                    chars.next();
                } else {
                    in_quotes = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == ',' {
            fields.push(std::mem::take(&mut cur));
            at_start = true;
            continue;
        } else if c == '"' && at_start {
            in_quotes = true;
        } else {
            cur.push(c);
        }
        at_start = false;
    }
    fields.push(cur);
    (fields, !in_quotes)
}
