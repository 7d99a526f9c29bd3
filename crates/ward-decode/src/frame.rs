//! Cutting input bytes into records, with a size limit and UTF-8 check on each, streaming so
//! memory stays bounded by the record limit whatever the input size.

use std::io::{self, BufRead};

use crate::DecodeError;

/// Where a record starts: 1-based line number and byte offset within its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Location {
    /// 1-based line (for EVTX: the 1-based record ordinal).
    pub line: u64,
    /// Byte offset of the record's first byte.
    pub offset: u64,
}

/// Calls `f` for every non-blank line of `reader`, without the line terminator.
///
/// Lines longer than `limit` bytes and lines that are not UTF-8 are passed as errors; reading
/// then continues with the next line.
///
/// # Errors
/// An I/O error from the reader (e.g. a truncated gzip stream).
pub fn for_each_line(
    reader: &mut dyn BufRead,
    limit: usize,
    f: &mut dyn FnMut(Location, Result<&str, DecodeError>),
) -> io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let mut loc = Location { line: 0, offset: 0 };
    let mut next_offset = 0u64;
    loop {
        buf.clear();
        loc.line += 1;
        loc.offset = next_offset;
        let (read, overflow) = read_line_capped(reader, &mut buf, limit)?;
        if read == 0 {
            return Ok(());
        }
        next_offset += read as u64;
        if overflow {
            f(loc, Err(DecodeError::TooLarge { size: read, limit }));
            continue;
        }
        let mut line = buf.as_slice();
        if let Some(stripped) = line.strip_suffix(b"\n") {
            line = stripped;
        }
        if let Some(stripped) = line.strip_suffix(b"\r") {
            line = stripped;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        f(loc, utf8(line));
    }
}

/// Checks that a record is UTF-8.
pub(crate) fn utf8(bytes: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(bytes).map_err(|e| DecodeError::InvalidUtf8 { valid_up_to: e.valid_up_to() })
}

/// Reads one line into `buf` (at most `limit` bytes kept); returns bytes consumed and whether
/// the line was longer than the limit.
fn read_line_capped(reader: &mut dyn BufRead, buf: &mut Vec<u8>, limit: usize) -> io::Result<(usize, bool)> {
    let mut consumed = 0usize;
    let mut overflow = false;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok((consumed, overflow));
        }
        let (take, done) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if !overflow {
            if buf.len() + take > limit.saturating_add(2) {
                overflow = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&chunk[..take]);
            }
        }
        reader.consume(take);
        consumed += take;
        if done {
            return Ok((consumed, overflow));
        }
    }
}

