//! Errors: a whole file that cannot be read ([`LoadError`]), and one entry of a file that was
//! rejected while the rest loaded ([`Rejection`], with its [`RejectReason`]).

use std::fmt;
use std::path::PathBuf;

/// Why one feed entry (line, attribute, STIX indicator, warning-list item) was not loaded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// Nothing after comments and whitespace were removed.
    #[error("empty value")]
    Empty,
    /// Not valid UTF-8.
    #[error("not valid UTF-8")]
    NotUtf8,
    /// No indicator kind recognizes the text.
    #[error("unrecognized indicator")]
    Unrecognized,
    /// An explicit kind prefix or column names no known kind.
    #[error("unknown indicator kind `{0}`")]
    UnknownKind(String),
    /// A regular-expression trail (maltrail), not an exact value.
    #[error("regular-expression trail, not an exact indicator")]
    RegexTrail,
    /// A one-label name without a leading dot (`tk` rather than `.tk`).
    #[error("single-label name (write `.tld` or `domain:name` to list a top-level domain)")]
    SingleLabel,
    /// A name with non-ASCII characters (internationalized names must be in `xn--` form).
    #[error("non-ASCII host name (use the punycode `xn--` form)")]
    NonAscii,
    /// Not a valid domain name.
    #[error("invalid domain name: {0}")]
    InvalidDomain(&'static str),
    /// Not a valid IP address.
    #[error("invalid IP address")]
    InvalidIp,
    /// Not a valid network.
    #[error("invalid CIDR network: {0}")]
    InvalidCidr(String),
    /// Not a valid port number.
    #[error("invalid port")]
    InvalidPort,
    /// Not a valid URL.
    #[error("invalid URL: {0}")]
    InvalidUrl(&'static str),
    /// Not a valid e-mail address.
    #[error("invalid e-mail address")]
    InvalidEmail,
    /// A digest of the wrong length or with non-hex characters.
    #[error("invalid hash: expected {expected} hex digits, found {found} characters")]
    InvalidHash {
        /// Hex digits the kind needs.
        expected: usize,
        /// Characters found.
        found: usize,
    },
    /// Not a JA4 fingerprint.
    #[error("invalid JA4 fingerprint")]
    InvalidJa4,
    /// A CSV row without the configured column.
    #[error("missing column {0}")]
    MissingColumn(String),
    /// A confidence or level column that is not a number.
    #[error("invalid confidence `{0}`")]
    InvalidConfidence(String),
    /// A CSV row with an unterminated quoted field.
    #[error("unterminated quoted field")]
    UnterminatedQuote,
    /// A MISP composite attribute (`domain|ip`) whose value has no `|`.
    #[error("value of type `{0}` is not `left|right`")]
    InvalidComposite(String),
    /// A required JSON member is absent or has the wrong type.
    #[error("missing or non-string `{0}`")]
    MissingField(&'static str),
    /// A STIX pattern that does not parse.
    #[error("STIX pattern syntax: {0}")]
    PatternSyntax(String),
    /// A STIX pattern that parses but is not a list of OR-ed equality comparisons on supported
    /// object paths.
    #[error("unsupported STIX pattern: {0}")]
    UnsupportedPattern(String),
    /// A STIX indicator whose `pattern_type` is not `stix` (e.g. `snort`, `yara`, `sigma`).
    #[error("pattern_type `{0}` is not `stix`")]
    PatternType(String),
    /// A warning-list regular expression that does not compile.
    #[error("invalid regular expression: {0}")]
    InvalidRegex(String),
}

/// Where in a file a rejected entry sits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A 1-based line number (text lists, CSV).
    Line(u32),
    /// A record id: a MISP attribute uuid, a STIX indicator id.
    Record(String),
    /// A 0-based index in a JSON array (warning-list items).
    Index(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Line(n) => write!(f, "line {n}"),
            Self::Record(id) => write!(f, "record {id}"),
            Self::Index(i) => write!(f, "item {i}"),
        }
    }
}

/// One entry that was not loaded: the file, where, what it said and why it was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}: {location}: {reason}: `{entry}`", path.display())]
pub struct Rejection {
    /// The feed file.
    pub path: PathBuf,
    /// Line, record id or array index.
    pub location: Location,
    /// The offending text (cut to 200 characters).
    pub entry: String,
    /// Why it was refused.
    #[source]
    pub reason: RejectReason,
}

impl Rejection {
    /// A rejection, cutting very long entries so reports stay readable.
    pub fn new(path: PathBuf, location: Location, entry: &str, reason: RejectReason) -> Self {
        let entry = match entry.char_indices().nth(200) {
            Some((cut, _)) => format!("{}…", &entry[..cut]),
            None => entry.to_owned(),
        };
        Self { path, location, entry, reason }
    }
}

/// A feed file that could not be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid JSON.
    #[error("{}: line {line} column {column}: invalid JSON: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// The parser error.
        source: serde_json::Error,
    },
    /// The file parses but is not the format it was loaded as.
    #[error("{}: {reason}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}

impl LoadError {
    /// A JSON error located in `path`.
    pub(crate) fn json(path: PathBuf, source: serde_json::Error) -> Self {
        Self::Json { path, line: source.line(), column: source.column(), source }
    }
}

/// Every file that failed in one load; nothing was swapped in.
#[derive(Debug, thiserror::Error)]
#[error("{} feed file(s) failed to load: {}", .0.len(), join(.0))]
pub struct LoadErrors(pub Vec<LoadError>);

fn join(errors: &[LoadError]) -> String {
    errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}
