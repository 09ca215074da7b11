//! DPoP (RFC 9449): access tokens bound to a key the client holds, each request carrying a
//! proof signed with it. [`JwtLayer::dpop`](crate::JwtLayer::dpop) with a [`Dpop`] policy
//! makes a layer accept `Authorization: DPoP <token>` with its `DPoP` proof (and, unless
//! [`Dpop::required`], plain bearer tokens that are not bound), refuse a bound token presented
//! as `Bearer`, and accept each proof once. [`ProofRules::verify`] is the check of one proof
//! (RFC 9449 §4.3), [`Proof::check_binding`] compares its key with the token's `cnf.jkt`.
//!
//! ```
//! use http::Method;
//! use tower_jwt_auth::dpop::{DpopError, ProofRequest, ProofRules};
//!
//! let rules = ProofRules::new();
//! let request = ProofRequest {
//!     method: &Method::GET,
//!     uri: "https://api.example.com/orders?page=2",
//!     access_token: Some("eyJ.access.token"),
//! };
//! assert_eq!(rules.verify("not a proof", &request, 1_800_000_000), Err(DpopError::Malformed));
//! ```

mod nonce;
mod proof;

use std::fmt;
use std::sync::Arc;

use http::{HeaderValue, Request, Uri};

use crate::error::AuthError;
pub use crate::error::DpopError;
use crate::redact::UrlText;
use crate::revocation::{MemoryStore, RevocationStore};
pub use nonce::Nonces;
pub(crate) use proof::Replay;
pub use proof::{Proof, ProofRequest, ProofRules, proof_header};

/// How a [`JwtLayer`](crate::JwtLayer) takes DPoP: allowed beside bearer tokens or required,
/// the proof rules, the base URL clients address (the `htu` of their proofs: behind a proxy, the
/// external one), and where proofs are remembered to be accepted once (in memory by default;
/// a `RedisStore` shares them between instances).
///
/// ```
/// use tower_jwt_auth::dpop::Dpop;
/// use tower_jwt_auth::{JwtLayer, VerifyingKey};
///
/// let layer = JwtLayer::<serde_json::Value>::new(VerifyingKey::hs256([7u8; 32])?)
///     .dpop(Dpop::required("https://api.example.com")?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Dpop {
    required: bool,
    rules: ProofRules,
    base: Box<str>,
    replay: Arc<dyn RevocationStore>,
    nonces: Option<Nonces>,
}

/// A DPoP request whose proof passed every check made at once: what remains is its replay
/// check, and, with server nonces, the newer nonce its response hands the client.
pub(crate) struct ProofPassed {
    pub(crate) replay: Replay,
    pub(crate) next_nonce: Option<NextNonce>,
}

/// The `DPoP-Nonce` a successful response hands a client whose proof carried an older nonce;
/// it rides in the request's extensions from the verification to the response future, which
/// takes it out before the inner service sees the request.
#[derive(Clone)]
pub(crate) struct NextNonce(pub(crate) HeaderValue);

/// A base URL that is not `http(s)://host[:port][/path]` (no query, fragment or userinfo); it
/// holds the URL as given less those, which may carry a credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidBaseUrl(pub String);

impl fmt::Display for InvalidBaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a base URL such as https://api.example.com",
            self.0
        )
    }
}

impl std::error::Error for InvalidBaseUrl {}

impl Dpop {
    /// DPoP-bound tokens with their proofs, and unbound bearer tokens, for requests addressed
    /// under `base` (`https://api.example.com`): a proof's `htu` must be `base` and the path the
    /// layer sees. Under an axum `nest("/api", …)`, which takes `/api` off that path, give the
    /// prefix too (`https://api.example.com/api`).
    ///
    /// ```
    /// let dpop = tower_jwt_auth::dpop::Dpop::allowed("https://api.example.com")?;
    /// let nested = tower_jwt_auth::dpop::Dpop::allowed("https://api.example.com/api")?;
    /// assert!(tower_jwt_auth::dpop::Dpop::allowed("https://api.example.com/?x=1").is_err());
    /// # Ok::<(), tower_jwt_auth::dpop::InvalidBaseUrl>(())
    /// ```
    ///
    /// # Errors
    /// [`InvalidBaseUrl`] for anything but `http(s)://host[:port][/path]` (no query, fragment or
    /// userinfo).
    pub fn allowed(base: &str) -> Result<Self, InvalidBaseUrl> {
        let invalid = || InvalidBaseUrl(UrlText(base).to_string());
        let trimmed = base.strip_suffix('/').unwrap_or(base);
        let uri: Uri = trimmed.parse().map_err(|_| invalid())?;
        let plain = matches!(uri.scheme_str(), Some("https" | "http"))
            && uri.authority().is_some_and(|a| !a.as_str().contains('@'))
            && uri.query().is_none()
            && !base.contains('#');
        if !plain {
            return Err(invalid());
        }
        Ok(Self {
            required: false,
            rules: ProofRules::new(),
            base: trimmed.into(),
            replay: Arc::new(MemoryStore::new()),
            nonces: None,
        })
    }

    /// Only DPoP-bound tokens with their proofs: a bearer token is refused with a `DPoP`
    /// challenge.
    ///
    /// ```
    /// let dpop = tower_jwt_auth::dpop::Dpop::required("https://api.example.com")?;
    /// # Ok::<(), tower_jwt_auth::dpop::InvalidBaseUrl>(())
    /// ```
    ///
    /// # Errors
    /// As [`allowed`](Self::allowed).
    pub fn required(base: &str) -> Result<Self, InvalidBaseUrl> {
        Ok(Self {
            required: true,
            ..Self::allowed(base)?
        })
    }

