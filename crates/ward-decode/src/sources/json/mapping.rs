//! The mapping file as written by users (YAML), before it is checked and compiled into a
//! [`Plan`](super::plan::Plan). `docs/sources/json.md` is the reference for this format.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer};
use serde_saphyr::{SnippetMode, Spanned};

/// A whole mapping file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MappingFile {
    /// `event.dataset` of every event (`okta.system`, `github.audit`).
    pub(crate) dataset: Spanned<String>,
    /// Where the event time comes from; without it `@timestamp`/`timestamp` are read.
    pub(crate) timestamp: Option<Spanned<TimestampSpec>>,
    /// Source paths every record must have (non-null).
    #[serde(default)]
    pub(crate) required: Vec<Spanned<String>>,
    /// Fixed values (`event.kind: alert`, `event.category: [authentication]`).
    #[serde(default)]
    pub(crate) constants: BTreeMap<String, Spanned<serde_json::Value>>,
    /// Target ECS path ← source path (or a full rule).
    #[serde(default)]
    pub(crate) fields: BTreeMap<String, Spanned<FieldSpec>>,
    /// Namespace that receives every source field no rule reads.
    pub(crate) keep_unmapped: Option<Spanned<String>>,
}

/// The `timestamp:` section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimestampSpec {
    /// Source path of the time.
    pub(crate) field: String,
    /// `auto` (default), `rfc3339`, `unix`, `unix_ms`, `unix_us`, `unix_ns`, or a chrono
    /// strftime pattern (any text with `%`).
    #[serde(default)]
    pub(crate) format: Option<String>,
    /// What to do when the field is absent.
    #[serde(default)]
    pub(crate) fallback: Fallback,
    /// Offset for strftime patterns without a zone (`UTC`, `+02:00`); default UTC.
    #[serde(default)]
    pub(crate) timezone: Option<String>,
}

/// What happens to a record without its time field.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Fallback {
    /// Use the decoding time and mark the event with `event.ingested`.
    #[default]
    Now,
    /// Reject the record (`missing field`).
    Reject,
}

/// The conversion a field rule applies (`type:`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Conv {
    /// An IP address (also added to `related.ip`).
    Ip,
    /// A signed 64-bit integer (numbers or numeric text).
    Int,
    /// A floating-point number (numbers or numeric text).
    Float,
    /// `true`/`false` (also `yes`/`no`, `1`/`0`, any case).
    Bool,
    /// Text (numbers and booleans written as text).
    String,
    /// A time (RFC 3339 text or Unix seconds/milliseconds) written as RFC 3339 UTC.
    Date,
}

/// One entry of `fields:`: a bare source path, or a full rule.
#[derive(Debug)]
pub(crate) struct FieldSpec {
    /// Source paths, first present wins.
    pub(crate) from: Vec<String>,
    /// Conversion.
    pub(crate) conv: Option<Conv>,
    /// Value translation (`SUCCESS: success`), applied before the conversion.
    pub(crate) map: BTreeMap<String, serde_json::Value>,
    /// Value when no source is present.
    pub(crate) default: Option<serde_json::Value>,
    /// What happens to a value `map` does not list.
    pub(crate) unmatched: Unmatched,
}

/// What a field rule writes for a value its `map` does not list.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Unmatched {
    /// The value itself, unchanged.
    #[default]
    Keep,
    /// Nothing.
    Drop,
    /// The rule's `default`.
    Default,
}

/// The long form of a field rule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FullRule {
    from: OneOrMany,
    #[serde(rename = "type")]
    conv: Option<Conv>,
    #[serde(default)]
    map: BTreeMap<String, serde_json::Value>,
    default: Option<serde_json::Value>,
    #[serde(default)]
    unmatched: Unmatched,
}

impl<'de> Deserialize<'de> for FieldSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Spec;
        impl<'de> Visitor<'de> for Spec {
            type Value = FieldSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a source path or a rule with `from`")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<FieldSpec, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<FieldSpec, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FieldSpec, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FieldSpec, E> {
                Ok(FieldSpec {
                    from: vec![v.to_owned()],
                    conv: None,
                    map: BTreeMap::new(),
                    default: None,
                    unmatched: Unmatched::Keep,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FieldSpec, A::Error> {
                let rule = FullRule::deserialize(MapAccessDeserializer::new(map))?;
                Ok(FieldSpec {
                    from: rule.from.0,
                    conv: rule.conv,
                    map: rule.map,
                    default: rule.default,
                    unmatched: rule.unmatched,
                })
            }
        }
        d.deserialize_any(Spec)
    }
}

/// One source path or a list of alternatives.
#[derive(Debug)]
struct OneOrMany(Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Paths;
        impl<'de> Visitor<'de> for Paths {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a source path or a list of source paths")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_string()]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_string()]))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut paths = Vec::new();
                while let Some(p) = seq.next_element::<String>()? {
                    paths.push(p);
                }
                if paths.is_empty() {
                    return Err(de::Error::invalid_length(0, &"at least one source path"));
                }
                Ok(OneOrMany(paths))
            }
        }
        d.deserialize_any(Paths)
    }
}

/// Parses mapping text; the error is one line with the YAML line and column. Booleans are
/// YAML 1.2 (`true`/`false` only), so field names like `on`, `y` or `no` stay text.
pub(crate) fn parse(text: &str) -> Result<MappingFile, String> {
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let options = serde_saphyr::render_options! { snippets: SnippetMode::Off };
        e.render_with_options(options)
    })
}

/// `line N: ` for a spanned item (empty when the location is unknown).
pub(crate) fn at<T>(item: &Spanned<T>) -> String {
    match item.referenced.line() {
        0 => String::new(),
        line => format!("line {line}: "),
    }
}
