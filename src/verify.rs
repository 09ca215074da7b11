//! The synchronous verify path: size cap, header, algorithm bound to the key, signature, then
//! the registered claims in one pass over the payload, then the app's claims type.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Algorithm;
use serde::de::{DeserializeOwned, DeserializeSeed};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::claims::{present, ClaimsScan, Presence, Text};
use crate::clock::Clock;
use crate::error::AuthError;
use crate::keys::{KeySet, KeySource, Source, TrustedIssuer, VerifyingKey};
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

/// Which keys verify a token: one source for every token, or one per trusted issuer.
#[derive(Clone, Debug)]
pub(crate) enum Keys {
    One(KeySource),
    ByIssuer(Arc<[TrustedIssuer]>),
}

/// What a token is checked against beyond the layer's fixed rules: the issuers and audiences
/// (the layer's, or its issuer's), and the request's CSRF header when one is required.
#[derive(Clone, Copy)]
pub(crate) struct Scope<'a> {
    issuers: &'a [Box<str>],
    audiences: &'a [Box<str>],
    csrf: Csrf<'a>,
}

/// The CSRF check of one request.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Csrf<'a> {
    /// Header-authenticated, or a safe method.
    Off,
    /// Cookie-authenticated with an unsafe method: the header's value, which must equal the
    /// token's `csrf` claim.
    Required(Option<&'a str>),
}

/// The claim that binds a cookie-carried token to its CSRF value.
pub(crate) const CSRF_CLAIM: &str = "csrf";

/// The outcome of the synchronous path: a verdict, or the need to fetch keys first.
pub(crate) enum Attempt<C> {
    Done(Result<C, AuthError>),
    /// The cached keys could not decide (none yet, or an unknown `kid`): refetch, then verify.
    #[cfg(feature = "jwks")]
    Fetch(PendingKeys),
}

/// What the asynchronous path needs to finish a verification after a refetch.
#[cfg(feature = "jwks")]
pub(crate) struct PendingKeys {
    remote: crate::keys::RemoteJwks,
    issuer: Option<usize>,
}

/// Everything a token is checked against; one per layer, shared behind an `Arc`.
#[derive(Clone)]
pub(crate) struct Rules {
    pub(crate) keys: Keys,
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
    pub(crate) fn new(keys: Keys) -> Self {
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

    /// Verifies `token` with keys at hand; tokens whose keys must be fetched first are refused
    /// as `KeysUnavailable` (for callers that cannot wait, like refresh with static keys).
    pub(crate) fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        csrf: Csrf<'_>,
    ) -> Result<C, AuthError> {
        match self.attempt(token, csrf) {
            Attempt::Done(result) => result,
            #[cfg(feature = "jwks")]
            Attempt::Fetch(_) => Err(AuthError::KeysUnavailable),
        }
    }

    /// The synchronous path: everything that needs no I/O.
    pub(crate) fn attempt<C: DeserializeOwned>(&self, token: &str, csrf: Csrf<'_>) -> Attempt<C> {
        if token.len() > self.max_len {
            return Attempt::Done(Err(AuthError::TooLong {
                len: token.len(),
                max: self.max_len,
            }));
        }
        let (source, scope, _issuer) = match &self.keys {
            Keys::One(source) => (source, self.scope(csrf), None),
            Keys::ByIssuer(issuers) => match route(token, issuers) {
                Ok(i) => (&issuers[i].keys, issuer_scope(&issuers[i], csrf), Some(i)),
                Err(err) => return Attempt::Done(Err(err)),
            },
        };
        match &source.0 {
            Source::Static(keys) => Attempt::Done(self.verify_with(token, keys, scope)),
            #[cfg(feature = "jwks")]
            Source::Remote(remote) => {
                let pending = || PendingKeys {
                    remote: remote.clone(),
                    issuer: _issuer,
                };
                match remote.cached() {
                    None => Attempt::Fetch(pending()),
                    Some(keys) => match self.verify_with(token, &keys, scope) {
                        Err(AuthError::UnknownKey) => Attempt::Fetch(pending()),
                        verdict => Attempt::Done(verdict),
                    },
                }
            }
        }
    }

