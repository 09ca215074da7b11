//! The fuzzer's inputs: a seeded generator (splitmix64, so a seed means the same cases on every
//! machine and version) and the mutations of a token's header and payload JSON, their
//! rendering, their base64url and the final characters.

use super::oracle::Rules;

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }

    pub fn word(&mut self, words: &[&'static str]) -> &'static str {
        words[self.below(words.len())]
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A JSON object as raw member texts, so that repeats, odd spellings and invalid values can be
/// written: `(name, value)`, the name with its quotes.
#[derive(Clone, Debug)]
pub struct Object(pub Vec<(String, String)>);

impl Object {
    pub fn set(&mut self, name: &str, value: String) {
        let key = quoted(name);
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(member) => member.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// The object without whitespace.
    pub fn compact(&self) -> Vec<u8> {
        let members: Vec<String> = self.0.iter().map(|(n, v)| format!("{n}:{v}")).collect();
        format!("{{{}}}", members.join(",")).into_bytes()
    }

    /// Renders the object, now and then with whitespace (rarely a kind JSON does not allow) or
    /// a trailing comma.
    pub fn render(&self, rng: &mut Rng) -> Vec<u8> {
        if rng.percent(85) {
            return self.compact();
        }
        let ws = |rng: &mut Rng| -> &'static str {
            match rng.below(200) {
                0..=139 => "",
                140..=197 => rng.word(&[" ", "\n", "\t", "\r\n", "  "]),
                _ => rng.word(&["\u{c}", "\u{a0}", "\u{feff}", "\u{0}"]),
            }
        };
        let mut out = String::from("{");
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            for part in [ws(rng), name, ws(rng), ":", ws(rng), value, ws(rng)] {
                out.push_str(part);
            }
        }
        if rng.percent(3) {
            out.push(',');
        }
        out.push('}');
        out.into_bytes()
    }
}

pub fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// The same name or string with its first character written as a `\u` escape: equal once
/// decoded.
fn escaped(text: &str) -> String {
    match text.chars().next() {
        Some(first) if (first as u32) < 0x10000 => {
            let rest = quoted(&text[first.len_utf8()..]);
            format!("\"\\u{:04x}{}", first as u32, &rest[1..])
        }
        _ => quoted(text),
    }
}

fn words(rules: &Rules) -> Vec<&'static str> {
    let mut words = vec![
        "https://issuer.example",
        "https://issuer.example/",
        "api",
        "a",
        "b",
        "svc",
        "access",
        "refresh",
        "JWT",
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/AT+JWT",
        "application/",
        "at+jwt ",
        "ec-1",
        "ec-2",
        "",
        "1",
    ];
    words.extend(rules.issuer);
    words.extend(rules.audiences);
    words.extend(rules.subject);
    words
}

pub fn string_value(rng: &mut Rng, rules: &Rules) -> String {
    let word = *rng.pick(&words(rules));
    match rng.below(20) {
        0..=9 => quoted(word),
        10 => quoted(&word.to_uppercase()),
        11 | 12 => escaped(word),
        13 => quoted(&"x".repeat(rng.below(3000))),
        _ => rng
            .pick(&[
                "\"\\ud83d\\ude00\"",
                "\"\\ud800\"",
                "\"\\udc00x\"",
                "\"\\ud800\\u0041\"",
                "\"a\u{1}b\"",
                "\"\\x\"",
                "\"\u{e9}\u{65e5}\u{672c}\"",
                "\"\u{7f}\"",
                "\"\\u0000\"",
                "\"unterminated",
                "\"\\u12\"",
                "\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"",
            ])
            .to_string(),
    }
}

pub fn number_value(rng: &mut Rng, rules: &Rules) -> String {
    if rng.percent(25) {
        return rng
            .pick(&[
                "1e400",
                "-1e400",
                "1e308",
                "0",
                "-0",
                "-1",
                "0.0000001",
                "18446744073709551616",
                "1e-400",
                "123456789012345678901234567890",
                "9007199254740993",
                "1.8e9",
                "18E8",
                "1.9e+9",
                "01",
                "1.",
                ".5",
                "+1",
                "-",
                "1e",
                "NaN",
                "Infinity",
                "0x10",
                "1_000",
            ])
            .to_string();
    }
    if rng.percent(3) {
        return format!("1{}", "0".repeat(400));
    }
    // Around the limits of the rules: exp, nbf and iat each on both sides of their edge.
    let (leeway, age) = (rules.leeway as i64, rules.max_age.unwrap_or(600) as i64);
    let edge = *rng.pick(&[
        0,
        leeway,
        -leeway,
        age + leeway,
        -(age + leeway),
        600,
        -600,
        86_400,
        -86_400,
    ]);
    let whole = rules.now as i64 + edge + *rng.pick(&[-1, 0, 0, 1]);
    let fraction = *rng.pick(&[0.0, 0.0, 0.0, 0.5, -0.5, 0.01, -0.01]);
    if fraction != 0.0 {
        return format!("{}", whole as f64 + fraction);
    }
    match rng.below(5) {
        0 => format!("{whole}.0"),
        1 => format!("{:e}", whole as f64),
        2 => format!("{whole}e0"),
        _ => whole.to_string(),
    }
}

/// `exp`, `nbf` or `iat` on a limit of the rules, or one second either side.
fn time_edge(rng: &mut Rng, rules: &Rules) -> (&'static str, String) {
    let (now, leeway) = (rules.now as i64, rules.leeway as i64);
    let age = rules.max_age.unwrap_or(600) as i64;
    let (name, edge) = *rng.pick(&[
        ("exp", now - leeway),
        ("nbf", now + leeway),
        ("iat", now + leeway),
        ("iat", now - age - leeway),
    ]);
    let at = edge + *rng.pick(&[-1, 0, 1]);
    let value = match rng.below(6) {
        0 => format!("{at}.0"),
        1 => format!("{:e}", at as f64),
        2 => format!("{}", at as f64 + *rng.pick(&[0.5, -0.5])),
        _ => at.to_string(),
    };
    (name, value)
}

/// A value that must be refused wherever it is: too deep, out of range, not Unicode.
fn hostile(rng: &mut Rng) -> String {
    // With the outer object, a value nested `d` deep is at depth d + 1; 128 is refused.
    let depth = 125 + rng.below(4);
    match rng.below(10) {
        0 | 1 => format!("{}1{}", "[".repeat(depth), "]".repeat(depth)),
        2 | 3 => format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth)),
        _ => rng
            .pick(&[
                "1e400",
                "[1e400]",
                "{\"a\":[-1e400]}",
                "\"\\udc00\"",
                "[\"\\ud800\"]",
                "{\"\\udc00\":1}",
                "\"a\u{1}b\"",
                "1e308",
                "\"\\ud83d\\ude00\"",
            ])
            .to_string(),
    }
}

