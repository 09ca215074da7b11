//! [`JwtLayer`]: the builder that holds keys and rules, and wraps services in [`JwtService`].

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, Method, Response};
use tower_layer::Layer;

use crate::claims::REGISTERED;
use crate::clock::Clock;
use crate::error::{is_grpc, AuthError};
use crate::keys::{KeySource, TrustedIssuer};
use crate::revoke::RevocationStore;
use crate::service::JwtService;
use crate::token::{Found, TokenSource};
use crate::verify::{Csrf, Keys, Rules, TokenType, TypeRule, MAX_REQUIRED_CLAIMS};

pub(crate) type ErrorResponder = dyn Fn(&AuthError) -> Response<Bytes> + Send + Sync;

/// What a layer and its services share, behind one `Arc`.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) rules: Rules,
    pub(crate) source: TokenSource,
    /// The header that must echo the token's CSRF value on cookie-authenticated unsafe
    /// requests; `None` turns the check off.
    pub(crate) csrf_header: Option<HeaderName>,
    pub(crate) optional: bool,
    pub(crate) realm: Option<Box<str>>,
    pub(crate) on_error: Option<Arc<ErrorResponder>>,
}

impl Config {
    /// The CSRF check this request needs: only cookie-carried tokens on unsafe methods.
    pub(crate) fn csrf<'a>(
        &self,
        found: &Found<'_>,
        method: &Method,
        headers: &'a HeaderMap,
    ) -> Csrf<'a> {
        let safe = matches!(
            *method,
            Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
        );
        match &self.csrf_header {
            Some(name) if found.from_cookie && !safe => {
                Csrf::Required(headers.get(name).and_then(|v| v.to_str().ok()))
            }
            _ => Csrf::Off,
        }
    }

    /// The response for a refused request: a gRPC status for gRPC calls, else the app's own
    /// responder or the RFC 6750 default.
    pub(crate) fn reject(&self, error: &AuthError, headers: &HeaderMap) -> Response<Bytes> {
        tracing::debug!(target: "tower_jwt_auth", error = %error, "request refused");
        if is_grpc(headers) {
            return error.to_grpc_response();
        }
        match &self.on_error {
            Some(respond) => respond(error),
            None => error.to_response(self.realm.as_deref()),
        }
    }
}

/// A Tower layer that authenticates every request with a JWT and hands the typed claims `C`
/// to the inner service as an [`Auth<C>`](crate::Auth) request extension.
///
/// Cloning is a pointer bump: keys and rules live behind one `Arc`.
///
/// ```
/// use std::time::Duration;
/// use serde::Deserialize;
/// use tower_jwt_auth::{JwtLayer, TokenType, VerifyingKey};
///
/// #[derive(Clone, Deserialize)]
/// struct Claims { sub: String }
///
/// let layer = JwtLayer::<Claims>::new(VerifyingKey::hs256(b"an HS256 secret of at least 32 bytes!")?)
///     .issuer("https://auth.example.com")
///     .audience("orders-api")
///     .token_type(TokenType::claim("type", "access"))
///     .leeway(Duration::from_secs(10));
/// # Ok::<(), tower_jwt_auth::KeyError>(())
/// ```
#[must_use]
pub struct JwtLayer<C> {
    config: Arc<Config>,
    _claims: PhantomData<fn() -> C>,
}

impl<C> JwtLayer<C> {
    /// A layer that accepts tokens signed by `keys` (a [`VerifyingKey`](crate::VerifyingKey), a
    /// [`KeySet`](crate::KeySet), or a `RemoteJwks`; each key only with its own algorithm;
    /// keys found by OIDC discovery only for their issuer), requires `exp`,
    /// checks `nbf`, allows 30 s of clock skew and refuses tokens over 8 KiB before decoding.
    pub fn new(keys: impl Into<KeySource>) -> Self {
        let keys = keys.into();
        let discovered = keys.discovered_issuer().map(str::to_owned);
        let layer = Self::with_keys(Keys::One(keys));
        match discovered {
            // Keys found by OIDC discovery are trusted for that issuer's tokens only.
            Some(issuer) => layer.issuer(issuer),
            None => layer,
        }
    }

    /// A layer that accepts tokens from several issuers, each with its own keys and audiences,
    /// chosen by the token's `iss` before any key is looked up (an unknown `iss` never causes a
    /// fetch). `.issuer()` and `.audience()` do not apply to such a layer; everything else does.
    ///
    /// ```
    /// use tower_jwt_auth::{JwtLayer, TrustedIssuer, VerifyingKey};
    ///
    /// let layer = JwtLayer::<serde_json::Value>::for_issuers([
    ///     TrustedIssuer::new("https://a.example", VerifyingKey::hs256([1u8; 32])?).audience("api"),
    ///     TrustedIssuer::new("https://b.example", VerifyingKey::hs256([2u8; 32])?).audience("api"),
    /// ]);
    /// # Ok::<(), tower_jwt_auth::KeyError>(())
    /// ```
    pub fn for_issuers(issuers: impl IntoIterator<Item = TrustedIssuer>) -> Self {
        Self::with_keys(Keys::ByIssuer(issuers.into_iter().collect()))
    }

