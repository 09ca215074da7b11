//! Token in, claims out: the size cap, the JOSE header and the key it selects, the signature,
//! one scan of the payload and the checks on what it saw, then the app's claims type. The
//! synchronous path serves tokens whose keys are at hand; the asynchronous one finishes after a
//! JWKS refetch. Nothing here builds a response.

pub(crate) mod cache;
mod checks;
mod header;
mod logs;
mod scan;
mod scope;

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use serde::de::{DeserializeOwned, DeserializeSeed};

use crate::claims::{TokenType, TypeRule};
use crate::clock::Clock;
use crate::error::AuthError;
use crate::keys::{KeySet, KeySource, Source, TrustedIssuer};
use crate::observe;
use crate::revocation::RevocationStore;
use cache::{Cache, Facts};
pub(crate) use header::{media_type_eq, with_decoded};
use scan::ScanPlan;
pub(crate) use scope::Csrf;
use scope::{Scope, issuer_scope, select_issuer};

/// What a layer's claims type must be: read from JSON, and shared by requests (the request
/// extensions and the verified-token cache hold it).
pub(crate) trait Claims: DeserializeOwned + Clone + Send + Sync + 'static {}

impl<C: DeserializeOwned + Clone + Send + Sync + 'static> Claims for C {}

/// Which keys verify a token: one source for every token, or one per trusted issuer.
#[derive(Clone, Debug)]
pub(crate) enum Keys {
    One(KeySource),
    ByIssuer(Arc<[TrustedIssuer]>),
}

/// A token that passed every check: its claims, and the key it is bound to (`cnf.jkt`), which
/// only a DPoP layer lets through, for its proof check.
pub(crate) struct Accepted<C> {
    pub(crate) claims: Arc<C>,
    pub(crate) bound_to: Option<Arc<str>>,
}

/// The outcome of the synchronous path: a verdict, or the need to fetch keys first.
pub(crate) enum Attempt<C> {
    Done(Result<Accepted<C>, AuthError>),
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
    /// Tokens verified before, found again without their signature check and parse.
    pub(crate) cache: Option<Arc<Cache>>,
    /// Key-bound tokens (`cnf.jkt`) get through to the DPoP check of the middleware; without
    /// it they are refused, as is every other binding (no check, no acceptance).
    pub(crate) dpop: bool,
}

