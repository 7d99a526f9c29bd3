//! The subset of the STIX 2.1 patterning language that states exact indicators: observation
//! expressions (`[…]`) joined by `OR`, each holding comparisons joined by `OR`, each comparison
//! an object path with `=`, `IN ('a', 'b')` or (for addresses) `ISSUBSET 'cidr'` and a string.
//!
//! Supported paths: `ipv4-addr:value`, `ipv6-addr:value`, `network-traffic:src_ref.value`,
//! `network-traffic:dst_ref.value`, `domain-name:value`, `url:value`, `email-addr:value`,
//! `email-message:from_ref.value`, `email-message:sender_ref.value`, and
//! `file:hashes.MD5 | 'SHA-1' | 'SHA-256' | 'SHA-512'`. Anything else — `AND`, `FOLLOWEDBY`,
//! `NOT`, qualifiers (`WITHIN`, `REPEATS`, `START`), other operators, other paths or hash
//! algorithms, non-string literals — is refused with the reason, because an indicator set can
//! only hold single values that match on their own.

use crate::error::RejectReason;
use crate::kind::IndicatorKind;
use crate::load::misp::Target;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    LBrack,
    RBrack,
    LParen,
    RParen,
    Comma,
    Str(String),
    Word(String),
    Op(String),
}

/// The OR-ed comparisons of a pattern, as (target, literal) pairs.
pub(crate) fn parse(pattern: &str) -> Result<Vec<(Target, String)>, RejectReason> {
    let toks = tokenize(pattern)?;
    let mut p = Parser { toks, pos: 0, out: Vec::new() };
    p.observations()?;
    match p.peek() {
        None => Ok(p.out),
        Some(t) => Err(syntax(format!("unexpected {t:?} after the pattern"))),
    }
}

fn syntax(msg: String) -> RejectReason {
    RejectReason::PatternSyntax(msg)
}

fn unsupported(msg: String) -> RejectReason {
    RejectReason::UnsupportedPattern(msg)
}

fn tokenize(s: &str) -> Result<Vec<Tok>, RejectReason> {
    let mut toks = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '[' | ']' | '(' | ')' | ',' => {
                chars.next();
                toks.push(punct(c));
            }
            '\'' => {
                chars.next();
                toks.push(Tok::Str(string(&mut chars)?));
            }
            '=' | '!' | '<' | '>' => toks.push(Tok::Op(operator(&mut chars))),
            _ => toks.push(Tok::Word(word(&mut chars)?)),
        }
    }
    Ok(toks)
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn punct(c: char) -> Tok {
    match c {
        '[' => Tok::LBrack,
        ']' => Tok::RBrack,
        '(' => Tok::LParen,
        ')' => Tok::RParen,
        _ => Tok::Comma,
    }
}

/// A quoted literal after its opening quote; `\'` and `\\` are the only escapes.
fn string(chars: &mut Chars<'_>) -> Result<String, RejectReason> {
    let mut out = String::new();
    loop {
        match chars.next() {
            None => return Err(syntax("unterminated string".into())),
            Some('\'') => return Ok(out),
            Some('\\') => match chars.next() {
                Some(c @ ('\'' | '\\')) => out.push(c),
                _ => return Err(syntax("invalid escape in string".into())),
            },
            Some(c) => out.push(c),
        }
    }
}

fn operator(chars: &mut Chars<'_>) -> String {
    let mut op = String::new();
    while let Some(&c) = chars.peek().filter(|c| "=!<>".contains(**c)) {
        op.push(c);
        chars.next();
    }
    op
}

