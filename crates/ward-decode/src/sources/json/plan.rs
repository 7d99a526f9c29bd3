//! A mapping file compiled into a plan: paths pre-split, conversions and time formats chosen,
//! constants built, conflicts between target paths ruled out, so decoding a record is lookups
//! and copies only.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;
use serde_saphyr::Spanned;
use ward_model::{Event, FieldValue, Fields};

use super::convert::{self, TimeFormat, describe};
use super::mapping::{self, Conv, Fallback, FieldSpec, MappingFile, TimestampSpec, Unmatched, at};
use super::tree::{self, Consumed, SourcePath};
use crate::util::Object;
use crate::{DecodeContext, DecodeError};

/// A compiled mapping.
#[derive(Debug)]
pub(crate) struct Plan {
    dataset: Box<str>,
    time: TimeRule,
    required: Vec<SourcePath>,
    constants: Vec<(Box<str>, FieldValue)>,
    rules: Vec<Rule>,
    unmapped: Option<(String, Consumed)>,
}

/// Where the event time comes from.
#[derive(Debug)]
pub(crate) struct TimeRule {
    sources: Vec<SourcePath>,
    format: TimeFormat,
    fallback: Fallback,
}

impl TimeRule {
    /// `@timestamp`, else `timestamp`, in any format [`TimeFormat::Auto`] reads; the decoding
    /// time when neither is present.
    pub(crate) fn ecs() -> Self {
        let sources =
            ["@timestamp", "timestamp"].iter().filter_map(|p| SourcePath::compile(p).ok()).collect();
        Self { sources, format: TimeFormat::Auto, fallback: Fallback::Now }
    }

    /// Compiles the `timestamp:` section.
    fn compile(spec: &Spanned<TimestampSpec>) -> Result<Self, String> {
        let t = &spec.value;
        let format = TimeFormat::compile(t.format.as_deref(), t.timezone.as_deref())
            .map_err(|why| format!("{}timestamp: {why}", at(spec)))?;
        let source =
            SourcePath::compile(&t.field).map_err(|why| format!("{}timestamp.field: {why}", at(spec)))?;
        Ok(Self { sources: vec![source], format, fallback: t.fallback })
    }

    /// The record's time; `None` when it is absent and the fallback is `now`.
    pub(crate) fn read(&self, obj: &Object) -> Result<Option<DateTime<Utc>>, DecodeError> {
        let Some((src, v)) = self.sources.iter().find_map(|s| s.lookup(obj).map(|v| (s, v))) else {
            return match (self.fallback, self.sources.first()) {
                (Fallback::Reject, Some(first)) => Err(DecodeError::missing(first.text())),
                _ => Ok(None),
            };
        };
        self.format.read(v).map(Some).map_err(|why| DecodeError::invalid(src.text(), why))
    }
}

/// One `fields:` entry.
#[derive(Debug)]
struct Rule {
    target: Box<str>,
    sources: Vec<SourcePath>,
    conv: Option<Conv>,
    map: HashMap<String, Value>,
    unmatched: Unmatched,
    default: Option<FieldValue>,
    related: Option<&'static str>,
}

impl Plan {
    /// Checks and compiles a parsed mapping file; errors name the line and key.
    pub(crate) fn compile(file: MappingFile) -> Result<Self, String> {
        let dataset = file.dataset.value.trim();
        if dataset.is_empty() {
            return Err(format!("{}dataset: must not be empty", at(&file.dataset)));
        }
        let time = file.timestamp.as_ref().map_or_else(|| Ok(TimeRule::ecs()), TimeRule::compile)?;
        let required = file
            .required
            .iter()
            .map(|r| SourcePath::compile(&r.value).map_err(|why| format!("{}required: {why}", at(r))))
            .collect::<Result<_, _>>()?;
        let mut claims = Claims::new();
        let constants = file
            .constants
            .iter()
            .map(|(path, value)| {
                let wrap = |why: String| format!("{}constants.{path}: {why}", at(value));
                claims.claim(path, "constants").map_err(wrap)?;
                Ok((path.as_str().into(), constant(&value.value).map_err(wrap)?))
            })
            .collect::<Result<_, String>>()?;
        let rules: Vec<Rule> = file
            .fields
            .iter()
            .map(|(target, spec)| {
                let wrap = |why: String| format!("{}fields.{target}: {why}", at(spec));
                claims.claim(target, "fields").map_err(wrap)?;
                Rule::compile(target, &spec.value).map_err(wrap)
            })
            .collect::<Result<_, _>>()?;
        let unmapped = match &file.keep_unmapped {
            Some(ns) => {
                let wrap = |why: String| format!("{}keep_unmapped: {why}", at(ns));
                claims.claim(&ns.value, "keep_unmapped").map_err(wrap)?;
                Some((ns.value.clone(), consumed(&time, &rules)))
            }
            None => None,
        };
        Ok(Self { dataset: dataset.into(), time, required, constants, rules, unmapped })
    }

