//! Logins as token families: [`JwtSessions`] mints access/refresh pairs that share a family id
//! (`sid`), rotates refresh tokens with reuse detection, and logs out by revoking the family.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde_json::{Map, Value};

use super::cookies::AuthCookies;
use super::issuer::{random_id, IssueError, IssuedToken, TokenIssuer};
use crate::claims::{TokenType, CSRF_CLAIM};
use crate::clock::Clock;
use crate::error::AuthError;
use crate::keys::{SigningKey, VerifyingKey};
use crate::middleware::JwtLayer;
use crate::revocation::{Revocation, RevocationStore, StoreError};
use crate::token_source::bearer;
use crate::verify::{Csrf, Keys, Rules};

/// An access token and the refresh token of the same login.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenPair {
    /// The short-lived access token.
    pub access: IssuedToken,
    /// The long-lived refresh token; it works once.
    pub refresh: IssuedToken,
    /// The family id (`sid` claim) both carry.
    pub sid: String,
}

/// Why a refresh or logout failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum SessionError {
    /// The refresh token was refused (expired, forged, revoked, an access token, ...).
    Invalid(AuthError),
    /// The refresh token had been used already: its whole family is now revoked.
    Reused,
    /// The revocation store cannot answer; nothing was issued.
    Unavailable(StoreError),
    /// Minting the new tokens failed.
    Issue(IssueError),
}

impl SessionError {
    /// The HTTP status: 401 for a refused or reused token, 503 when the store is down, 500 when
    /// minting failed.
    pub fn status(&self) -> http::StatusCode {
        match self {
            Self::Invalid(err) => err.status(),
            Self::Reused => http::StatusCode::UNAUTHORIZED,
            Self::Unavailable(_) => http::StatusCode::SERVICE_UNAVAILABLE,
            Self::Issue(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The same answer the layer gives (RFC 6750 challenge and JSON body).
    pub fn to_response(&self) -> http::Response<bytes::Bytes> {
        match self {
            Self::Invalid(err) => err.to_response(None),
            Self::Reused => AuthError::Revoked.to_response(None),
            Self::Unavailable(_) => AuthError::RevocationUnavailable.to_response(None),
            Self::Issue(_) => {
                let mut response =
                    http::Response::new(bytes::Bytes::from_static(br#"{"error":"server_error"}"#));
                *response.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                response
            }
        }
    }
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Invalid(err) => write!(f, "refresh token refused: {err}"),
            Self::Reused => f.write_str("refresh token reused: its login has been revoked"),
            Self::Unavailable(err) => err.fmt(f),
            Self::Issue(err) => err.fmt(f),
        }
    }
}

impl std::error::Error for SessionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Invalid(err) => Some(err),
            Self::Unavailable(err) => Some(err),
            Self::Issue(err) => Some(err),
            Self::Reused => None,
        }
    }
}

impl From<IssueError> for SessionError {
    fn from(err: IssueError) -> Self {
        Self::Issue(err)
    }
}

#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for SessionError {
    fn into_response(self) -> axum_core::response::Response {
        if let Self::Issue(err) = &self {
            tracing::error!(target: "tower_jwt_auth", error = %err, "minting tokens failed");
        }
        self.to_response().map(axum_core::body::Body::from)
    }
}

