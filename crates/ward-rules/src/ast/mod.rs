//! The checked form of Sigma documents: detection rules, filters and correlations. Everything
//! here is valid by construction — modifiers applied, regexes compiled, the condition resolved to
//! search indices — so evaluators never meet a malformed rule.

mod correlation;
mod meta;
mod value;

pub use correlation::{Alias, CmpOp, Correlation, CorrelationCondition, CorrelationType};
pub use meta::{Level, Logsource, Related, RuleMeta, Status};
pub use value::{
    ExpandMatch, NumOp, Pattern, Piece, ReFlags, RefKind, RegexMatch, TimePart, ValueMatch, WINDASH,
};

use std::sync::Arc;

/// Where a document came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRef {
    /// The rule file.
    pub file: Arc<str>,
    /// 1-based line where the document starts.
    pub line: u32,
}

/// A Sigma value modifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Modifier {
    /// `contains`
    Contains,
    /// `startswith`
    StartsWith,
    /// `endswith`
    EndsWith,
    /// `all`
    All,
    /// `base64`
    Base64,
    /// `base64offset`
    Base64Offset,
    /// `utf16le` / `wide`
    Utf16Le,
    /// `utf16be`
    Utf16Be,
    /// `utf16` (little-endian with byte-order mark)
    Utf16,
    /// `windash`
    Windash,
    /// `re`
    Re,
    /// `i` after `re`
    ReIgnoreCase,
    /// `m` after `re`
    ReMultiLine,
    /// `s` after `re`
    ReDotAll,
    /// `cidr`
    Cidr,
    /// `exists`
    Exists,
    /// `expand`
    Expand,
    /// `fieldref`
    FieldRef,
    /// `gt`
    Gt,
    /// `gte`
    Gte,
    /// `lt`
    Lt,
    /// `lte`
    Lte,
    /// `neq`
    Neq,
    /// `cased`
    Cased,
    /// A time part (`minute`, `hour`, `day`, `week`, `month`, `year`).
    Time(TimePart),
}

impl Modifier {
    /// Parses a modifier name as written after `|`.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "contains" => Self::Contains,
            "startswith" => Self::StartsWith,
            "endswith" => Self::EndsWith,
            "all" => Self::All,
            "base64" => Self::Base64,
            "base64offset" => Self::Base64Offset,
            "utf16le" | "wide" => Self::Utf16Le,
            "utf16be" => Self::Utf16Be,
            "utf16" => Self::Utf16,
            "windash" => Self::Windash,
            "re" => Self::Re,
            "i" | "ignorecase" => Self::ReIgnoreCase,
            "m" | "multiline" => Self::ReMultiLine,
            "s" | "dotall" => Self::ReDotAll,
            "cidr" => Self::Cidr,
            "exists" => Self::Exists,
            "expand" => Self::Expand,
            "fieldref" => Self::FieldRef,
            "gt" => Self::Gt,
            "gte" => Self::Gte,
            "lt" => Self::Lt,
            "lte" => Self::Lte,
            "neq" => Self::Neq,
            "cased" => Self::Cased,
            "minute" => Self::Time(TimePart::Minute),
            "hour" => Self::Time(TimePart::Hour),
            "day" => Self::Time(TimePart::Day),
            "week" => Self::Time(TimePart::Week),
            "month" => Self::Time(TimePart::Month),
            "year" => Self::Time(TimePart::Year),
            _ => return None,
        })
    }

    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Contains => "contains",
            Self::StartsWith => "startswith",
            Self::EndsWith => "endswith",
            Self::All => "all",
            Self::Base64 => "base64",
            Self::Base64Offset => "base64offset",
            Self::Utf16Le => "utf16le",
            Self::Utf16Be => "utf16be",
            Self::Utf16 => "utf16",
            Self::Windash => "windash",
            Self::Re => "re",
            Self::ReIgnoreCase => "i",
            Self::ReMultiLine => "m",
            Self::ReDotAll => "s",
            Self::Cidr => "cidr",
            Self::Exists => "exists",
            Self::Expand => "expand",
            Self::FieldRef => "fieldref",
            Self::Gt => "gt",
            Self::Gte => "gte",
            Self::Lt => "lt",
            Self::Lte => "lte",
            Self::Neq => "neq",
            Self::Cased => "cased",
            Self::Time(TimePart::Minute) => "minute",
            Self::Time(TimePart::Hour) => "hour",
            Self::Time(TimePart::Day) => "day",
            Self::Time(TimePart::Week) => "week",
            Self::Time(TimePart::Month) => "month",
            Self::Time(TimePart::Year) => "year",
        }
    }
}

/// One `field|modifiers: values` entry (or a keyword list when `field` is `None`).
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// The Sigma field name; `None` for keywords (searched in every text field).
    pub field: Option<String>,
    /// The modifiers as written.
    pub modifiers: Vec<Modifier>,
    /// 1-based line of the entry.
    pub line: u32,
    /// Values are linked with AND (`all`) instead of OR.
    pub all: bool,
    /// The item holds when the values do *not* match (`neq`).
    pub negate: bool,
    /// The values, after modifiers (one written value may expand to several).
    pub values: Vec<ValueMatch>,
}

/// The body of a search identifier.
#[derive(Clone, Debug, PartialEq)]
pub enum SearchExpr {
    /// A mapping: all items must match.
    Map(Vec<Item>),
    /// A list of mappings or keyword items: any must match.
    List(Vec<SearchExpr>),
    /// One item (a keyword list).
    Item(Item),
}

/// A named search identifier of the detection.
#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    /// Its name (`selection`, `filter_main_*`, …).
    pub name: String,
    /// 1-based line of the name.
    pub line: u32,
    /// What it matches.
    pub expr: SearchExpr,
}

/// A resolved condition: search references are indices into [`Detection::searches`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    /// All must hold.
    And(Vec<Cond>),
    /// Any must hold.
    Or(Vec<Cond>),
    /// Must not hold.
    Not(Box<Cond>),
    /// A search identifier.
    Search(usize),
    /// At least `n` of the searches (`2 of selection_*`).
    AtLeast(usize, Vec<usize>),
}

/// The detection section.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// The search identifiers in document order.
    pub searches: Vec<Search>,
    /// The resolved condition (several conditions in a list are linked with OR).
    pub condition: Cond,
    /// The condition text(s) as written.
    pub condition_text: Vec<String>,
}

/// A Sigma detection rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Title, id, level, tags and the rest of the metadata.
    pub meta: RuleMeta,
    /// What logs the rule is written for.
    pub logsource: Logsource,
    /// The detection logic (after applying filters that name this rule).
    pub detection: Detection,
    /// Where the rule was read from.
    pub source: SourceRef,
}

/// A Sigma filter: extra exclusions for the rules it names.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    /// Title, id and the rest of the metadata.
    pub meta: RuleMeta,
    /// The logsource it applies to.
    pub logsource: Logsource,
    /// Ids or names of the rules it applies to.
    pub rules: Vec<String>,
    /// Its selections and condition; a rule matches only if this does *not*.
    pub detection: Detection,
    /// Where the filter was read from.
    pub source: SourceRef,
}