/// A keyword or an object path; quoted path parts (`hashes.'SHA-256'`) and list indexes
/// (`values[*]`) stay inside the word.
fn word(chars: &mut Chars<'_>) -> Result<String, RejectReason> {
    let mut w = String::new();
    while let Some(&c) = chars.peek() {
        let quoted_part = c == '\'' && w.ends_with('.');
        let index = c == '[' && w.ends_with(|p: char| p.is_alphanumeric() || p == '_');
        if quoted_part {
            chars.next();
            w.push('\'');
            w.push_str(&string(chars)?);
            w.push('\'');
            continue;
        }
        if index {
            for c in chars.by_ref() {
                w.push(c);
                if c == ']' {
                    break;
                }
            }
            continue;
        }
        if c.is_whitespace() || "[](),'=!<>".contains(c) {
            break;
        }
        w.push(c);
        chars.next();
    }
    Ok(w)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    out: Vec<(Target, String)>,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expect(&mut self, want: &Tok) -> Result<(), RejectReason> {
        match self.next() {
            Some(t) if &t == want => Ok(()),
            other => Err(syntax(format!("expected {want:?}, found {other:?}"))),
        }
    }

    /// `obs (OR obs)*`; `AND` and `FOLLOWEDBY` between observations are refused.
    fn observations(&mut self) -> Result<(), RejectReason> {
        self.observation()?;
        while let Some(Tok::Word(w)) = self.peek() {
            match w.to_ascii_uppercase().as_str() {
                "OR" => {
                    self.pos += 1;
                    self.observation()?;
                }
                "AND" | "FOLLOWEDBY" => return Err(unsupported(format!("`{w}` between observations"))),
                "WITHIN" | "REPEATS" | "START" | "STOP" => {
                    return Err(unsupported(format!("qualifier `{w}`")));
                }
                _ => return Err(syntax(format!("unexpected `{w}`"))),
            }
        }
        Ok(())
    }

    fn observation(&mut self) -> Result<(), RejectReason> {
        match self.next() {
            Some(Tok::LBrack) => {
                self.comparisons()?;
                self.expect(&Tok::RBrack)
            }
            Some(Tok::LParen) => {
                self.observations()?;
                self.expect(&Tok::RParen)
            }
            other => Err(syntax(format!("expected `[` or `(`, found {other:?}"))),
        }
    }

    /// `cmp (OR cmp)*` inside brackets; `AND` is refused.
    fn comparisons(&mut self) -> Result<(), RejectReason> {
        self.comparison_term()?;
        while let Some(Tok::Word(w)) = self.peek() {
            match w.to_ascii_uppercase().as_str() {
                "OR" => {
                    self.pos += 1;
                    self.comparison_term()?;
                }
                "AND" => return Err(unsupported("`AND` of comparisons".into())),
                _ => return Err(syntax(format!("unexpected `{w}`"))),
            }
        }
        Ok(())
    }

    fn comparison_term(&mut self) -> Result<(), RejectReason> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            self.comparisons()?;
            return self.expect(&Tok::RParen);
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<(), RejectReason> {
        let path = match self.next() {
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("NOT") => return Err(unsupported("`NOT`".into())),
            Some(Tok::Word(w)) => w,
            other => return Err(syntax(format!("expected an object path, found {other:?}"))),
        };
        let target = target_of(&path)?;
        match self.next() {
            Some(Tok::Op(op)) if op == "=" => self.literal().map(|v| self.out.push((target, v))),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("IN") => self.set(target),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("ISSUBSET") && matches!(target, Target::Ip) => {
                self.literal().map(|v| self.out.push((target, v)))
            }
            Some(Tok::Op(op) | Tok::Word(op)) => Err(unsupported(format!("operator `{op}`"))),
            other => Err(syntax(format!("expected an operator, found {other:?}"))),
        }
    }

    fn literal(&mut self) -> Result<String, RejectReason> {
        match self.next() {
            Some(Tok::Str(s)) => Ok(s),
            Some(Tok::Word(w)) => Err(unsupported(format!("non-string literal `{w}`"))),
            other => Err(syntax(format!("expected a string, found {other:?}"))),
        }
    }

    /// `('a', 'b', …)` after `IN`.
    fn set(&mut self, target: Target) -> Result<(), RejectReason> {
        self.expect(&Tok::LParen)?;
        loop {
            let value = self.literal()?;
            self.out.push((target, value));
            match self.next() {
                Some(Tok::Comma) => {}
                Some(Tok::RParen) => return Ok(()),
                other => return Err(syntax(format!("expected `,` or `)`, found {other:?}"))),
            }
        }
    }
}

/// The indicator target of an object path.
fn target_of(path: &str) -> Result<Target, RejectReason> {
    use IndicatorKind as K;
    let refuse = || unsupported(format!("object path `{path}`"));
    let (object, property) =
        path.split_once(':').ok_or_else(|| syntax(format!("`{path}` is not an object path")))?;
    Ok(match (object, property) {
        ("ipv4-addr" | "ipv6-addr", "value") => Target::Ip,
        ("network-traffic", "src_ref.value" | "dst_ref.value") => Target::Ip,
        ("domain-name", "value") => Target::Kind(K::Domain),
        ("url", "value") => Target::Kind(K::Url),
        ("email-addr", "value") | ("email-message", "from_ref.value" | "sender_ref.value") => {
            Target::Kind(K::Email)
        }
        ("file", p) => {
            let alg = p.strip_prefix("hashes.").ok_or_else(refuse)?.trim_matches('\'');
            match alg.to_ascii_uppercase().replace('-', "").as_str() {
                "MD5" => Target::Kind(K::Md5),
                "SHA1" => Target::Kind(K::Sha1),
                "SHA256" => Target::Kind(K::Sha256),
                "SHA512" => Target::Kind(K::Sha512),
                _ => return Err(unsupported(format!("hash algorithm `{alg}`"))),
            }
        }
        _ => return Err(refuse()),
    })
}
