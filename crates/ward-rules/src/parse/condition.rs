//! The condition grammar, resolved against the search identifiers.
//!
//! ```text
//! expr     := and_expr ("or" and_expr)*
//! and_expr := not_expr ("and" not_expr)*
//! not_expr := "not" not_expr | primary
//! primary  := "(" expr ")" | quantity "of" (pattern | "them") | identifier
//! quantity := "all" | "any" | integer ≥ 1
//! ```
//! Precedence from loosest: `or`, `and`, `not`, `x of`, parentheses. Keywords are
//! case-insensitive. `them` means every identifier not starting with `_`; a pattern matches
//! identifiers with `*` as a wildcard. A `|` (Sigma 1 aggregation) or `near` is rejected.

use crate::ast::Cond;
use crate::error::ErrorKind;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    Of,
    Them,
    All,
    Word(String),
}

/// Parses `text` and resolves identifiers against `names` (the search identifiers in order).
///
/// # Errors
/// [`ErrorKind::Condition`] for syntax errors, [`ErrorKind::UnknownIdentifier`],
/// [`ErrorKind::EmptySelector`] or [`ErrorKind::Aggregation`].
pub fn parse_condition(text: &str, names: &[&str]) -> Result<Cond, ErrorKind> {
    if let Some(pos) = text.find('|') {
        return Err(ErrorKind::Aggregation(text[pos..].trim().to_owned()));
    }
    let tokens = tokenize(text)?;
    if tokens.iter().any(|t| matches!(t, Token::Word(w) if w.eq_ignore_ascii_case("near"))) {
        return Err(ErrorKind::Aggregation("near".into()));
    }
    let mut parser = CondParser { tokens, pos: 0, names };
    let cond = parser.expr()?;
    match parser.tokens.get(parser.pos) {
        None => Ok(cond),
        Some(t) => {
            Err(ErrorKind::Condition(format!("unexpected {} after a complete expression", describe(t))))
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, ErrorKind> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => tokens.push(Token::Open),
            ')' => tokens.push(Token::Close),
            c if is_word_char(c) => {
                let mut end = start + c.len_utf8();
                while let Some(&(i, next)) = chars.peek() {
                    if !is_word_char(next) {
                        break;
                    }
                    end = i + next.len_utf8();
                    chars.next();
                }
                tokens.push(word(&text[start..end]));
            }
            other => return Err(ErrorKind::Condition(format!("unexpected character `{other}`"))),
        }
    }
    Ok(tokens)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '*' | '?' | '@' | '$' | ':')
}

fn word(w: &str) -> Token {
    match w.to_ascii_lowercase().as_str() {
        "and" => Token::And,
        "or" => Token::Or,
        "not" => Token::Not,
        "of" => Token::Of,
        "them" => Token::Them,
        "all" => Token::All,
        _ => Token::Word(w.to_owned()),
    }
}

fn describe(t: &Token) -> String {
    match t {
        Token::Open => "`(`".into(),
        Token::Close => "`)`".into(),
        Token::And => "`and`".into(),
        Token::Or => "`or`".into(),
        Token::Not => "`not`".into(),
        Token::Of => "`of`".into(),
        Token::Them => "`them`".into(),
        Token::All => "`all`".into(),
        Token::Word(w) => format!("`{w}`"),
    }
}

struct CondParser<'a> {
    tokens: Vec<Token>,
    pos: usize,
    names: &'a [&'a str],
}

