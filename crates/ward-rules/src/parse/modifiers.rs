//! Turns `field|mod1|mod2: values` into an [`Item`]: modifiers are checked for compatibility and
//! applied in the order written, expanding one value into several where the modifier says so
//! (`base64offset`: three encodings; `windash`: a dash class; `expand`: deferred to the pipeline).

pub use super::transform::{base64_offsets, strings};
use super::value::parse_template;
use crate::ast::{ExpandMatch, Item, Modifier, NumOp, ReFlags, RefKind, RegexMatch, ValueMatch};
use crate::error::{ErrorKind, Problem};
use crate::yaml::{Node, Scalar, ScalarKind, Value};

/// Largest compiled regex accepted (bytes), so a hostile rule cannot exhaust memory.
const REGEX_SIZE_LIMIT: usize = 4 << 20;

/// Builds one detection item; `field` is `None` for keyword items.
///
/// # Errors
/// A [`Problem`] at `line` naming the unknown modifier, the incompatible combination or the
/// invalid value.
pub fn build_item(field: Option<&str>, modifiers: &[&str], value: &Node, line: u32) -> Result<Item, Problem> {
    let mods = parse_modifiers(modifiers, line)?;
    let values = scalars(value, line)?;
    let flags = Flags::of(&mods);
    check_combinations(&mods, flags.kind, line)?;
    let matches = match flags.kind {
        Kind::Exists => exists(&mods, &values, line)?,
        Kind::Re => values
            .iter()
            .map(|v| regex(&v.text, &mods, line).map(ValueMatch::Regex))
            .collect::<Result<_, _>>()?,
        Kind::Cidr => values.iter().map(|v| cidr(v, line)).collect::<Result<_, _>>()?,
        Kind::Num(op) => values
            .iter()
            .map(|v| number(v, line).map(|n| ValueMatch::Num(op, n)))
            .collect::<Result<_, _>>()?,
        Kind::Time(part) => values
            .iter()
            .map(|v| integer(v, line).map(|n| ValueMatch::Time(part, n)))
            .collect::<Result<_, _>>()?,
        Kind::FieldRef => values.iter().map(|v| field_ref(v, &mods, flags.cased)).collect(),
        Kind::Expand => values.iter().map(|v| expand(v, &mods, line)).collect::<Result<_, _>>()?,
        Kind::Str => {
            let mut out = Vec::new();
            for v in &values {
                out.extend(strings(v, &mods, field.is_none(), flags.cased, line)?);
            }
            out
        }
    };
    Ok(Item {
        field: field.map(str::to_owned),
        modifiers: mods,
        line,
        all: flags.all,
        negate: flags.negate,
        values: matches,
    })
}

fn parse_modifiers(names: &[&str], line: u32) -> Result<Vec<Modifier>, Problem> {
    let mut mods = Vec::with_capacity(names.len());
    for name in names {
        let m = Modifier::from_name(name)
            .ok_or_else(|| Problem::new(line, ErrorKind::UnknownModifier((*name).into())))?;
        let is_re_flag = matches!(m, Modifier::ReIgnoreCase | Modifier::ReMultiLine | Modifier::ReDotAll);
        if is_re_flag && !mods.contains(&Modifier::Re) {
            return Err(Problem::modifier(line, *name, "is a flag of `re` and must follow it"));
        }
        if mods.contains(&m) {
            return Err(Problem::modifier(line, *name, "is repeated"));
        }
        mods.push(m);
    }
    Ok(mods)
}

/// The values of an item: one scalar or a non-empty list of scalars.
fn scalars(value: &Node, line: u32) -> Result<Vec<Scalar>, Problem> {
    match &value.value {
        Value::Scalar(s) => Ok(vec![s.clone()]),
        Value::Seq(items) if items.is_empty() => Err(Problem::invalid(line, "value", "empty list of values")),
        Value::Seq(items) => items
            .iter()
            .map(|n| {
                n.as_scalar().cloned().ok_or_else(|| {
                    Problem::invalid(n.line, "value", format!("expected a scalar, found {}", n.kind_name()))
                })
            })
            .collect(),
        Value::Map(_) => {
            Err(Problem::invalid(line, "value", "expected a value or a list of values, found a mapping"))
        }
    }
}

