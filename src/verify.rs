//! The synchronous verify path: size cap, header, algorithm bound to the key, signature, then
//! the registered claims in one pass over the payload, then the app's claims type.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Algorithm;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde::Deserialize;

use crate::clock::Clock;
use crate::error::AuthError;
use crate::keys::{KeySet, VerifyingKey};
use crate::revoke::RevocationStore;

/// The token type a layer expects (RFC 8725 §3.11): either the JOSE `typ` header, or a claim
/// as the FastAPI + PyJWT tutorials use (`"type": "access"`).
///
/// ```
/// use tower_jwt_auth::TokenType;
///
/// let access = TokenType::claim("type", "access");
/// let rfc9068 = TokenType::header("at+jwt");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenType(pub(crate) TypeRule);

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TypeRule {
    Header(Box<str>),
    Claim { name: Box<str>, value: Box<str> },
}

impl TokenType {
    /// The `typ` header must be `value`, compared as a media type: case-insensitively, with an
    /// omitted `application/` prefix (RFC 7515 §4.1.9), so `at+jwt` matches `application/at+JWT`.
    pub fn header(value: impl Into<String>) -> Self {
        Self(TypeRule::Header(value.into().into_boxed_str()))
    }

    /// The claim `name` must be the string `value`, e.g. `TokenType::claim("type", "access")`.
    pub fn claim(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self(TypeRule::Claim {
            name: name.into().into_boxed_str(),
            value: value.into().into_boxed_str(),
        })
    }
}

impl TypeRule {
    /// The claim this rule reads, if it reads one.
    pub(crate) fn claim_name(&self) -> Option<&str> {
        match self {
            Self::Claim { name, .. } => Some(name),
            Self::Header(_) => None,
        }
    }
}

/// Everything a token is checked against; one per layer, shared behind an `Arc`.
#[derive(Clone)]
pub(crate) struct Rules {
    pub(crate) keys: KeySet,
    pub(crate) leeway: u64,
    pub(crate) max_len: usize,
    pub(crate) issuers: Vec<Box<str>>,
    pub(crate) audiences: Vec<Box<str>>,
    /// Accept any `aud` when no audience is configured (by default a token with `aud` is then
    /// refused).
    pub(crate) any_audience: bool,
    pub(crate) subject: Option<Box<str>>,
    pub(crate) required: Vec<Box<str>>,
    pub(crate) token_type: Option<TokenType>,
    pub(crate) clock: Clock,
    pub(crate) revocation: Option<Arc<dyn RevocationStore>>,
    /// Accept tokens when the revocation store cannot answer.
    pub(crate) fail_open: bool,
}

/// Longest required-claims list (tracked in a `u64` bit set, so the check allocates nothing).
pub(crate) const MAX_REQUIRED_CLAIMS: usize = 64;
/// Decoded header and payload up to this size stay on the stack.
const STACK_BUF: usize = 4096;

impl Rules {
    pub(crate) fn new(keys: KeySet) -> Self {
        Self {
            keys,
            leeway: 30,
            max_len: 8 * 1024,
            issuers: Vec::new(),
            audiences: Vec::new(),
            any_audience: false,
            subject: None,
            required: Vec::new(),
            token_type: None,
            clock: Clock::system(),
            revocation: None,
            fail_open: false,
        }
    }