    /// Decodes one record.
    pub(crate) fn decode(
        &self,
        obj: &Object,
        record: &str,
        ctx: &DecodeContext,
    ) -> Result<Event, DecodeError> {
        if let Some(absent) = self.required.iter().find(|r| r.lookup(obj).is_none()) {
            return Err(DecodeError::missing(absent.text()));
        }
        let time = self.time.read(obj)?;
        let mut ev = Event::new(&ctx.tenant, "json", record, 0, time.unwrap_or(ctx.now));
        ev.set("event.dataset", &*self.dataset);
        for (path, value) in &self.constants {
            ev.set(path, value.clone());
        }
        for rule in &self.rules {
            rule.apply(obj, &mut ev)?;
        }
        if let Some((ns, consumed)) = &self.unmapped {
            tree::copy_unread(obj, Some(consumed), &mut ns.clone(), &mut ev)?;
        }
        if time.is_none() && ev.get("event.ingested").is_none() {
            ev.set("event.ingested", ctx.now.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        }
        Ok(ev)
    }
}

impl Rule {
    fn compile(target: &str, spec: &FieldSpec) -> Result<Self, String> {
        let sources = spec.from.iter().map(|p| SourcePath::compile(p)).collect::<Result<Vec<_>, _>>()?;
        let default = match &spec.default {
            None => None,
            Some(v) => Some(value_of(spec.conv, v, target).map_err(|why| format!("default: {why}"))?),
        };
        if spec.unmatched != Unmatched::Keep && spec.map.is_empty() {
            return Err("`unmatched` needs a `map`".into());
        }
        if spec.unmatched == Unmatched::Default && default.is_none() {
            return Err("`unmatched: default` needs a `default`".into());
        }
        let map = spec.map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        Ok(Self {
            target: target.into(),
            sources,
            conv: spec.conv,
            map,
            unmatched: spec.unmatched,
            default,
            related: related(target),
        })
    }

    /// Copies the first present source (mapped, converted) to the target, or the default.
    fn apply(&self, obj: &Object, ev: &mut Event) -> Result<(), DecodeError> {
        let Some((src, raw)) = self.sources.iter().find_map(|s| s.lookup(obj).map(|v| (s, v))) else {
            if let Some(d) = &self.default {
                self.set(ev, d.clone())?;
            }
            return Ok(());
        };
        let v = match self.translate(raw) {
            Some(v) => v,
            None if self.unmatched == Unmatched::Default => {
                return self.default.clone().map_or(Ok(()), |d| self.set(ev, d));
            }
            None if self.unmatched == Unmatched::Drop => return Ok(()),
            None => raw,
        };
        if v.is_null() {
            return Ok(());
        }
        if self.conv.is_none()
            && let Value::Object(map) = v
        {
            return tree::copy_unread(map, None, &mut self.target.to_string(), ev);
        }
        let value =
            value_of(self.conv, v, &self.target).map_err(|why| DecodeError::invalid(src.text(), why))?;
        self.set(ev, value)
    }

    /// The value map's translation of `v`: `v` itself without a map, `None` when the map does
    /// not list it.
    fn translate<'a>(&'a self, v: &'a Value) -> Option<&'a Value> {
        if self.map.is_empty() {
            return Some(v);
        }
        match v {
            Value::String(s) => self.map.get(s.as_str()),
            other => convert::map_key(other).and_then(|k| self.map.get(&k)),
        }
    }