/// What kind of matcher the modifiers select.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Re,
    Cidr,
    Exists,
    Num(NumOp),
    Time(crate::ast::TimePart),
    FieldRef,
    Expand,
}

struct Flags {
    kind: Kind,
    all: bool,
    negate: bool,
    cased: bool,
}

impl Flags {
    fn of(mods: &[Modifier]) -> Self {
        let kind = mods
            .iter()
            .find_map(|m| match m {
                Modifier::Re => Some(Kind::Re),
                Modifier::Cidr => Some(Kind::Cidr),
                Modifier::Exists => Some(Kind::Exists),
                Modifier::Gt => Some(Kind::Num(NumOp::Gt)),
                Modifier::Gte => Some(Kind::Num(NumOp::Gte)),
                Modifier::Lt => Some(Kind::Num(NumOp::Lt)),
                Modifier::Lte => Some(Kind::Num(NumOp::Lte)),
                Modifier::Time(t) => Some(Kind::Time(*t)),
                Modifier::FieldRef => Some(Kind::FieldRef),
                Modifier::Expand => Some(Kind::Expand),
                _ => None,
            })
            .unwrap_or(Kind::Str);
        Self {
            kind,
            all: mods.contains(&Modifier::All),
            negate: mods.contains(&Modifier::Neq),
            cased: mods.contains(&Modifier::Cased),
        }
    }
}

/// Rejects modifiers that make no sense together with the selected kind.
fn check_combinations(mods: &[Modifier], kind: Kind, line: u32) -> Result<(), Problem> {
    let type_mods = mods.iter().filter(|m| is_type_modifier(**m)).count();
    if type_mods > 1 {
        let names: Vec<_> = mods.iter().filter(|m| is_type_modifier(**m)).map(|m| m.name()).collect();
        return Err(Problem::modifier(line, names.join("|"), "cannot be combined"));
    }
    let position = [Modifier::Contains, Modifier::StartsWith, Modifier::EndsWith];
    if mods.iter().filter(|m| position.contains(m)).count() > 1 {
        return Err(Problem::modifier(line, "contains|startswith|endswith", "only one of them may be used"));
    }
    for m in mods {
        if !allowed_with(kind, *m) {
            return Err(Problem::modifier(
                line,
                m.name(),
                format!("cannot be used with `{}`", kind_name(kind)),
            ));
        }
    }
    Ok(())
}

fn is_type_modifier(m: Modifier) -> bool {
    matches!(
        m,
        Modifier::Re
            | Modifier::Cidr
            | Modifier::Exists
            | Modifier::Gt
            | Modifier::Gte
            | Modifier::Lt
            | Modifier::Lte
            | Modifier::Time(_)
            | Modifier::FieldRef
            | Modifier::Expand
    )
}

fn allowed_with(kind: Kind, m: Modifier) -> bool {
    use Modifier as M;
    match kind {
        Kind::Str | Kind::Expand => !matches!(m, M::ReIgnoreCase | M::ReMultiLine | M::ReDotAll),
        Kind::Re => {
            matches!(m, M::Re | M::ReIgnoreCase | M::ReMultiLine | M::ReDotAll | M::All | M::Neq | M::Cased)
        }
        Kind::Cidr => matches!(m, M::Cidr | M::All | M::Neq),
        Kind::Exists => m == M::Exists,
        Kind::Num(_) => matches!(m, M::Gt | M::Gte | M::Lt | M::Lte | M::All),
        Kind::Time(_) => matches!(m, M::Time(_) | M::Neq),
        Kind::FieldRef => {
            matches!(m, M::FieldRef | M::Contains | M::StartsWith | M::EndsWith | M::Cased | M::Neq | M::All)
        }
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Str => "string matching",
        Kind::Re => "re",
        Kind::Cidr => "cidr",
        Kind::Exists => "exists",
        Kind::Num(_) => "a numeric comparison",
        Kind::Time(_) => "a time part",
        Kind::FieldRef => "fieldref",
        Kind::Expand => "expand",
    }
}