    /// The asynchronous path: one (shared, rate-limited) refetch, then the verdict.
    #[cfg(feature = "jwks")]
    pub(crate) async fn finish<C: DeserializeOwned>(
        &self,
        token: &str,
        pending: PendingKeys,
        csrf: Csrf<'_>,
    ) -> Result<C, AuthError> {
        let keys = pending
            .remote
            .refetch()
            .await
            .ok_or(AuthError::KeysUnavailable)?;
        let scope = match (&self.keys, pending.issuer) {
            (Keys::ByIssuer(issuers), Some(i)) => issuer_scope(&issuers[i], csrf),
            _ => self.scope(csrf),
        };
        self.verify_with(token, &keys, scope)
    }

    fn scope<'a>(&'a self, csrf: Csrf<'a>) -> Scope<'a> {
        Scope {
            issuers: &self.issuers,
            audiences: &self.audiences,
            csrf,
        }
    }

    /// Verifies `token` against `keys` and deserializes its claims.
    fn verify_with<C: DeserializeOwned>(
        &self,
        token: &str,
        keys: &KeySet,
        scope: Scope<'_>,
    ) -> Result<C, AuthError> {
        let (message, signature) = token.rsplit_once('.').ok_or(AuthError::Malformed)?;
        let (header, payload) = message.split_once('.').ok_or(AuthError::Malformed)?;
        if payload.contains('.') {
            return Err(AuthError::Malformed);
        }
        let key = with_decoded(header, |json| self.check_header(json, keys))?;
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
            self.check_claims(json, scope)?;
            serde_json::from_slice(json).map_err(|_| AuthError::InvalidClaims)
        })
    }

    /// Checks the header and picks the key that may verify the signature.
    fn check_header<'k>(
        &self,
        json: &[u8],
        keys: &'k KeySet,
    ) -> Result<&'k VerifyingKey, AuthError> {
        let header: JoseHeader<'_> =
            serde_json::from_slice(json).map_err(|_| AuthError::Malformed)?;
        let alg = Algorithm::from_str(&header.alg).map_err(|_| AuthError::DisallowedAlgorithm)?;
        if header.crit {
            return Err(AuthError::UnsupportedCriticalHeader);
        }
        let key = keys.select(header.kid.as_deref(), alg)?;
        if let Some(TokenType(TypeRule::Header(expected))) = &self.token_type {
            match &header.typ {
                Some(typ) if media_type_eq(typ, expected) => {}
                _ => return Err(AuthError::WrongTokenType),
            }
        }
        Ok(key)
    }

    fn check_claims(&self, json: &[u8], scope: Scope<'_>) -> Result<(), AuthError> {
        let mut de = serde_json::Deserializer::from_slice(json);
        let seen = ClaimsScan {
            csrf: matches!(scope.csrf, Csrf::Required(_)),
            rules: self,
            issuers: scope.issuers,
            audiences: scope.audiences,
        }
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
        if !scope.issuers.is_empty() {
            match seen.iss {
                Presence::Absent => return Err(AuthError::MissingClaim("iss".into())),
                Presence::Mismatch => return Err(AuthError::InvalidIssuer),
                Presence::Match => {}
            }
        }
        if !scope.audiences.is_empty() {
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
        if let Csrf::Required(header) = scope.csrf {
            let header = header.ok_or(AuthError::CsrfMissing)?;
            let claim = seen.csrf.as_deref().unwrap_or("");
            // Constant time: the comparison must not tell an attacker how much of a guess is right.
            if claim.is_empty() || !bool::from(claim.as_bytes().ct_eq(header.as_bytes())) {
                return Err(AuthError::CsrfMismatch);
            }
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

fn issuer_scope<'a>(issuer: &'a TrustedIssuer, csrf: Csrf<'a>) -> Scope<'a> {
    Scope {
        issuers: &issuer.issuer,
        audiences: &issuer.audiences,
        csrf,
    }
}

/// Picks the trusted issuer of a token by its (not yet verified) `iss`, before any key is
/// touched: an unknown issuer never causes a fetch.
fn route(token: &str, issuers: &[TrustedIssuer]) -> Result<usize, AuthError> {
    #[derive(Deserialize)]
    struct IssOnly<'a> {
        #[serde(borrow, default)]
        iss: Option<Text<'a>>,
    }
    let payload = token.split('.').nth(1).ok_or(AuthError::Malformed)?;
    with_decoded(payload, |json| {
        let claims: IssOnly<'_> =
            serde_json::from_slice(json).map_err(|_| AuthError::InvalidClaims)?;
        let iss = claims
            .iss
            .ok_or_else(|| AuthError::MissingClaim("iss".into()))?;
        issuers
            .iter()
            .position(|i| *i.issuer[0] == *iss)
            .ok_or(AuthError::InvalidIssuer)
    })
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