    /// Sets the target and feeds `related.ip` (addresses) and `related.user`/`related.hash`.
    fn set(&self, ev: &mut Event, value: FieldValue) -> Result<(), DecodeError> {
        let items: Vec<&FieldValue> = match &value {
            FieldValue::List(items) => items.iter().collect(),
            single => vec![single],
        };
        let pushes: Vec<(&str, FieldValue)> = items
            .into_iter()
            .filter_map(|item| match (item, self.related) {
                (FieldValue::Ip(_), _) => Some(("related.ip", item.clone())),
                (FieldValue::Str(_), Some(list)) => Some((list, item.clone())),
                _ => None,
            })
            .collect();
        tree::set_checked(ev, &self.target, value)?;
        for (list, item) in pushes {
            ev.push(list, item);
        }
        Ok(())
    }
}

/// Converts a value as `conv` says (element-wise for arrays); without a conversion, text at an
/// `*.ip` target becomes an address when it is one.
fn value_of(conv: Option<Conv>, v: &Value, target: &str) -> Result<FieldValue, String> {
    match (conv, v) {
        (Some(c), Value::Array(items)) => {
            items.iter().map(|i| convert::convert(c, i)).collect::<Result<_, _>>().map(FieldValue::List)
        }
        (Some(c), v) => convert::convert(c, v),
        (None, Value::Object(_)) => Err(format!("expected a scalar or a list, found {}", describe(v))),
        (None, v) => {
            let value = FieldValue::from_json(v.clone()).ok_or_else(|| "null".to_owned())?;
            Ok(if is_ip_path(target) { ip_typed(value) } else { value })
        }
    }
}

fn is_ip_path(target: &str) -> bool {
    target.ends_with(".ip") || target == "related.ip"
}

/// Text that is an IP address becomes one (also inside lists).
fn ip_typed(value: FieldValue) -> FieldValue {
    match value {
        FieldValue::Str(s) => s.trim().parse().map_or(FieldValue::Str(s), FieldValue::Ip),
        FieldValue::List(items) => FieldValue::List(items.into_iter().map(ip_typed).collect()),
        other => other,
    }
}

/// The `related.*` list a target feeds: user names (`user.name`, `user.target.name`,
/// `source.user.name`…) and hashes; addresses always feed `related.ip`.
fn related(target: &str) -> Option<&'static str> {
    let last = target.rsplit('.').next().unwrap_or(target);
    if last == "name" && (target.starts_with("user.") || target.contains(".user.")) {
        Some("related.user")
    } else if target.contains("hash.") && matches!(last, "md5" | "sha1" | "sha256" | "sha384" | "sha512") {
        Some("related.hash")
    } else {
        None
    }
}

/// A constant: a scalar or a list of scalars.
fn constant(v: &Value) -> Result<FieldValue, String> {
    match FieldValue::from_json(v.clone()) {
        None => Err("null is not a value".into()),
        Some(FieldValue::Json(_)) => Err("expected a scalar or a list of scalars".into()),
        Some(value) => Ok(value),
    }
}

/// Every source path the plan reads.
fn consumed(time: &TimeRule, rules: &[Rule]) -> Consumed {
    let mut c = Consumed::default();
    for s in time.sources.iter().chain(rules.iter().flat_map(|r| &r.sources)) {
        c.insert(s);
    }
    c
}

/// Target paths claimed so far, to refuse duplicates and leaf/parent conflicts at load time.
struct Claims(Fields);

impl Claims {
    fn new() -> Self {
        let mut seen = Fields::default();
        for path in ["@timestamp", "ward", "event.original", "event.dataset"] {
            seen.insert(path, "Ward");
        }
        Self(seen)
    }

    fn claim(&mut self, path: &str, owner: &str) -> Result<(), String> {
        tree::check_path(path)?;
        if path == "@timestamp" {
            return Err("@timestamp comes from the `timestamp:` section".into());
        }
        if let Some(prev) = self.0.get(path) {
            return Err(format!("`{path}` is already set by {prev}"));
        }
        self.0.try_insert(path, owner.into()).map_err(|other| {
            let by = self.0.get(&other).map(ToString::to_string).unwrap_or_default();
            format!(
                "`{path}` conflicts with `{other}` (set by {by}): a path is a value or a parent, not both"
            )
        })
    }
}

/// Parses and compiles mapping text.
pub(crate) fn load(text: &str) -> Result<Plan, String> {
    Plan::compile(mapping::parse(text)?)
}