fn exists(mods: &[Modifier], values: &[Scalar], line: u32) -> Result<Vec<ValueMatch>, Problem> {
    let [value] = values else {
        return Err(Problem::modifier(line, "exists", "takes exactly one boolean"));
    };
    let flag = match (value.kind, value.text.as_str()) {
        (ScalarKind::Bool(b), _) => b,
        (_, "true" | "yes") => true,
        (_, "false" | "no") => false,
        _ => {
            return Err(Problem::modifier(
                line,
                "exists",
                format!("expects true or false, found `{}`", value.text),
            ));
        }
    };
    debug_assert!(mods.contains(&Modifier::Exists));
    Ok(vec![ValueMatch::Exists(flag)])
}

/// Compiles a `re` value with its flags (unanchored search, case-sensitive unless `i`).
pub fn regex(source: &str, mods: &[Modifier], line: u32) -> Result<RegexMatch, Problem> {
    let flags = ReFlags {
        ignore_case: mods.contains(&Modifier::ReIgnoreCase),
        multi_line: mods.contains(&Modifier::ReMultiLine),
        dot_all: mods.contains(&Modifier::ReDotAll),
    };
    let regex = regex::RegexBuilder::new(source)
        .case_insensitive(flags.ignore_case)
        .multi_line(flags.multi_line)
        .dot_matches_new_line(flags.dot_all)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            let reason = regex_reason(&e);
            Problem::new(line, ErrorKind::Regex { pattern: source.to_owned(), reason })
        })?;
    Ok(RegexMatch { source: source.to_owned(), flags, regex })
}

/// The useful line of a regex error (the crate prints the pattern and a caret first).
fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("error: "))
        .map_or_else(|| text.lines().last().unwrap_or("").trim().to_owned(), str::to_owned)
}

fn cidr(value: &Scalar, line: u32) -> Result<ValueMatch, Problem> {
    let text = value.text.trim();
    let net = text
        .parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| Problem::modifier(line, "cidr", format!("`{text}` is not a network")))?;
    Ok(ValueMatch::Cidr(net.trunc()))
}

fn number(value: &Scalar, line: u32) -> Result<f64, Problem> {
    match value.kind {
        ScalarKind::Int(i) => Ok(i as f64),
        ScalarKind::Float(f) if f.is_finite() => Ok(f),
        _ => value.text.trim().parse::<f64>().ok().filter(|f| f.is_finite()).ok_or_else(|| {
            Problem::modifier(line, "gt/gte/lt/lte", format!("`{}` is not a number", value.text))
        }),
    }
}

fn integer(value: &Scalar, line: u32) -> Result<i64, Problem> {
    match value.kind {
        ScalarKind::Int(i) => Ok(i),
        _ => value.text.trim().parse().map_err(|_| {
            Problem::modifier(
                line,
                "minute/hour/day/week/month/year",
                format!("`{}` is not an integer", value.text),
            )
        }),
    }
}

fn field_ref(value: &Scalar, mods: &[Modifier], cased: bool) -> ValueMatch {
    let kind = if mods.contains(&Modifier::Contains) {
        RefKind::Contains
    } else if mods.contains(&Modifier::StartsWith) {
        RefKind::StartsWith
    } else if mods.contains(&Modifier::EndsWith) {
        RefKind::EndsWith
    } else {
        RefKind::Equals
    };
    ValueMatch::FieldRef { field: value.text.clone(), kind, cased }
}

fn expand(value: &Scalar, mods: &[Modifier], line: u32) -> Result<ValueMatch, Problem> {
    parse_template(&value.text).map_err(|reason| Problem::modifier(line, "expand", reason))?;
    let modifiers = mods.iter().copied().filter(|m| *m != Modifier::Expand).collect();
    Ok(ValueMatch::Expand(ExpandMatch { template: value.text.clone(), modifiers }))
}