fn deep(rng: &mut Rng) -> String {
    // The crate's nesting limit is 128 with the outer object: a value here sits at depth 1.
    let depth = 122 + rng.below(10);
    if rng.percent(50) {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    } else {
        format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth))
    }
}

pub fn value(rng: &mut Rng, rules: &Rules, depth: usize) -> String {
    match rng.below(12) {
        0..=3 => string_value(rng, rules),
        4..=6 => number_value(rng, rules),
        7 => rng.pick(&["true", "false", "null"]).to_string(),
        8 if depth < 3 => {
            let items: Vec<String> = (0..rng.below(4))
                .map(|_| value(rng, rules, depth + 1))
                .collect();
            format!("[{}]", items.join(","))
        }
        9 if depth < 3 => {
            let members: Vec<String> = (0..rng.below(4))
                .map(|_| {
                    let name = quoted(rng.word(&["a", "b", "exp", "aud", "\u{e9}"]));
                    format!("{name}:{}", value(rng, rules, depth + 1))
                })
                .collect();
            format!("{{{}}}", members.join(","))
        }
        10 => deep(rng),
        _ => audience(rng, rules),
    }
}

fn audience(rng: &mut Rng, rules: &Rules) -> String {
    let mine = rules.audiences.first().copied().unwrap_or("api");
    let options = [
        quoted(mine),
        format!("[{}]", quoted(mine)),
        format!("[\"x\",{}]", quoted(mine)),
        "[]".into(),
        format!("[{},1]", quoted(mine)),
        format!("[{},null]", quoted(mine)),
        format!("[[{}]]", quoted(mine)),
        format!("[\"x\",{}]", escaped(mine)),
        "[\"b\",\"a\"]".into(),
        "\"elsewhere\"".into(),
        "null".into(),
    ];
    rng.pick(&options).clone()
}

