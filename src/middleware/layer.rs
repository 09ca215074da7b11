//! [`JwtLayer`]: the builder that holds keys and rules, and wraps services in [`JwtService`].

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;
use serde::de::DeserializeOwned;
use tower_layer::Layer;

use super::config::{Config, DEFAULT_CSRF_HEADER};
use super::respond::{responder, ErrorContext, IntoErrorResponse};
use super::service::JwtService;
use crate::claims::{is_registered, TokenType, TypeRule};
use crate::clock::Clock;
use crate::error::AuthError;
use crate::keys::{KeySource, TrustedIssuer};
use crate::revocation::RevocationStore;
use crate::token_source::TokenSource;
use crate::verify::{Csrf, Keys, Rules, MAX_REQUIRED_CLAIMS};

/// A Tower layer that authenticates every request with a JWT and hands the typed claims `C`
/// to the inner service as an [`Auth<C>`](crate::Auth) request extension.
///
/// Its builder methods follow the crate's vocabulary: a setter replaces what an earlier call
/// set; a singular name takes one value and its plural an iterator; switches that relax a safe
/// default are `allow_*(bool)`. Cloning is a pointer bump: keys and rules live behind one `Arc`.
/// [`verify`](Self::verify) checks a token outside a request with exactly the layer's rules.
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
/// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
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
    /// use tower_jwt_auth::{JwtLayer, VerifyingKey};
    /// use tower_jwt_auth::keys::TrustedIssuer;
    ///
    /// let layer = JwtLayer::<serde_json::Value>::for_issuers([
    ///     TrustedIssuer::new("https://a.example", VerifyingKey::hs256([1u8; 32])?).audience("api"),
    ///     TrustedIssuer::new("https://b.example", VerifyingKey::hs256([2u8; 32])?).audience("api"),
    /// ]);
    /// # Ok::<(), tower_jwt_auth::keys::KeyError>(())
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
                csrf_header: Some(DEFAULT_CSRF_HEADER),
                anonymous: false,
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
    /// # Panics
    /// On a [`for_issuers`](Self::for_issuers) layer, like [`issuers`](Self::issuers).
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
    /// # Panics
    /// On a [`for_issuers`](Self::for_issuers) layer, whose issuers come from its
    /// [`TrustedIssuer`]s.
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
    /// # Panics
    /// On a [`for_issuers`](Self::for_issuers) layer, like [`audiences`](Self::audiences).
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
    /// # Panics
    /// On a [`for_issuers`](Self::for_issuers) layer, whose audiences come from its
    /// [`TrustedIssuer`]s.
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

    /// With `true`, accepts tokens whatever their `aud` when no audience is configured. By
    /// default a token that names audiences is refused by a layer that has none (RFC 7519
    /// §4.1.3): it was meant for someone else.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).allow_any_audience(true);
    /// ```
    pub fn allow_any_audience(mut self, allow: bool) -> Self {
        self.config().rules.any_audience = allow;
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

    /// Refuses tokens that lack any of these claims, or hold them as `null` (`exp` is always
    /// required).
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).require_claims(["sub", "jti", "iat"]);
    /// ```
    ///
    /// # Panics
    /// With more than 64 claim names.
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
    /// With a type claim named like a claim this crate reads itself (`exp`, `nbf`, `iat`,
    /// `iss`, `aud`, `sub`, `jti`, `sid`): no token could ever pass.
    pub fn token_type(mut self, token_type: TokenType) -> Self {
        if let TokenType(TypeRule::Claim { name, .. }) = &token_type {
            assert!(
                !is_registered(name),
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
    /// use tower_jwt_auth::clock::ManualClock;
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
    /// use tower_jwt_auth::revocation::MemoryStore;
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let revoked = MemoryStore::new();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).revocation(revoked.clone());
    /// ```
    pub fn revocation(mut self, store: impl RevocationStore) -> Self {
        self.config().rules.revocation = Some(Arc::new(store));
        self
    }

    /// With `true`, accepts the token (logging a warning) when the revocation store cannot
    /// answer, instead of answering 503 (fail open). Only for apps that prefer availability over
    /// prompt logout.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key)
    ///     .revocation(tower_jwt_auth::revocation::MemoryStore::new())
    ///     .allow_revocation_outage(true);
    /// ```
    pub fn allow_revocation_outage(mut self, allow: bool) -> Self {
        self.config().rules.fail_open = allow;
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

    /// With `true`, turns the CSRF check off: cookie-authenticated unsafe requests pass without
    /// the header. Only for apps with another defence (e.g. `SameSite=Strict` cookies and no
    /// cross-site entry points). `false` restores the check with the
    /// [default header](Self::csrf_header) unless one was set.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).allow_cookies_without_csrf(true);
    /// ```
    pub fn allow_cookies_without_csrf(mut self, allow: bool) -> Self {
        let config = self.config();
        config.csrf_header = match (allow, config.csrf_header.take()) {
            (true, _) => None,
            (false, header) => Some(header.unwrap_or(DEFAULT_CSRF_HEADER)),
        };
        self
    }

    /// With `true`, lets requests without any token through, without claims
    /// (`Option<Auth<C>>` is `None`); a token that is present but invalid is still refused.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).allow_anonymous(true);
    /// ```
    pub fn allow_anonymous(mut self, allow: bool) -> Self {
        self.config().anonymous = allow;
        self
    }

    /// The `realm` of the `WWW-Authenticate` challenge, on the layer's refusals and on those
    /// made inside it (a `RequireLayer`, a handler's `require()?`).
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).realm("orders");
    /// ```
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.config().realm = Some(realm.into().into_boxed_str());
        self
    }

    /// Answers every HTTP refusal under the layer with the app's own response: the layer's
    /// own 400/401/503, and the 403s of every [`RequireLayer`](crate::authorize::RequireLayer)
    /// and handler `require()?` inside it. The handler sees the error and the realm and returns
    /// anything [`IntoErrorResponse`] (a `Response`, `(StatusCode, body)`, a body alone); the
    /// RFC 6750 `WWW-Authenticate` challenge is added unless the response has its own or
    /// carries [`NoChallenge`](crate::middleware::NoChallenge). gRPC calls keep their gRPC
    /// status.
    ///
    /// ```
    /// use http::StatusCode;
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key)
    ///     .on_error(|refused| (refused.error.status(), format!("denied: {}", refused.error)));
    /// ```
    pub fn on_error<F, R>(mut self, respond: F) -> Self
    where
        F: Fn(ErrorContext<'_>) -> R + Send + Sync + 'static,
        R: IntoErrorResponse,
    {
        self.config().on_error = Some(responder(respond));
        self
    }

    /// Verifies `token` with exactly this layer's keys and rules, outside a request: WebSocket
    /// first-message authentication, background jobs, CLIs. Waits for a key fetch only when the
    /// layer's remote keys must be fetched first. No CSRF check applies (there is no request).
    ///
    /// ```
    /// use tower_jwt_auth::{AuthError, JwtLayer, SigningKey, TokenIssuer, VerifyingKey};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let secret = b"an HS256 secret of at least 32 bytes!";
    /// let layer = JwtLayer::<serde_json::Value>::new(VerifyingKey::hs256(secret)?);
    /// let token = TokenIssuer::new(SigningKey::hs256(secret)?).issue(&serde_json::json!({"sub": "1"}))?.token;
    /// assert_eq!(layer.verify(&token).await?["sub"], "1");
    /// assert_eq!(layer.verify("not.a.token").await, Err(AuthError::Malformed));
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    ///
    /// # Errors
    /// The [`AuthError`] the layer would refuse the token with.
    pub async fn verify(&self, token: &str) -> Result<C, AuthError>
    where
        C: DeserializeOwned,
    {
        self.config.rules.verify(token, Csrf::Off).await
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
            .field("anonymous", &self.config.anonymous)
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