    /// The rules proofs are checked with (algorithms, `iat` window).
    ///
    /// ```
    /// use tower_jwt_auth::{dpop::{Dpop, ProofRules}, Algorithm};
    ///
    /// let dpop = Dpop::allowed("https://api.example.com")?
    ///     .proof_rules(ProofRules::new().algorithms([Algorithm::ES256]));
    /// # Ok::<(), tower_jwt_auth::dpop::InvalidBaseUrl>(())
    /// ```
    pub fn proof_rules(mut self, rules: ProofRules) -> Self {
        self.rules = rules;
        self
    }

    /// Where proofs are remembered, so that each is accepted once: a
    /// `revocation::RedisStore` shares them between instances (an atomic set-if-absent per
    /// proof); when the store cannot answer, DPoP requests are refused with 503.
    ///
    /// ```
    /// use tower_jwt_auth::{dpop::Dpop, revocation::MemoryStore};
    ///
    /// let dpop = Dpop::allowed("https://api.example.com")?.replay_store(MemoryStore::new());
    /// # Ok::<(), tower_jwt_auth::dpop::InvalidBaseUrl>(())
    /// ```
    pub fn replay_store(mut self, store: impl RevocationStore) -> Self {
        self.replay = Arc::new(store);
        self
    }

    /// Server nonces (RFC 9449 §9): a proof must carry, as its `nonce` claim, one these
    /// nonces gave out lately; one without is refused 401 `use_dpop_nonce` with the current
    /// nonce in a `DPoP-Nonce` header, for the client to retry with. Instances that share the
    /// secret share the nonces.
    ///
    /// ```
    /// use tower_jwt_auth::dpop::{Dpop, Nonces};
    ///
    /// let dpop = Dpop::allowed("https://api.example.com")?
    ///     .nonces(Nonces::new(b"a secret of at least 32 bytes, shared!")?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn nonces(mut self, nonces: Nonces) -> Self {
        self.nonces = Some(nonces);
        self
    }

    /// The `DPoP-Nonce` header of a refusal, when it is for the want of a current nonce.
    pub(crate) fn nonce_header(&self, error: &AuthError, now: u64) -> Option<HeaderValue> {
        match (error, &self.nonces) {
            (AuthError::InvalidDpopProof(DpopError::UseNonce), Some(nonces)) => {
                HeaderValue::try_from(nonces.current(now)).ok()
            }
            _ => None,
        }
    }

    /// The checks of a request whose token verified (bound to the key `bound_to`, its
    /// `cnf.jkt`, if any): the binding now, and, for a proof, what remains (its replay check,
    /// and the newer nonce to give the client).
    pub(crate) fn check<B>(
        &self,
        dpop_scheme: bool,
        token: &str,
        bound_to: Option<&str>,
        request: &Request<B>,
        now: u64,
    ) -> Result<Option<ProofPassed>, AuthError> {
        if !dpop_scheme {
            return match (bound_to, self.required) {
                // A bound token without its proof is a stolen one's use (no downgrade).
                (Some(_), _) => Err(AuthError::DpopBinding),
                (None, true) => Err(AuthError::DpopRequired),
                (None, false) => Ok(None),
            };
        }
        let proof = proof_header(request.headers()).map_err(AuthError::InvalidDpopProof)?;
        let uri = format!("{}{}", self.base, request.uri().path());
        let request = ProofRequest {
            method: request.method(),
            uri: &uri,
            access_token: Some(token),
        };
        let proof = self
            .rules
            .verify(proof, &request, now)
            .map_err(AuthError::InvalidDpopProof)?;
        let mut next_nonce = None;
        if let Some(nonces) = &self.nonces {
            let window = proof.nonce().and_then(|nonce| nonces.window_of(nonce, now));
            let window = window.ok_or(AuthError::InvalidDpopProof(DpopError::UseNonce))?;
            next_nonce = nonces
                .renewal_after(window, now)
                .and_then(|next| HeaderValue::try_from(next).ok());
        }
        let bound_to = bound_to.ok_or(AuthError::DpopBinding)?;
        proof
            .check_binding(bound_to)
            .map_err(|_| AuthError::DpopBinding)?;
        Ok(Some(ProofPassed {
            replay: proof.replay(now),
            next_nonce: next_nonce.map(NextNonce),
        }))
    }

    /// Accepts a proof once, across every instance sharing the store.
    pub(crate) async fn first_use(&self, replay: &Replay) -> Result<(), AuthError> {
        match replay.take(&*self.replay).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(AuthError::InvalidDpopProof(DpopError::Replayed)),
            Err(_) => Err(AuthError::DpopReplayUnavailable),
        }
    }

    /// The `DPoP` challenge for `error` (RFC 9449 §7.1), with the allowed algorithms.
    pub(crate) fn challenge(&self, error: &AuthError, realm: Option<&str>) -> HeaderValue {
        let algs = self.rules.algorithm_names();
        error.challenge_in("DPoP", realm, Some(("algs", &algs)))
    }

    /// The allowed algorithms, for a challenge's `algs`.
    pub(crate) fn algorithm_names(&self) -> String {
        self.rules.algorithm_names()
    }

    /// Whether bearer tokens are refused.
    pub(crate) fn is_required(&self) -> bool {
        self.required
    }
}

impl fmt::Debug for Dpop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dpop")
            .field("required", &self.required)
            .field("rules", &self.rules)
            .field("base", &self.base)
            .field("nonces", &self.nonces)
            .finish_non_exhaustive()
    }
}
