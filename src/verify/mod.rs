//! Token in, claims out: the size cap, the JOSE header and the key it selects, the signature,
//! one scan of the payload and the checks on what it saw, then the app's claims type. The
//! synchronous path serves tokens whose keys are at hand; the asynchronous one finishes after a
//! JWKS refetch. Nothing here builds a response.

mod checks;
mod header;
mod logs;
mod scan;

use std::fmt;
use std::sync::Arc;

use serde::de::{DeserializeOwned, DeserializeSeed};
use serde::Deserialize;

use crate::claims::{TokenType, TypeRule};
use crate::clock::Clock;
use crate::error::AuthError;
use crate::keys::{KeySet, KeySource, Source, TrustedIssuer};
use crate::revocation::RevocationStore;
pub(crate) use header::with_decoded;
use scan::{ScanPlan, Text};

/// Which keys verify a token: one source for every token, or one per trusted issuer.
#[derive(Clone, Debug)]
pub(crate) enum Keys {
    One(KeySource),
    ByIssuer(Arc<[TrustedIssuer]>),
}

/// What a token is checked against beyond the layer's fixed rules: the issuers and audiences
/// (the layer's, or its issuer's), and the request's CSRF header when one is required.
#[derive(Clone, Copy)]
struct Scope<'a> {
    issuers: &'a [Box<str>],
    audiences: &'a [Box<str>],
    csrf: Csrf<&'a str>,
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
    /// The algorithms accepted, whatever the keys allow; empty: every key's own.
    pub(crate) algorithms: Vec<jsonwebtoken::Algorithm>,
    /// The most seconds since `iat` a token may have (`iat` then required).
    pub(crate) max_age: Option<u64>,
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
/// The default clock skew allowed on `exp` and `nbf`, in seconds.
pub(crate) const DEFAULT_LEEWAY: u64 = 30;
/// The default size cap on a token, in bytes.
const DEFAULT_MAX_LEN: usize = 8 * 1024;

impl Rules {
    pub(crate) fn new(keys: Keys) -> Self {
        Self {
            keys,
            leeway: DEFAULT_LEEWAY,
            algorithms: Vec::new(),
            max_age: None,
            max_len: DEFAULT_MAX_LEN,
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
    pub(crate) fn verify_now<C: DeserializeOwned>(
        &self,
        token: &str,
        csrf: Csrf<&str>,
    ) -> Result<C, AuthError> {
        match self.verify_cached(token, csrf) {
            Attempt::Done(result) => result,
            #[cfg(feature = "jwks")]
            Attempt::Fetch(_) => Err(AuthError::KeysUnavailable),
        }
    }

    /// Verifies `token`, waiting for one key refetch when the cached keys cannot decide.
    pub(crate) async fn verify<C: DeserializeOwned>(
        &self,
        token: &str,
        csrf: Csrf<&str>,
    ) -> Result<C, AuthError> {
        match self.verify_cached(token, csrf) {
            Attempt::Done(result) => result,
            #[cfg(feature = "jwks")]
            Attempt::Fetch(pending) => self.verify_after_fetch(token, pending, csrf).await,
        }
    }

    /// The synchronous path: everything that needs no I/O.
    pub(crate) fn verify_cached<C: DeserializeOwned>(
        &self,
        token: &str,
        csrf: Csrf<&str>,
    ) -> Attempt<C> {
        if token.len() > self.max_len {
            return Attempt::Done(Err(AuthError::TooLong {
                len: token.len(),
                max: self.max_len,
            }));
        }
        let (source, scope, issuer) = match &self.keys {
            Keys::One(source) => (source, self.scope(csrf), None),
            Keys::ByIssuer(issuers) => match select_issuer(token, issuers) {
                Ok(i) => (&issuers[i].keys, issuer_scope(&issuers[i], csrf), Some(i)),
                Err(err) => return Attempt::Done(Err(err)),
            },
        };
        match &source.0 {
            Source::Static(keys) => {
                let _ = issuer;
                Attempt::Done(self.verify_against(token, keys, scope))
            }
            #[cfg(feature = "jwks")]
            Source::Remote(remote) => {
                let pending = || PendingKeys {
                    remote: remote.clone(),
                    issuer,
                };
                match remote.cached() {
                    None => Attempt::Fetch(pending()),
                    Some(keys) => match self.verify_against(token, &keys, scope) {
                        Err(AuthError::UnknownKey) => Attempt::Fetch(pending()),
                        verdict => Attempt::Done(verdict),
                    },
                }
            }
        }
    }

    /// The asynchronous path: one (shared, rate-limited) refetch, then the verdict.
    #[cfg(feature = "jwks")]
    pub(crate) async fn verify_after_fetch<C: DeserializeOwned>(
        &self,
        token: &str,
        pending: PendingKeys,
        csrf: Csrf<&str>,
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
        self.verify_against(token, &keys, scope)
    }

    fn scope<'a>(&'a self, csrf: Csrf<&'a str>) -> Scope<'a> {
        Scope {
            issuers: &self.issuers,
            audiences: &self.audiences,
            csrf,
        }
    }

    /// Verifies `token` against `keys` and deserializes its claims.
    fn verify_against<C: DeserializeOwned>(
        &self,
        token: &str,
        keys: &KeySet,
        scope: Scope<'_>,
    ) -> Result<C, AuthError> {
        let (message, signature) = token.rsplit_once('.').ok_or(AuthError::NotJwt)?;
        let (header, payload) = message.split_once('.').ok_or(AuthError::NotJwt)?;
        if payload.contains('.') {
            return Err(AuthError::NotJwt);
        }
        let typ = match &self.token_type {
            Some(TokenType(TypeRule::Header(typ))) => Some(&**typ),
            _ => None,
        };
        let allowed = &self.algorithms;
        let key = with_decoded(header, |json| header::select_key(json, keys, typ, allowed))?;
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
            serde_json::from_slice(json).map_err(|_| {
                logs::claims_do_not_fit::<C>(json);
                AuthError::InvalidClaims
            })
        })
    }

