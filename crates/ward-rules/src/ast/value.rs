//! What one value of a detection item matches: a wildcard pattern, a regular expression, a
//! network, a number, a field reference, presence, null — after every modifier was applied.

use std::fmt;

/// The five characters the `windash` modifier treats as interchangeable.
pub const WINDASH: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// One element of a wildcard pattern.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Piece {
    /// Literal text (escapes already resolved).
    Lit(String),
    /// `*`: any run of characters, possibly empty.
    Star,
    /// `?`: exactly one character.
    One,
    /// One of the [`WINDASH`] characters (from the `windash` modifier).
    Dash,
}

/// A Sigma string value with its wildcards: matched against the whole field value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Pattern {
    /// The pieces, with adjacent literals merged and runs of `*` collapsed.
    pub pieces: Vec<Piece>,
}

impl Pattern {
    /// A pattern that matches exactly `text`.
    pub fn literal(text: &str) -> Self {
        let mut p = Self::default();
        p.push_str(text);
        p
    }

    /// Appends literal text.
    pub fn push_str(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        match self.pieces.last_mut() {
            Some(Piece::Lit(last)) => last.push_str(text),
            _ => self.pieces.push(Piece::Lit(text.to_owned())),
        }
    }

    /// Appends a piece, keeping the pattern normalized.
    pub fn push(&mut self, piece: Piece) {
        match piece {
            Piece::Lit(text) => self.push_str(&text),
            Piece::Star if self.pieces.last() == Some(&Piece::Star) => {}
            other => self.pieces.push(other),
        }
    }

    /// Whether the pattern is plain text (no wildcard, no dash class).
    pub fn as_literal(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [] => Some(""),
            [Piece::Lit(s)] => Some(s),
            _ => None,
        }
    }

    /// Whether the pattern starts with `*`.
    pub fn starts_with_star(&self) -> bool {
        self.pieces.first() == Some(&Piece::Star)
    }

    /// Whether the pattern ends with `*`.
    pub fn ends_with_star(&self) -> bool {
        self.pieces.last() == Some(&Piece::Star)
    }

    /// The pattern with `*` added in front (the `endswith` / `contains` modifiers).
    pub fn star_front(mut self) -> Self {
        if !self.starts_with_star() {
            self.pieces.insert(0, Piece::Star);
        }
        self
    }

    /// The pattern with `*` added at the end (the `startswith` / `contains` modifiers).
    pub fn star_back(mut self) -> Self {
        self.push(Piece::Star);
        self
    }

    /// The literal pieces.
    pub fn literals(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Lit(s) => Some(s.as_str()),
            _ => None,
        })
    }
}

impl fmt::Display for Pattern {
    /// Writes the pattern in Sigma notation (`\*`, `\?`, `\\` escaped; dash classes as `[-/]`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for piece in &self.pieces {
            match piece {
                Piece::Lit(s) => {
                    for c in s.chars() {
                        if matches!(c, '*' | '?' | '\\') {
                            f.write_str("\\")?;
                        }
                        write!(f, "{c}")?;
                    }
                }
                Piece::Star => f.write_str("*")?,
                Piece::One => f.write_str("?")?,
                Piece::Dash => f.write_str("[-/]")?,
            }
        }
        Ok(())
    }
}

/// A numeric comparison (`gt`, `gte`, `lt`, `lte`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumOp {
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Gte,
    /// Less than.
    Lt,
    /// Less than or equal.
    Lte,
}

impl NumOp {
    /// Applies the comparison `field OP value`.
    pub fn holds(self, field: f64, value: f64) -> bool {
        match self {
            Self::Gt => field > value,
            Self::Gte => field >= value,
            Self::Lt => field < value,
            Self::Lte => field <= value,
        }
    }
}

/// The part of a date a time modifier extracts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimePart {
    /// 0–59.
    Minute,
    /// 0–23.
    Hour,
    /// 1–31.
    Day,
    /// ISO week, 1–53.
    Week,
    /// 1–12.
    Month,
    /// The year.
    Year,
}

/// How a field reference compares the two fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefKind {
    /// Equal values.
    Equals,
    /// The field contains the other field's value.
    Contains,
    /// The field starts with the other field's value.
    StartsWith,
    /// The field ends with the other field's value.
    EndsWith,
}

/// Regular-expression flags (`re|i`, `re|m`, `re|s`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReFlags {
    /// Case-insensitive.
    pub ignore_case: bool,
    /// `^` and `$` match at line boundaries.
    pub multi_line: bool,
    /// `.` matches newlines.
    pub dot_all: bool,
}

/// A compiled regular expression together with its source.
#[derive(Clone, Debug)]
pub struct RegexMatch {
    /// The expression as written in the rule.
    pub source: String,
    /// Its flags.
    pub flags: ReFlags,
    /// The compiled expression (unanchored search).
    pub regex: regex::Regex,
}

impl PartialEq for RegexMatch {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source && self.flags == other.flags
    }
}

/// A `expand` value whose placeholders the pipeline fills in at compile time.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpandMatch {
    /// The value as written (with `%name%` placeholders, `\%` escapes).
    pub template: String,
    /// The modifiers other than `expand`, applied after substitution.
    pub modifiers: Vec<super::Modifier>,
}

/// What one value of a detection item matches.
#[derive(Clone, Debug, PartialEq)]
pub enum ValueMatch {
    /// A wildcard pattern, case-insensitive unless `cased`.
    Str {
        /// The pattern.
        pattern: Pattern,
        /// Case-sensitive (`cased` modifier).
        cased: bool,
    },
    /// A regular expression (`re`).
    Regex(RegexMatch),
    /// An IP network (`cidr`).
    Cidr(ipnet::IpNet),
    /// A numeric comparison.
    Num(NumOp, f64),
    /// Field presence (`exists: true`) or absence (`exists: false`).
    Exists(bool),
    /// `null`: the field is absent.
    Null,
    /// Comparison with another field of the same event (`fieldref`).
    FieldRef {
        /// The other field (a Sigma field name, mapped like any other).
        field: String,
        /// How the values compare.
        kind: RefKind,
        /// Case-sensitive.
        cased: bool,
    },
    /// A date part equals a number (`minute`, `hour`, … modifiers).
    Time(TimePart, i64),
    /// Placeholders expanded by the pipeline.
    Expand(ExpandMatch),
}