impl CondParser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn bump(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expr(&mut self) -> Result<Cond, ErrorKind> {
        let mut parts = vec![self.and_expr()?];
        while self.peek() == Some(&Token::Or) {
            self.pos += 1;
            parts.push(self.and_expr()?);
        }
        Ok(flatten(parts, Cond::Or))
    }

    fn and_expr(&mut self) -> Result<Cond, ErrorKind> {
        let mut parts = vec![self.not_expr()?];
        while self.peek() == Some(&Token::And) {
            self.pos += 1;
            parts.push(self.not_expr()?);
        }
        Ok(flatten(parts, Cond::And))
    }

    fn not_expr(&mut self) -> Result<Cond, ErrorKind> {
        if self.peek() == Some(&Token::Not) {
            self.pos += 1;
            return Ok(Cond::Not(Box::new(self.not_expr()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Cond, ErrorKind> {
        match self.bump() {
            Some(Token::Open) => {
                let inner = self.expr()?;
                match self.bump() {
                    Some(Token::Close) => Ok(inner),
                    Some(t) => Err(ErrorKind::Condition(format!("expected `)`, found {}", describe(&t)))),
                    None => Err(ErrorKind::Condition("missing `)`".into())),
                }
            }
            Some(Token::All) => self.quantified(None),
            Some(Token::Word(w)) if self.peek() == Some(&Token::Of) => {
                let n = quantity(&w)?;
                self.quantified(Some(n))
            }
            Some(Token::Word(w)) => self.identifier(&w),
            Some(t) => {
                Err(ErrorKind::Condition(format!("expected a search identifier, found {}", describe(&t))))
            }
            None => Err(ErrorKind::Condition("unexpected end of condition".into())),
        }
    }

    /// `all of x` (`n` = `None`) or `n of x`.
    fn quantified(&mut self, n: Option<usize>) -> Result<Cond, ErrorKind> {
        if self.bump() != Some(Token::Of) {
            return Err(ErrorKind::Condition("expected `of` after the quantity".into()));
        }
        let (label, targets) = match self.bump() {
            Some(Token::Them) => ("them".to_owned(), self.them()),
            Some(Token::Word(p)) => {
                let targets = self.matching(&p);
                (p, targets)
            }
            Some(t) => {
                return Err(ErrorKind::Condition(format!(
                    "expected a pattern or `them`, found {}",
                    describe(&t)
                )));
            }
            None => return Err(ErrorKind::Condition("expected a pattern or `them` after `of`".into())),
        };
        if targets.is_empty() {
            return Err(ErrorKind::EmptySelector(label));
        }
        let searches: Vec<Cond> = targets.iter().map(|&i| Cond::Search(i)).collect();
        Ok(match n {
            None => flatten(searches, Cond::And),
            Some(1) => flatten(searches, Cond::Or),
            Some(k) if k >= targets.len() => flatten(searches, Cond::And),
            Some(k) => Cond::AtLeast(k, targets),
        })
    }

    fn them(&self) -> Vec<usize> {
        (0..self.names.len()).filter(|&i| !self.names[i].starts_with('_')).collect()
    }

    fn matching(&self, pattern: &str) -> Vec<usize> {
        (0..self.names.len()).filter(|&i| glob_name(pattern, self.names[i])).collect()
    }

    fn identifier(&self, name: &str) -> Result<Cond, ErrorKind> {
        if name.contains('*') {
            return Err(ErrorKind::Condition(format!(
                "wildcard `{name}` is only allowed after `1 of` / `all of`"
            )));
        }
        self.names
            .iter()
            .position(|n| *n == name)
            .map(Cond::Search)
            .ok_or_else(|| ErrorKind::UnknownIdentifier(name.to_owned()))
    }
}

fn quantity(word: &str) -> Result<usize, ErrorKind> {
    if word.eq_ignore_ascii_case("any") {
        return Ok(1);
    }
    match word.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(ErrorKind::Condition(format!("`{word}` is not a quantity (a positive integer or `all`)"))),
    }
}

fn flatten(mut parts: Vec<Cond>, make: fn(Vec<Cond>) -> Cond) -> Cond {
    if parts.len() == 1 { parts.remove(0) } else { make(parts) }
}

/// Whether an identifier matches a pattern where `*` stands for any run of characters.
pub fn glob_name(pattern: &str, name: &str) -> bool {
    let Some((first, rest)) = pattern.split_once('*') else {
        return pattern == name;
    };
    let Some(mut remaining) = name.strip_prefix(first) else {
        return false;
    };
    let mut segments: Vec<&str> = rest.split('*').collect();
    let last = segments.pop().unwrap_or("");
    for seg in segments {
        match remaining.find(seg) {
            Some(i) => remaining = &remaining[i + seg.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 5] = ["selection", "selection_img", "filter_main_a", "filter_optional_b", "_hidden"];

    fn p(text: &str) -> Result<Cond, ErrorKind> {
        parse_condition(text, &NAMES)
    }

    #[test]
    fn precedence_is_or_and_not() {
        let c = p("selection or not selection_img and filter_main_a").unwrap();
        assert_eq!(
            c,
            Cond::Or(vec![
                Cond::Search(0),
                Cond::And(vec![Cond::Not(Box::new(Cond::Search(1))), Cond::Search(2)])
            ])
        );
    }

    #[test]
    fn quantifiers_expand_patterns_and_them() {
        assert_eq!(p("1 of filter_*").unwrap(), Cond::Or(vec![Cond::Search(2), Cond::Search(3)]));
        assert_eq!(p("all of selection*").unwrap(), Cond::And(vec![Cond::Search(0), Cond::Search(1)]));
        assert_eq!(p("1 of them").unwrap(), Cond::Or((0..4).map(Cond::Search).collect()));
        assert_eq!(p("2 of them").unwrap(), Cond::AtLeast(2, vec![0, 1, 2, 3]));
        assert_eq!(
            p("not 1 of filter_* and selection").unwrap(),
            Cond::And(vec![
                Cond::Not(Box::new(Cond::Or(vec![Cond::Search(2), Cond::Search(3)]))),
                Cond::Search(0)
            ])
        );
    }

    #[test]
    fn errors_are_precise() {
        assert_eq!(p("selection and nope"), Err(ErrorKind::UnknownIdentifier("nope".into())));
        assert_eq!(p("1 of keywords*"), Err(ErrorKind::EmptySelector("keywords*".into())));
        assert!(
            matches!(p("selection | count() > 5"), Err(ErrorKind::Aggregation(a)) if a == "| count() > 5")
        );
        assert!(matches!(p("(selection"), Err(ErrorKind::Condition(_))));
        assert!(matches!(p("selection selection_img"), Err(ErrorKind::Condition(_))));
        assert!(matches!(p("selection and"), Err(ErrorKind::Condition(_))));
        assert!(matches!(p("0 of them"), Err(ErrorKind::Condition(_))));
        assert!(matches!(p("selection*"), Err(ErrorKind::Condition(_))));
    }

    #[test]
    fn name_globs() {
        assert!(glob_name("sel*", "selection"));
        assert!(glob_name("*_img", "selection_img"));
        assert!(glob_name("s*l*n", "selection"));
        assert!(!glob_name("s*x", "selection"));
        assert!(glob_name("*", ""));
        assert!(!glob_name("ab*ba", "aba"));
    }
}
