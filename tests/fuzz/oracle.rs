//! What a layer configured as a [`Rules`] must decide for a token, written from the standards
//! (RFC 7515 JWS, RFC 7519 JWT, RFC 8725 best practices) and the crate's documented table of
//! checks, without any of its code: base64url and JSON are decoded here, HMAC is `hmac` +
//! `sha2`, ECDSA is `p256`. Where the crate is deliberately stricter than the RFCs, the rule
//! says so.

use hmac::{Hmac, Mac};
use p256::ecdsa::signature::Verifier;
use sha2::Sha256;

use super::json::{self, Json};

/// A layer's configuration, as the oracle reads it (the fuzzer builds the layer from it).
pub struct Rules {
    pub key: Key,
    /// The key's `kid`: a token's `kid`, when present, must be it.
    pub kid: Option<&'static str>,
    pub now: u64,
    pub leeway: u64,
    pub max_len: usize,
    pub max_age: Option<u64>,
    pub issuer: Option<&'static str>,
    pub audiences: &'static [&'static str],
    pub any_audience: bool,
    pub subject: Option<&'static str>,
    /// The type claim's name and value.
    pub type_claim: Option<(&'static str, &'static str)>,
    /// The media type the `typ` header must be.
    pub type_header: Option<&'static str>,
}

pub enum Key {
    Hs256(&'static [u8]),
    Es256(p256::ecdsa::VerifyingKey),
}

impl Key {
    fn alg(&self) -> &'static str {
        match self {
            Key::Hs256(_) => "HS256",
            Key::Es256(_) => "ES256",
        }
    }