    /// Verifies `token` and deserializes its claims.
    pub(crate) fn verify<C: DeserializeOwned>(&self, token: &str) -> Result<C, AuthError> {
        if token.len() > self.max_len {
            return Err(AuthError::TooLong {
                len: token.len(),
                max: self.max_len,
            });
        }
        let (message, signature) = token.rsplit_once('.').ok_or(AuthError::Malformed)?;
        let (header, payload) = message.split_once('.').ok_or(AuthError::Malformed)?;
        if payload.contains('.') {
            return Err(AuthError::Malformed);
        }
        let key = with_decoded(header, |json| self.check_header(json))?;
        match jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key.key, key.algorithm) {
            Ok(true) => {}
            Ok(false) => return Err(AuthError::InvalidSignature),
            Err(e) => {
                return Err(match e.kind() {
                    jsonwebtoken::errors::ErrorKind::Base64(_) => AuthError::Malformed,
                    _ => AuthError::InvalidSignature,
                })
            }
        }
        with_decoded(payload, |json| {
            self.check_claims(json)?;
            serde_json::from_slice(json).map_err(|_| AuthError::InvalidClaims)
        })
    }

    /// Checks the header and picks the key that may verify the signature.
    fn check_header(&self, json: &[u8]) -> Result<&VerifyingKey, AuthError> {
        let header: JoseHeader<'_> =
            serde_json::from_slice(json).map_err(|_| AuthError::Malformed)?;
        let alg = Algorithm::from_str(&header.alg).map_err(|_| AuthError::DisallowedAlgorithm)?;
        if header.crit {
            return Err(AuthError::UnsupportedCriticalHeader);
        }
        let key = self.keys.select(header.kid.as_deref(), alg)?;
        if let Some(TokenType(TypeRule::Header(expected))) = &self.token_type {
            match &header.typ {
                Some(typ) if media_type_eq(typ, expected) => {}
                _ => return Err(AuthError::WrongTokenType),
            }
        }
        Ok(key)
    }

    fn check_claims(&self, json: &[u8]) -> Result<(), AuthError> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let seen = ClaimsScan { rules: self }
            .deserialize(&mut de)
            .map_err(|_| AuthError::InvalidClaims)?;
        de.end().map_err(|_| AuthError::InvalidClaims)?;

        let now_secs = self.clock.now();
        let now = now_secs as f64;
        let leeway = self.leeway as f64;
        let exp = seen
            .exp
            .ok_or_else(|| AuthError::MissingClaim("exp".into()))?;
        // RFC 7519 §4.1.4: the current time must be *before* `exp`.
        if now >= exp + leeway {
            return Err(AuthError::Expired);
        }
        if seen.nbf.is_some_and(|nbf| now + leeway < nbf) {
            return Err(AuthError::NotYetValid);
        }
        if !self.issuers.is_empty() {
            match seen.iss {
                Presence::Absent => return Err(AuthError::MissingClaim("iss".into())),
                Presence::Mismatch => return Err(AuthError::InvalidIssuer),
                Presence::Match => {}
            }
        }
        if !self.audiences.is_empty() {
            match seen.aud {
                Presence::Absent => return Err(AuthError::MissingClaim("aud".into())),
                Presence::Mismatch => return Err(AuthError::InvalidAudience),
                Presence::Match => {}
            }
        } else if seen.aud_present && !self.any_audience {
            // RFC 7519 §4.1.3: a token meant for named audiences is not for a receiver that
            // does not know its own name (RFC 8725 §3.9, cross-service confusion).
            return Err(AuthError::InvalidAudience);
        }
        if self.subject.is_some() {
            match seen.sub {
                Presence::Absent => return Err(AuthError::MissingClaim("sub".into())),
                Presence::Mismatch => return Err(AuthError::InvalidSubject),
                Presence::Match => {}
            }
        }
        if let Some(TokenType(TypeRule::Claim { .. })) = &self.token_type {
            if seen.typ != Presence::Match {
                return Err(AuthError::WrongTokenType);
            }
        }
        if let Some(missing) = (0..self.required.len()).find(|i| seen.required & (1 << i) == 0) {
            return Err(AuthError::MissingClaim(self.required[missing].to_string()));
        }
        if let Some(store) = &self.revocation {
            // A token without `jti` could never be taken back: refuse it where revocation is on.
            let jti = seen
                .jti
                .as_deref()
                .ok_or_else(|| AuthError::MissingClaim("jti".into()))?;
            match store.check(jti, seen.sid.as_deref(), now_secs) {
                Ok(false) => {}
                Ok(true) => return Err(AuthError::Revoked),
                Err(err) if self.fail_open => {
                    tracing::warn!(target: "tower_jwt_auth", error = %err, "revocation not checked (fail-open)");
                }
                Err(err) => {
                    tracing::warn!(target: "tower_jwt_auth", error = %err, "revocation store unavailable");
                    return Err(AuthError::RevocationUnavailable);
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rules")
            .field("keys", &self.keys)
            .field("leeway", &self.leeway)
            .field("max_len", &self.max_len)
            .field("issuers", &self.issuers)
            .field("audiences", &self.audiences)
            .field("any_audience", &self.any_audience)
            .field("subject", &self.subject)
            .field("required", &self.required)
            .field("token_type", &self.token_type)
            .field("clock", &self.clock)
            .field("revocation", &self.revocation.is_some())
            .field("fail_open", &self.fail_open)
            .finish()
    }
}

/// Base64url-decodes `part` into a stack buffer when it fits, and hands the bytes to `f`.
fn with_decoded<T>(
    part: &str,
    f: impl FnOnce(&[u8]) -> Result<T, AuthError>,
) -> Result<T, AuthError> {
    let mut stack = [0u8; STACK_BUF];
    if base64::decoded_len_estimate(part.len()) <= STACK_BUF {
        let n = URL_SAFE_NO_PAD
            .decode_slice(part, &mut stack)
            .map_err(|_| AuthError::Malformed)?;
        f(&stack[..n])
    } else {
        let heap = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| AuthError::Malformed)?;
        f(&heap)
    }
}

