//! Reads the fields of the small XML fragments Log Analytics stores EventData in
//! (`<EventData><Data Name="X">v</Data>…</EventData>`, `<UserData><Elem><Field>v</Field>…`).
//! Every leaf element is one field: `Data` named by its `Name` attribute (`paramN` without
//! one), any other element by its own name. No DTDs, no external entities.

use serde_json::Value;

use super::data::EventData;
use crate::DecodeError;

/// Elements that wrap fields and are never fields themselves, even when empty.
const WRAPPERS: &[&str] = &["DataItem", "EventData", "UserData", "System"];

/// Adds every field of `xml` to `data`.
///
/// # Errors
/// [`DecodeError::InvalidField`] naming `field` when the XML is not well-formed.
pub(crate) fn read_fields(xml: &str, field: &str, data: &mut EventData) -> Result<(), DecodeError> {
    let mut stack: Vec<&str> = Vec::with_capacity(4);
    // The innermost open element while it has no child yet: (name, Name attribute, text start).
    let mut leaf: Option<(&str, Option<String>, usize)> = None;
    let mut pos = 0;
    let fail =
        |pos: usize, what: &str| DecodeError::invalid(field, format!("malformed XML at byte {pos}: {what}"));
    while let Some(lt) = xml[pos..].find('<').map(|i| pos + i) {
        let rest = &xml[lt..];
        if let Some(skip) = ["<?", "<!--", "<![CDATA["].iter().find(|p| rest.starts_with(**p)) {
            let close = match *skip {
                "<?" => "?>",
                "<!--" => "-->",
                _ => "]]>",
            };
            pos = lt + rest.find(close).ok_or_else(|| fail(lt, "unterminated section"))? + close.len();
            continue;
        }
        let tag = Tag::parse(xml, lt).map_err(|what| fail(lt, what))?;
        pos = tag.end;
        if tag.closing {
            let open = stack.pop().ok_or_else(|| fail(lt, "closing tag without an opening one"))?;
            if open != tag.name {
                return Err(fail(lt, &format!("`</{}>` closes `<{open}>`", tag.name)));
            }
            if let Some((name, attr, start)) = leaf.take() {
                emit(name, attr, &xml[start..lt], data).map_err(|what| fail(start, what))?;
            }
        } else if tag.empty {
            leaf = None;
            emit(tag.name, tag.name_attr, "", data).map_err(|what| fail(lt, what))?;
        } else {
            stack.push(tag.name);
            leaf = Some((tag.name, tag.name_attr, tag.end));
        }
    }
    match stack.last() {
        Some(open) => Err(fail(xml.len(), &format!("`<{open}>` is not closed"))),
        None => Ok(()),
    }
}

/// Adds one leaf element as a field.
fn emit(
    element: &str,
    name_attr: Option<String>,
    raw: &str,
    data: &mut EventData,
) -> Result<(), &'static str> {
    let local = element.rsplit(':').next().unwrap_or(element);
    if WRAPPERS.contains(&local) {
        return Ok(());
    }
    let value = Value::String(unescape(raw)?);
    match (local, name_attr) {
        ("Data", Some(name)) => data.push(name, value),
        ("Data", None) => data.push_unnamed(value),
        (_, _) => data.push(local.to_owned(), value),
    }
    Ok(())
}

/// One start, end or empty-element tag.
struct Tag<'a> {
    name: &'a str,
    name_attr: Option<String>,
    closing: bool,
    empty: bool,
    /// Byte just past the `>`.
    end: usize,
}

