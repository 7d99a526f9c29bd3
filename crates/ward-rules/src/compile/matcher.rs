//! Compiled string tests: exact / prefix / suffix / substring fast paths, and a wildcard matcher
//! that anchors the first and last segments and finds the middle ones leftmost (optimal for
//! patterns whose only variable-length wildcard is `*`).

use crate::ast::{Pattern, Piece, WINDASH};
use crate::semantics::fold;

/// One fixed-width element of a segment.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Lit(Box<str>),
    One,
    Dash,
}

/// A run of tokens between two `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Segment {
    tokens: Vec<Token>,
    /// Width in characters.
    chars: usize,
}

/// A general wildcard pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob {
    segments: Vec<Segment>,
    anchored_start: bool,
    anchored_end: bool,
}

/// A compiled test on one text value (already folded when case-insensitive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StrTest {
    /// Whole value equals.
    Exact(Box<str>),
    /// Value starts with.
    Prefix(Box<str>),
    /// Value ends with.
    Suffix(Box<str>),
    /// Value contains.
    Contains(Box<str>),
    /// Anything else.
    Glob(Glob),
}

impl StrTest {
    /// Compiles a pattern; literals are folded unless `cased`.
    pub fn new(pattern: &Pattern, cased: bool) -> Self {
        let norm = |s: &str| -> Box<str> { if cased { s.into() } else { fold(s).into() } };
        match pattern.pieces.as_slice() {
            [] => Self::Exact("".into()),
            [Piece::Lit(s)] => Self::Exact(norm(s)),
            [Piece::Lit(s), Piece::Star] => Self::Prefix(norm(s)),
            [Piece::Star, Piece::Lit(s)] => Self::Suffix(norm(s)),
            [Piece::Star, Piece::Lit(s), Piece::Star] => Self::Contains(norm(s)),
            pieces => Self::Glob(Glob::new(pieces, cased)),
        }
    }

    /// Whether `text` (folded when the test is case-insensitive) passes.
    pub fn matches(&self, text: &str) -> bool {
        match self {
            Self::Exact(s) => text == &**s,
            Self::Prefix(s) => text.starts_with(&**s),
            Self::Suffix(s) => text.ends_with(&**s),
            Self::Contains(s) => memchr::memmem::find(text.as_bytes(), s.as_bytes()).is_some(),
            Self::Glob(g) => g.matches(text),
        }
    }

    /// Relative cost of one evaluation, for ordering.
    pub fn cost(&self) -> u32 {
        match self {
            Self::Exact(_) | Self::Prefix(_) | Self::Suffix(_) => 2,
            Self::Contains(_) => 4,
            Self::Glob(_) => 8,
        }
    }
}

impl Glob {
    fn new(pieces: &[Piece], cased: bool) -> Self {
        let mut segments = vec![Segment { tokens: Vec::new(), chars: 0 }];
        for piece in pieces {
            let current = segments.last_mut();
            match (piece, current) {
                (Piece::Star, _) => segments.push(Segment { tokens: Vec::new(), chars: 0 }),
                (Piece::Lit(s), Some(seg)) => {
                    let s = if cased { s.clone() } else { fold(s) };
                    seg.chars += s.chars().count();
                    seg.tokens.push(Token::Lit(s.into()));
                }
                (Piece::One, Some(seg)) => {
                    seg.chars += 1;
                    seg.tokens.push(Token::One);
                }
                (Piece::Dash, Some(seg)) => {
                    seg.chars += 1;
                    seg.tokens.push(Token::Dash);
                }
                (_, None) => {}
            }
        }
        let anchored_start = pieces.first() != Some(&Piece::Star);
        let anchored_end = pieces.last() != Some(&Piece::Star);
        Self { segments, anchored_start, anchored_end }
    }

    /// Whether the whole of `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        let n = self.segments.len();
        if n == 1 {
            return match_at(&self.segments[0], text, 0) == Some(text.len());
        }
        let mut pos = 0;
        let mut first = 0;
        if self.anchored_start {
            match match_at(&self.segments[0], text, 0) {
                Some(end) => pos = end,
                None => return false,
            }
            first = 1;
        }
        let last = if self.anchored_end { n - 1 } else { n };
        for seg in &self.segments[first..last] {
            match find_from(seg, text, pos) {
                Some(end) => pos = end,
                None => return false,
            }
        }
        if !self.anchored_end {
            return true;
        }
        let tail = &self.segments[n - 1];
        match start_of_last_chars(text, tail.chars) {
            Some(start) if start >= pos => match_at(tail, text, start) == Some(text.len()),
            _ => false,
        }
    }
}

/// Byte offset where the last `n` characters of `text` start.
fn start_of_last_chars(text: &str, n: usize) -> Option<usize> {
    if n == 0 {
        return Some(text.len());
    }
    text.char_indices().rev().nth(n - 1).map(|(i, _)| i)
}

/// Matches a segment at byte `pos`, returning the end offset.
fn match_at(seg: &Segment, text: &str, mut pos: usize) -> Option<usize> {
    for token in &seg.tokens {
        let rest = text.get(pos..)?;
        match token {
            Token::Lit(s) => {
                if !rest.starts_with(&**s) {
                    return None;
                }
                pos += s.len();
            }
            Token::One => pos += rest.chars().next()?.len_utf8(),
            Token::Dash => {
                let c = rest.chars().next().filter(|c| WINDASH.contains(c))?;
                pos += c.len_utf8();
            }
        }
    }
    Some(pos)
}

/// Finds the leftmost match of a segment at or after byte `from`, returning its end offset.
fn find_from(seg: &Segment, text: &str, from: usize) -> Option<usize> {
    let mut start = from;
    loop {
        let rest = text.get(start..)?;
        let candidate = match seg.tokens.first() {
            Some(Token::Lit(s)) => start + memchr::memmem::find(rest.as_bytes(), s.as_bytes())?,
            _ => start,
        };
        if let Some(end) = match_at(seg, text, candidate) {
            return Some(end);
        }
        let step = text.get(candidate..)?.chars().next()?.len_utf8();
        start = candidate + step;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::value::{parse_pattern, windash};

    fn m(pattern: &str, text: &str) -> bool {
        StrTest::new(&parse_pattern(pattern), false).matches(&fold(text))
    }

    #[test]
    fn fast_paths_and_globs() {
        assert!(m("abc", "ABC"));
        assert!(m("ab*", "abXYZ"));
        assert!(m("*yz", "xyz"));
        assert!(m("*b*", "abc"));
        assert!(m("a*c*e", "abcde"));
        assert!(!m("a*c*e", "abcdef"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("*ipconfig*|*find*", "cmd /c IPCONFIG /all | find \"x\""));
        assert!(!m("*ipconfig*|*find*", "cmd /c find | ipconfig"));
        assert!(m("ab*ab", "abab"));
        assert!(!m("ab*ba", "aba"), "anchors must not overlap");
        assert!(m("*", ""));
        assert!(m("?*", "é"));
        assert!(!m("??", "é"));
    }

    #[test]
    fn dash_class_matches_every_dash() {
        let t = StrTest::new(&windash(parse_pattern("* -enc *")), false);
        for dash in WINDASH {
            assert!(t.matches(&format!("powershell {dash}enc abc")), "{dash}");
        }
        assert!(!t.matches("powershell +enc abc"));
    }
}