const REGISTERED: [&str; 7] = ["exp", "nbf", "iat", "iss", "aud", "sub", "jti"];

/// One structural change to the header or payload.
pub fn mutate(rng: &mut Rng, rules: &Rules, header: &mut Object, payload: &mut Object) {
    let type_name = rules.type_claim.map_or("type", |(name, _)| name);
    match rng.below(18) {
        14 | 15 => {
            let (name, value) = time_edge(rng, rules);
            payload.set(name, value);
        }
        16 | 17 => {
            let name = rng.pick(&["x", "\u{e9}", "cty"]).to_string();
            let object = if rng.percent(70) { payload } else { header };
            object.set(&name, hostile(rng));
        }
        0..=3 => {
            let name = match rng.below(10) {
                0..=6 => *rng.pick(&REGISTERED),
                7 => type_name,
                _ => *rng.pick(&["scope", "name", "x", "sid", "csrf"]),
            };
            let new = match name {
                "aud" if rng.percent(60) => audience(rng, rules),
                "exp" | "nbf" | "iat" if rng.percent(70) => number_value(rng, rules),
                "iss" | "sub" | "jti" if rng.percent(70) => string_value(rng, rules),
                n if n == type_name && rng.percent(70) => string_value(rng, rules),
                _ => value(rng, rules, 0),
            };
            payload.set(name, new);
        }
        4 => remove(rng, payload),
        5 => repeat(rng, rules, payload),
        6 => {
            let alg = match rng.below(4) {
                0 => value(rng, rules, 0),
                _ => quoted(rng.word(&[
                    "HS256", "ES256", "none", "None", "hs256", "RS256", "HS384", "ES384", "EdDSA",
                    "Ed25519", "HS256 ", "",
                ])),
            };
            header.set("alg", alg);
        }
        7 => {
            let typ = match rng.below(4) {
                0 => value(rng, rules, 0),
                _ => string_value(rng, rules),
            };
            header.set("typ", typ);
        }
        8 => {
            let kid = match rng.below(4) {
                0 => value(rng, rules, 0),
                _ => quoted(rng.word(&["ec-1", "ec-2", "", "EC-1"])),
            };
            header.set("kid", kid);
        }
        9 => {
            let crit = rng.pick(&["[\"exp\"]", "[]", "null", "\"x\""]).to_string();
            header.set("crit", crit);
        }
        10 => match rng.below(3) {
            0 => remove(rng, header),
            1 => repeat(rng, rules, header),
            _ => {
                let name = rng.pick(&["cty", "x5t", "jku", "x"]).to_string();
                header.set(&name, value(rng, rules, 0));
            }
        },
        11 => {
            let name = rng.pick(&["x", "y", "deep", "\u{e9}"]).to_string();
            payload.set(&name, value(rng, rules, 0));
        }
        12 => {
            let object = if rng.percent(50) { header } else { payload };
            for i in (1..object.0.len()).rev() {
                object.0.swap(i, rng.below(i + 1));
            }
        }
        _ => {
            // An equal name spelled with an escape: a repeat only once decoded.
            let object = if rng.percent(50) { header } else { payload };
            if !object.0.is_empty() {
                let i = rng.below(object.0.len());
                let name: String = serde_json::from_str(&object.0[i].0).unwrap();
                object.0[i].0 = escaped(&name);
            }
        }
    }
}