    fn with_keys(keys: Keys) -> Self {
        match &keys {
            Keys::One(source) => source.warm(),
            Keys::ByIssuer(issuers) => issuers.iter().for_each(|i| i.keys.warm()),
        }
        Self {
            config: Arc::new(Config {
                rules: Rules::new(keys),
                source: TokenSource::header(),
                csrf_header: Some(HeaderName::from_static("x-csrf-token")),
                optional: false,
                realm: None,
                on_error: None,
            }),
            _claims: PhantomData,
        }
    }

    fn config(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// Accepts only tokens whose `iss` is `issuer`; a token without `iss` is refused.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).issuer("https://auth.example.com");
    /// ```
    pub fn issuer(self, issuer: impl Into<String>) -> Self {
        self.issuers([issuer])
    }

    /// Accepts tokens whose `iss` is any of `issuers`; a token without `iss` is refused.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).issuers(["https://a", "https://b"]);
    /// ```
    pub fn issuers<I: IntoIterator<Item = impl Into<String>>>(mut self, issuers: I) -> Self {
        let rules = &mut self.config().rules;
        assert!(
            matches!(rules.keys, Keys::One(_)),
            "JwtLayer::issuers: a for_issuers layer takes its issuers from TrustedIssuer"
        );
        rules.issuers = boxed(issuers);
        self
    }

    /// Accepts only tokens whose `aud` (a string or an array) contains `audience`; a token
    /// without `aud` is refused.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).audience("orders-api");
    /// ```
    pub fn audience(self, audience: impl Into<String>) -> Self {
        self.audiences([audience])
    }

    /// Accepts tokens whose `aud` contains any of `audiences`; a token without `aud` is refused.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).audiences(["orders", "billing"]);
    /// ```
    pub fn audiences<I: IntoIterator<Item = impl Into<String>>>(mut self, audiences: I) -> Self {
        let rules = &mut self.config().rules;
        assert!(
            matches!(rules.keys, Keys::One(_)),
            "JwtLayer::audiences: a for_issuers layer takes audiences from TrustedIssuer::audience"
        );
        rules.audiences = boxed(audiences);
        self
    }

    /// Accepts tokens whatever their `aud` when no audience is configured. By default a token
    /// that names audiences is refused by a layer that has none (RFC 7519 §4.1.3): it was meant
    /// for someone else.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).accept_any_audience();
    /// ```
    pub fn accept_any_audience(mut self) -> Self {
        self.config().rules.any_audience = true;
        self
    }

    /// Accepts only tokens whose `sub` is `subject`.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).subject("service-a");
    /// ```
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.config().rules.subject = Some(subject.into().into_boxed_str());
        self
    }

    /// Refuses tokens that lack any of these claims (`exp` is always required).
    ///
    /// # Panics
    /// With more than 64 claim names.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).require_claims(["sub", "jti", "iat"]);
    /// ```
    pub fn require_claims<I: IntoIterator<Item = impl Into<String>>>(mut self, claims: I) -> Self {
        let mut claims = boxed(claims);
        claims.sort();
        claims.dedup();
        assert!(
            claims.len() <= MAX_REQUIRED_CLAIMS,
            "JwtLayer::require_claims takes at most {MAX_REQUIRED_CLAIMS} claim names"
        );
        self.config().rules.required = claims;
        self
    }

