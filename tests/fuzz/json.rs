//! The oracle's JSON (RFC 8259), written here so that the crate's parser (serde_json) is not
//! checked against itself: members kept in order with their repeats, strings decoded, numbers
//! read as `f64`.

/// serde_json's recursion limit, which the crate inherits: a document nested this deep (the
/// outer object counting 1) is refused. Stricter than RFC 8259, which allows any depth.
pub const MAX_DEPTH: usize = 128;

#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    /// Members in document order, repeats included.
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn members(&self) -> Option<&[(String, Json)]> {
        match self {
            Json::Obj(members) => Some(members),
            _ => None,
        }
    }
}

pub fn parse(input: &[u8]) -> Result<Json, &'static str> {
    let mut parser = Parser { s: input, i: 0 };
    parser.ws();
    let value = parser.value(0)?;
    parser.ws();
    if parser.i != input.len() {
        return Err("trailing characters");
    }
    Ok(value)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn next(&mut self) -> Result<u8, &'static str> {
        let byte = self.peek().ok_or("unexpected end")?;
        self.i += 1;
        Ok(byte)
    }

    /// RFC 8259 §2: space, tab, line feed, carriage return; nothing else.
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), &'static str> {
        if self.next()? == byte {
            Ok(())
        } else {
            Err("unexpected character")
        }
    }

    fn literal(&mut self, word: &[u8], value: Json) -> Result<Json, &'static str> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(value)
        } else {
            Err("unknown literal")
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, &'static str> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Json::Str),
            Some(b't') => self.literal(b"true", Json::Bool(true)),
            Some(b'f') => self.literal(b"false", Json::Bool(false)),
            Some(b'n') => self.literal(b"null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err("expected a value"),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, &'static str> {
        if depth >= MAX_DEPTH {
            return Err("nested too deep");
        }
        self.expect(b'{')?;
        let mut members = Vec::new();
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Json::Obj(members));
        }
        loop {
            self.ws();
            let name = self.string()?;
            self.ws();
            self.expect(b':')?;
            self.ws();
            let value = self.value(depth)?;
            members.push((name, value));
            self.ws();
            match self.next()? {
                b',' => {}
                b'}' => return Ok(Json::Obj(members)),
                _ => return Err("expected , or }"),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, &'static str> {
        if depth >= MAX_DEPTH {
            return Err("nested too deep");
        }
        self.expect(b'[')?;
        let mut items = Vec::new();
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Json::Arr(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth)?);
            self.ws();
            match self.next()? {
                b',' => {}
                b']' => return Ok(Json::Arr(items)),
                _ => return Err("expected , or ]"),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    /// RFC 8259 §6. A number beyond the range of an `f64` is refused, as serde_json does (and
    /// I-JSON, RFC 7493 §2.2, advises); one too small to tell from zero is zero.
    fn number(&mut self) -> Result<Json, &'static str> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err("bad number"),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err("bad fraction");
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err("bad exponent");
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).expect("ASCII");
        let number: f64 = text.parse().map_err(|_| "bad number")?;
        if !number.is_finite() {
            return Err("number out of range");
        }
        Ok(Json::Num(number))
    }

    fn hex4(&mut self) -> Result<u32, &'static str> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = (self.next()? as char)
                .to_digit(16)
                .ok_or("bad \\u escape")?;
            code = code * 16 + digit;
        }
        Ok(code)
    }

    /// RFC 8259 §7: no raw control characters, only the listed escapes, UTF-16 surrogates in
    /// pairs (a lone one is no Unicode text, so refused, as serde_json does), UTF-8 throughout.
    fn string(&mut self) -> Result<String, &'static str> {
        self.expect(b'"')?;
        let mut out = Vec::new();
        loop {
            match self.next()? {
                b'"' => break,
                b'\\' => {
                    let unescaped = match self.next()? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err("bad escape"),
                    };
                    out.extend_from_slice(unescaped.encode_utf8(&mut [0; 4]).as_bytes());
                }
                0x00..=0x1f => return Err("control character in a string"),
                byte => out.push(byte),
            }
        }
        String::from_utf8(out).map_err(|_| "invalid UTF-8")
    }

    fn unicode_escape(&mut self) -> Result<char, &'static str> {
        let code = self.hex4()?;
        let code = match code {
            0xd800..=0xdbff => {
                if !self.s[self.i..].starts_with(b"\\u") {
                    return Err("lone surrogate");
                }
                self.i += 2;
                let low = self.hex4()?;
                if !(0xdc00..=0xdfff).contains(&low) {
                    return Err("lone surrogate");
                }
                0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00)
            }
            0xdc00..=0xdfff => return Err("lone surrogate"),
            code => code,
        };
        char::from_u32(code).ok_or("bad code point")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oracle_parser_reads_rfc_8259_and_nothing_else() {
        let object = parse(br#" {"a":[1,-0.5e2,true,null],"a":"\u00e9\ud83d\ude00"} "#).unwrap();
        assert_eq!(object.members().unwrap().len(), 2, "repeats are kept");
        assert_eq!(
            object.members().unwrap()[1].1,
            Json::Str("\u{e9}\u{1f600}".into())
        );
        for bad in [
            "01",
            "1.",
            ".5",
            "+1",
            "-",
            "1e",
            "NaN",
            "[1,]",
            "{\"a\"}",
            "\"\\ud800\"",
            "\"\\x\"",
            "\"\u{1}\"",
            "1e400",
            "{} x",
            "\u{a0}1",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad}");
        }
        assert!(parse(b"\"\xff\"").is_err());
        let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(parse(deep(MAX_DEPTH - 1).as_bytes()).is_ok());
        assert!(parse(deep(MAX_DEPTH).as_bytes()).is_err());
        assert_eq!(parse(b"1e-400"), Ok(Json::Num(0.0)));
    }
}