    /// RFC 7515 §5.2 step 8, RFC 7518 §3.2 and §3.4: over the exact ASCII signing input.
    fn verifies(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        match self {
            Key::Hs256(secret) => {
                let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
                mac.update(signing_input);
                mac.verify_slice(signature).is_ok()
            }
            // R || S, 32 bytes each. A high S verifies too: RFC 7518 does not ask for low S.
            Key::Es256(key) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|signature| key.verify(signing_input, &signature).is_ok()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    Accept,
    Refuse(&'static str),
    /// A time within rounding of a limit, where two correct decimal-to-`f64` readings may
    /// differ: either answer is right.
    Either,
}

/// The crate refuses a registered claim that appears twice (RFC 7519 §4 lets a parser keep the
/// last one instead; the crate refuses, against parser differentials). Other claims may repeat.
const REGISTERED: [&str; 7] = ["iss", "sub", "aud", "exp", "nbf", "iat", "jti"];

macro_rules! ensure {
    ($cond:expr, $why:literal) => {
        if !$cond {
            return Verdict::Refuse($why);
        }
    };
}

impl Rules {
    pub fn decide(&self, token: &str) -> Verdict {
        // The crate's size cap, before anything is decoded.
        ensure!(token.len() <= self.max_len, "too long");
        // RFC 7515 §7.1: exactly three base64url parts.
        let parts: Vec<&str> = token.split('.').collect();
        ensure!(parts.len() == 3, "not three parts");
        let (Some(header), Some(payload), Some(signature)) = (
            base64url(parts[0]),
            base64url(parts[1]),
            base64url(parts[2]),
        ) else {
            return Verdict::Refuse("not base64url");
        };
        let header = self.header(&header);
        if header != Verdict::Accept {
            return header;
        }
        let claims = self.claims(&payload);
        // The signature last only because it is the slow check: every rule must hold.
        let signing_input = &token[..parts[0].len() + 1 + parts[1].len()];
        ensure!(
            self.key.verifies(signing_input.as_bytes(), &signature),
            "bad signature"
        );
        claims
    }

    /// RFC 7515 §4 and §5.2, RFC 8725 §3.1: the algorithm is the key's, never the token's
    /// choice.
    fn header(&self, bytes: &[u8]) -> Verdict {
        let Ok(header) = json::parse(bytes) else {
            return Verdict::Refuse("header not JSON");
        };
        let Some(members) = header.members() else {
            return Verdict::Refuse("header not an object");
        };
        // RFC 7515 §4: names must be unique; the crate refuses every repeat (it may keep the
        // last instead).
        let mut names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        ensure!(
            names.windows(2).all(|w| w[0] != w[1]),
            "repeated header member"
        );
        let get = |name: &str| members.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        ensure!(
            get("alg") == Some(&Json::Str(self.key.alg().into())),
            "another alg"
        );
        // RFC 7515 §4.1.11: no extension is understood, so any `crit` is refused.
        ensure!(get("crit").is_none(), "crit");
        for name in ["typ", "kid"] {
            ensure!(
                get(name).is_none_or(|v| matches!(v, Json::Str(_))),
                "typ or kid not a string"
            );
        }
        if let (Some(expected), Some(Json::Str(kid))) = (self.kid, get("kid")) {
            ensure!(kid == expected, "another kid");
        }
        if let Some(expected) = self.type_header {
            // RFC 7515 §4.1.9: a media type, compared case-insensitively, `application/`
            // optional.
            let strip = |t: &str| {
                let lower = t.to_ascii_lowercase();
                lower
                    .strip_prefix("application/")
                    .map_or(lower.clone(), str::to_owned)
            };
            ensure!(
                matches!(get("typ"), Some(Json::Str(t)) if strip(t) == strip(expected)),
                "wrong typ"
            );
        }
        Verdict::Accept
    }

    /// RFC 7519 §4.1 and §7.2, and the crate's rules for what it is configured with.
    fn claims(&self, bytes: &[u8]) -> Verdict {
        let Ok(payload) = json::parse(bytes) else {
            return Verdict::Refuse("payload not JSON");
        };
        let Some(members) = payload.members() else {
            return Verdict::Refuse("payload not an object");
        };
        let type_name = self.type_claim.map(|(name, _)| name);
        let registered = |name: &str| REGISTERED.contains(&name) || Some(name) == type_name;
        let mut names: Vec<&str> = members
            .iter()
            .map(|(n, _)| n.as_str())
            .filter(|n| registered(n))
            .collect();
        names.sort_unstable();
        ensure!(names.windows(2).all(|w| w[0] != w[1]), "repeated claim");
        let get = |name: &str| members.iter().find(|(n, _)| n == name).map(|(_, v)| v);

        // Types: NumericDates are JSON numbers (§2), StringOrURI claims strings, `aud` a string
        // or an array of strings (§4.1.3); `null` is none of these.
        let mut dates = [None; 3];
        for (date, name) in dates.iter_mut().zip(["exp", "nbf", "iat"]) {
            match get(name) {
                None => {}
                Some(Json::Num(n)) => *date = Some(*n),
                Some(_) => return Verdict::Refuse("a date not a number"),
            }
        }
        let text = |name: &str| match get(name) {
            None => Ok(None),
            Some(Json::Str(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(()),
        };
        let (Ok(iss), Ok(sub), Ok(_jti)) = (text("iss"), text("sub"), text("jti")) else {
            return Verdict::Refuse("a string claim not a string");
        };
        let typ = match type_name.map(text) {
            Some(Err(())) => return Verdict::Refuse("the type claim not a string"),
            Some(Ok(typ)) => typ,
            None => None,
        };
        let aud: Option<Vec<&str>> = match get("aud") {
            None => None,
            Some(Json::Str(s)) => Some(vec![s.as_str()]),
            Some(Json::Arr(items)) => {
                let strings: Vec<&str> = items
                    .iter()
                    .filter_map(|i| match i {
                        Json::Str(s) => Some(s.as_str()),
                        _ => None,
                    })
                    .collect();
                ensure!(strings.len() == items.len(), "aud holds a non-string");
                Some(strings)
            }
            Some(_) => return Verdict::Refuse("aud not a string or array"),
        };

        // Times: `exp` required (RFC 8725 §3.10 asks for it; the crate always does), now before
        // it; not before `nbf`; with a maximum age, `iat` required, not ahead, not too old.
        let (now, leeway) = (self.now as f64, self.leeway as f64);
        let [exp, nbf, iat] = dates;
        let Some(exp) = exp else {
            return Verdict::Refuse("no exp");
        };
        let mut either = false;
        let mut before = |a: f64, b: f64| {
            // a < b, decided by the crate in f64 too.
            either |= (a - b).abs() < 1e-4 && (a.fract() != 0.0 || b.fract() != 0.0);
            a < b
        };
        ensure!(before(now, exp + leeway), "expired");
        if let Some(nbf) = nbf {
            ensure!(!before(now + leeway, nbf), "not yet valid");
        }
        if let Some(max_age) = self.max_age {
            let Some(iat) = iat else {
                return Verdict::Refuse("no iat");
            };
            ensure!(!before(now + leeway, iat), "issued in the future");
            ensure!(before(now, iat + max_age as f64 + leeway), "too old");
        }

        // Who the token is for: a configured value is required and must match; a token that
        // names audiences is refused by a layer that has none, unless any is allowed.
        if let Some(expected) = self.issuer {
            ensure!(iss == Some(expected), "another issuer");
        }
        if self.audiences.is_empty() {
            ensure!(aud.is_none() || self.any_audience, "an audience named");
        } else {
            ensure!(
                aud.is_some_and(|aud| aud.iter().any(|a| self.audiences.contains(a))),
                "another audience"
            );
        }
        if let Some(expected) = self.subject {
            ensure!(sub == Some(expected), "another subject");
        }
        if let Some((_, expected)) = self.type_claim {
            ensure!(typ == Some(expected), "another type");
        }
        if either {
            Verdict::Either
        } else {
            Verdict::Accept
        }
    }
}

/// RFC 7515 §2 and RFC 4648 §5 without padding. The unused low bits of the last character must
/// be zero (RFC 4648 §3.5 lets a decoder refuse them; the crate does), so that one token has
/// one spelling.
pub fn base64url(text: &str) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let (mut bits, mut count, mut out) = (0u32, 0, Vec::with_capacity(text.len() * 3 / 4));
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    (bits == 0).then_some(out)
}
