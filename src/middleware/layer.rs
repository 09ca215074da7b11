//! [`JwtLayer`]: the builder that holds keys and rules, and wraps services in [`JwtService`].

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use http::HeaderName;
use serde::de::DeserializeOwned;
use tower_layer::Layer;

use super::config::{Config, DEFAULT_CSRF_HEADER};
use super::respond::{ErrorContext, IntoErrorResponse, responder};
use super::service::JwtService;
use crate::error::AuthError;
use crate::keys::{KeySource, TrustedIssuer};
use crate::metadata::ResourceMetadata;
use crate::token_source::TokenSource;
use crate::verify::cache::{Cache, CacheStats, TokenCache};
use crate::verify::{Csrf, Keys, Rules};

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
    ///
    /// ```
    /// use tower_jwt_auth::{Algorithm, JwtLayer, VerifyingKey};
    ///
    /// #[derive(Clone, serde::Deserialize)]
    /// struct Claims { sub: String }
    ///
    /// let key = VerifyingKey::from_pem(std::fs::read("tests/keys/rsa_public.pem")?, Algorithm::RS256)?;
    /// let layer = JwtLayer::<Claims>::new(key).issuer("https://idp.example").audience("orders-api");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
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
                resource_metadata: None,
                dpop: None,
                on_error: None,
            }),
            _claims: PhantomData,
        }
    }

    /// The configuration, to change: a cache of tokens verified under the old rules starts
    /// over empty.
    pub(super) fn config(&mut self) -> &mut Config {
        let config = Arc::make_mut(&mut self.config);
        if let Some(cache) = &mut config.rules.cache {
            *cache = Arc::new(Cache::new(cache.settings));
        }
        config
    }

    /// Keeps tokens that passed every check, so that the same token is not verified in full
    /// again (off by default). A client sends its token many times in its lifetime; for
    /// asymmetric keys the signature check is most of a request's cost, and a hit skips it and
    /// the parse. What can change since is checked again on every hit: `exp`, `nbf` and
    /// `max_age` with the layer's clock and leeway, revocation, the CSRF binding of a cookie
    /// token, and that the key set the token was verified with is still the current one (a
    /// JWKS refresh that changes the document starts the token over; one that brings the same
    /// document keeps it). The full token bytes are compared, not
    /// only their (keyed) hash; only verified tokens get in, so forged ones cannot evict good
    /// ones; memory is bounded by [`TokenCache`]. Any setter called after this one starts the
    /// cache over empty, and a layer never serves another layer's tokens.
    ///
    /// ```
    /// use tower_jwt_auth::middleware::TokenCache;
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key)
    ///     .token_cache(TokenCache::new(10_000));
    /// assert_eq!(layer.token_cache_stats().unwrap().entries, 0);
    /// ```
    pub fn token_cache(mut self, cache: TokenCache) -> Self {
        self.config().rules.cache = Some(Arc::new(Cache::new(cache)));
        self
    }

    /// What the [token cache](Self::token_cache) did (hits, misses, evictions, entries), for
    /// metrics; `None` without one.
    pub fn token_cache_stats(&self) -> Option<CacheStats> {
        self.config.rules.cache.as_ref().map(|cache| cache.stats())
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

    /// Names the protected-resource metadata document (RFC 9728) in every `Bearer` challenge
    /// under the layer, as `resource_metadata="<url>"`: the layer's own refusals, those of
    /// [`RequireLayer`](crate::authorize::RequireLayer)s and handlers inside it, and an inner
    /// service's own `Bearer` challenges. Clients such as MCP's find the authorization server
    /// from it. Build the document with [`resource_metadata_for`](Self::resource_metadata_for)
    /// and serve it at its [`path`](crate::metadata::ResourceMetadata::path).
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key).issuer("https://auth.example.com");
    /// let metadata = layer.resource_metadata_for("https://api.example.com/mcp")?;
    /// let layer = layer.resource_metadata(&metadata);
    /// # Ok::<(), tower_jwt_auth::metadata::MetadataError>(())
    /// ```
    pub fn resource_metadata(mut self, metadata: &ResourceMetadata) -> Self {
        self.config().resource_metadata = Some(metadata.url().into());
        self
    }

    /// Takes DPoP-bound tokens (RFC 9449): `Authorization: DPoP <token>` with its `DPoP` proof,
    /// checked against the request and the token's `cnf.jkt` and accepted once; a token bound
    /// to a key and presented as `Bearer` is refused, and so is every bearer token with
    /// [`Dpop::required`](crate::dpop::Dpop::required). Refusals carry `DPoP` challenges with
    /// the allowed algorithms.
    ///
    /// ```
    /// # let key = tower_jwt_auth::VerifyingKey::hs256([1u8; 32]).unwrap();
    /// use tower_jwt_auth::dpop::Dpop;
    ///
    /// let layer = tower_jwt_auth::JwtLayer::<serde_json::Value>::new(key)
    ///     .dpop(Dpop::allowed("https://api.example.com")?);
    /// # Ok::<(), tower_jwt_auth::dpop::InvalidBaseUrl>(())
    /// ```
    pub fn dpop(mut self, dpop: crate::dpop::Dpop) -> Self {
        let config = self.config();
        config.dpop = Some(Arc::new(dpop));
        config.rules.dpop = true;
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
        C: DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let accepted = self.config.rules.verify(token, Csrf::Off).await?;
        // A token bound to a DPoP key needs a proof, which there is none of here.
        if accepted.bound_to.is_some() {
            return Err(AuthError::DpopBinding);
        }
        Ok(Arc::unwrap_or_clone(accepted.claims))
    }
}

impl<C> JwtLayer<C> {
    /// The issuers whose tokens the layer accepts: the configured ones (with discovered keys,
    /// the discovered issuer), or each trusted issuer.
    pub(crate) fn issuer_names(&self) -> impl Iterator<Item = &str> {
        let rules = &self.config.rules;
        let trusted = match &rules.keys {
            Keys::ByIssuer(issuers) => &issuers[..],
            Keys::One(_) => &[],
        };
        let configured = rules.issuers.iter().map(|i| &**i);
        configured.chain(trusted.iter().map(|t| &*t.issuer[0]))
    }

    /// Whether the layer reads tokens from the `Authorization` header.
    pub(crate) fn reads_authorization_header(&self) -> bool {
        self.config.source.reads_authorization_header()
    }

    /// The rules tokens are checked against, for helpers that make tokens to fit them.
    #[cfg(feature = "test-util")]
    pub(crate) fn rules(&self) -> &Rules {
        &self.config.rules
    }
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