/// Access/refresh token pairs over one key and one [`RevocationStore`].
///
/// - [`issue`](JwtSessions::issue) starts a login: a new family id (`sid`), an access token
///   (`"type": "access"`, 15 minutes) and a refresh token (`"type": "refresh"`, 7 days), each
///   with its own `jti`.
/// - [`refresh`](JwtSessions::refresh) takes a refresh token once and returns a new pair of the same
///   family; presenting a used refresh token again revokes the whole family.
/// - [`logout`](JwtSessions::logout) revokes the family: its access and refresh tokens are refused.
/// - [`layer`](JwtSessions::layer) is the `JwtLayer` that accepts only this family's live access
///   tokens.
///
/// ```
/// use tower_jwt_auth::{JwtSessions, SigningKey, VerifyingKey};
/// use tower_jwt_auth::revocation::MemoryStore;
///
/// let secret = b"an HS256 secret of at least 32 bytes!";
/// let sessions = JwtSessions::new(SigningKey::hs256(secret)?, VerifyingKey::hs256(secret)?, MemoryStore::new());
/// let pair = sessions.issue(&serde_json::json!({"sub": "1"}))?;
/// let layer = sessions.layer::<serde_json::Value>();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
#[must_use]
pub struct JwtSessions {
    access: TokenIssuer,
    refresh: TokenIssuer,
    verifying: VerifyingKey,
    store: Arc<dyn RevocationStore>,
    access_type: TokenType,
    refresh_type: TokenType,
    refresh_ttl: u64,
    leeway: u64,
    issuer: Option<String>,
    audience: Vec<String>,
    clock: Clock,
}

impl JwtSessions {
    /// JwtSessions signing with `signing`, verifying with `verifying` (the same secret for HMAC,
    /// the public half otherwise), keeping revocations in `store`.
    pub fn new(signing: SigningKey, verifying: VerifyingKey, store: impl RevocationStore) -> Self {
        let access_type = TokenType::claim("type", "access");
        let refresh_type = TokenType::claim("type", "refresh");
        let refresh_ttl = 7 * 24 * 3600;
        Self {
            access: TokenIssuer::new(signing.clone()).token_type(access_type.clone()),
            refresh: TokenIssuer::new(signing)
                .token_type(refresh_type.clone())
                .ttl(Duration::from_secs(refresh_ttl)),
            verifying,
            store: Arc::new(store),
            access_type,
            refresh_type,
            refresh_ttl,
            leeway: 30,
            issuer: None,
            audience: Vec::new(),
            clock: Clock::system(),
        }
    }

    /// Lifetime of access tokens (default 15 minutes).
    ///
    /// ```
    /// # let s = b"an HS256 secret of at least 32 bytes!";
    /// # use tower_jwt_auth::{*, clock::ManualClock, keys::KeyError, revocation::MemoryStore};
    /// let sessions = JwtSessions::new(SigningKey::hs256(s)?, VerifyingKey::hs256(s)?, MemoryStore::new())
    ///     .access_ttl(std::time::Duration::from_secs(300));
    /// # Ok::<(), KeyError>(())
    /// ```
    pub fn access_ttl(mut self, ttl: Duration) -> Self {
        self.access = self.access.ttl(ttl);
        self
    }

    /// Lifetime of refresh tokens (default 7 days).
    ///
    /// ```
    /// # let s = b"an HS256 secret of at least 32 bytes!";
    /// # use tower_jwt_auth::{*, clock::ManualClock, keys::KeyError, revocation::MemoryStore};
    /// let sessions = JwtSessions::new(SigningKey::hs256(s)?, VerifyingKey::hs256(s)?, MemoryStore::new())
    ///     .refresh_ttl(std::time::Duration::from_secs(24 * 3600));
    /// # Ok::<(), KeyError>(())
    /// ```
    pub fn refresh_ttl(mut self, ttl: Duration) -> Self {
        self.refresh = self.refresh.ttl(ttl);
        self.refresh_ttl = ttl.as_secs();
        self
    }

