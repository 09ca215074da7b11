//! The one pass over the payload that reads the registered claims a [`ScanPlan`] asks for, and
//! the small serde helpers it is built from (borrowed strings, presence, "any value but null").
//! It knows nothing of the layer's rules: the plan is plain data, the checks come after.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A JSON string, borrowed from the input unless it had escapes (serde's own `Cow<str>`
/// always allocates).
pub(crate) struct Text<'de>(Cow<'de, str>);

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
pub(crate) enum Presence {
    #[default]
    Absent,
    Mismatch,
    Match,
}

#[derive(Default)]
pub(crate) struct Seen<'de> {
    pub(crate) jti: Option<Text<'de>>,
    pub(crate) sid: Option<Text<'de>>,
    pub(crate) csrf: Option<Text<'de>>,
    pub(crate) exp: Option<f64>,
    pub(crate) nbf: Option<f64>,
    pub(crate) iat: Option<f64>,
    pub(crate) iss: Presence,
    pub(crate) aud: Presence,
    pub(crate) aud_present: bool,
    pub(crate) sub: Presence,
    /// The `sub` value, for the telemetry of an accepted token.
    pub(crate) subject: Option<Text<'de>>,
    /// The token's confirmation (`cnf`, RFC 7800), if it has one.
    pub(crate) cnf: Option<Confirmation>,
    pub(crate) typ: Presence,
    pub(crate) required: u64,
}

/// What one pass over the payload reads: plain data taken from the rules and the request.
#[derive(Clone, Copy)]
pub(crate) struct ScanPlan<'r> {
    /// The type claim's name and required value, when the type is a claim.
    pub(crate) type_claim: Option<(&'r str, &'r str)>,
    pub(crate) subject: Option<&'r str>,
    /// Claim names that must be present (not `null`), at most 64.
    pub(crate) required: &'r [Box<str>],
    /// Keep `jti` and read `sid` (revocation is on); `jti` is type-checked either way.
    pub(crate) revocation_ids: bool,
    /// Read the `csrf` claim (a cookie-authenticated unsafe request).
    pub(crate) csrf: bool,
    pub(crate) issuers: &'r [Box<str>],
    pub(crate) audiences: &'r [Box<str>],
}

/// One bit per registered claim (and the crate's own `sid`, `csrf`), to refuse any of them
/// repeated.
mod bit {
    pub(super) const EXP: u16 = 1 << 0;
    pub(super) const NBF: u16 = 1 << 1;
    pub(super) const ISS: u16 = 1 << 2;
    pub(super) const AUD: u16 = 1 << 3;
    pub(super) const SUB: u16 = 1 << 4;
    pub(super) const TYPE: u16 = 1 << 5;
    pub(super) const JTI: u16 = 1 << 6;
    pub(super) const SID: u16 = 1 << 7;
    pub(super) const CSRF: u16 = 1 << 8;
    pub(super) const IAT: u16 = 1 << 9;
    pub(super) const CNF: u16 = 1 << 10;
}

impl<'de> DeserializeSeed<'de> for ScanPlan<'_> {
    type Value = Seen<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Seen<'de>, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ScanPlan<'_> {
    type Value = Seen<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Seen<'de>, A::Error> {
        let mut seen = Seen::default();
        let mut dup = 0u16;
        while let Some(key) = map.next_key::<Text<'de>>()? {
            let mut present = true;
            let bit = match &*key {
                "exp" => {
                    seen.exp = Some(map.next_value()?);
                    bit::EXP
                }
                "nbf" => {
                    seen.nbf = Some(map.next_value()?);
                    bit::NBF
                }
                "iat" => {
                    seen.iat = Some(map.next_value()?);
                    bit::IAT
                }
                "iss" => {
                    seen.iss = map.next_value_seed(OneOf {
                        accepted: self.issuers,
                        array: false,
                    })?;
                    bit::ISS
                }
                "aud" => {
                    seen.aud = map.next_value_seed(OneOf {
                        accepted: self.audiences,
                        array: true,
                    })?;
                    seen.aud_present = true;
                    bit::AUD
                }
                // RFC 7519 §4.1.7: a string, whether or not revocation reads it.
                "jti" => {
                    let jti: Text<'de> = map.next_value()?;
                    if self.revocation_ids {
                        seen.jti = Some(jti);
                    }
                    bit::JTI
                }
                "sid" if self.revocation_ids => {
                    seen.sid = Some(map.next_value()?);
                    bit::SID
                }
                "csrf" if self.csrf => {
                    seen.csrf = Some(map.next_value()?);
                    bit::CSRF
                }
                "cnf" => {
                    seen.cnf = Some(map.next_value()?);
                    bit::CNF
                }
                "sub" => {
                    let sub: Text<'de> = map.next_value()?;
                    seen.sub = presence(self.subject == Some(&*sub));
                    seen.subject = Some(sub);
                    bit::SUB
                }
                name if self.type_claim.is_some_and(|(n, _)| n == name) => {
                    let value: Text<'de> = map.next_value()?;
                    seen.typ = presence(self.type_claim.is_some_and(|(_, v)| v == &*value));
                    bit::TYPE
                }
                _ => {
                    // A required claim set to `null` counts as absent (as PyJWT has it).
                    present = map.next_value::<NotNull>()?.0;
                    0
                }
            };
            if present && let Some(i) = self.required.iter().position(|r| **r == *key) {
                seen.required |= 1 << i;
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

/// A token's `cnf` (RFC 7800): bound to a DPoP key by its RFC 7638 thumbprint (RFC 9449 §6.1),
/// the one binding this crate can check, or bound some other way (an mTLS certificate, a key
/// given whole, `null`, a `jkt` that is no string), which it cannot and so refuses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Confirmation {
    Jkt(String),
    Unsupported,
}

impl<'de> Deserialize<'de> for Confirmation {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Ok(match value {
            serde_json::Value::Object(members) if members.len() == 1 => match members.get("jkt") {
                Some(serde_json::Value::String(jkt)) => Self::Jkt(jkt.clone()),
                _ => Self::Unsupported,
            },
            _ => Self::Unsupported,
        })
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

/// Skips any JSON value (parsed, not merely skipped: numbers in range, nesting bounded) and says
/// whether it was something other than `null`.
pub(crate) struct NotNull(pub(crate) bool);

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
                // Each element parsed in turn (not skipped), so depth and numbers are checked at
                // every level: serde_json's skipping accepts `1e400` and any nesting.
                while seq.next_element::<NotNull>()?.is_some() {}
                Ok(NotNull(true))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NotNull, A::Error> {
                while map.next_entry::<IgnoredAny, NotNull>()?.is_some() {}
                Ok(NotNull(true))
            }
        }
        deserializer.deserialize_any(NotNullVisitor)
    }
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