    /// Accepts only tokens of this type, e.g. access tokens and never refresh tokens.
    ///
    /// ```
    /// use tower_jwt_auth::TokenType;
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).token_type(TokenType::claim("type", "access"));
    /// ```
    ///
    /// # Panics
    /// With a type claim named like a claim this crate reads itself (`exp`, `nbf`, `iss`, `aud`,
    /// `sub`, `jti`, `sid`): no token could ever pass.
    pub fn token_type(mut self, token_type: TokenType) -> Self {
        if let TokenType(TypeRule::Claim { name, .. }) = &token_type {
            assert!(
                !REGISTERED.contains(&&**name),
                "JwtLayer::token_type: `{name}` is a registered claim; name the type claim otherwise (e.g. \"type\")"
            );
        }
        self.config().rules.token_type = Some(token_type);
        self
    }

    /// Clock skew allowed on `exp` and `nbf`, in whole seconds (default 30 s).
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).leeway(std::time::Duration::ZERO);
    /// ```
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.config().rules.leeway = leeway.as_secs();
        self
    }

    /// Tokens longer than this many bytes are refused before any decoding (default 8 KiB).
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).max_token_length(4096);
    /// ```
    pub fn max_token_length(mut self, bytes: usize) -> Self {
        self.config().rules.max_len = bytes;
        self
    }

    /// The time source for `exp`/`nbf` (default: the system clock).
    ///
    /// ```
    /// use tower_jwt_auth::ManualClock;
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let clock = ManualClock::new(1_700_000_000);
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).clock(clock.clone());
    /// ```
    pub fn clock(mut self, clock: impl Into<Clock>) -> Self {
        self.config().rules.clock = clock.into();
        self
    }

    /// Refuses tokens that `store` says are revoked (by `jti`, or by family through `sid`),
    /// checked after the signature. Tokens without `jti` are then refused. When the store cannot
    /// answer (Redis down, mirror not synced), requests fail closed with 503.
    ///
    /// ```
    /// use tower_jwt_auth::MemoryStore;
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let revoked = MemoryStore::new();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).revocation(revoked.clone());
    /// ```
    pub fn revocation(mut self, store: impl RevocationStore) -> Self {
        self.config().rules.revocation = Some(Arc::new(store));
        self
    }

    /// When the revocation store cannot answer, accept the token (logging a warning) instead of
    /// answering 503. Only for apps that prefer availability over prompt logout.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key)
    ///     .revocation(tower_jwt_auth::MemoryStore::new())
    ///     .revocation_fail_open();
    /// ```
    pub fn revocation_fail_open(mut self) -> Self {
        self.config().rules.fail_open = true;
        self
    }

    /// Where to look for the token (default: `Authorization: Bearer`).
    ///
    /// ```
    /// use tower_jwt_auth::TokenSource;
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key)
    ///     .token_source(TokenSource::header_or_cookie("access_token"));
    /// ```
    pub fn token_source(mut self, source: TokenSource) -> Self {
        self.config().source = source;
        self
    }

    /// The header a cookie-authenticated request with an unsafe method (POST, PUT, PATCH,
    /// DELETE, ...) must carry, equal to its token's `csrf` claim (default `x-csrf-token`): the
    /// double-submit pattern, bound to the token so a value from another session never passes.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key)
    ///     .csrf_header(http::HeaderName::from_static("x-xsrf-token"));
    /// ```
    pub fn csrf_header(mut self, name: HeaderName) -> Self {
        self.config().csrf_header = Some(name);
        self
    }

    /// Turns the CSRF check off. Only for cookie-authenticated apps with another defence
    /// (e.g. `SameSite=Strict` cookies and no cross-site entry points).
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).without_csrf();
    /// ```
    pub fn without_csrf(mut self) -> Self {
        self.config().csrf_header = None;
        self
    }

    /// Lets requests without any token through, without claims (`Option<Auth<C>>` is `None`);
    /// a token that is present but invalid is still refused.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).optional();
    /// ```
    pub fn optional(mut self) -> Self {
        self.config().optional = true;
        self
    }

    /// The `realm` of the `WWW-Authenticate` challenge.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).realm("orders");
    /// ```
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.config().realm = Some(realm.into().into_boxed_str());
        self
    }

    /// Replaces the HTTP response for refused requests (gRPC calls keep their gRPC status).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http::{Response, StatusCode};
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).on_error(|err| {
    ///     let mut res = Response::new(Bytes::from(format!("denied: {err}")));
    ///     *res.status_mut() = err.status();
    ///     res
    /// });
    /// ```
    pub fn on_error<F>(mut self, respond: F) -> Self
    where
        F: Fn(&AuthError) -> Response<Bytes> + Send + Sync + 'static,
    {
        self.config().on_error = Some(Arc::new(respond));
        self
    }
}

fn boxed<I: IntoIterator<Item = impl Into<String>>>(items: I) -> Vec<Box<str>> {
    items
        .into_iter()
        .map(|s| s.into().into_boxed_str())
        .collect()
}

impl<C> Clone for JwtLayer<C> {
    fn clone(&self) -> Self {
        Self {
            config: self.config.clone(),
            _claims: PhantomData,
        }
    }
}

impl<C> fmt::Debug for JwtLayer<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtLayer")
            .field("claims", &std::any::type_name::<C>())
            .field("rules", &self.config.rules)
            .field("optional", &self.config.optional)
            .field("realm", &self.config.realm)
            .finish_non_exhaustive()
    }
}

impl<S, C> Layer<S> for JwtLayer<C> {
    type Service = JwtService<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        JwtService::new(inner, self.config.clone())
    }
}
