//! What a token is checked against beyond the layer's fixed rules: the issuer a multi-issuer
//! layer picks by the token's `iss`, that issuer's audiences, and the request's CSRF header.

use serde::Deserialize;

use super::scan::Text;
use super::with_decoded;
use crate::error::AuthError;
use crate::keys::TrustedIssuer;

/// What a token is checked against beyond the layer's fixed rules: the issuers and audiences
/// (the layer's, or its issuer's), and the request's CSRF header when one is required.
#[derive(Clone, Copy)]
pub(super) struct Scope<'a> {
    pub(super) issuers: &'a [Box<str>],
    pub(super) audiences: &'a [Box<str>],
    pub(super) csrf: Csrf<&'a str>,
}

/// The CSRF check of one request, over a borrowed (`&str`) or owned (`String`) header value.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Csrf<H> {
    /// Header-authenticated, or a safe method.
    Off,
    /// Cookie-authenticated with an unsafe method: the header's value, which must equal the
    /// token's `csrf` claim.
    Required(Option<H>),
}

#[cfg(feature = "jwks")]
impl<H: AsRef<str>> Csrf<H> {
    /// The same check, borrowing its header value.
    pub(crate) fn as_deref(&self) -> Csrf<&str> {
        match self {
            Self::Off => Csrf::Off,
            Self::Required(header) => Csrf::Required(header.as_ref().map(AsRef::as_ref)),
        }
    }

    /// The same check, owning its header value, to cross an `await`.
    pub(crate) fn to_owned(&self) -> Csrf<String> {
        match self {
            Self::Off => Csrf::Off,
            Self::Required(header) => Csrf::Required(header.as_ref().map(|h| h.as_ref().into())),
        }
    }
}

pub(super) fn issuer_scope<'a>(issuer: &'a TrustedIssuer, csrf: Csrf<&'a str>) -> Scope<'a> {
    Scope {
        issuers: &issuer.issuer,
        audiences: &issuer.audiences,
        csrf,
    }
}

/// Picks the trusted issuer of a token by its (not yet verified) `iss`, before any key is
/// touched: an unknown issuer never causes a fetch.
pub(super) fn select_issuer(token: &str, issuers: &[TrustedIssuer]) -> Result<usize, AuthError> {
    #[derive(Deserialize)]
    struct IssOnly<'a> {
        #[serde(borrow, default)]
        iss: Option<Text<'a>>,
    }
    let payload = token.split('.').nth(1).ok_or(AuthError::NotJwt)?;
    with_decoded(payload, |json| {
        let claims: IssOnly<'_> =
            serde_json::from_slice(json).map_err(|_| AuthError::InvalidClaims)?;
        let iss = claims
            .iss
            .ok_or(AuthError::MissingClaim(std::borrow::Cow::Borrowed("iss")))?;
        issuers
            .iter()
            .position(|i| *i.issuer[0] == *iss)
            .ok_or(AuthError::InvalidIssuer)
    })
}