/// Splits a stream of JSON values: newline-delimited, pretty-printed and concatenated, or the
/// elements of top-level arrays. Calls `f` with each value's exact text.
///
/// Text that does not start a JSON value is passed on up to the end of its line (the decoder
/// then rejects it with the JSON parser's reason). In newline-delimited input, a line that ends
/// inside an unfinished value is passed on as it is, so one broken line never swallows the next.
///
/// # Errors
/// An I/O error from the reader.
pub fn for_each_json_value(
    reader: &mut dyn BufRead,
    limit: usize,
    f: &mut dyn FnMut(Location, Result<&str, DecodeError>),
) -> io::Result<()> {
    let mut s = JsonSplitter::new(limit);
    loop {
        let chunk = match reader.fill_buf() {
            Ok(c) => c,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            s.finish(f);
            return Ok(());
        }
        let n = chunk.len();
        s.feed(chunk, f);
        reader.consume(n);
    }
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Mode {
    /// Between values.
    Idle,
    /// Inside an object or array.
    Container,
    /// Inside text that is not a container; runs to the end of the line.
    Loose,
}

struct JsonSplitter {
    limit: usize,
    buf: Vec<u8>,
    mode: Mode,
    depth: u32,
    in_str: bool,
    escaped: bool,
    in_array: bool,
    /// Whether values so far each sat on one line (newline-delimited input).
    ndjson: Option<bool>,
    oversize: bool,
    size: usize,
    start: Location,
    start_line_of_value: u64,
    line: u64,
    offset: u64,
}

impl JsonSplitter {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            buf: Vec::with_capacity(4096),
            mode: Mode::Idle,
            depth: 0,
            in_str: false,
            escaped: false,
            in_array: false,
            ndjson: None,
            oversize: false,
            size: 0,
            start: Location::default(),
            start_line_of_value: 1,
            line: 1,
            offset: 0,
        }
    }

    fn push(&mut self, b: u8, f: &mut dyn FnMut(Location, Result<&str, DecodeError>)) {
        let offset = self.offset;
        self.offset += 1;
        match self.mode {
            Mode::Idle => self.idle(b, offset),
            Mode::Loose => self.loose(b, f),
            Mode::Container => self.container(b, f),
        }
        if b == b'\n' {
            self.line += 1;
        }
    }

    fn idle(&mut self, b: u8, offset: u64) {
        if b.is_ascii_whitespace() {
            return;
        }
        if self.in_array && (b == b',' || b == b']') {
            self.in_array = b == b',';
            return;
        }
        if b == b'[' && !self.in_array {
            self.in_array = true;
            return;
        }
        self.start = Location { line: self.line, offset };
        self.start_line_of_value = self.line;
        self.buf.clear();
        self.size = 0;
        self.oversize = false;
        self.in_str = false;
        self.escaped = false;
        if b == b'{' || b == b'[' {
            self.mode = Mode::Container;
            self.depth = 1;
        } else {
            self.mode = Mode::Loose;
            self.in_str = b == b'"';
        }
        self.keep(b);
    }

    /// Text outside a container: a scalar (which ends at `,` or `]` inside a top-level array)
    /// or garbage (which runs to the end of the line).
    fn loose(&mut self, b: u8, f: &mut dyn FnMut(Location, Result<&str, DecodeError>)) {
        if self.in_array && !self.in_str && (b == b',' || b == b']') {
            self.emit(f);
            self.in_array = b == b',';
        } else if b == b'\n' {
            self.emit(f);
        } else {
            self.keep(b);
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' && self.in_str {
                self.escaped = true;
            } else if b == b'"' {
                self.in_str = !self.in_str;
            }
        }
    }

    fn container(&mut self, b: u8, f: &mut dyn FnMut(Location, Result<&str, DecodeError>)) {
        if b == b'\n' && (self.in_str || self.ndjson == Some(true)) {
            // A raw newline cannot occur inside a JSON string, and in newline-delimited input a
            // value never spans lines: this value is broken, hand it over as it is.
            self.emit(f);
            return;
        }
        self.keep(b);
        if self.in_str {
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_str = false;
            }
            return;
        }
        match b {
            b'"' => self.in_str = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth -= 1;
                if self.depth == 0 {
                    if self.ndjson.is_none() {
                        self.ndjson = Some(self.line == self.start_line_of_value);
                    }
                    self.emit(f);
                }
            }
            _ => {}
        }
    }

    /// Feeds a chunk: the plain text inside strings is copied in bulk (found with `memchr3`),
    /// every other byte goes through [`JsonSplitter::push`].
    fn feed(&mut self, chunk: &[u8], f: &mut dyn FnMut(Location, Result<&str, DecodeError>)) {
        let mut i = 0;
        while i < chunk.len() {
            if self.mode == Mode::Container && self.in_str && !self.escaped {
                let run = memchr::memchr3(b'"', b'\\', b'\n', &chunk[i..]).unwrap_or(chunk.len() - i);
                if run > 0 {
                    self.keep_slice(&chunk[i..i + run]);
                    self.offset += run as u64;
                    i += run;
                    continue;
                }
            }
            self.push(chunk[i], f);
            i += 1;
        }
    }

    fn keep_slice(&mut self, bytes: &[u8]) {
        self.size += bytes.len();
        if self.size > self.limit {
            self.oversize = true;
            self.buf.clear();
        } else if !self.oversize {
            self.buf.extend_from_slice(bytes);
        }
    }

    fn keep(&mut self, b: u8) {
        self.size += 1;
        if self.size > self.limit {
            self.oversize = true;
            self.buf.clear();
        } else if !self.oversize {
            self.buf.push(b);
        }
    }

    fn emit(&mut self, f: &mut dyn FnMut(Location, Result<&str, DecodeError>)) {
        self.mode = Mode::Idle;
        self.depth = 0;
        if self.oversize {
            f(self.start, Err(DecodeError::TooLarge { size: self.size, limit: self.limit }));
        } else {
            let text = trim_end(&self.buf);
            f(self.start, utf8(text));
        }
        self.buf.clear();
    }

    fn finish(&mut self, f: &mut dyn FnMut(Location, Result<&str, DecodeError>)) {
        if self.mode != Mode::Idle {
            self.emit(f);
        }
    }
}