fn remove(rng: &mut Rng, object: &mut Object) {
    if !object.0.is_empty() {
        let i = rng.below(object.0.len());
        object.0.remove(i);
    }
}

fn repeat(rng: &mut Rng, rules: &Rules, object: &mut Object) {
    if object.0.is_empty() {
        return;
    }
    let (name, old) = object.0[rng.below(object.0.len())].clone();
    let name = if rng.percent(30) {
        escaped(&serde_json::from_str::<String>(&name).unwrap())
    } else {
        name
    };
    let value = if rng.percent(50) {
        old
    } else {
        value(rng, rules, 0)
    };
    let at = rng.below(object.0.len() + 1);
    object.0.insert(at, (name, value));
}

/// Changes raw bytes of rendered JSON: any byte, UTF-8 or not.
pub fn corrupt_bytes(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let byte = rng.next() as u8;
    let at = rng.below(bytes.len() + 1);
    match rng.below(5) {
        0 if at < bytes.len() => bytes[at] = byte,
        1 => bytes.insert(at, byte),
        2 if at < bytes.len() => {
            bytes.remove(at);
        }
        3 => bytes.truncate(at),
        _ => {
            *bytes = rng
                .pick(&[&b"[]"[..], b"\"x\"", b"1", b"null", b"", b"[{}]", b"{}"])
                .to_vec()
        }
    }
}

/// Changes a base64url segment into something its decoder must refuse (or, for the unused
/// bits, a second spelling of the same bytes).
pub fn corrupt_base64(rng: &mut Rng, segment: &mut String) {
    match rng.below(6) {
        0 => segment.push_str(rng.word(&["=", "=="])),
        1 if !segment.is_empty() => {
            let at = rng.below(segment.len());
            let with = *rng.pick(&["+", "/", " ", "%", "\n"]);
            segment.replace_range(at..at + 1, with);
        }
        2 if !segment.is_empty() => {
            // Nonzero unused low bits in the last character.
            let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let last = segment.pop().unwrap();
            let value = alphabet.iter().position(|&c| c == last as u8).unwrap_or(0);
            let unused = match segment.len() % 4 {
                1 => 0b1111,
                2 => 0b11,
                _ => 0,
            };
            let twin = (value & !unused) | (rng.below(unused + 1) & unused);
            segment.push(alphabet[twin] as char);
        }
        3 => {
            segment.pop();
        }
        4 => segment.clear(),
        _ => segment.insert(rng.below(segment.len() + 1), '.'),
    }
}

/// Changes characters of the final token.
pub fn corrupt_token(rng: &mut Rng, token: &mut String) {
    let chars: Vec<char> = token.chars().collect();
    let at = rng.below(chars.len() + 1);
    let with = *rng.pick(&[
        '.', '=', ' ', '+', '/', 'A', 'a', '0', '-', '_', '\n', '\u{e9}', '\0',
    ]);
    let mut chars = chars;
    match rng.below(8) {
        0 if at < chars.len() => chars[at] = with,
        1 => chars.insert(at, with),
        2 if at < chars.len() => {
            chars.remove(at);
        }
        3 => chars.truncate(at),
        4 => chars.extend(".eyJ9".chars()),
        5 => chars.insert(0, ' '),
        6 => {
            let (first, _) = token.split_once('.').unwrap_or((token, ""));
            chars = format!("{first}.{token}").chars().collect();
        }
        _ => chars = format!("Bearer {token}").chars().collect(),
    }
    *token = chars.into_iter().collect();
}
