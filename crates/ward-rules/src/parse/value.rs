//! Sigma string values: wildcards, escapes and `expand` placeholders.
//!
//! Escapes follow the specification: `\*` and `\?` are a literal `*` / `?`, `\\` is one
//! backslash, and a backslash before any other character (or at the end) is kept as is. So
//! `C:\Windows\*` is the literal text `C:\Windows*` (write `C:\Windows\\*` for the folder
//! followed by anything), `\\\\srv\\` is `\\srv\`, and `\\*` is a backslash and a wildcard.

use crate::ast::{Pattern, Piece, WINDASH};

/// Parses a Sigma string into a wildcard pattern.
pub fn parse_pattern(text: &str) -> Pattern {
    let mut pattern = Pattern::default();
    let mut literal = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&next @ ('*' | '?' | '\\')) => {
                    literal.push(next);
                    chars.next();
                }
                _ => literal.push('\\'),
            },
            '*' | '?' => {
                pattern.push_str(&literal);
                literal.clear();
                pattern.push(if c == '*' { Piece::Star } else { Piece::One });
            }
            other => literal.push(other),
        }
    }
    pattern.push_str(&literal);
    pattern
}

/// Replaces every dash-like character in the literals by the [`Piece::Dash`] class (`windash`).
pub fn windash(pattern: Pattern) -> Pattern {
    let mut out = Pattern::default();
    for piece in pattern.pieces {
        let Piece::Lit(text) = piece else {
            out.push(piece);
            continue;
        };
        let mut rest = text.as_str();
        while let Some(pos) = rest.find(WINDASH) {
            out.push_str(&rest[..pos]);
            out.push(Piece::Dash);
            let dash_len = rest[pos..].chars().next().map_or(1, char::len_utf8);
            rest = &rest[pos + dash_len..];
        }
        out.push_str(rest);
    }
    out
}

/// One part of an `expand` template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplatePart {
    /// Sigma string text (wildcards and escapes still to be parsed).
    Text(String),
    /// A `%name%` placeholder.
    Placeholder(String),
}

/// Splits an `expand` value into text and `%name%` placeholders; `\%` is a plain percent sign.
///
/// # Errors
/// The reason when a `%` opens a placeholder that is never closed or is empty.
pub fn parse_template(text: &str) -> Result<Vec<TemplatePart>, String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'%') => {
                current.push('%');
                chars.next();
            }
            '%' => {
                let mut name = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '%' {
                        closed = true;
                        break;
                    }
                    name.push(c);
                }
                if name.is_empty() || !closed {
                    return Err(format!("unterminated or empty placeholder in `{text}`"));
                }
                if !current.is_empty() {
                    parts.push(TemplatePart::Text(std::mem::take(&mut current)));
                }
                parts.push(TemplatePart::Placeholder(name));
            }
            other => current.push(other),
        }
    }
    if !current.is_empty() {
        parts.push(TemplatePart::Text(current));
    }
    Ok(parts)
}

/// Expands a template with the values of each placeholder (all combinations), giving Sigma
/// strings; `values` answers `None` for an unknown placeholder, whose name is then returned.
///
/// # Errors
/// The name of the first placeholder without values.
pub fn expand_template<'a>(
    parts: &[TemplatePart],
    values: impl Fn(&str) -> Option<&'a [String]>,
) -> Result<Vec<String>, String> {
    let mut out = vec![String::new()];
    for part in parts {
        match part {
            TemplatePart::Text(t) => out.iter_mut().for_each(|s| s.push_str(t)),
            TemplatePart::Placeholder(name) => {
                let vals = values(name).filter(|v| !v.is_empty()).ok_or_else(|| name.clone())?;
                out =
                    out.iter().flat_map(|prefix| vals.iter().map(move |v| format!("{prefix}{v}"))).collect();
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str) -> Piece {
        Piece::Lit(s.into())
    }

    #[test]
    fn escapes_follow_the_specification() {
        assert_eq!(
            parse_pattern(r"C:\Windows\*").pieces,
            vec![lit(r"C:\Windows*")],
            "a backslash-star is a literal star"
        );
        assert_eq!(parse_pattern(r"C:\Windows\\*").pieces, vec![lit(r"C:\Windows\"), Piece::Star]);
        assert_eq!(parse_pattern(r"\*\?").pieces, vec![lit("*?")]);
        assert_eq!(parse_pattern(r"\\*").pieces, vec![lit("\\"), Piece::Star]);
        assert_eq!(parse_pattern(r"\\\*").pieces, vec![lit("\\*")]);
        assert_eq!(parse_pattern(r"\\\\").pieces, vec![lit(r"\\")]);
        assert_eq!(parse_pattern(r"\\\").pieces, vec![lit(r"\\")], "three backslashes are two");
        assert_eq!(parse_pattern(r" \\").pieces, vec![lit(r" \")], "trailing escaped backslash");
        assert_eq!(parse_pattern("a\\").pieces, vec![lit("a\\")], "trailing lone backslash kept");
        assert_eq!(
            parse_pattern("ipconfig*|*find").pieces,
            vec![lit("ipconfig"), Piece::Star, lit("|"), Piece::Star, lit("find")]
        );
        assert_eq!(parse_pattern("prog?.exe").pieces, vec![lit("prog"), Piece::One, lit(".exe")]);
        assert_eq!(parse_pattern("a**b").pieces, vec![lit("a"), Piece::Star, lit("b")]);
    }

    #[test]
    fn windash_makes_every_dash_a_class() {
        let p = windash(parse_pattern(" -ep \u{2014}x/y"));
        assert_eq!(
            p.pieces,
            vec![lit(" "), Piece::Dash, lit("ep "), Piece::Dash, lit("x"), Piece::Dash, lit("y")]
        );
    }

    #[test]
    fn templates_split_placeholders_and_escapes() {
        let parts = parse_template(r"\%plain%name%x").unwrap();
        assert_eq!(
            parts,
            vec![
                TemplatePart::Text("%plain".into()),
                TemplatePart::Placeholder("name".into()),
                TemplatePart::Text("x".into())
            ]
        );
        assert!(parse_template("%open").is_err());
        let vals = vec!["a".to_string(), "b*".to_string()];
        let expanded = expand_template(&parts, |n| (n == "name").then_some(vals.as_slice())).unwrap();
        assert_eq!(expanded, vec!["%plainax", "%plainb*x"]);
        let missing = expand_template(&parts, |_| None).unwrap_err();
        assert_eq!(missing, "name");
    }
}