/// `typ` values compare as media types (RFC 7515 §4.1.9).
fn media_type_eq(a: &str, b: &str) -> bool {
    fn strip(s: &str) -> &str {
        match s.get(..12) {
            Some(p) if p.eq_ignore_ascii_case("application/") => &s[12..],
            _ => s,
        }
    }
    strip(a).eq_ignore_ascii_case(strip(b))
}

#[derive(Deserialize)]
struct JoseHeader<'a> {
    #[serde(borrow)]
    alg: Text<'a>,
    #[serde(borrow, default)]
    typ: Option<Text<'a>>,
    #[serde(borrow, default)]
    kid: Option<Text<'a>>,
    /// Present at all, whatever its value (`"crit": null` is not valid JOSE either).
    #[serde(default, deserialize_with = "present")]
    crit: bool,
}

/// A JSON string, borrowed from the input unless it had escapes (serde's own `Cow<str>`
/// always allocates).
struct Text<'de>(Cow<'de, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
            type Value = Text<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(TextVisitor(std::marker::PhantomData))
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Presence {
    #[default]
    Absent,
    Mismatch,
    Match,
}

#[derive(Default)]
struct Seen<'de> {
    jti: Option<Text<'de>>,
    sid: Option<Text<'de>>,
    exp: Option<f64>,
    nbf: Option<f64>,
    iss: Presence,
    aud: Presence,
    aud_present: bool,
    sub: Presence,
    typ: Presence,
    required: u64,
}

/// One pass over the payload object that reads the registered claims the rules need and notes
/// which required claims are present; every other value is skipped without allocating.
struct ClaimsScan<'r> {
    rules: &'r Rules,
}