    /// Clock skew allowed on `exp`/`nbf` by [`layer`](JwtSessions::layer) and by refresh
    /// (default 30 s).
    ///
    /// ```
    /// # let s = b"an HS256 secret of at least 32 bytes!";
    /// # use tower_jwt_auth::{*, clock::ManualClock, keys::KeyError, revocation::MemoryStore};
    /// let sessions = JwtSessions::new(SigningKey::hs256(s)?, VerifyingKey::hs256(s)?, MemoryStore::new())
    ///     .leeway(std::time::Duration::from_secs(5));
    /// # Ok::<(), KeyError>(())
    /// ```
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway.as_secs();
        self
    }

    /// The `iss` of every token, required by [`layer`](JwtSessions::layer) and by refresh.
    ///
    /// ```
    /// # let s = b"an HS256 secret of at least 32 bytes!";
    /// # use tower_jwt_auth::{*, clock::ManualClock, keys::KeyError, revocation::MemoryStore};
    /// let sessions = JwtSessions::new(SigningKey::hs256(s)?, VerifyingKey::hs256(s)?, MemoryStore::new())
    ///     .issuer("https://auth.example.com");
    /// # Ok::<(), KeyError>(())
    /// ```
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        self.access = self.access.issuer(issuer.clone());
        self.refresh = self.refresh.issuer(issuer.clone());
        self.issuer = Some(issuer);
        self
    }

    /// The `aud` of every token, required by [`layer`](JwtSessions::layer) and by refresh.
    ///
    /// ```
    /// # let s = b"an HS256 secret of at least 32 bytes!";
    /// # use tower_jwt_auth::{*, clock::ManualClock, keys::KeyError, revocation::MemoryStore};
    /// let sessions = JwtSessions::new(SigningKey::hs256(s)?, VerifyingKey::hs256(s)?, MemoryStore::new())
    ///     .audience("orders-api");
    /// # Ok::<(), KeyError>(())
    /// ```
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        let audience = audience.into();
        self.access = self.access.audience([audience.clone()]);
        self.refresh = self.refresh.audience([audience.clone()]);
        self.audience = vec![audience];
        self
    }

    /// The time source for minting and checking (default: the system clock).
    ///
    /// ```
    /// # let s = b"an HS256 secret of at least 32 bytes!";
    /// # use tower_jwt_auth::{*, clock::ManualClock, keys::KeyError, revocation::MemoryStore};
    /// let sessions = JwtSessions::new(SigningKey::hs256(s)?, VerifyingKey::hs256(s)?, MemoryStore::new())
    ///     .clock(ManualClock::new(1_700_000_000));
    /// # Ok::<(), KeyError>(())
    /// ```
    pub fn clock(mut self, clock: impl Into<Clock>) -> Self {
        let clock = clock.into();
        self.access = self.access.clock(clock.clone());
        self.refresh = self.refresh.clock(clock.clone());
        self.clock = clock;
        self
    }

    /// The layer for routes that take this family's access tokens: access type only, `iss`/`aud`
    /// as configured, revocation checked in this store.
    pub fn layer<C>(&self) -> JwtLayer<C> {
        let mut layer = JwtLayer::new(self.verifying.clone())
            .token_type(self.access_type.clone())
            .revocation(self.store.clone())
            .leeway(Duration::from_secs(self.leeway))
            .clock(self.clock.clone());
        if let Some(issuer) = &self.issuer {
            layer = layer.issuer(issuer.clone());
        }
        if !self.audience.is_empty() {
            layer = layer.audiences(self.audience.clone());
        }
        layer
    }

    /// Starts a login: a new family and its first pair. `claims` (a JSON object) go into both
    /// tokens; `iat`, `exp`, `jti`, `sid` and the type are filled in.
    ///
    /// # Errors
    /// [`SessionError::Issue`] when `claims` do not serialize to a JSON object or signing fails.
    pub fn issue<T: Serialize + ?Sized>(&self, claims: &T) -> Result<TokenPair, SessionError> {
        let Value::Object(claims) = serde_json::to_value(claims).map_err(IssueError::Serialize)?
        else {
            return Err(IssueError::ClaimsNotAnObject.into());
        };
        self.pair(claims, random_id()?)
    }

    /// Trades a refresh token (the bare token, or a whole `Authorization: Bearer` header map via
    /// [`refresh_from_headers`](JwtSessions::refresh_from_headers)) for a new pair of its family.
    /// A refresh token works once: presenting it again revokes the family.
    ///
    /// # Errors
    /// [`SessionError::Invalid`] (401) for a token that is not a valid, unused refresh token of
    /// these sessions (a reused one revokes its family first), [`SessionError::Unavailable`] (503)
    /// when the store cannot answer.
    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenPair, SessionError> {
        self.rotate(refresh_token, Csrf::Off, None).await
    }

    /// Verifies a refresh token (and its CSRF value when asked), spends it, and mints the next
    /// pair of its family, with a new CSRF value when one is given.
    async fn rotate(
        &self,
        refresh_token: &str,
        csrf: Csrf<&str>,
        new_csrf: Option<&str>,
    ) -> Result<TokenPair, SessionError> {
        let mut claims: Map<String, Value> = self
            .refresh_rules()
            .verify_now(refresh_token, csrf)
            .map_err(|err| match err {
            AuthError::RevocationUnavailable => {
                SessionError::Unavailable(StoreError::unavailable("revocation store unavailable"))
            }
            other => SessionError::Invalid(other),
        })?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let jti = text("jti")
            .ok_or_else(|| SessionError::Invalid(AuthError::MissingClaim("jti".into())))?;
        // A refresh token minted elsewhere may lack `sid`: its `jti` then names the family that
        // this refresh starts, so a second use of it still revokes what the first one made.
        let sid = text("sid").unwrap_or_else(|| jti.clone());
        let exp = claims
            .get("exp")
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
            .ceil() as u64;
        if !self
            .store
            // Remember the use for as long as the layer could still accept the token.
            .consume(&jti, exp.saturating_add(self.leeway + 1))
            .await
            .map_err(SessionError::Unavailable)?
        {
            tracing::warn!(target: "tower_jwt_auth", "refresh token reused: revoking its family");
            self.store
                .revoke(Revocation::Family(&sid), self.family_horizon())
                .await
                .map_err(SessionError::Unavailable)?;
            return Err(SessionError::Reused);
        }
        let TokenType(rule) = &self.refresh_type;
        if let Some(csrf) = new_csrf {
            claims.insert(CSRF_CLAIM.into(), Value::String(csrf.to_owned()));
        }
        for registered in [
            "iat",
            "exp",
            "nbf",
            "jti",
            "sid",
            "iss",
            "aud",
            rule.claim_name().unwrap_or(""),
        ] {
            claims.remove(registered);
        }
        self.pair(claims, sid)
    }

    /// Starts a browser login: a fresh CSRF value goes into the pair's `csrf` claim, and the
    /// answer carries the three `Set-Cookie` values of `cookies` (see [`AuthCookies`]).
    ///
    /// ```
    /// use tower_jwt_auth::{JwtSessions, SigningKey, VerifyingKey};
    /// use tower_jwt_auth::revocation::MemoryStore;
    /// use tower_jwt_auth::tokens::AuthCookies;
    ///
    /// let secret = b"an HS256 secret of at least 32 bytes!";
    /// let sessions = JwtSessions::new(SigningKey::hs256(secret)?, VerifyingKey::hs256(secret)?, MemoryStore::new());
    /// let (pair, set_cookies) = sessions.issue_cookies(&serde_json::json!({"sub": "1"}), &AuthCookies::new())?;
    /// assert_eq!(set_cookies.len(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`issue`](Self::issue).
    pub fn issue_cookies<T: Serialize + ?Sized>(
        &self,
        claims: &T,
        cookies: &AuthCookies,
    ) -> Result<(TokenPair, [HeaderValue; 3]), SessionError> {
        let Value::Object(mut claims) =
            serde_json::to_value(claims).map_err(IssueError::Serialize)?
        else {
            return Err(IssueError::ClaimsNotAnObject.into());
        };
        let csrf = AuthCookies::csrf_value()?;
        claims.insert(CSRF_CLAIM.into(), Value::String(csrf.clone()));
        let pair = self.pair(claims, random_id()?)?;
        let set = cookies.set(&pair, &csrf);
        Ok((pair, set))
    }

    /// Refresh for browsers: takes the refresh token from its cookie, requires the request's
    /// CSRF header to match that token's `csrf` claim (a refresh is a state-changing POST), and
    /// answers a new pair with a new CSRF value and the cookies that install them. Reuse
    /// detection works as in [`refresh`](JwtSessions::refresh).
    ///
    /// # Errors
    /// As [`refresh`](Self::refresh), and [`SessionError::Invalid`] when the CSRF header does not
    /// match the refresh token's value.
    pub async fn refresh_cookies(
        &self,
        headers: &HeaderMap,
        cookies: &AuthCookies,
        csrf_header: &HeaderName,
    ) -> Result<(TokenPair, [HeaderValue; 3]), SessionError> {
        let token = crate::token_source::cookie(headers, cookies.refresh_name())
            .map_err(SessionError::Invalid)?
            .ok_or(SessionError::Invalid(AuthError::MissingToken))?;
        let header = headers.get(csrf_header).and_then(|v| v.to_str().ok());
        let csrf = AuthCookies::csrf_value()?;
        let pair = self
            .rotate(token, Csrf::Required(header), Some(&csrf))
            .await?;
        let set = cookies.set(&pair, &csrf);
        Ok((pair, set))
    }

    /// [`refresh`](JwtSessions::refresh) with the token taken from `Authorization: Bearer`.
    ///
    /// # Errors
    /// As [`refresh`](Self::refresh), and [`SessionError::Invalid`] when the headers carry no
    /// bearer token.
    pub async fn refresh_from_headers(
        &self,
        headers: &HeaderMap,
    ) -> Result<TokenPair, SessionError> {
        match bearer(headers).map_err(SessionError::Invalid)? {
            Some(token) => self.refresh(token).await,
            None => Err(SessionError::Invalid(AuthError::MissingToken)),
        }
    }

    /// Ends a login: every access and refresh token of family `sid` is refused from now on.
    ///
    /// # Errors
    /// [`SessionError::Unavailable`] when the store cannot record the revocation.
    pub async fn logout(&self, sid: &str) -> Result<(), SessionError> {
        self.store
            .revoke(Revocation::Family(sid), self.family_horizon())
            .await
            .map_err(SessionError::Unavailable)
    }

    /// Revokes one token by its `jti`, until `until` (its `exp`).
    ///
    /// # Errors
    /// [`SessionError::Unavailable`] when the store cannot record the revocation.
    pub async fn revoke_token(&self, jti: &str, until: u64) -> Result<(), SessionError> {
        self.store
            .revoke(Revocation::Token(jti), until)
            .await
            .map_err(SessionError::Unavailable)
    }

    /// No token of a family outlives this: the last refresh token is at most `refresh_ttl` old.
    fn family_horizon(&self) -> u64 {
        self.clock.now() + self.refresh_ttl + 1
    }

    fn refresh_rules(&self) -> Rules {
        let mut rules = Rules::new(Keys::One(self.verifying.clone().into()));
        rules.leeway = self.leeway;
        rules.token_type = Some(self.refresh_type.clone());
        rules.revocation = Some(self.store.clone());
        rules.clock = self.clock.clone();
        rules.issuers = self.issuer.iter().map(|s| s.as_str().into()).collect();
        rules.audiences = self.audience.iter().map(|s| s.as_str().into()).collect();
        rules
    }

    fn pair(&self, mut claims: Map<String, Value>, sid: String) -> Result<TokenPair, SessionError> {
        claims.insert("sid".into(), Value::String(sid.clone()));
        let access = self.access.issue(&claims)?;
        let refresh = self.refresh.issue(&claims)?;
        Ok(TokenPair {
            access,
            refresh,
            sid,
        })
    }
}

impl fmt::Debug for JwtSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSessions")
            .field("verifying", &self.verifying)
            .field("refresh_ttl", &self.refresh_ttl)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}
