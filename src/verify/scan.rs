//! The one pass over the payload that reads the registered claims a [`ScanPlan`] asks for, and
//! the small serde helpers it is built from (borrowed strings, presence, "any value but null").
//! It knows nothing of the layer's rules: the plan is plain data, the checks come after.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

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
    pub(crate) iss: Presence,
    pub(crate) aud: Presence,
    pub(crate) aud_present: bool,
    pub(crate) sub: Presence,
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
    /// Read `jti` and `sid` (revocation is on).
    pub(crate) revocation_ids: bool,
    /// Read the `csrf` claim (a cookie-authenticated unsafe request).
    pub(crate) csrf: bool,
    pub(crate) issuers: &'r [Box<str>],
    pub(crate) audiences: &'r [Box<str>],
}

/// One bit per registered claim, to refuse any of them repeated.
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
                "jti" if self.revocation_ids => {
                    seen.jti = Some(map.next_value()?);
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
                "sub" => {
                    let sub: Text<'de> = map.next_value()?;
                    seen.sub = presence(self.subject == Some(&*sub));
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
            if present {
                if let Some(i) = self.required.iter().position(|r| **r == *key) {
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
pub(crate) fn present<'de, D: de::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(deserializer).map(|_| true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(names: &[&str]) -> Vec<Box<str>> {
        names.iter().map(|&n| n.into()).collect()
    }

    fn plan<'r>(
        issuers: &'r [Box<str>],
        audiences: &'r [Box<str>],
        required: &'r [Box<str>],
    ) -> ScanPlan<'r> {
        ScanPlan {
            type_claim: Some(("type", "access")),
            subject: Some("svc"),
            required,
            revocation_ids: true,
            csrf: true,
            issuers,
            audiences,
        }
    }

    fn scan<'de>(plan: ScanPlan<'_>, json: &'de str) -> Result<Seen<'de>, serde_json::Error> {
        plan.deserialize(&mut serde_json::Deserializer::from_str(json))
    }

    #[test]
    fn reads_the_claims_the_plan_asks_for_and_borrows_their_text() {
        let (iss, aud) = (boxed(&["https://a"]), boxed(&["api"]));
        let json = r#"{"exp": 10.5, "nbf": 1, "iss": "https://a", "aud": ["x", "api"], "sub": "svc",
            "type": "access", "jti": "j1", "sid": "s1", "csrf": "c1", "other": {"deep": [1]}}"#;
        let seen = scan(plan(&iss, &aud, &[]), json).unwrap();
        assert_eq!((seen.exp, seen.nbf), (Some(10.5), Some(1.0)));
        assert_eq!(
            (seen.iss, seen.aud, seen.sub, seen.typ),
            (
                Presence::Match,
                Presence::Match,
                Presence::Match,
                Presence::Match
            )
        );
        assert!(seen.aud_present);
        assert_eq!(seen.jti.as_deref(), Some("j1"));
        assert_eq!(seen.sid.as_deref(), Some("s1"));
        assert_eq!(seen.csrf.as_deref(), Some("c1"));
        assert!(
            matches!(seen.jti.unwrap().0, Cow::Borrowed(_)),
            "no allocation for plain text"
        );
    }

    #[test]
    fn tells_absent_from_mismatched() {
        let (iss, aud) = (boxed(&["https://a"]), boxed(&["api"]));
        let seen = scan(
            plan(&iss, &aud, &[]),
            r#"{"iss": "https://b", "aud": "web", "sub": "x", "type": "refresh"}"#,
        )
        .unwrap();
        assert_eq!(
            (seen.iss, seen.aud, seen.sub, seen.typ),
            (
                Presence::Mismatch,
                Presence::Mismatch,
                Presence::Mismatch,
                Presence::Mismatch
            )
        );
        let seen = scan(plan(&iss, &aud, &[]), "{}").unwrap();
        assert_eq!(
            (seen.iss, seen.aud, seen.sub, seen.typ),
            (
                Presence::Absent,
                Presence::Absent,
                Presence::Absent,
                Presence::Absent
            )
        );
        assert!(!seen.aud_present && seen.exp.is_none() && seen.jti.is_none());
        // An empty audience array names no audience, but `aud` was there.
        let seen = scan(plan(&iss, &aud, &[]), r#"{"aud": []}"#).unwrap();
        assert_eq!(seen.aud, Presence::Absent);
        assert!(seen.aud_present);
    }

    #[test]
    fn escaped_text_is_unescaped() {
        let seen = scan(plan(&[], &[], &[]), r#"{"jti": "a\"b\u0041"}"#).unwrap();
        assert_eq!(seen.jti.as_deref(), Some("a\"bA"));
    }

    #[test]
    fn required_claims_count_only_when_not_null() {
        let required = boxed(&["email", "exp", "tenant"]);
        let seen = scan(
            plan(&[], &[], &required),
            r#"{"email": "a@b", "exp": 1, "tenant": null}"#,
        )
        .unwrap();
        assert_eq!(seen.required, 0b011);
        let seen = scan(plan(&[], &[], &required), r#"{"tenant": {"id": 1}}"#).unwrap();
        assert_eq!(seen.required, 0b100);
    }

    #[test]
    fn claims_off_the_plan_are_skipped_whatever_their_type() {
        let off = ScanPlan {
            revocation_ids: false,
            csrf: false,
            type_claim: None,
            ..plan(&[], &[], &[])
        };
        let seen = scan(off, r#"{"jti": 5, "sid": null, "csrf": [], "type": 1}"#).unwrap();
        assert!(seen.jti.is_none() && seen.sid.is_none() && seen.csrf.is_none());
        assert_eq!(seen.typ, Presence::Absent);
    }

    #[test]
    fn refuses_repeated_registered_claims_and_wrong_types() {
        let (iss, aud) = (boxed(&["https://a"]), boxed(&["api"]));
        for json in [
            r#"{"exp": 1, "exp": 2}"#,
            r#"{"iss": "https://a", "iss": "https://a"}"#,
            r#"{"aud": "api", "aud": "web"}"#,
            r#"{"type": "access", "type": "access"}"#,
            r#"{"jti": "a", "jti": "b"}"#,
            r#"{"exp": "soon"}"#,
            r#"{"iss": ["https://a"]}"#,
            r#"{"aud": [1]}"#,
            r#"{"sub": 7}"#,
            r#"{"jti": null}"#,
            r#"["not", "an", "object"]"#,
        ] {
            assert!(scan(plan(&iss, &aud, &[]), json).is_err(), "{json}");
        }
        // Unregistered claims may repeat: the scan does not read them.
        assert!(scan(plan(&iss, &aud, &[]), r#"{"x": 1, "x": 2}"#).is_ok());
    }
}
