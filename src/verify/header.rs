//! The JOSE header: parsed strictly, its `alg` and `kid` choosing the one key that may verify the
//! signature, its `typ` compared as a media type; and the base64url decoding of a token's parts.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};

use super::scan::{NotNull, Text};
use crate::error::AuthError;
use crate::keys::{KeySet, VerifyingKey};

/// Decoded header and payload up to this size stay on the stack.
const STACK_BUF: usize = 4096;
const SMALL_BUF: usize = 512;

/// The header fields this crate reads. Every other member is parsed as strictly as the payload's
/// (numbers in range, nesting bounded by serde_json's recursion limit), and a member given twice
/// is refused, so that the header and the payload cannot be read differently by two parsers.
struct JoseHeader<'a> {
    alg: Text<'a>,
    typ: Option<Text<'a>>,
    kid: Option<Text<'a>>,
    /// Present at all, whatever its value (`"crit": null` is not valid JOSE either).
    crit: bool,
}

impl<'de: 'a, 'a> Deserialize<'de> for JoseHeader<'a> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(HeaderVisitor(std::marker::PhantomData))
    }
}

struct HeaderVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for HeaderVisitor<'a> {
    type Value = JoseHeader<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JOSE header object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JoseHeader<'a>, A::Error> {
        let repeated = || de::Error::custom("repeated header member");
        let (mut alg, mut typ, mut kid, mut crit) = (None, None, None, false);
        // Other members are rare (`cty`, `x5t`...): only they cost an allocation.
        let mut others: Vec<Text<'de>> = Vec::new();
        while let Some(name) = map.next_key::<Text<'de>>()? {
            let repeat = match &*name {
                "alg" => alg.replace(map.next_value()?).is_some(),
                "typ" => typ.replace(map.next_value()?).is_some(),
                "kid" => kid.replace(map.next_value()?).is_some(),
                "crit" => {
                    map.next_value::<NotNull>()?;
                    std::mem::replace(&mut crit, true)
                }
                _ => {
                    map.next_value::<NotNull>()?;
                    let repeat = others.iter().any(|seen| **seen == *name);
                    others.push(name);
                    repeat
                }
            };
            if repeat {
                return Err(repeated());
            }
        }
        let alg = alg.ok_or_else(|| de::Error::missing_field("alg"))?;
        Ok(JoseHeader {
            alg,
            typ,
            kid,
            crit,
        })
    }
}

/// Checks the decoded header `json` and picks the key of `keys` that may verify the signature;
/// `typ` is the media type the header must carry, if one is required; `allowed`, when not
/// empty, the only algorithms accepted.
pub(crate) fn select_key<'k>(
    json: &[u8],
    keys: &'k KeySet,
    typ: Option<&str>,
    allowed: &[Algorithm],
) -> Result<&'k VerifyingKey, AuthError> {
    let header: JoseHeader<'_> = serde_json::from_slice(json).map_err(|_| AuthError::Malformed)?;
    let alg = match &*header.alg {
        // RFC 9864: the fully-specified name of EdDSA over Ed25519, the only EdDSA verified here.
        "Ed25519" => Algorithm::EdDSA,
        alg => Algorithm::from_str(alg).map_err(|_| AuthError::DisallowedAlgorithm)?,
    };
    if !allowed.is_empty() && !allowed.contains(&alg) {
        return Err(AuthError::DisallowedAlgorithm);
    }
    if header.crit {
        return Err(AuthError::UnsupportedCriticalHeader);
    }
    let key = keys.select(header.kid.as_deref(), alg)?;
    if let Some(expected) = typ {
        match &header.typ {
            Some(typ) if media_type_eq(typ, expected) => {}
            _ => return Err(AuthError::WrongTokenType),
        }
    }
    Ok(key)
}

/// Base64url-decodes `part` into a stack buffer when it fits, and hands the bytes to `f`. A
/// header or a typical payload fits the small buffer: only a buffer of about its size is
/// zeroed, not 4 KiB each time.
pub(crate) fn with_decoded<T>(
    part: &str,
    f: impl FnOnce(&[u8]) -> Result<T, AuthError>,
) -> Result<T, AuthError> {
    let estimate = base64::decoded_len_estimate(part.len());
    if estimate <= SMALL_BUF {
        on_stack::<SMALL_BUF, T>(part, f)
    } else if estimate <= STACK_BUF {
        on_stack::<STACK_BUF, T>(part, f)
    } else {
        let heap = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| AuthError::Malformed)?;
        f(&heap)
    }
}

fn on_stack<const N: usize, T>(
    part: &str,
    f: impl FnOnce(&[u8]) -> Result<T, AuthError>,
) -> Result<T, AuthError> {
    let mut buf = [0u8; N];
    let n = URL_SAFE_NO_PAD
        .decode_slice(part, &mut buf)
        .map_err(|_| AuthError::Malformed)?;
    f(&buf[..n])
}

/// `typ` values compare as media types (RFC 7515 §4.1.9): case-insensitively, and with the
/// `application/` prefix optional.
pub(crate) fn media_type_eq(a: &str, b: &str) -> bool {
    fn strip(s: &str) -> &str {
        match s.get(..12) {
            Some(p) if p.eq_ignore_ascii_case("application/") => &s[12..],
            _ => s,
        }
    }
    strip(a).eq_ignore_ascii_case(strip(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_compare_case_insensitively_with_the_application_prefix_optional() {
        assert!(media_type_eq("at+jwt", "at+jwt"));
        assert!(media_type_eq("application/at+JWT", "at+jwt"));
        assert!(media_type_eq("AT+JWT", "Application/at+jwt"));
        assert!(!media_type_eq("jwt", "at+jwt"));
        assert!(!media_type_eq("application/", "at+jwt"));
        assert!(!media_type_eq("text/at+jwt", "at+jwt"));
        // A multi-byte character where the prefix would end must not panic.
        assert!(!media_type_eq("applicationé+jwt", "at+jwt"));
    }

    #[test]
    fn parts_decode_on_the_stack_and_on_the_heap_alike() {
        let small = URL_SAFE_NO_PAD.encode(b"{\"a\":1}");
        let large = URL_SAFE_NO_PAD.encode(vec![b'x'; STACK_BUF * 2]);
        assert_eq!(
            with_decoded(&small, |b| Ok(b.to_vec())),
            Ok(b"{\"a\":1}".to_vec())
        );
        assert_eq!(with_decoded(&large, |b| Ok(b.len())), Ok(STACK_BUF * 2));
        // Every size about the edges of the two stack buffers decodes whole.
        for edge in [SMALL_BUF, STACK_BUF] {
            for len in edge - 4..edge + 4 {
                let bytes: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let part = URL_SAFE_NO_PAD.encode(&bytes);
                assert_eq!(with_decoded(&part, |b| Ok(b.to_vec())), Ok(bytes), "{len}");
            }
        }
        assert_eq!(with_decoded("a*b", |_| Ok(())), Err(AuthError::Malformed));
        assert_eq!(with_decoded("eyJ=", |_| Ok(())), Err(AuthError::Malformed));
    }
}
