//! String transformations, applied in the order the modifiers are written: `contains`,
//! `startswith`, `endswith`, `windash`, the `utf16` family and the `base64` family (one value may
//! expand into several, as `base64offset` does).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::value::{parse_pattern, windash};
use crate::ast::{Modifier, Pattern, ValueMatch};
use crate::error::Problem;
use crate::yaml::{Scalar, ScalarKind};

/// A value in the middle of the transformation chain.
enum Stage {
    Text(Pattern),
    Bytes(Vec<u8>),
}

/// Applies the string transformations to one written value (also used after `expand`).
pub fn strings(
    value: &Scalar,
    mods: &[Modifier],
    keyword: bool,
    cased: bool,
    line: u32,
) -> Result<Vec<ValueMatch>, Problem> {
    if value.kind == ScalarKind::Null {
        if keyword {
            return Err(Problem::invalid(line, "keyword", "null is not a keyword"));
        }
        return null_value(mods, line);
    }
    let mut stages = vec![Stage::Text(parse_pattern(&value.text))];
    for m in mods {
        stages = apply(stages, *m, line)?;
    }
    let position = [Modifier::Contains, Modifier::StartsWith, Modifier::EndsWith];
    let implicit_contains = keyword && !mods.iter().any(|m| position.contains(m));
    stages
        .into_iter()
        .map(|stage| match stage {
            Stage::Text(p) if implicit_contains => {
                Ok(ValueMatch::Str { pattern: p.star_front().star_back(), cased })
            }
            Stage::Text(pattern) => Ok(ValueMatch::Str { pattern, cased }),
            Stage::Bytes(_) => {
                Err(Problem::modifier(line, "utf16", "must be followed by `base64` or `base64offset`"))
            }
        })
        .collect()
}

fn null_value(mods: &[Modifier], line: u32) -> Result<Vec<ValueMatch>, Problem> {
    match mods.iter().find(|m| !matches!(m, Modifier::All | Modifier::Neq | Modifier::Cased)) {
        Some(m) => Err(Problem::modifier(line, m.name(), "cannot apply to null")),
        None => Ok(vec![ValueMatch::Null]),
    }
}

fn apply(stages: Vec<Stage>, m: Modifier, line: u32) -> Result<Vec<Stage>, Problem> {
    let mut out = Vec::with_capacity(stages.len());
    for stage in stages {
        match (m, stage) {
            (Modifier::Contains, Stage::Text(p)) => out.push(Stage::Text(p.star_front().star_back())),
            (Modifier::StartsWith, Stage::Text(p)) => out.push(Stage::Text(p.star_back())),
            (Modifier::EndsWith, Stage::Text(p)) => out.push(Stage::Text(p.star_front())),
            (Modifier::Windash, Stage::Text(p)) => out.push(Stage::Text(windash(p))),
            (Modifier::Utf16Le | Modifier::Utf16Be | Modifier::Utf16, Stage::Text(p)) => {
                out.push(Stage::Bytes(utf16(plain(&p, m, line)?, m)));
            }
            (Modifier::Base64, stage) => {
                out.push(Stage::Text(Pattern::literal(&B64.encode(bytes_of(stage, m, line)?))))
            }
            (Modifier::Base64Offset, stage) => {
                for variant in base64_offsets(&bytes_of(stage, m, line)?) {
                    let variant = variant
                        .ok_or_else(|| Problem::modifier(line, m.name(), "value too short to encode"))?;
                    out.push(Stage::Text(Pattern::literal(&variant)));
                }
            }
            (
                Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith | Modifier::Windash,
                Stage::Bytes(_),
            ) => {
                return Err(Problem::modifier(
                    line,
                    m.name(),
                    "cannot follow an utf16 encoding; put base64 in between",
                ));
            }
            (Modifier::Utf16Le | Modifier::Utf16Be | Modifier::Utf16, Stage::Bytes(_)) => {
                return Err(Problem::modifier(line, m.name(), "value is already encoded"));
            }
            (_, stage) => out.push(stage),
        }
    }
    Ok(out)
}

/// The literal text of a pattern, or an error naming the modifier that needs one.
fn plain(p: &Pattern, m: Modifier, line: u32) -> Result<&str, Problem> {
    p.as_literal().ok_or_else(|| {
        Problem::modifier(line, m.name(), "cannot encode a value with wildcards or a dash class")
    })
}

fn bytes_of(stage: Stage, m: Modifier, line: u32) -> Result<Vec<u8>, Problem> {
    match stage {
        Stage::Bytes(b) => Ok(b),
        Stage::Text(p) => plain(&p, m, line).map(|s| s.as_bytes().to_vec()),
    }
}

fn utf16(text: &str, m: Modifier) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2 + 2);
    if m == Modifier::Utf16 {
        out.extend([0xFF, 0xFE]);
    }
    for unit in text.encode_utf16() {
        let bytes = if m == Modifier::Utf16Be { unit.to_be_bytes() } else { unit.to_le_bytes() };
        out.extend(bytes);
    }
    out
}

/// The three `base64offset` encodings: the value shifted by 0, 1 and 2 bytes, with the
/// characters that depend on the unknown neighbouring bytes cut off (as pySigma does).
pub fn base64_offsets(value: &[u8]) -> [Option<String>; 3] {
    const START: [usize; 3] = [0, 2, 3];
    std::array::from_fn(|shift| {
        let mut padded = vec![b' '; shift];
        padded.extend_from_slice(value);
        let encoded = B64.encode(&padded);
        let cut_end = match (value.len() + shift) % 3 {
            0 => 0,
            1 => 3,
            _ => 2,
        };
        let end = encoded.len().checked_sub(cut_end)?;
        let start = START[shift];
        (start < end).then(|| encoded[start..end].to_owned())
    })
}