    /// One scan of the payload, then each check on what it saw.
    fn check_claims(&self, json: &[u8], scope: Scope<'_>) -> Result<(), AuthError> {
        let type_claim = self.token_type.as_ref().and_then(|t| t.0.claim());
        let plan = ScanPlan {
            type_claim,
            subject: self.subject.as_deref(),
            required: &self.required,
            revocation_ids: self.revocation.is_some(),
            csrf: matches!(scope.csrf, Csrf::Required(_)),
            issuers: scope.issuers,
            audiences: scope.audiences,
        };
        let mut de = serde_json::Deserializer::from_slice(json);
        let seen = plan
            .deserialize(&mut de)
            .map_err(|_| AuthError::InvalidClaims)?;
        de.end().map_err(|_| AuthError::InvalidClaims)?;

        let now = self.clock.now();
        checks::times(&seen, now, self.leeway)?;
        checks::fresh(&seen, now, self.leeway, self.max_age)?;
        checks::matched(
            !scope.issuers.is_empty(),
            seen.iss,
            "iss",
            AuthError::InvalidIssuer,
        )?;
        if scope.audiences.is_empty() {
            checks::unaddressed(&seen, self.any_audience)?;
        } else {
            checks::matched(true, seen.aud, "aud", AuthError::InvalidAudience)?;
        }
        checks::matched(
            self.subject.is_some(),
            seen.sub,
            "sub",
            AuthError::InvalidSubject,
        )?;
        if type_claim.is_some() && seen.typ != scan::Presence::Match {
            return Err(AuthError::WrongTokenType);
        }
        checks::required(&seen, &self.required)?;
        if let Csrf::Required(header) = scope.csrf {
            checks::csrf(&seen, header)?;
        }
        if let Some(store) = &self.revocation {
            checks::not_revoked(&seen, &**store, now, self.fail_open)?;
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

fn issuer_scope<'a>(issuer: &'a TrustedIssuer, csrf: Csrf<&'a str>) -> Scope<'a> {
    Scope {
        issuers: &issuer.issuer,
        audiences: &issuer.audiences,
        csrf,
    }
}

/// Picks the trusted issuer of a token by its (not yet verified) `iss`, before any key is
/// touched: an unknown issuer never causes a fetch.
fn select_issuer(token: &str, issuers: &[TrustedIssuer]) -> Result<usize, AuthError> {
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