impl<'de> DeserializeSeed<'de> for ClaimsScan<'_> {
    type Value = Seen<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Seen<'de>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ClaimsScan<'_> {
    type Value = Seen<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Seen<'de>, A::Error> {
        let rules = self.rules;
        let type_claim = match &rules.token_type {
            Some(TokenType(TypeRule::Claim { name, value })) => Some((&**name, &**value)),
            _ => None,
        };
        let mut seen = Seen::default();
        let mut dup = 0u8;
        while let Some(key) = map.next_key::<Text<'de>>()? {
            let mut present = true;
            let bit = match &*key {
                "exp" => {
                    seen.exp = Some(map.next_value()?);
                    1
                }
                "nbf" => {
                    seen.nbf = Some(map.next_value()?);
                    2
                }
                "iss" => {
                    seen.iss = map.next_value_seed(OneOf {
                        accepted: &rules.issuers,
                        array: false,
                    })?;
                    4
                }
                "aud" => {
                    seen.aud = map.next_value_seed(OneOf {
                        accepted: &rules.audiences,
                        array: true,
                    })?;
                    seen.aud_present = true;
                    8
                }
                "jti" if rules.revocation.is_some() => {
                    seen.jti = Some(map.next_value()?);
                    64
                }
                "sid" if rules.revocation.is_some() => {
                    seen.sid = Some(map.next_value()?);
                    128
                }
                "sub" => {
                    let sub: Text<'de> = map.next_value()?;
                    seen.sub = presence(rules.subject.as_deref() == Some(&*sub));
                    16
                }
                name if type_claim.is_some_and(|(n, _)| n == name) => {
                    let value: Text<'de> = map.next_value()?;
                    seen.typ = presence(type_claim.is_some_and(|(_, v)| v == &*value));
                    32
                }
                _ => {
                    // A required claim set to `null` counts as absent (as PyJWT has it).
                    present = map.next_value::<NotNull>()?.0;
                    0
                }
            };
            if present {
                if let Some(i) = rules.required.iter().position(|r| **r == *key) {
                    seen.required |= 1 << i;
                }
            }
            // A repeated registered claim is a parser-differential trap: refuse it.
            if dup & bit != 0 {
                return Err(de::Error::custom("repeated registered claim"));
            }
            dup |= bit;
        }
        Ok(seen)
    }
}

fn presence(matched: bool) -> Presence {
    if matched {
        Presence::Match
    } else {
        Presence::Mismatch
    }
}

/// Reads a string (or, for `aud`, a string or an array of strings) and answers whether any
/// value is in `accepted` (the caller ignores the answer when nothing is configured).
struct OneOf<'r> {
    accepted: &'r [Box<str>],
    array: bool,
}

impl OneOf<'_> {
    fn check(&self, value: &str) -> bool {
        self.accepted.iter().any(|a| **a == *value)
    }
}

impl<'de> DeserializeSeed<'de> for OneOf<'_> {
    type Value = Presence;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Presence, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for OneOf<'_> {
    type Value = Presence;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.array {
            "a string or an array of strings"
        } else {
            "a string"
        })
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Presence, E> {
        Ok(presence(self.check(value)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Presence, A::Error> {
        if !self.array {
            return Err(de::Error::invalid_type(de::Unexpected::Seq, &self));
        }
        let mut matched = false;
        let mut any = false;
        while let Some(value) = seq.next_element::<Text<'de>>()? {
            any = true;
            matched |= self.check(&value);
        }
        Ok(if !any {
            Presence::Absent
        } else {
            presence(matched)
        })
    }
}

/// Skips any JSON value and says whether it was something other than `null`.
struct NotNull(bool);

impl<'de> Deserialize<'de> for NotNull {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NotNullVisitor;
        impl<'de> Visitor<'de> for NotNullVisitor {
            type Value = NotNull;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_unit<E: de::Error>(self) -> Result<NotNull, E> {
                Ok(NotNull(false))
            }

            fn visit_none<E: de::Error>(self) -> Result<NotNull, E> {
                Ok(NotNull(false))
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<NotNull, E> {
                Ok(NotNull(true))
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<NotNull, E> {
                Ok(NotNull(true))
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<NotNull, E> {
                Ok(NotNull(true))
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<NotNull, E> {
                Ok(NotNull(true))
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<NotNull, E> {
                Ok(NotNull(true))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NotNull, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(NotNull(true))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NotNull, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(NotNull(true))
            }
        }
        deserializer.deserialize_any(NotNullVisitor)
    }
}

/// `deserialize_with` for header fields whose mere presence matters.
fn present<'de, D: de::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(deserializer).map(|_| true)
}

/// Claims this crate reads itself; a type claim of one of these names could never match.
pub(crate) const REGISTERED: [&str; 7] = ["exp", "nbf", "iss", "aud", "sub", "jti", "sid"];