impl<'a> Tag<'a> {
    /// Parses the tag starting at `xml[lt] == '<'`.
    fn parse(xml: &'a str, lt: usize) -> Result<Self, &'static str> {
        let bytes = xml.as_bytes();
        let closing = bytes.get(lt + 1) == Some(&b'/');
        let start = lt + 1 + usize::from(closing);
        let name_len = xml[start..]
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .ok_or("unterminated tag")?;
        let name = &xml[start..start + name_len];
        if name.is_empty() {
            return Err("tag without a name");
        }
        let mut tag = Tag { name, name_attr: None, closing, empty: false, end: 0 };
        let mut i = start + name_len;
        loop {
            i += xml[i..].len() - xml[i..].trim_start().len();
            match bytes.get(i) {
                None => return Err("unterminated tag"),
                Some(b'>') => break,
                Some(b'/') if bytes.get(i + 1) == Some(&b'>') && !closing => {
                    tag.empty = true;
                    i += 1;
                    break;
                }
                Some(_) if closing => return Err("attributes in a closing tag"),
                Some(_) => i = tag.attribute(xml, i)?,
            }
        }
        tag.end = i + 1;
        Ok(tag)
    }

    /// Parses `key="value"` at `i`, keeping the value of `Name`; returns the byte after it.
    fn attribute(&mut self, xml: &str, i: usize) -> Result<usize, &'static str> {
        let eq = i + xml[i..].find('=').ok_or("attribute without a value")?;
        let key = xml[i..eq].trim();
        let after = eq + 1 + (xml[eq + 1..].len() - xml[eq + 1..].trim_start().len());
        let quote =
            xml[after..].chars().next().filter(|c| *c == '"' || *c == '\'').ok_or("unquoted attribute")?;
        let close = after + 1 + xml[after + 1..].find(quote).ok_or("unterminated attribute")?;
        if key == "Name" {
            self.name_attr = Some(unescape(&xml[after + 1..close])?);
        }
        Ok(close + 1)
    }
}

/// Replaces the predefined and numeric character references and unwraps CDATA sections.
fn unescape(raw: &str) -> Result<String, &'static str> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(i) = rest.find(['&', '<']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if let Some(cdata) = rest.strip_prefix("<![CDATA[") {
            let end = cdata.find("]]>").ok_or("unterminated CDATA")?;
            out.push_str(&cdata[..end]);
            rest = &cdata[end + 3..];
            continue;
        }
        if rest.starts_with('<') {
            let end = rest.find('>').ok_or("unterminated markup")?;
            rest = &rest[end + 1..];
            continue;
        }
        let end = rest.find(';').ok_or("unterminated character reference")?;
        out.push(reference(&rest[1..end]).ok_or("unknown character reference")?);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn reference(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => name.strip_prefix('#')?.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_model::FieldValue;

    fn fields(xml: &str) -> Result<EventData, DecodeError> {
        let mut d = EventData::default();
        read_fields(xml, "EventData", &mut d).map(|()| d)
    }

    #[test]
    fn named_unnamed_empty_and_escaped_data_are_fields() {
        let d = fields(
            "<EventData xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">\r\n  \
             <Data Name=\"CommandLine\">cmd /c &quot;a &amp; b&quot; &#x3E; out</Data>\r\n  \
             <Data Name='Empty'/><Data>first</Data><Data Name=\"Cdata\"><![CDATA[<x>]]></Data>\
             <Binary>0A0B</Binary></EventData>",
        )
        .unwrap();
        let s = |n: &str| d.get(n).and_then(FieldValue::as_str).map(str::to_owned);
        assert_eq!(s("CommandLine").as_deref(), Some("cmd /c \"a & b\" > out"));
        assert_eq!(s("Empty").as_deref(), Some(""));
        assert_eq!(s("param1").as_deref(), Some("first"));
        assert_eq!(s("Cdata").as_deref(), Some("<x>"));
        assert_eq!(s("Binary").as_deref(), Some("0A0B"));
        assert_eq!(d.len(), 5);
    }

    #[test]
    fn user_data_leaves_are_fields_by_element_name() {
        let d = fields(
            "<UserData><LogFileCleared xmlns=\"http://manifests.microsoft.com/win/2004/08/windows/eventlog\">\
             <SubjectUserName>wardog</SubjectUserName><SubjectDomainName>WS5</SubjectDomainName>\
             </LogFileCleared></UserData>",
        )
        .unwrap();
        assert_eq!(d.get("SubjectUserName").and_then(FieldValue::as_str), Some("wardog"));
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn malformed_xml_is_rejected_with_its_position() {
        for (xml, want) in [
            ("<EventData><Data Name=\"a\">x</EventData>", "closes `<Data>`"),
            ("<EventData><Data Name=\"a\">x</Data>", "is not closed"),
            ("<EventData><Data Name=a>x</Data></EventData>", "unquoted attribute"),
            ("<EventData><Data Name=\"a\">&bogus;</Data></EventData>", "unknown character reference"),
            ("</EventData>", "closing tag without an opening one"),
            ("<EventData><Data Name=\"a\"", "unterminated"),
        ] {
            let err = fields(xml).unwrap_err().to_string();
            assert!(err.contains("malformed XML at byte") && err.contains(want), "{xml}: {err}");
        }
    }
}