/// What the checks of a payload found out: what a cache hit checks again (with a cache), the
/// subject, and the key the token is bound to (on a DPoP layer).
struct Checked<'j> {
    facts: Option<Facts>,
    subject: Option<scan::Text<'j>>,
    bound_to: Option<Arc<str>>,
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
            cache: None,
            dpop: false,
        }
    }

    /// Verifies `token` with keys at hand; tokens whose keys must be fetched first are refused
    /// as `KeysUnavailable` (for callers that cannot wait, like refresh with static keys).
    pub(crate) fn verify_now<C: Claims>(
        &self,
        token: &str,
        csrf: Csrf<&str>,
    ) -> Result<Accepted<C>, AuthError> {
        match self.verify_cached(token, csrf) {
            Attempt::Done(result) => result,
            #[cfg(feature = "jwks")]
            Attempt::Fetch(_) => Err(AuthError::KeysUnavailable),
        }
    }

    /// Verifies `token`, waiting for one key refetch when the cached keys cannot decide.
    pub(crate) async fn verify<C: Claims>(
        &self,
        token: &str,
        csrf: Csrf<&str>,
    ) -> Result<Accepted<C>, AuthError> {
        match self.verify_cached(token, csrf) {
            Attempt::Done(result) => result,
            #[cfg(feature = "jwks")]
            Attempt::Fetch(pending) => self.verify_after_fetch(token, pending, csrf).await,
        }
    }

    /// The synchronous path: everything that needs no I/O.
    pub(crate) fn verify_cached<C: Claims>(&self, token: &str, csrf: Csrf<&str>) -> Attempt<C> {
        match self.verify_hit(token.as_bytes(), csrf) {
            Some(verdict) => Attempt::Done(verdict),
            None => self.verify_uncached(token, csrf),
        }
    }

    /// A verdict from the verified-token cache for `token` as a request carried it, whose
    /// characters need no check of their own: the cache holds only tokens that passed every
    /// check and compares all their bytes. `None`: no cache, or not in it.
    pub(crate) fn verify_hit<C: Claims>(
        &self,
        token: &[u8],
        csrf: Csrf<&str>,
    ) -> Option<Result<Accepted<C>, AuthError>> {
        let cache = self.cache.as_ref()?;
        if token.len() > self.max_len {
            return None;
        }
        self.verify_from_cache(cache, token, csrf)
    }

    /// The synchronous path without the cache lookup (a miss, or no cache).
    pub(crate) fn verify_uncached<C: Claims>(&self, token: &str, csrf: Csrf<&str>) -> Attempt<C> {
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
            Source::Static(keys) => Attempt::Done(self.verify_against(token, keys, scope, issuer)),
            #[cfg(feature = "jwks")]
            Source::Remote(remote) => {
                let pending = || PendingKeys {
                    remote: remote.clone(),
                    issuer,
                };
                match remote.cached() {
                    None => Attempt::Fetch(pending()),
                    Some(keys) => match self.verify_against(token, &keys, scope, issuer) {
                        Err(AuthError::UnknownKey) => Attempt::Fetch(pending()),
                        verdict => Attempt::Done(verdict),
                    },
                }
            }
        }
    }

    /// The asynchronous path: one (shared, rate-limited) refetch, then the verdict.
    #[cfg(feature = "jwks")]
    pub(crate) async fn verify_after_fetch<C: Claims>(
        &self,
        token: &str,
        pending: PendingKeys,
        csrf: Csrf<&str>,
    ) -> Result<Accepted<C>, AuthError> {
        let keys = pending
            .remote
            .refetch()
            .await
            .ok_or(AuthError::KeysUnavailable)?;
        let scope = match (&self.keys, pending.issuer) {
            (Keys::ByIssuer(issuers), Some(i)) => issuer_scope(&issuers[i], csrf),
            _ => self.scope(csrf),
        };
        self.verify_against(token, &keys, scope, pending.issuer)
    }

    fn scope<'a>(&'a self, csrf: Csrf<&'a str>) -> Scope<'a> {
        Scope {
            issuers: &self.issuers,
            audiences: &self.audiences,
            csrf,
        }
    }

    /// Verifies `token` against `keys` and deserializes its claims.
    fn verify_against<C: Claims>(
        &self,
        token: &str,
        keys: &Arc<KeySet>,
        scope: Scope<'_>,
        issuer: Option<usize>,
    ) -> Result<Accepted<C>, AuthError> {
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
        key.check_signature(message.as_bytes(), signature)?;
        let (claims, facts, bound_to) = with_decoded(payload, |json| {
            let Checked {
                facts,
                subject,
                bound_to,
            } = self.check_claims(json, scope)?;
            let claims: C = serde_json::from_slice(json).map_err(|_| {
                logs::claims_do_not_fit::<C>(json);
                AuthError::InvalidClaims
            })?;
            if let Some(subject) = &subject {
                observe::subject(subject);
            }
            Ok((Arc::new(claims), facts, bound_to))
        })?;
        if let (Some(cache), Some(facts)) = (&self.cache, facts) {
            let verified = cache::Verified {
                claims: Arc::clone(&claims) as Arc<dyn Any + Send + Sync>,
                facts,
                keys: Arc::clone(keys),
                issuer,
            };
            cache.insert(
                token,
                verified,
                self.clock.now() as f64 - self.leeway as f64,
            );
        }
        Ok(Accepted { claims, bound_to })
    }

    /// The checks that time changes the answer of: `exp`, `nbf` and the maximum age (`iat`).
    fn check_times(
        &self,
        exp: Option<f64>,
        nbf: Option<f64>,
        iat: Option<f64>,
        now: u64,
    ) -> Result<(), AuthError> {
        checks::times(exp, nbf, now, self.leeway)?;
        checks::fresh(iat, now, self.leeway, self.max_age)
    }

    /// The checks that the request and the store change the answer of: the CSRF binding of a
    /// cookie token (`csrf_claim` against the header) and revocation (by `jti` and `sid`).
    fn check_binding(
        &self,
        csrf_claim: Option<&str>,
        csrf: Csrf<&str>,
        jti: Option<&str>,
        sid: Option<&str>,
        now: u64,
    ) -> Result<(), AuthError> {
        if let Csrf::Required(header) = csrf {
            checks::csrf(csrf_claim, header)?;
        }
        match &self.revocation {
            Some(store) => checks::not_revoked(jti, sid, &**store, now, self.fail_open),
            None => Ok(()),
        }
    }

    /// One scan of the payload, then each check on what it saw; with a cache, what its hits
    /// will check again; the subject, for telemetry once the claims are read; and the key the
    /// token is bound to, on a DPoP layer.
    fn check_claims<'j>(&self, json: &'j [u8], scope: Scope<'_>) -> Result<Checked<'j>, AuthError> {
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
        self.check_times(seen.exp, seen.nbf, seen.iat, now)?;
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
        // A token bound to a key is no bearer token: only the DPoP check may accept it.
        let bound_to = match (seen.cnf, self.dpop) {
            (None, _) => None,
            (Some(scan::Confirmation::Jkt(jkt)), true) => Some(Arc::from(jkt)),
            (Some(_), _) => return Err(AuthError::DpopBinding),
        };
        let (jti, sid) = (seen.jti.as_deref(), seen.sid.as_deref());
        self.check_binding(seen.csrf.as_deref(), scope.csrf, jti, sid, now)?;
        // What a cache hit checks again, kept only when there is a cache.
        let facts = self.cache.is_some().then(|| Facts {
            exp: seen.exp.unwrap_or_default(),
            nbf: seen.nbf,
            iat: seen.iat,
            jti: seen.jti.as_deref().map(Into::into),
            sid: seen.sid.as_deref().map(Into::into),
            csrf: seen.csrf.as_deref().map(Into::into),
            sub: seen.subject.as_deref().map(Into::into),
            bound_to: bound_to.clone(),
        });
        Ok(Checked {
            facts,
            subject: seen.subject,
            bound_to,
        })
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
            .field("cache", &self.cache)
            .finish()
    }
}
