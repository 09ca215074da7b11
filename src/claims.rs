//! The claim vocabulary that verification and minting share: the token type a layer expects
//! and an issuer writes, the registered claim names this crate reads itself, and the claim that
//! binds a cookie-carried token to its CSRF value.

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
