//! The claim vocabulary that verification and minting share: the token type a layer expects
//! and an issuer writes, the NumericDate of `exp`/`nbf`/`iat`, the registered claim names this
//! crate reads itself, and the claim that binds a cookie-carried token to its CSRF value.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The token type a layer expects and an issuer writes (RFC 8725 §3.11): either the JOSE `typ`
/// header, or a claim as the FastAPI + PyJWT tutorials use (`"type": "access"`).
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
    ///
    /// ```
    /// let rfc9068 = tower_jwt_auth::TokenType::header("at+jwt");
    /// ```
    pub fn header(value: impl Into<String>) -> Self {
        Self(TypeRule::Header(value.into().into_boxed_str()))
    }

    /// The claim `name` must be the string `value`.
    ///
    /// ```
    /// let access = tower_jwt_auth::TokenType::claim("type", "access");
    /// ```
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

    /// The claim name and value this rule requires, if it is a claim rule.
    pub(crate) fn claim(&self) -> Option<(&str, &str)> {
        match self {
            Self::Claim { name, value } => Some((name, value)),
            Self::Header(_) => None,
        }
    }
}

/// Registered claims an issuer fills anew for every token: a refresh strips them from the old
/// token's claims before minting the next pair (`sub` and the app's claims are carried over).
pub(crate) const MINTED: [&str; 7] = ["exp", "nbf", "iat", "iss", "aud", "jti", "sid"];

/// Whether this crate reads or fills the claim `name` itself (the minted claims and `sub`): a
/// type claim of such a name could never match.
pub(crate) fn is_registered(name: &str) -> bool {
    name == "sub" || MINTED.contains(&name)
}

/// The claim that binds a cookie-carried token to its CSRF value.
pub(crate) const CSRF_CLAIM: &str = "csrf";

/// A JWT NumericDate (RFC 7519 §2): seconds since the Unix epoch, read from any JSON number
/// (`1796193702`, `1796193702.6`, `1.9e9`), as `exp`, `nbf` and `iat` are. Declare these
/// claims with it in the app's claims type: `u64` refuses tokens that are valid by the RFC.
///
/// ```
/// use tower_jwt_auth::NumericDate;
///
/// #[derive(serde::Deserialize)]
/// struct Claims { sub: String, exp: NumericDate }
///
/// for exp in ["1796193702", "1796193702.6", "1.9e9"] {
///     let claims: Claims = serde_json::from_str(&format!(r#"{{"sub": "1", "exp": {exp}}}"#))?;
///     assert!(claims.exp.as_secs() >= 1_796_193_702);
/// }
/// assert!(serde_json::from_str::<Claims>(r#"{"sub": "1", "exp": "1796193702"}"#).is_err());
/// assert_eq!(serde_json::to_string(&NumericDate::from_secs(1_800_000_000))?, "1800000000");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct NumericDate(f64);

impl NumericDate {
    /// The date `secs` whole seconds after the Unix epoch.
    pub fn from_secs(secs: u64) -> Self {
        Self(secs as f64)
    }

    /// Whole seconds since the Unix epoch, any fraction dropped (0 before the epoch).
    pub fn as_secs(self) -> u64 {
        // A float-to-int `as` saturates: negative and NaN give 0, huge values u64::MAX.
        self.0 as u64
    }

    /// Seconds since the Unix epoch, with the fraction the token gave.
    pub fn as_secs_f64(self) -> f64 {
        self.0
    }

    /// The date as a [`SystemTime`], `None` when it lies outside what `SystemTime` holds.
    pub fn to_system_time(self) -> Option<SystemTime> {
        let since = Duration::try_from_secs_f64(self.0.abs()).ok()?;
        if self.0 >= 0.0 {
            UNIX_EPOCH.checked_add(since)
        } else {
            UNIX_EPOCH.checked_sub(since)
        }
    }
}

impl Serialize for NumericDate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Whole seconds as an integer, as issuers write them; a fraction as it came.
        if self.0.fract() == 0.0 && (0.0..=u64::MAX as f64).contains(&self.0) {
            serializer.serialize_u64(self.0 as u64)
        } else {
            serializer.serialize_f64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumberVisitor;
        impl Visitor<'_> for NumberVisitor {
            type Value = NumericDate;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a NumericDate (a JSON number of seconds since the Unix epoch)")
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumericDate, E> {
                Ok(NumericDate(v as f64))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumericDate, E> {
                Ok(NumericDate(v as f64))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumericDate, E> {
                if v.is_finite() {
                    Ok(NumericDate(v))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
        }
        deserializer.deserialize_any(NumberVisitor)
    }
}