fn trim_end(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(0, |i| i + 1);
    &b[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    type Out = Vec<(u64, u64, Result<String, DecodeError>)>;

    fn json_values(input: &str, limit: usize) -> Out {
        let mut out = Vec::new();
        for_each_json_value(&mut input.as_bytes(), limit, &mut |l, r| {
            out.push((l.line, l.offset, r.map(str::to_owned)));
        })
        .unwrap();
        out
    }

    fn lines(input: &[u8], limit: usize) -> Out {
        let mut out = Vec::new();
        for_each_line(&mut &input[..], limit, &mut |l, r| out.push((l.line, l.offset, r.map(str::to_owned))))
            .unwrap();
        out
    }

    #[test]
    fn lines_keep_position_and_skip_blanks() {
        let out = lines(b"a\r\n\n  \nbb\nccc", 100);
        assert_eq!(out, vec![(1, 0, Ok("a".into())), (4, 7, Ok("bb".into())), (5, 10, Ok("ccc".into()))]);
    }

    #[test]
    fn overlong_and_non_utf8_lines_are_errors_and_reading_goes_on() {
        let out = lines(b"0123456789\n\xff\xfe\nok\n", 5);
        assert_eq!(out[0].2, Err(DecodeError::TooLarge { size: 11, limit: 5 }));
        assert_eq!(out[1].2, Err(DecodeError::InvalidUtf8 { valid_up_to: 0 }));
        assert_eq!(out[2], (3, 14, Ok("ok".into())));
    }

    #[test]
    fn pretty_printed_concatenated_values_split() {
        let out = json_values("{\n  \"a\": \"}\"\n}\n{\"b\": [1, {\"c\": 2}]}", 1000);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0], (1, 0, Ok("{\n  \"a\": \"}\"\n}".into())));
        assert_eq!(out[1].0, 4);
        assert_eq!(out[1].2, Ok("{\"b\": [1, {\"c\": 2}]}".into()));
    }

    #[test]
    fn top_level_array_elements_are_records() {
        let out = json_values("[{\"a\":1},\n {\"b\":\"]\"}]", 1000);
        let texts: Vec<_> = out.into_iter().map(|o| o.2.unwrap()).collect();
        assert_eq!(texts, vec!["{\"a\":1}", "{\"b\":\"]\"}"]);
    }

    #[test]
    fn scalars_in_top_level_arrays_are_records_of_their_own() {
        let out = json_values("[1, \"a,]\", {\"b\":2}]\n[3]", 1000);
        let texts: Vec<_> = out.into_iter().map(|o| o.2.unwrap()).collect();
        assert_eq!(texts, vec!["1", "\"a,]\"", "{\"b\":2}", "3"]);
    }

    #[test]
    fn broken_ndjson_line_does_not_swallow_the_next() {
        let out = json_values("{\"a\":1}\n{\"b\":\n{\"c\":3}\nRecord 2\n", 1000);
        let texts: Vec<_> = out.into_iter().map(|o| (o.0, o.2.unwrap())).collect();
        assert_eq!(
            texts,
            vec![
                (1, "{\"a\":1}".into()),
                (2, "{\"b\":".into()),
                (3, "{\"c\":3}".into()),
                (4, "Record 2".into())
            ]
        );
    }

    #[test]
    fn oversized_value_is_an_error_and_splitting_resumes() {
        let big = format!("{{\"a\":\"{}\"}}", "x".repeat(50));
        let out = json_values(&format!("{big}\n{{\"b\":1}}"), 20);
        assert!(matches!(out[0].2, Err(DecodeError::TooLarge { limit: 20, .. })));
        assert_eq!(out[1].2, Ok("{\"b\":1}".into()));
    }

    proptest! {
        #[test]
        fn splitting_never_panics_and_positions_increase(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut last = None;
            for_each_json_value(&mut bytes.as_slice(), 64, &mut |l, _| {
                assert!(last.is_none_or(|p: u64| l.offset > p));
                assert!((l.offset as usize) < bytes.len());
                last = Some(l.offset);
            }).unwrap();
        }

        #[test]
        fn ndjson_of_objects_round_trips(values in proptest::collection::vec(proptest::collection::btree_map("[a-z\"\\\\{}\\[\\] ]{0,6}", "[a-z\"{}\\[\\] ]{0,6}", 0..4), 0..10)) {
            let lines: Vec<String> = values.iter().map(|m| serde_json::to_string(m).unwrap()).collect();
            let input = lines.join("\n");
            let out: Vec<String> = json_values(&input, 10_000).into_iter().map(|o| o.2.unwrap()).collect();
            prop_assert_eq!(out, lines);
        }
    }
}
